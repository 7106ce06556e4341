"""The satisfaction survey of a queue, end to end with real phones: the agent hangs up, the caller
hears the question, presses a digit, and the score is in the call record and the CSAT report; a
caller who hangs up first is asked nothing."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_callcenter import queue_call
from tests.integration.test_calls import call_records
from tests.peers.audio import tone_present, write_sine

pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
pytestmark = pytest.mark.peers

QUESTION_HZ, THANKS_HZ = 700, 900


def survey_prompts(box) -> None:
    """The survey's prompts as tones, so the caller's ear can tell them apart."""
    prompts = box.data_dir / "prompts" / "en"
    prompts.mkdir(parents=True, exist_ok=True)
    write_sine(prompts / "survey-question.wav", QUESTION_HZ, 1.5)
    write_sine(prompts / "survey-thanks.wav", THANKS_HZ, 0.8)


def the_question_after_the_agent_hangs_up(caller, agent, tmp_path) -> None:
    """The agent hangs up and the caller, still on the line, hears the survey's question."""
    caller.record(tmp_path / "question.wav")
    agent.hangup()
    agent.wait_for("call_state", state="DISCONNECTED", timeout=10)
    time.sleep(1.0)
    caller.stop_record()
    assert tone_present(tmp_path / "question.wav", QUESTION_HZ, start_s=0.3)  # still on the line, asked


def a_score_and_the_thanks(caller, tmp_path, digit: str) -> None:
    """The caller presses a score, hears the thanks, and the box hangs up after it."""
    caller.record(tmp_path / "thanks.wav")
    caller.dtmf(digit)
    time.sleep(0.6)
    caller.stop_record()
    assert tone_present(tmp_path / "thanks.wav", THANKS_HZ, start_s=0.3)
    caller.wait_for("call_state", state="DISCONNECTED", timeout=10)


def _talking(box, phones, survey: bool):
    """A caller who reached the agent through the menu and a queue with (or without) a survey."""
    survey_prompts(box)
    customer, agent = queue_call(box, phones, survey=survey)
    time.sleep(1.0)
    return customer, agent


def _agent(box) -> dict:
    return next(a for a in box.api("GET", "/api/agents")[1]["agents"] if a["extension"] == "1010")


def test_the_agent_hangs_up_and_the_caller_rates_the_call(box, phones, tmp_path):
    customer, agent = _talking(box, phones, survey=True)
    assert next(q for q in box.api("GET", "/api/queues")[1]["queues"] if q["name"] == "sales")["survey"] is True
    the_question_after_the_agent_hangs_up(customer, agent, tmp_path)
    # The ACD saw the conversation end at the hang-up: the agent is in wrap-up (10 s) while the caller answers.
    assert _agent(box)["state"] == "WRAP_UP"
    a_score_and_the_thanks(customer, tmp_path, "4")
    record = call_records(box)[0]
    assert (record["queue"], record["agent"], record["outcome"], record["csat"]) == ("sales", "1010", "ANSWERED", 4)
    assert record["hangup_by"] == "agent" and record["talk_s"] < record["duration_s"]
    status, body = box.api("GET", "/api/csat?by=queue")
    assert status == 200, body
    sales = body["groups"]["sales"]
    assert (sales["offered"], sales["answered"], sales["average"], sales["csat_pct"]) == (1, 1, 4.0, 100.0)
    status, today = box.api("GET", "/api/reports/today")
    row = next(q for q in today["queues"] if q["queue"] == "sales")
    assert (row["csat_offered"], row["csat_answered"], row["csat_average"]) == (1, 1, 4.0)


def test_a_caller_who_hangs_up_first_is_asked_nothing(box, phones):
    customer, agent = _talking(box, phones, survey=True)
    customer.hangup()
    agent.wait_for("call_state", state="DISCONNECTED", timeout=10)
    record = call_records(box)[0]
    assert (record["queue"], record["outcome"], record["hangup_by"]) == ("sales", "ANSWERED", "caller")
    assert "csat" not in record
    assert box.api("GET", "/api/csat?by=queue")[1]["groups"] == {}


def test_the_survey_is_set_changed_and_kept_across_a_restart(core_factory):
    core = core_factory()
    assert core.api("POST", "/api/queues", {"name": "sales", "survey": True})[0] == 201
    assert core.api("POST", "/api/queues", {"name": "support"})[0] == 201
    assert core.api("POST", "/api/queues", {"name": "bad", "survey": "yes"})[0] == 400
    assert core.api("PATCH", "/api/queues/support", {"survey": True})[1]["survey"] is True
    assert core.api("PATCH", "/api/queues/sales", {"survey": "no"})[0] == 400
    assert core.api("PATCH", "/api/queues/nowhere", {"survey": True})[0] == 404
    core.stop()
    again = core_factory(data_dir=core.data_dir)
    queues = {q["name"]: q for q in again.api("GET", "/api/queues")[1]["queues"]}
    assert (queues["sales"]["survey"], queues["support"]["survey"]) == (True, True) and "bad" not in queues
