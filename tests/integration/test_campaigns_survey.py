"""The satisfaction survey on a campaign, end to end with real phones: a progressive campaign with
`survey` on dials a callee (an extension's pjsua2 phone: the dialer rings extensions directly),
the callee answers, the agent's phone rings and answers, the agent hangs up, the callee hears the
question and presses 4 (RFC 2833 from the callee's side); the score is in the attempt's call record,
the campaign's report and the CSAT report by campaign."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_calls import registered_phone
from tests.integration.test_campaigns_calls import ALWAYS, campaign_records, entries, wait_until
from tests.integration.test_csat import a_score_and_the_thanks, survey_prompts, the_question_after_the_agent_hangs_up

pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
pytestmark = pytest.mark.peers

def test_a_campaign_callee_rates_the_agent_after_the_agent_hangs_up(core_factory, phones, tmp_path):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2})
    survey_prompts(box)
    callee = registered_phone(box, phones, "1001")
    agent = registered_phone(box, phones, "1010")
    assert box.api("POST", "/api/queues", {"name": "sales", "wrap_up_s": 0})[0] == 201
    assert box.api("POST", "/api/agents/1010", {"queues": ["sales"]})[0] == 201
    assert box.api("POST", "/api/agents/1010/login", {})[1]["status"] == "AVAILABLE"
    status, made = box.api("POST", "/api/campaigns", {
        "id": "followup", "name": "Follow-up", "mode": "progressive", "queue": "sales", "survey": True,
        "hours": ALWAYS, "zone": "UTC", "ring_timeout_s": 10})
    assert status == 201 and made["survey"] is True, made
    assert box.api("POST", "/api/campaigns/followup/people",
                   {"people": [{"number": "1001", "name": "Dorota"}]})[1]["added"] == 1
    assert box.api("POST", "/api/campaigns/followup/start")[1]["state"] == "running"

    callee.wait_for("incoming", timeout=15)
    callee.answer()
    callee.wait_for("call_state", state="CONFIRMED", timeout=10)
    agent.wait_for("incoming", timeout=10)  # the callee answered: now the agent's phone rings
    agent.answer()
    agent.wait_for("call_state", state="CONFIRMED", timeout=10)
    time.sleep(1.0)
    the_question_after_the_agent_hangs_up(callee, agent, tmp_path)
    a_score_and_the_thanks(callee, tmp_path, "4")

    record = wait_until(lambda: campaign_records(box, "followup"), 10, "the attempt's call record")[0]
    entry = entries(box, "followup")["1001"]
    assert (record["campaign"], record["campaign_entry"], record["campaign_result"], record["csat"]) == \
        ("followup", entry["id"], "ANSWERED", 4), record
    assert record["agent"] == "1010"
    assert (entry["state"], entry["result"]) == ("done", "ANSWERED")
    status, report = box.api("GET", "/api/campaigns/followup/report")
    assert status == 200, report
    assert (report["reached"], report["results"]) == (1, {"ANSWERED": 1}), report
    assert report["csat"] == {"offered": 1, "answered": 1, "average": 4.0, "csat_pct": 100.0,
                              "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}, report["csat"]
    status, csat = box.api("GET", "/api/csat?by=campaign")
    assert status == 200, csat
    group = csat["groups"]["followup"]
    assert (group["offered"], group["answered"], group["average"], group["csat_pct"]) == (1, 1, 4.0, 100.0), group
