"""Nothing fails silently: a dying engine worker, a missing prompt and a full disk are alarms with what
to do, in the API, the event stream, the web's dashboard and wallboard, and the front panel."""

from __future__ import annotations

import os
import signal
import time

from web.api_client import ApiClient
from tests.integration.test_calls import connect, registered_phone


def wait_alarm(box, kind: str, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [a for a in box.api("GET", "/api/alarms")[1]["alarms"] if a["kind"] == kind]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no {kind} alarm: {box.api('GET', '/api/alarms')[1]}")


def test_a_worker_that_dies_is_an_alarm_until_acknowledged(box, phones):
    a, b = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    connect(box, a, b, "1002")
    worker = box.api("GET", "/api/engine")[1]["workers"][0]
    os.kill(worker["pid"], signal.SIGKILL)
    alarm = wait_alarm(box, "engine")
    assert alarm["incident"] and "calls were dropped" in alarm["text"] and alarm["action"]
    # It lights the front panel's fault LED and is on the wallboard the web builds.
    assert "engine" in [f["fault"] for f in box.api("GET", "/api/panel")[1]["faults"]]
    from web.center_views import alarms as wallboard_alarms
    assert any("calls were dropped" in line for line in wallboard_alarms({}, [], ApiClient.from_data_dir(box.data_dir).alarms()))
    # The worker comes back by itself, but the alarm waits for the owner.
    time.sleep(2.0)
    assert [x["kind"] for x in box.api("GET", "/api/alarms")[1]["alarms"]] == ["engine"]
    assert box.api("POST", f"/api/alarms/{alarm['id']}/ack")[0] == 204
    assert box.api("GET", "/api/alarms")[1]["alarms"] == []
    assert box.api("POST", f"/api/alarms/{alarm['id']}/ack")[0] == 404


def test_a_missing_prompt_is_an_alarm(box, phones):
    from tests.integration.test_callcenter import FLOWS
    customer = registered_phone(box, phones, "1001")
    assert box.api("POST", "/api/queues", {"name": "sales", "ring_timeout_s": 15})[0] == 201
    assert box.api("PUT", "/api/flows", FLOWS)[0] == 200
    customer.call(f"sip:500@127.0.0.1:{box.sip_port}")       # the menu prompt was never made
    customer.wait_for("call_state", state="CONFIRMED", timeout=15)
    alarm = wait_alarm(box, "prompt")
    assert "menu" in alarm["text"] and "Prompts page" in alarm["action"]
    customer.hangup()


def test_the_now_page_sees_callers_in_the_menu_and_in_queues(box, phones):
    """Calls the box answered itself count as calls in progress, not only phone-to-phone calls."""
    from tests.integration.test_callcenter import FLOWS
    from tests.peers.audio import write_sine
    from web.views import now_blocks
    (box.data_dir / "prompts" / "en").mkdir(parents=True, exist_ok=True)
    write_sine(box.data_dir / "prompts" / "en" / "menu.wav", 600, 1.0)
    customer = registered_phone(box, phones, "1001")
    assert box.api("POST", "/api/queues", {"name": "sales", "ring_timeout_s": 15})[0] == 201
    assert box.api("PUT", "/api/flows", FLOWS)[0] == 200
    customer.call(f"sip:500@127.0.0.1:{box.sip_port}")
    customer.wait_for("call_state", state="CONFIRMED", timeout=15)
    engine = box.api("GET", "/api/engine")[1]
    [call] = engine["calls"]
    assert (call["caller"], call["callee"], call["state"]) == ("1001", "500", "IN_MENU")
    customer.dtmf("1")                      # into the sales queue, where nobody is logged in
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and box.api("GET", "/api/engine")[1]["calls"][0]["state"] != "QUEUED":
        time.sleep(0.2)
    engine = box.api("GET", "/api/engine")[1]
    assert engine["calls"][0]["state"] == "QUEUED" and engine["calls"][0]["queue"] == "sales"
    blocks = now_blocks(engine, [], time.time())
    assert blocks["summary"]["active"] == "1" and blocks["summary"]["waiting"] == "1"
    customer.hangup()
