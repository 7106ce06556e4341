"""The reports page rendered against reports computed from a real data directory (appliance.reports),
served by the fake control API: what the owner reads is what the box counted, each row once."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from tests.test_reports import DAY, Box, at
from tests.web import fake_more


@pytest.fixture
def counted(tmp_path, monkeypatch):
    """The core's reports over a day of calls to two queues, answering the web's report requests."""
    box = Box(tmp_path, datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc))
    box.call(at(9, 5), "sales", "ANSWERED", wait=10, talk=100, agent="201")
    box.call(at(9, 40), "sales", "ABANDONED", wait=30)
    box.call(at(10, 10), "support", "ANSWERED", wait=5, talk=60, agent="202")
    reports = box.reports()

    def report(kind: str, query: dict[str, list[str]]) -> dict:
        q = {k: v[0] for k, v in query.items()}
        if kind == "today":
            return reports.today()
        span = (q.get("from", DAY.isoformat()), q.get("to", DAY.isoformat()))
        if kind == "queues":
            return reports.queue_report(*span, q.get("interval", "day"), q.get("queue") or None)
        if kind == "agents":
            return reports.agent_report(*span)
        if kind == "heatmap":
            return reports.heatmap(*span)
        return reports.staffing(*span, target_sl=float(q.get("target_sl", 0.8)),
                                target_s=float(q.get("target_s", 20)))

    monkeypatch.setattr(fake_more, "report", report)
    yield reports
    box.close()


def _queue_table(page: str) -> list[tuple[str, ...]]:
    table = page.split("Queue figures per interval", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td>\s*<td>(.*?)</td><td>(.*?)</td>", table)
    return [tuple(c.strip() for c in r) for r in rows]


def test_a_one_day_report_lists_each_queue_once(admin, counted):
    # One day by day: the summary over the span is the day itself; it was listed a second time.
    page = admin.get(f"/reports?from={DAY}&to={DAY}&interval=day")
    assert page.status == 200
    rows = _queue_table(page.text)
    assert [r[1] for r in rows] == ["all queues", "sales", "support"], rows
    assert [r[2] for r in rows] == ["3", "2", "1"]  # offered
    assert len(set(rows)) == len(rows)


def test_hours_come_after_one_whole_span_row_per_queue(admin, counted):
    page = admin.get(f"/reports?from={DAY}&to={DAY}&interval=hour")
    rows = _queue_table(page.text)
    whole = [r for r in rows if r[0] == "Whole span"]
    assert [r[1] for r in whole] == ["all queues", "sales", "support"]
    hours = [r for r in rows if r[0] != "Whole span"]
    assert [(r[1], r[2]) for r in hours] == [("all queues", "2"), ("sales", "2"), ("all queues", "1"),
                                             ("support", "1")]
    assert len(set(rows)) == len(rows)


def test_a_week_by_day_has_its_whole_span_rows_and_each_day_once(admin, counted):
    page = admin.get("/reports?from=2026-11-09&to=2026-11-15&interval=day")
    rows = _queue_table(page.text)
    assert [r[0] for r in rows].count("Whole span") == 3
    days = [r for r in rows if r[0] != "Whole span"]
    assert len(days) == len(set(days)) == 3  # only the Tuesday had calls
    assert {r[0] for r in days} == {"November 10, 2026"}


def test_a_month_by_month_lists_each_queue_once(admin, counted):
    page = admin.get("/reports?from=2026-11-01&to=2026-11-30&interval=month")
    rows = _queue_table(page.text)
    assert [(r[1], r[2]) for r in rows] == [("all queues", "3"), ("sales", "2"), ("support", "1")]


def test_a_day_without_calls_shows_one_row_of_zeros(admin, counted):
    rows = _queue_table(admin.get("/reports?from=2026-11-11&to=2026-11-11&interval=day").text)
    assert [(r[0], r[1], r[2]) for r in rows] == [("Whole span", "all queues", "0")]
