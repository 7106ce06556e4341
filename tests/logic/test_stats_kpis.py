"""Queue KPIs against small fixtures worked out by hand."""

from __future__ import annotations

import pytest

from appliance.errors import ValidationError
from appliance.logic.stats import ALL_QUEUES, Interval, KpiSettings, queue_kpis, queue_kpis_csv
from appliance.logic.stats.export import QUEUE_COLUMNS

WARSAW = "Europe/Warsaw"


def call(start, outcome, wait, talk=0, wrap=0, queue="sales", direction="inbound", agent="201"):
    answered = outcome in ("ANSWERED", "TRANSFERRED")
    return {
        "id": f"{queue}-{start}", "start": start, "answer": start if answered else None,
        "end": start, "duration_s": wait + talk, "talk_s": talk,
        "disposition": "ANSWERED" if answered else "NO ANSWER", "direction": direction,
        "queue": queue, "agent": agent if answered else None, "caller": "+48601000001",
        "callee": "+48221234567", "wait_s": wait, "wrap_up_s": wrap, "outcome": outcome,
        "trunk": "gsm0", "worker": 0,
    }


# One morning of the sales queue, 2026-11-10 (CET, +01:00).
MORNING = [
    call("2026-11-10T09:00:00+01:00", "ANSWERED", 10, talk=100, wrap=20),
    call("2026-11-10T09:05:00+01:00", "ANSWERED", 20, talk=200, wrap=40),   # exactly on target
    call("2026-11-10T09:10:00+01:00", "ANSWERED", 45, talk=60),
    call("2026-11-10T09:20:00+01:00", "ABANDONED", 3),                      # short abandon
    call("2026-11-10T09:30:00+01:00", "ABANDONED", 30),
    call("2026-11-10T09:40:00+01:00", "TIMEOUT", 120),
    call("2026-11-10T09:50:00+01:00", "CALLBACK_REQUESTED", 50),
    call("2026-11-10T09:55:00+01:00", "TRANSFERRED", 5, talk=40),           # answered, then passed on
    # Not queue traffic: an outbound call, and an inbound call that never reached a queue.
    call("2026-11-10T09:56:00+01:00", "ANSWERED", 0, talk=30, direction="outbound"),
    call("2026-11-10T09:57:00+01:00", "ANSWERED", 0, talk=30, queue=None),
    call("2026-11-10T09:58:00+01:00", "ANSWERED", 0, talk=30, queue="support"),
]


def _row(rows, queue):
    [row] = [r for r in rows if r.queue == queue]
    return row


def test_day_kpis_of_a_queue():
    sales = _row(queue_kpis(MORNING, Interval.DAY, WARSAW), "sales")
    assert sales.interval == "2026-11-10"
    # offered: the 8 sales calls; answered: 10 s, 20 s, 45 s, and the transferred 5 s one.
    assert (sales.offered, sales.answered, sales.abandoned, sales.short_abandoned) == (8, 4, 2, 1)
    assert (sales.timeout, sales.callbacks_requested) == (1, 1)
    # within 20 s: the 10 s, 20 s and 5 s answers = 3; denominator 8 - 1 short abandon = 7.
    assert sales.answered_within_target == 3
    assert sales.service_level == pytest.approx(3 / 7)
    # abandoned 2, of which 1 short: (2 - 1) / 7.
    assert sales.abandon_rate == pytest.approx(1 / 7)
    # ASA = (10 + 20 + 45 + 5) / 4 = 20 s.
    assert sales.asa_s == pytest.approx(20.0)
    # AHT = ((100+20) + (200+40) + 60 + 40) / 4 = 460 / 4 = 115 s.
    assert sales.aht_s == pytest.approx(115.0)
    # longest wait over every call, answered or not: the 120 s timeout.
    assert sales.longest_wait_s == 120
    # average wait before abandoning: (3 + 30) / 2.
    assert sales.avg_abandon_wait_s == pytest.approx(16.5)


def test_all_queues_row_adds_the_queues():
    rows = queue_kpis(MORNING, Interval.DAY, WARSAW)
    assert [r.queue for r in rows] == [ALL_QUEUES, "sales", "support"]
    total = _row(rows, ALL_QUEUES)
    # 8 sales + 1 support; the support call was answered at once.
    assert (total.offered, total.answered) == (9, 5)
    assert total.service_level == pytest.approx(4 / 8)


def test_short_abandon_threshold_is_a_setting():
    # With 60 s, both abandons (3 s, 30 s) are short: denominator 8 - 2 = 6.
    sales = _row(queue_kpis(MORNING, Interval.DAY, WARSAW, KpiSettings(short_abandon_s=60)), "sales")
    assert sales.short_abandoned == 2
    assert sales.abandon_rate == pytest.approx(0.0)
    assert sales.service_level == pytest.approx(3 / 6)


def test_service_level_target_is_a_setting():
    # Within 10 s: the 10 s and 5 s answers only (the boundary counts as within).
    sales = _row(queue_kpis(MORNING, Interval.DAY, WARSAW, KpiSettings(target_s=10)), "sales")
    assert sales.answered_within_target == 2
    assert sales.service_level == pytest.approx(2 / 7)


