"""CSAT in the reports a data directory gives: the queue and agent tables, their CSV, stored days."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from tests.test_reports import DAY, WARSAW, at, box  # noqa: F401  (box is a fixture)


def surveyed(box, local, queue: str, agent: str, score: int | None) -> None:  # noqa: F811
    start = local.replace(tzinfo=WARSAW)
    box.records.append({
        "call_id": f"c{start.timestamp():.0f}", "start": start.isoformat(),
        "answer": (start + timedelta(seconds=10)).isoformat(), "end": (start + timedelta(seconds=100)).isoformat(),
        "duration_s": 100.0, "talk_s": 70.0, "disposition": "ANSWERED", "direction": "inbound",
        "caller": "+48601000001", "callee": "100", "answered_by": agent, "hangup_by": "agent", "queue": queue,
        "agent": agent, "wait_s": 10.0, "outcome": "ANSWERED", "flow": [], "worker": 0, "trunk": None,
        "csat": score})


def test_queue_and_agent_reports_show_csat_and_keep_it_in_stored_days(box):  # noqa: F811
    for minute, agent, score in ((0, "201", 5), (10, "201", 4), (20, "202", 1), (30, "202", None)):
        surveyed(box, at(9, minute), "sales", agent, score)
    for _ in range(2):  # computed, then read back from the stored roll-up of a finished day
        report = box.reports().queue_report(DAY, DAY, "day")
        sales = next(r for r in report["summary"] if r["queue"] == "sales")
        assert (sales["csat_offered"], sales["csat_answered"], sales["csat_average"], sales["csat_pct"]) == (
            4, 3, 3.33, 66.7)
        agents = {r["agent"]: r for r in box.reports().agent_report(DAY, DAY)["rows"]}
        assert (agents["201"]["csat_answered"], agents["201"]["csat_pct"]) == (2, 100.0)
        assert (agents["202"]["csat_offered"], agents["202"]["csat_average"]) == (2, 1.0)
    hourly = box.reports().queue_report(DAY, DAY, "hour", queue="sales")["rows"]
    assert [r["csat_offered"] for r in hourly] == [4]
    rows = list(csv.DictReader(io.StringIO(box.reports().agent_report_csv(DAY, DAY))))
    assert [(r["agent"], r["csat_offered"], r["csat_pct"]) for r in rows] == [("201", "2", "100.0"),
                                                                             ("202", "2", "0.0")]
