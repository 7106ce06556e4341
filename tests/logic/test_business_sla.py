"""The monthly SLA report against a hand-computed month (October 2026, Europe/Warsaw)."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.errors import ValidationError
from appliance.logic.business import (
    ClauseStatus,
    SlaCalendar,
    SlaTargets,
    contracted_spans,
    logged_in_spans,
    sla_report,
    to_csv,
    to_html,
)
from appliance.logic.business.coverage import seconds_in
from appliance.logic.business.sla import CSV_COLUMNS
from appliance.logic.flows.schedule import HolidayCalendar, Interval, WeekSchedule, parse_date
from appliance.logic.stats import Interval as StatsInterval
from appliance.logic.stats import agent_tallies, merge, queue_kpis, rollup_days, zone

TZ = "Europe/Warsaw"
WARSAW = zone(TZ)
NINE_TO_FIVE = Interval(8 * 60, 16 * 60)   # 08:00-16:00
WEEKDAYS = WeekSchedule({d: (NINE_TO_FIVE,) for d in ("mon", "tue", "wed", "thu", "fri")})
HOLIDAY = HolidayCalendar.build([parse_date("2026-10-14")])   # a Wednesday
CALENDAR = SlaCalendar("2026-10", TZ, HOLIDAY)


def call(n, queue, outcome, wait, day=1):
    return {"id": f"{queue}-{n}", "start": f"2026-10-{day:02d}T10:{n:02d}:00+02:00",
            "direction": "inbound", "queue": queue, "outcome": outcome, "wait_s": wait,
            "talk_s": 60 if outcome == "ANSWERED" else 0, "agent": "a1" if outcome == "ANSWERED" else None}


def ev(when, agent, event, reason=None):
    return {"time": f"2026-{when}+02:00", "agent": agent, "event": event, "reason": reason}


# sales: 16 answered at 10 s, 3 answered at 40 s, 1 abandoned at 30 s, 1 short abandon at 2 s.
#   offered 21, short abandons 1 -> counted 20
#   service level 16 / 20 = 80 %   (target 80 %: met, margin 0 exactly on the boundary)
#   abandon rate (2 - 1) / 20 = 5 % (max 5 %: met, margin 0)
# support: 4 answered at 10 s, 1 answered at 25 s; 1 abandoned at 60 s.
#   offered 6, counted 6; within 20 s: 4 -> 66.67 %; within 30 s: 5 -> 83.33 %
#   abandon rate 1 / 6 = 16.67 %
CALLS = (
    [call(n, "sales", "ANSWERED", 10) for n in range(16)]
    + [call(16 + n, "sales", "ANSWERED", 40) for n in range(3)]
    + [call(19, "sales", "ABANDONED", 30), call(20, "sales", "ABANDONED", 2)]
    + [call(n, "support", "ANSWERED", 10, day=2) for n in range(4)]
    + [call(4, "support", "ANSWERED", 25, day=2), call(5, "support", "ABANDONED", 60, day=2)]
)

# Contracted: Mon-Fri 08:00-16:00. October 2026 has 22 weekdays (1 Oct is a Thursday),
# less the holiday on the 14th: 21 days x 8 h = 168 h.
# Sessions inside the contracted hours:
#   1 Oct: a1 07:00-17:00                          -> 8 h
#   2 Oct: a1 08:00-10:00, a2 09:00-15:00 (union)  -> 7 h (08:00-15:00)
#   5 Oct: a1 08:00-16:00 with a lunch break        -> 8 h (a break is logged in)
#   6 Oct: a3 08:00-16:00, not a member of sales    -> 8 h for "*" only
#  14 Oct: a1 08:00-16:00 on the holiday            -> 0 h
# sales: 23 h of 168; all queues: 31 h of 168.
EVENTS = [
    ev("10-01T07:00:00", "a1", "AGENT_LOGIN"), ev("10-01T17:00:00", "a1", "AGENT_LOGOUT"),
    ev("10-02T08:00:00", "a1", "AGENT_LOGIN"), ev("10-02T10:00:00", "a1", "AGENT_LOGOUT"),
    ev("10-02T09:00:00", "a2", "AGENT_LOGIN"), ev("10-02T15:00:00", "a2", "AGENT_LOGOUT"),
    ev("10-05T08:00:00", "a1", "AGENT_LOGIN"), ev("10-05T12:00:00", "a1", "AGENT_BREAK", "lunch"),
    ev("10-05T13:00:00", "a1", "AGENT_AVAILABLE"), ev("10-05T16:00:00", "a1", "AGENT_LOGOUT"),
    ev("10-06T08:00:00", "a3", "AGENT_LOGIN"), ev("10-06T16:00:00", "a3", "AGENT_LOGOUT"),
    ev("10-14T08:00:00", "a1", "AGENT_LOGIN"), ev("10-14T16:00:00", "a1", "AGENT_LOGOUT"),
]
MEMBERS = {"sales": {"a1", "a2"}, "support": {"a2"}}

SALES = SlaTargets("sales", answer_pct=80, within_s=20, max_abandon_pct=5,
                   hours_covered=WEEKDAYS, min_coverage_pct=10)
SUPPORT = SlaTargets("support", answer_pct=80, within_s=30, max_abandon_pct=10)
EVERYTHING = SlaTargets("*", answer_pct=90, within_s=20, max_abandon_pct=10, hours_covered=WEEKDAYS)


@pytest.fixture(scope="module")
def month():
    return merge(rollup_days(CALLS, EVENTS, TZ).values())


def _rows(report):
    return {r.queue: r for r in report.rows}


def test_sales_meets_its_targets_exactly_on_the_boundary(month):
    row = _rows(sla_report(month, [SALES], CALENDAR, EVENTS, MEMBERS))["sales"]
    assert (row.offered, row.short_abandoned, row.counted, row.answered_within) == (21, 1, 20, 16)
    assert row.answer.achieved_pct == 80.0 and row.answer.margin_pct == 0.0
    assert row.answer.status is ClauseStatus.MET
    assert row.abandon.achieved_pct == 5.0 and row.abandon.status is ClauseStatus.MET
    assert row.contracted_h == 168.0 and row.covered_h == 23.0
    assert row.coverage.achieved_pct == pytest.approx(23 * 100 / 168)
    assert row.coverage.margin_pct == pytest.approx(23 * 100 / 168 - 10)
    assert row.coverage.status is ClauseStatus.MET
    assert row.met


def test_a_higher_bar_is_missed(month):
    # 81 % wanted, 80 % achieved -> missed by 1 point.
    row = sla_report(month, SlaTargets("sales", answer_pct=81, within_s=20), CALENDAR).rows[0]
    assert row.answer.status is ClauseStatus.MISSED
    assert row.answer.margin_pct == pytest.approx(-1.0)
    assert not row.met


def test_other_target_time_is_read_from_the_wait_histogram(month):
    rows = _rows(sla_report(month, [SUPPORT, SlaTargets("support", within_s=22)], CALENDAR))
    # 30 s is a histogram edge: exact, 5 of 6 calls.
    exact = sla_report(month, SUPPORT, CALENDAR).rows[0]
    assert exact.answered_within == 5 and not exact.within_estimated
    assert exact.answer.achieved_pct == pytest.approx(5 * 100 / 6)
    assert exact.answer.status is ClauseStatus.MET            # 83.3 % >= 80 %
    assert exact.abandon.achieved_pct == pytest.approx(100 / 6)
    assert exact.abandon.status is ClauseStatus.MISSED         # 16.7 % > 10 %
    # 22 s lies inside the bucket (20, 25]: its one call counts (22 - 20) / 5 = 0.4.
    est = rows["support"]
    assert est.within_estimated and est.answered_within == pytest.approx(4.4)


def test_all_queues_and_coverage_of_every_agent(month):
    row = sla_report(month, EVERYTHING, CALENDAR, EVENTS, MEMBERS).rows[0]
    # 21 + 6 offered, 1 short abandon; within 20 s: 16 + 4 = 20 of 26.
    assert (row.offered, row.counted, row.answered_within) == (27, 26, 20)
    assert row.answer.achieved_pct == pytest.approx(20 * 100 / 26)
    assert row.answer.status is ClauseStatus.MISSED
    # abandoned beyond short: 1 (sales) + 1 (support) = 2 of 26.
    assert row.abandon.achieved_pct == pytest.approx(2 * 100 / 26)
    assert row.covered_h == 31.0
    # No minimum coverage was contracted: shown, not judged.
    assert row.coverage.status is ClauseStatus.NOT_CONTRACTED
    assert row.coverage.achieved_pct == pytest.approx(31 * 100 / 168)


def test_kpi_rows_give_the_same_report_as_the_rollup(month):
    rows = queue_kpis(CALLS, StatsInterval.MONTH, TZ)
    from_rows = sla_report(rows, [SALES, EVERYTHING], CALENDAR, EVENTS, MEMBERS)
    from_rollup = sla_report(month, [SALES, EVERYTHING], CALENDAR, EVENTS, MEMBERS)
    assert from_rows == from_rollup


def test_kpi_rows_must_be_one_per_queue_for_the_month():
    daily = queue_kpis(CALLS, StatsInterval.DAY, TZ)
    sales_days = [r for r in daily if r.queue == "sales"] * 2
    with pytest.raises(ValidationError):
        sla_report(sales_days, SALES, CALENDAR)


def test_a_queue_without_calls_has_no_data_not_a_miss(month):
    row = sla_report(month, SlaTargets("billing"), CALENDAR).rows[0]
    assert row.offered == 0
    assert row.answer.status is ClauseStatus.NO_DATA and row.abandon.status is ClauseStatus.NO_DATA
    assert row.answer.achieved_pct is None and row.met


def test_a_running_month_stops_at_until(month):
    # Until 2 Oct 12:00: contracted 1 Oct 8 h + 2 Oct 08:00-12:00 4 h = 12 h, all staffed.
    cal = SlaCalendar("2026-10", TZ, HOLIDAY, until=datetime(2026, 10, 2, 12, tzinfo=WARSAW))
    row = sla_report(month, SALES, cal, EVENTS, MEMBERS).rows[0]
    assert (row.contracted_h, row.covered_h) == (12.0, 12.0)
    assert row.coverage.achieved_pct == 100.0


def test_a_session_open_when_the_month_begins_counts_from_its_start():
    events = [{"time": "2026-09-30T20:00:00+02:00", "agent": "a9", "event": "AGENT_LOGIN"},
              {"time": "2026-10-01T09:30:00+02:00", "agent": "a9", "event": "AGENT_LOGOUT"}]
    row = sla_report([], SlaTargets(hours_covered=WEEKDAYS), CALENDAR, events).rows[0]
    assert row.covered_h == 1.5          # 1 Oct 08:00-09:30


# ---------------------------------------------------------------- contracted hours

def _hours(week, first, last, holidays=None):
    start = datetime.fromisoformat(first).replace(tzinfo=WARSAW).astimezone(timezone.utc)
    end = datetime.fromisoformat(last).replace(tzinfo=WARSAW).astimezone(timezone.utc)
    return seconds_in(contracted_spans(week, start, end, WARSAW, holidays)) / 3600


ALL_DAY = WeekSchedule({d: (Interval(0, 24 * 60),) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})


def test_a_month_round_the_clock_has_the_extra_autumn_hour():
    # 31 days x 24 h, plus the hour repeated on 25 Oct 2026.
    assert _hours(ALL_DAY, "2026-10-01T00:00", "2026-11-01T00:00") == 31 * 24 + 1
    # March 2026 loses one on the 29th.
    assert _hours(ALL_DAY, "2026-03-01T00:00", "2026-04-01T00:00") == 31 * 24 - 1


def test_intervals_in_the_dst_hours_are_read_as_time_conditions_read_them():
    night = WeekSchedule({"sun": (Interval(2 * 60, 3 * 60),)})
    assert _hours(night, "2026-03-29T00:00", "2026-03-30T00:00") == 0     # skipped hour
    assert _hours(night, "2026-10-25T00:00", "2026-10-26T00:00") == 2     # repeated hour


def test_overnight_intervals_split_at_midnight_for_holidays():
    # Friday 2 Oct 22:00 to Saturday 3 Oct 06:00.
    late = WeekSchedule({"fri": (Interval(22 * 60, 6 * 60, overnight=True),)})
    span = ("2026-10-02T00:00", "2026-10-04T00:00")
    assert _hours(late, *span) == 8
    assert _hours(late, *span, HolidayCalendar.build([parse_date("2026-10-03")])) == 2
    assert _hours(late, *span, HolidayCalendar.build([parse_date("2026-10-02")])) == 6
    # The spill of the previous month's last Friday night counts in the next month.
    assert _hours(late, "2026-10-03T00:00", "2026-10-04T00:00") == 6


# ---------------------------------------------------------------- sessions match the agent report

KINDS = ["AGENT_LOGIN", "AGENT_LOGOUT", "AGENT_BREAK", "AGENT_AVAILABLE", "MISSED_OFFER"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3 * 24 * 60), st.sampled_from(["x", "y"]),
                          st.sampled_from(KINDS)), max_size=25))
def test_logged_in_spans_add_up_to_the_agent_reports_logged_in_time(raw):
    base = datetime(2026, 10, 1, tzinfo=timezone.utc)
    events = [{"time": (base + timedelta(minutes=m)).isoformat(), "agent": a, "event": k}
              for m, a, k in raw]
    start, end = base + timedelta(days=1), base + timedelta(days=2)
    spans = logged_in_spans(events, start, end, timezone.utc)
    tallies = agent_tallies([], events, start, end, "UTC")
    for agent, tally in tallies.items():
        assert seconds_in(spans.get(agent, [])) == tally.logged_in_s


def test_a_break_after_a_logout_means_the_login_was_not_logged():
    # As in the agent report: logged out 10:00, break 11:00 -> logged in again from 11:00.
    events = [ev("10-01T08:00:00", "a1", "AGENT_LOGIN"), ev("10-01T10:00:00", "a1", "AGENT_LOGOUT"),
              ev("10-01T11:00:00", "a1", "AGENT_BREAK", "lunch"),
              ev("10-01T11:30:00", "a1", "AGENT_AVAILABLE"), ev("10-01T12:00:00", "a1", "AGENT_LOGOUT")]
    start = datetime(2026, 10, 1, tzinfo=WARSAW)
    spans = logged_in_spans(events, start, start + timedelta(days=1), WARSAW)
    assert seconds_in(spans["a1"]) == 3 * 3600
    assert seconds_in(spans["a1"]) == agent_tallies([], events, start, start + timedelta(days=1), TZ)["a1"].logged_in_s


# ---------------------------------------------------------------- CSV and HTML

def test_csv_columns_and_values(month):
    text = to_csv(sla_report(month, [SALES, SUPPORT], CALENDAR, EVENTS, MEMBERS))
    assert text.endswith("\r\n")
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == CSV_COLUMNS
    rows = list(csv.DictReader(io.StringIO(text)))
    sales, support = rows
    assert sales["month"] == "2026-10" and sales["queue"] == "sales"
    assert (sales["offered"], sales["counted"], sales["answered_within"]) == ("21", "20", "16")
    assert sales["service_level_pct"] == "80.00" and sales["answer_status"] == "met"
    assert sales["abandon_rate_pct"] == "5.00" and sales["answer_margin_pct"] == "0.00"
    assert sales["contracted_h"] == "168.00" and sales["covered_h"] == "23.00"
    assert sales["coverage_pct"] == f"{23 * 100 / 168:.2f}" and sales["met"] == "met"
    assert support["abandon_status"] == "missed" and support["met"] == "missed"
    # No contracted hours and no minimum: empty cells, not zeros.
    assert support["coverage_pct"] == "" and support["min_coverage_pct"] == ""


@pytest.mark.parametrize("lang, sl, hours, word", [
    ("en", "80.0%", "168.0 / 23.0", "met"),
    ("pl", "80,0%", "168,0 / 23,0", "spełniony"),
    ("zh", "80.0%", "168.0 / 23.0", "达标"),
])
def test_html_page_prints_the_figures(month, lang, sl, hours, word):
    page = to_html(sla_report(month, [SALES, SUPPORT], CALENDAR, EVENTS, MEMBERS), lang)
    assert page.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in page
    assert "@media print" in page and "@page" in page
    assert "<script" not in page.lower() and "http" not in page   # self-contained
    assert sl in page and hours in page and f">{word}<" in page
    # Support's 16.7 % abandon rate and its miss.
    assert ("16,7%" if lang == "pl" else "16.7%") in page


def test_html_escapes_queue_names(month):
    page = to_html(sla_report(month, SlaTargets("<b>&co"), CALENDAR), "en")
    assert "<b>&co" not in page and "&lt;b&gt;&amp;co" in page


def test_html_month_title_in_each_language(month):
    report = sla_report(month, SALES, CALENDAR)
    assert "October 2026" in to_html(report, "en")
    assert "październik 2026" in to_html(report, "pl")
    assert "2026年10月" in to_html(report, "zh")
    assert re.search(r"<h1>[^<]+</h1>", to_html(report, "pl"))


def test_targets_are_validated():
    with pytest.raises(ValidationError):
        SlaTargets(answer_pct=120)
    with pytest.raises(ValidationError):
        SlaTargets(within_s=-1)
    with pytest.raises(ValidationError):
        SlaCalendar("2026-13").bounds()
