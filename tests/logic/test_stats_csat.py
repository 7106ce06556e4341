"""Satisfaction (CSAT) in the report tables: per queue and day, per agent, merged over days, in CSV."""

from __future__ import annotations

import csv
import io

import pytest

from appliance.errors import ValidationError
from appliance.logic.stats import ALL_QUEUES, AgentTally, Interval, Tally, agent_stats, merge, queue_kpis, rollup_day
from appliance.logic.stats.export import AGENT_COLUMNS, QUEUE_COLUMNS, agent_stats_csv, queue_kpis_csv


def call(start: str, queue: str | None, agent: str, **more) -> dict:
    return {"call_id": f"{start}{queue}{agent}", "start": start, "queue": queue, "agent": agent,
            "direction": "inbound" if queue else "outbound", "disposition": "ANSWERED",
            "outcome": "ANSWERED" if queue else "CAMPAIGN", "wait_s": 5, "talk_s": 60, **more}


RECORDS = [
    call("2026-11-10T09:00:00+00:00", "sales", "201", csat=5),
    call("2026-11-10T09:10:00+00:00", "sales", "201", csat=4),
    call("2026-11-10T09:20:00+00:00", "sales", "202", csat=2),
    call("2026-11-10T09:30:00+00:00", "sales", "202", csat=None),    # heard the question, pressed nothing
    call("2026-11-10T09:40:00+00:00", "sales", "202"),               # a queue without a survey
    call("2026-11-11T10:00:00+00:00", "support", "201", csat=3),
    call("2026-11-11T11:00:00+00:00", None, "201", csat=5),          # a campaign call: the agent's only
]


def test_queue_rows_per_day_count_offered_answered_average_and_share():
    rows = {(r.interval, r.queue): r for r in queue_kpis(RECORDS, Interval.DAY)}
    sales = rows[("2026-11-10", "sales")]
    assert (sales.csat_offered, sales.csat_answered, sales.csat_average, sales.csat_pct) == (4, 3, 3.67, 66.7)
    support = rows[("2026-11-11", "support")]
    assert (support.csat_offered, support.csat_answered, support.csat_average, support.csat_pct) == (1, 1, 3.0, 0.0)
    everything = rows[("2026-11-11", ALL_QUEUES)]
    assert everything.csat_offered == 1  # the campaign call is no queue call
    assert "csat_pct" in sales.to_dict()


def test_no_answer_is_no_average_not_zero():
    rows = queue_kpis([call("2026-11-10T09:00:00+00:00", "sales", "201", csat=None)], Interval.DAY)
    sales = next(r for r in rows if r.queue == "sales")
    assert (sales.csat_offered, sales.csat_answered, sales.csat_average, sales.csat_pct) == (1, 0, None, None)


def test_per_agent_counts_every_call_they_handled_with_a_survey():
    rows = {r.agent: r for r in agent_stats(RECORDS, [], "2026-11-10T00:00:00+00:00",
                                            "2026-11-12T00:00:00+00:00")}
    assert (rows["201"].csat_offered, rows["201"].csat_answered, rows["201"].csat_average,
            rows["201"].csat_pct) == (4, 4, 4.25, 75.0)
    assert (rows["202"].csat_offered, rows["202"].csat_answered, rows["202"].csat_average) == (2, 1, 2.0)


def test_days_merge_to_the_figures_of_the_whole_span():
    days = [rollup_day(RECORDS, [], d) for d in ("2026-11-10", "2026-11-11")]
    whole = merge(days)
    total = next(r for r in whole.queue_kpis() if r.queue == ALL_QUEUES)
    assert (total.csat_offered, total.csat_answered, total.csat_average) == (5, 4, 3.5)
    agent = {r.agent: r for r in whole.agent_stats()}["201"]
    assert (agent.csat_offered, agent.csat_average) == (4, 4.25)
    again = type(whole).from_dict(whole.to_dict())
    assert again.queues["sales"].csat_scores == [0, 1, 0, 1, 1]


def test_tallies_stored_before_surveys_existed_load_with_none():
    old = Tally().to_dict()
    del old["csat_offered"], old["csat_scores"]
    assert Tally.from_dict(old).csat_offered == 0
    agent = AgentTally().to_dict()
    del agent["csat_offered"], agent["csat_scores"]
    assert AgentTally.from_dict(agent).csat_scores == [0, 0, 0, 0, 0]


@pytest.mark.parametrize("scores", [[1, 2], "12345", [0, 0, 0, -1, 0], [0, 0, 0, True, 0]])
def test_bad_stored_scores_are_refused(scores):
    with pytest.raises(ValidationError):
        Tally.from_dict({**Tally().to_dict(), "csat_scores": scores})
    with pytest.raises(ValidationError):
        AgentTally.from_dict({**AgentTally().to_dict(), "csat_scores": scores})


def test_odd_values_count_as_offered_without_a_score():
    rows = queue_kpis([call("2026-11-10T09:00:00+00:00", "sales", "201", csat=True),
                       call("2026-11-10T09:01:00+00:00", "sales", "201", csat=9)], Interval.DAY)
    sales = next(r for r in rows if r.queue == "sales")
    assert (sales.csat_offered, sales.csat_answered) == (2, 0)


def test_the_csv_adds_the_columns_at_the_end():
    assert QUEUE_COLUMNS[-4:] == AGENT_COLUMNS[-4:] == ("csat_offered", "csat_answered", "csat_average", "csat_pct")
    assert QUEUE_COLUMNS[:2] == ("interval", "queue")  # what was there stays first
    queues = list(csv.DictReader(io.StringIO(queue_kpis_csv(queue_kpis(RECORDS, Interval.DAY)))))
    sales = next(r for r in queues if r["queue"] == "sales")
    assert (sales["csat_offered"], sales["csat_answered"], sales["csat_average"], sales["csat_pct"]) == (
        "4", "3", "3.67", "66.7")
    agents = list(csv.DictReader(io.StringIO(agent_stats_csv(agent_stats(
        RECORDS, [], "2026-11-10T00:00:00+00:00", "2026-11-12T00:00:00+00:00")))))
    assert agents[0]["agent"] == "201" and agents[0]["csat_average"] == "4.25"
