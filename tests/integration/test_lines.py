"""A phone line in the box: a simulated GSM modem rings, its gateway brings the call in as a trunk,
the flow queues it, the agent's phone answers, and each side hears the other (FFT)."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_calls import call_records, registered_phone
from tests.peers.audio import tone_present
from tests.peers.phones import Phone

pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
pytestmark = pytest.mark.peers

FLOWS = {
    "schema": 1, "version": 1, "language": "en",
    "routes": [{"name": "mobile", "did": "48601000000", "destination": "sales"}],
    "nodes": {"sales": {"kind": "queue", "queue": "sales"}},
}


def wait_line_ready(box, name: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = {ln["name"]: ln for ln in box.api("GET", "/api/lines")[1]["lines"]}
        line = lines.get(name, {})
        if line.get("sip_port") and line.get("state") == "ready":
            return line
        time.sleep(0.3)
    raise AssertionError(f"line {name} never got ready: {box.api('GET', '/api/lines')[1]}")


def test_gsm_caller_reaches_an_agent_through_the_queue(core_factory, phones, tmp_path):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2})
    agent = registered_phone(box, phones, "1010")
    assert box.api("POST", "/api/queues", {"name": "sales"})[0] == 201
    assert box.api("POST", "/api/agents/1010", {"queues": ["sales"]})[0] == 201
    assert box.api("PUT", "/api/flows", FLOWS)[0] == 200
    box.api("POST", "/api/agents/1010/login", {})
    status, body = box.api("POST", "/api/lines", {"name": "gsm1", "kind": "gsm", "device": "sim:gsm",
                                                  "number": "48601000000"})
    assert status == 201, body
    line = wait_line_ready(box, "gsm1")
    assert line["operator"] and line["signal"] is not None
    box.api("POST", "/api/lines/gsm1/simulate", {"action": "ring", "caller": "+48602111222"})
    incoming = agent.wait_for("incoming", timeout=20)
    assert "48602111222" in incoming["from"]
    agent.answer()
    time.sleep(0.5)
    box.api("POST", "/api/lines/gsm1/simulate", {"action": "tone", "hz": 1000})
    agent.play_tone(400)
    agent.record(tmp_path / "agent-heard.wav")
    time.sleep(2.0)
    agent.stop_record()
    saved = box.api("POST", "/api/lines/gsm1/simulate", {"action": "save_audio"})[1]["file"]
    assert tone_present(tmp_path / "agent-heard.wav", 1000, start_s=0.3)
    assert tone_present(saved, 400, start_s=0.5)
    box.api("POST", "/api/lines/gsm1/simulate", {"action": "hangup"})
    agent.wait_for("call_state", state="DISCONNECTED", timeout=15)
    record = call_records(box)[0]
    assert (record["direction"], record["queue"], record["agent"]) == ("inbound", "sales", "1010")
    assert record["caller"].endswith("48602111222")


MENU_FLOWS = {
    "schema": 1, "version": 1, "language": "en",
    "routes": [{"name": "landline", "did": "48221000000", "destination": "menu"}],
    "nodes": {"menu": {"kind": "ivr_menu", "prompt": "menu", "choices": {"1": "sales"}, "timeout_s": 8,
                       "retries": 1, "invalid_destination": "bye"},
              "sales": {"kind": "queue", "queue": "sales"}, "bye": {"kind": "hangup"}},
}


def _agent_ready(box, phones):
    agent = registered_phone(box, phones, "1010")
    assert box.api("POST", "/api/queues", {"name": "sales"})[0] == 201
    assert box.api("POST", "/api/agents/1010", {"queues": ["sales"]})[0] == 201
    box.api("POST", "/api/agents/1010/login", {})
    return agent


def test_dtmf_from_an_analog_line_drives_the_ivr(core_factory, phones):
    from tests.peers.audio import write_sine
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2})
    (box.data_dir / "prompts" / "en").mkdir(parents=True, exist_ok=True)
    write_sine(box.data_dir / "prompts" / "en" / "menu.wav", 600, 0.5)
    agent = _agent_ready(box, phones)
    assert box.api("PUT", "/api/flows", MENU_FLOWS)[0] == 200
    assert box.api("POST", "/api/lines", {"name": "pots", "kind": "analog", "device": "sim:analog",
                                          "number": "48221000000"})[0] == 201
    wait_line_ready(box, "pots")
    box.api("POST", "/api/lines/pots/simulate", {"action": "ring", "caller": "0221234567"})
    # The box answers the line and plays the menu; the caller presses 1 once the line carries audio
    # (until then the simulated modem answers 409).
    deadline = time.monotonic() + 20
    while box.api("POST", "/api/lines/pots/simulate", {"action": "dtmf", "digit": "1"})[0] != 200:
        assert time.monotonic() < deadline, "the analog line never carried audio"
        time.sleep(0.3)
    incoming = agent.wait_for("incoming", timeout=20)  # the caller's "1" on the landline reached the queue
    assert "0221234567" in incoming["from"]
    agent.answer()
    time.sleep(1.0)
    agent.hangup()


def test_unplugging_the_modem_mid_call_ends_the_call_with_a_record_and_the_line_comes_back(core_factory, phones):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2})
    agent = _agent_ready(box, phones)
    assert box.api("PUT", "/api/flows", FLOWS)[0] == 200
    assert box.api("POST", "/api/lines", {"name": "gsm1", "kind": "gsm", "device": "sim:gsm",
                                          "number": "48601000000"})[0] == 201
    wait_line_ready(box, "gsm1")
    box.api("POST", "/api/lines/gsm1/simulate", {"action": "ring", "caller": "+48602111222"})
    agent.wait_for("incoming", timeout=20)
    agent.answer()
    agent.wait_for("call_state", state="CONFIRMED", timeout=15)
    time.sleep(1.0)
    box.api("POST", "/api/lines/gsm1/simulate", {"action": "unplug"})
    agent.wait_for("call_state", state="DISCONNECTED", timeout=20)  # the call ends cleanly
    record = call_records(box)[0]
    assert record["queue"] == "sales" and record["agent"] == "1010" and record["disposition"] == "ANSWERED"
    box.api("POST", "/api/lines/gsm1/simulate", {"action": "replug"})
    wait_line_ready(box, "gsm1", timeout=40)  # the driver comes back by itself


def test_sms_in_is_stored_and_shown_and_sms_out_goes_through_the_line(core_factory):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2})
    assert box.api("POST", "/api/lines", {"name": "gsm1", "kind": "gsm", "device": "sim:gsm",
                                          "number": "48601000000"})[0] == 201
    wait_line_ready(box, "gsm1")
    box.api("POST", "/api/lines/gsm1/simulate", {"action": "sms", "sender": "+48602111222",
                                                 "text": "Proszę oddzwonić, zażółć gęślą jaźń 你好"})

    def sms(direction: str, status: str | None = None) -> list[dict]:
        return [m for m in box.api("GET", "/api/sms")[1]["sms"]
                if m["direction"] == direction and (status is None or m["status"] == status)]

    deadline = time.monotonic() + 20
    while not sms("in") and time.monotonic() < deadline:
        time.sleep(0.3)
    received = sms("in")[0]
    assert received["number"] == "+48602111222" and received["text"].endswith("你好")
    status, body = box.api("POST", "/api/sms", {"line": "gsm1", "number": "+48602111222",
                                                "text": "Missed call from +48 601 000 000"})
    assert status == 202, body
    deadline = time.monotonic() + 20
    while not sms("out", "sent") and time.monotonic() < deadline:
        time.sleep(0.3)
    assert sms("out", "sent"), box.api("GET", "/api/sms")[1]
