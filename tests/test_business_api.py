"""The owner's SLA and cost figures come from the box's own stored month."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from appliance.core import Core
from appliance.errors import ValidationError


@pytest.fixture
def core(tmp_path):
    c = Core(tmp_path / "data", {"prompts.builtin_languages": [], "engine.enabled": False})
    yield c
    c.audit_trail.close()
    c.queue_log.close()
    c.store.close()


def test_sla_and_cost_of_a_month_from_the_boxs_records(core):
    day = datetime(2026, 11, 3, 9, tzinfo=timezone.utc)
    core.queue_log.append({"time": day.isoformat(), "event": "AGENT_LOGIN", "agent": "1010"})
    core.queue_log.append({"time": (day + timedelta(hours=8)).isoformat(), "event": "AGENT_LOGOUT", "agent": "1010"})
    # 10 calls: 8 answered within 10 s, 1 answered after 60 s, 1 abandoned after 30 s.
    for i in range(10):
        start = day + timedelta(minutes=10 * i)
        answered = i < 9
        wait = 10 if i < 8 else (60 if i == 8 else 30)
        core.call_records.append({
            "call_id": f"c{i}", "start": start.isoformat(), "end": (start + timedelta(minutes=5)).isoformat(),
            "answer": (start + timedelta(seconds=wait)).isoformat() if answered else None,
            "duration_s": 300, "talk_s": 240 if answered else 0, "wait_s": wait, "queue": "sales",
            "agent": "1010" if answered else None, "direction": "inbound",
            "disposition": "ANSWERED" if answered else "CANCELLED",
            "outcome": "ANSWERED" if answered else "ABANDONED", "caller": f"60000000{i}"})
    report, _ = core.business.sla({"month": "2026-11", "targets": [{"queue": "sales", "answer_pct": 80,
                                                                       "within_s": 20, "max_abandon_pct": 5}]})
    row = report.rows[0]
    assert row.answer.achieved_pct == pytest.approx(80.0)       # 8 of 10 within 20 s
    assert row.answer.status == "met"
    assert row.abandon.achieved_pct == pytest.approx(10.0)      # 1 of 10 abandoned > 5 %
    assert row.abandon.status == "missed"
    costs = {"wage_per_hour": 40, "recruiting_per_hire": 0, "training_per_hire": 0, "annual_turnover_pct": 0,
             "agents": 1}
    cost, _ = core.business.cost({"month": "2026-11", "costs": costs,
                                   "offers": [{"name": "Outsourcer", "model": "per_handled_call",
                                               "price_per_call": 5}]})
    assert cost.traffic.handled_calls == 9
    assert cost.traffic.staffed_h == pytest.approx(8.0)
    assert float(cost.in_house.value) == pytest.approx(8 * 40)   # 8 staffed hours at 40
    assert float(cost.offers[0].total.value) == pytest.approx(9 * 5)


def test_bad_targets_are_refused_with_the_field(core):
    with pytest.raises(ValidationError, match="answer_pct"):
        core.business.sla({"month": "2026-11", "targets": [{"answer_pct": 180}]})
    with pytest.raises(ValidationError, match="month"):
        core.business.sla({"month": "November"})