def test_no_calls_gives_no_ratio():
    only_refused = [call("2026-11-10T09:00:00+01:00", "JOINEMPTY", 0)]
    row = _row(queue_kpis(only_refused, Interval.DAY, WARSAW), "sales")
    assert (row.offered, row.refused, row.answered) == (1, 1, 0)
    assert row.asa_s is None and row.aht_s is None
    assert row.service_level == 0.0


def test_hour_boundary_splits_intervals():
    calls = [
        call("2026-11-10T09:59:59+01:00", "ANSWERED", 4, talk=10),
        call("2026-11-10T10:00:00+01:00", "ABANDONED", 40),
        call("2026-11-10T09:44:59+01:00", "ANSWERED", 30, talk=10),
    ]
    hours = queue_kpis(calls, Interval.HOUR, WARSAW, all_queues=False)
    assert [(r.interval, r.offered, r.answered) for r in hours] == [
        ("2026-11-10T09:00+01:00", 2, 2),
        ("2026-11-10T10:00+01:00", 1, 0),
    ]
    quarters = queue_kpis(calls, Interval.QUARTER_HOUR, WARSAW, all_queues=False)
    assert [r.interval for r in quarters] == [
        "2026-11-10T09:30+01:00", "2026-11-10T09:45+01:00", "2026-11-10T10:00+01:00",
    ]


def test_intervals_follow_the_box_time_zone_not_the_record_offset():
    # The same instant written in UTC lands in the local 10:00 hour.
    calls = [call("2026-11-10T09:10:00+00:00", "ANSWERED", 4, talk=10)]
    [row] = queue_kpis(calls, Interval.HOUR, WARSAW, all_queues=False)
    assert row.interval == "2026-11-10T10:00+01:00"


def test_dst_autumn_repeats_an_hour():
    # Europe/Warsaw goes from 03:00 CEST back to 02:00 CET on 2026-10-25:
    # 00:30Z is 02:30+02:00, 01:30Z is 02:30+01:00: two distinct 02:00 hours.
    calls = [
        call("2026-10-25T00:30:00+00:00", "ANSWERED", 5, talk=10),
        call("2026-10-25T01:30:00+00:00", "ANSWERED", 25, talk=10),
        call("2026-10-25T01:45:00+00:00", "ABANDONED", 30),
    ]
    hours = queue_kpis(calls, Interval.HOUR, WARSAW, all_queues=False)
    assert [(r.interval, r.offered, r.answered_within_target) for r in hours] == [
        ("2026-10-25T02:00+02:00", 1, 1),
        ("2026-10-25T02:00+01:00", 2, 0),
    ]
    [day] = queue_kpis(calls, Interval.DAY, WARSAW, all_queues=False)
    assert (day.interval, day.offered) == ("2026-10-25", 3)


def test_dst_spring_skips_an_hour_and_days_are_local():
    calls = [
        call("2026-03-29T00:30:00+00:00", "ANSWERED", 5, talk=10),  # 01:30+01:00
        call("2026-03-29T01:30:00+00:00", "ANSWERED", 5, talk=10),  # 03:30+02:00 (02:xx never was)
        call("2026-03-28T23:30:00+00:00", "ANSWERED", 5, talk=10),  # 00:30+01:00 on the 29th
        call("2026-03-28T22:59:59+00:00", "ANSWERED", 5, talk=10),  # 23:59:59 on the 28th
    ]
    hours = queue_kpis(calls, Interval.HOUR, WARSAW, all_queues=False)
    assert [r.interval for r in hours] == [
        "2026-03-28T23:00+01:00", "2026-03-29T00:00+01:00",
        "2026-03-29T01:00+01:00", "2026-03-29T03:00+02:00",
    ]
    days = queue_kpis(calls, Interval.DAY, WARSAW, all_queues=False)
    assert [(r.interval, r.offered) for r in days] == [("2026-03-28", 1), ("2026-03-29", 3)]
    months = queue_kpis(calls, Interval.MONTH, WARSAW, all_queues=False)
    assert [(r.interval, r.offered) for r in months] == [("2026-03", 4)]


def test_bad_time_is_a_clear_error():
    with pytest.raises(ValidationError, match="ISO 8601"):
        queue_kpis([call("yesterday", "ANSWERED", 1)], Interval.DAY, WARSAW)
    with pytest.raises(ValidationError, match="time zone"):
        queue_kpis(MORNING, Interval.DAY, "Mars/Olympus")


def test_csv_has_a_stable_header_and_one_row_per_line():
    text = queue_kpis_csv(queue_kpis(MORNING, Interval.DAY, WARSAW))
    lines = text.split("\r\n")
    assert lines[0].split(",") == list(QUEUE_COLUMNS)
    assert lines[0].startswith("interval,queue,offered,answered,abandoned,short_abandoned")
    assert len([line for line in lines if line]) == 1 + 3
    sales = dict(zip(QUEUE_COLUMNS, lines[2].split(",")))
    assert sales["queue"] == "sales"
    assert sales["service_level"] == f"{3 / 7:.4f}"
    assert sales["aht_s"] == "115.0"
    # Nobody abandoned the support queue: the average abandon wait is empty, not 0.
    support = dict(zip(QUEUE_COLUMNS, lines[3].split(",")))
    assert support["avg_abandon_wait_s"] == ""
