"""Daily roll-ups: merging days equals computing over all their calls at once."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.errors import ValidationError
from appliance.logic.acd import QueueResult
from appliance.logic.stats import (
    ALL_QUEUES,
    Interval,
    KpiSettings,
    Rollup,
    Tally,
    agents_needed,
    merge,
    queue_kpis,
    rollup_day,
    rollup_days,
    staffing_advice,
    staffing_csv,
    staffing_from_rollup,
)
from appliance.logic.stats.export import STAFFING_COLUMNS

WARSAW = "Europe/Warsaw"
# Spans the autumn DST change in Warsaw (2026-10-25) and a month's edge.
EPOCH = datetime(2026, 10, 22, tzinfo=timezone.utc)

calls = st.builds(
    lambda minute, queue, outcome, wait, talk, wrap: {
        "id": f"c{minute}-{queue}-{outcome}-{wait}",
        "start": (EPOCH + timedelta(minutes=minute)).isoformat(),
        "direction": "inbound",
        "queue": queue,
        "agent": "201" if outcome in ("ANSWERED", "TRANSFERRED") else None,
        "outcome": outcome,
        "disposition": "ANSWERED" if outcome in ("ANSWERED", "TRANSFERRED") else "NO ANSWER",
        "wait_s": wait,
        "talk_s": talk,
        "wrap_up_s": wrap,
    },
    minute=st.integers(0, 14 * 24 * 60),
    queue=st.sampled_from(["sales", "support"]),
    outcome=st.sampled_from([r.value for r in QueueResult]),
    wait=st.integers(0, 700),
    talk=st.integers(0, 900),
    wrap=st.integers(0, 120),
)

COUNTS = ("offered", "answered", "answered_within_target", "abandoned", "short_abandoned",
          "timeout", "refused", "callbacks_requested", "callbacks_completed", "callbacks_failed",
          "wait_histogram", "longest_wait_s")
SUMS = ("wait_answered_s", "wait_abandoned_s", "talk_s", "wrap_up_s")


@settings(max_examples=60, deadline=None)
@given(st.lists(calls, max_size=80))
def test_merged_days_equal_the_whole(records):
    kpi_settings = KpiSettings()
    days = rollup_days(records, [], WARSAW, kpi_settings)
    if not records:
        assert days == {}
        return
    merged = merge(days.values())
    # Direct: one tally per queue over every call, no days in between.
    direct: dict[str, Tally] = {}
    for record in records:
        direct.setdefault(record["queue"], Tally()).add(record, kpi_settings)
    assert set(merged.queues) == set(direct)
    for queue, tally in direct.items():
        for name in COUNTS:
            assert getattr(merged.queues[queue], name) == getattr(tally, name), name
        for name in SUMS:
            assert getattr(merged.queues[queue], name) == pytest.approx(getattr(tally, name)), name
    # The merged span knows its days, and its all-queues row counts every call.
    assert merged.days == len(days)
    assert sum(merged.weekday_days) == len(days)
    total = merged.queue_kpis()[0]
    assert total.queue == ALL_QUEUES
    assert total.offered == len(records)


def test_merge_matches_direct_kpis_on_a_month():
    records = [
        {"start": f"2026-11-{d:02d}T10:{m:02d}:00+01:00", "direction": "inbound", "queue": "sales",
         "outcome": outcome, "wait_s": wait, "talk_s": 100 + d, "wrap_up_s": m}
        for d in range(1, 31) for m, (outcome, wait) in enumerate(
            [("ANSWERED", 4), ("ANSWERED", 25), ("ABANDONED", 2), ("ABANDONED", 40), ("TIMEOUT", 300)])
    ]
    merged = merge(rollup_day(records, [], date(2026, 11, d), WARSAW) for d in range(1, 31))
    month = [r for r in queue_kpis(records, Interval.MONTH, WARSAW) if r.queue == "sales"][0]
    mine = [r for r in merged.queue_kpis() if r.queue == "sales"][0]
    assert mine.interval == "2026-11-01/2026-11-30"
    for name in ("offered", "answered", "abandoned", "short_abandoned", "timeout",
                 "answered_within_target", "service_level", "abandon_rate", "asa_s", "aht_s",
                 "longest_wait_s"):
        assert getattr(mine, name) == pytest.approx(getattr(month, name)), name
    # 30 days x (1 within 20 s) / (30 x 5 - 30 short) = 30 / 120
    assert mine.service_level == pytest.approx(0.25)


def test_other_targets_come_from_the_histogram():
    records = [{"start": "2026-11-02T10:00:00+00:00", "queue": "q", "outcome": "ANSWERED",
                "wait_s": w} for w in (0, 3, 12, 18, 22, 40, 700)]
    rollup = rollup_day(records, [], "2026-11-02")
    [row] = rollup.queue_kpis(all_queues=False)
    assert row.answered_within_target == 4          # 0, 3, 12, 18 <= 20
    # 30 s is a bucket edge: exact (0, 3, 12, 18, 22).
    [at30] = rollup.queue_kpis(target_s=30, all_queues=False)
    assert at30.answered_within_target == 5
    assert at30.service_level == pytest.approx(5 / 7)
    # 35 s is inside (30, 45]: the 40 s wait counts for (35 - 30) / 15 = 1/3.
    assert rollup.queues["q"].answered_within(35) == pytest.approx(5 + 1 / 3)
    # Beyond the last edge nothing above 600 s counts.
    assert rollup.queues["q"].answered_within(10_000) == 6


def test_rollup_is_json_and_round_trips():
    records = [{"start": "2026-11-02T10:00:00+00:00", "queue": "q", "outcome": "ANSWERED",
                "wait_s": 8, "talk_s": 60, "wrap_up_s": 5, "agent": "201"}]
    events = [{"time": "2026-11-02T09:00:00+00:00", "agent": "201", "event": "AGENT_LOGIN"},
              {"time": "2026-11-02T09:30:00+00:00", "agent": "201", "event": "AGENT_BREAK",
               "reason": "lunch"}]
    rollup = rollup_day(records, events, "2026-11-02", WARSAW)
    text = json.dumps(rollup.to_dict())
    again = Rollup.from_dict(json.loads(text))
    assert again == rollup
    assert again.agents["201"].break_s_by_reason["lunch"] > 0
    with pytest.raises(ValidationError):
        Rollup.from_dict({"format": 99})
    with pytest.raises(ValidationError):
        Rollup.from_dict({**json.loads(text), "queues": {"q": {"offered": "x", "nonsense": 1}}})


def test_rollups_of_other_settings_do_not_merge():
    a = rollup_day([], [], "2026-11-02", WARSAW)
    b = rollup_day([], [], "2026-11-03", WARSAW, KpiSettings(target_s=30))
    with pytest.raises(ValidationError, match="other settings"):
        merge([a, b])
    with pytest.raises(ValidationError):
        merge([])


def test_rollup_day_takes_only_its_local_day():
    records = [
        {"start": "2026-10-24T21:59:59+00:00", "queue": "q", "outcome": "ANSWERED"},  # 23:59:59 CEST, the 24th
        {"start": "2026-10-24T22:00:00+00:00", "queue": "q", "outcome": "ANSWERED"},  # 00:00 CEST, the 25th
        {"start": "2026-10-25T22:59:59+00:00", "queue": "q", "outcome": "ANSWERED"},  # 23:59:59 CET, the 25th
        {"start": "2026-10-25T23:00:00+00:00", "queue": "q", "outcome": "ANSWERED"},  # the 26th
    ]
    day = rollup_day(records, [], "2026-10-25", WARSAW)
    assert day.queues["q"].offered == 2
    # The 25th is a Sunday: weekday 6, hours 0 and 23.
    assert day.weekday_days == [0, 0, 0, 0, 0, 0, 1]
    assert set(day.hours["q"]) == {str(6 * 24 + 0), str(6 * 24 + 23)}


def test_staffing_from_the_box_own_calls():
    # Two Mondays, 200 calls each between 09:00 and 10:00, 150 s talk + 30 s wrap-up:
    # the published example again, 200 calls/h of 180 s, so 14 agents for 80/20.
    records = []
    for monday in ("2026-11-02", "2026-11-09"):
        for n in range(200):
            records.append({
                "start": f"{monday}T09:{n * 60 // 200:02d}:{n * 3600 // 200 % 60:02d}+01:00",
                "queue": "sales", "outcome": "ANSWERED", "wait_s": 5, "talk_s": 150, "wrap_up_s": 30,
            })
    advice = staffing_advice(records, WARSAW, 0.80, 20)
    assert len(advice) == 168
    monday_nine = advice[9]
    assert (monday_nine.label, monday_nine.calls_per_hour, monday_nine.aht_s) == ("Mon 09:00", 200, 180)
    assert monday_nine.agents == agents_needed(200, 180, 0.80, 20) == 14
    assert all(h.agents == 0 for i, h in enumerate(advice) if i != 9)
    # The same from merged roll-ups, and the other queue needs nobody.
    merged = merge(rollup_days(records, [], WARSAW).values())
    assert [h.agents for h in staffing_from_rollup(merged)] == [h.agents for h in advice]
    assert all(h.agents == 0 for h in staffing_from_rollup(merged, queue="support"))
    text = staffing_csv(advice)
    assert text.split("\r\n")[0].split(",") == list(STAFFING_COLUMNS)
    assert text.split("\r\n")[10].startswith("Mon 09:00,0,9,200.0,180.0,14,")


def test_records_for_day_asks_the_store_for_one_local_day(tmp_path):
    from appliance.logic.stats import records_for_day
    from appliance.store.records import CallRecords

    with CallRecords(tmp_path) as log:
        for start in ("2026-10-24T21:59:59+00:00", "2026-10-24T22:00:00+00:00",
                      "2026-10-25T22:59:59+00:00", "2026-10-25T23:00:00+00:00"):
            log.append({"start": start, "queue": "q", "outcome": "ANSWERED"})
        found = records_for_day(log, date(2026, 10, 25), WARSAW)
    # Local 2026-10-25 in Warsaw is 22:00Z on the 24th to 23:00Z on the 25th (25 hours).
    assert [r["start"] for r in found] == ["2026-10-24T22:00:00+00:00", "2026-10-25T22:59:59+00:00"]
