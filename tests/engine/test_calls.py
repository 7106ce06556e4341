"""Call control: outgoing calls, answer/reject, DTMF, hold, transfer."""

import pytest

from appliance.errors import EngineError
from tests.engine.conftest import call_in

pytestmark = pytest.mark.peers


def test_outgoing_call_rings_is_answered_and_remote_hangup_is_by_remote(engine, make_phone):
    phone = make_phone("desk")
    engine.command("call", leg="out-1", uri=phone.uri,
                   caller_id={"name": "Reception", "number": "100"})
    incoming = phone.wait_for("incoming")
    assert "Reception" in incoming["from"] and "sip:100@" in incoming["from"]
    phone.answer(180)
    assert engine.wait_event("ringing", leg="out-1")["status"] == 180
    phone.answer()
    answered = engine.wait_event("answered", leg="out-1")
    assert answered["codec"] in ("PCMU/8000", "PCMA/8000")
    phone.hangup()
    hangup = engine.wait_event("hangup", leg="out-1")
    assert hangup["by"] == "remote"


def test_local_hangup_is_by_local_and_phone_sees_bye(engine, make_phone):
    phone = make_phone("desk")
    engine.command("call", leg="out-1", uri=phone.uri)
    phone.wait_for("incoming")
    phone.answer()
    engine.wait_event("answered", leg="out-1")
    engine.command("hangup", leg="out-1")
    assert engine.wait_event("hangup", leg="out-1")["by"] == "local"
    phone.wait_for("call_state", state="DISCONNECTED")


def test_busy_phone_gives_hangup_with_its_status(engine, make_phone):
    phone = make_phone("desk")
    engine.command("call", leg="out-1", uri=phone.uri)
    phone.wait_for("incoming")
    phone.answer(486)
    hangup = engine.wait_event("hangup", leg="out-1")
    assert (hangup["cause"], hangup["by"]) == (486, "remote")


def test_unanswered_call_times_out_with_408(engine, make_phone):
    phone = make_phone("desk")
    engine.command("call", leg="out-1", uri=phone.uri, timeout_s=1)
    phone.wait_for("incoming")
    hangup = engine.wait_event("hangup", leg="out-1", timeout=10)
    assert (hangup["cause"], hangup["by"]) == (408, "local")
    phone.wait_for("call_state", state="DISCONNECTED")


def test_core_rejects_incoming_call_with_its_status(engine, make_phone):
    phone = make_phone("caller")
    phone.call(engine.uri("999"))
    incoming = engine.wait_event("incoming")
    assert incoming["to"].startswith("<sip:999@") or "sip:999@" in incoming["to"]
    assert incoming["caller_id"]["number"] == "caller"
    assert incoming["source"].startswith("127.0.0.1:")
    engine.command("ringing", leg=incoming["leg"])
    phone.wait_for("call_state", state="EARLY")
    engine.command("reject", leg=incoming["leg"], status=404)
    assert phone.wait_for("call_state", state="DISCONNECTED")["last_status"] == 404
    assert engine.wait_event("hangup", leg=incoming["leg"])["by"] == "local"


def test_dtmf_arrives_in_order_by_rfc4733_and_sip_info(engine, make_phone):
    phone = make_phone("caller")
    leg = call_in(engine, phone)
    phone.dtmf("1#9", method="rfc2833")
    got = [engine.wait_event("dtmf", leg=leg) for _ in range(3)]
    assert [(e["digit"], e["method"]) for e in got] == \
        [("1", "rfc2833"), ("#", "rfc2833"), ("9", "rfc2833")]
    phone.dtmf("*42", method="info")
    got = [engine.wait_event("dtmf", leg=leg) for _ in range(3)]
    assert [(e["digit"], e["method"]) for e in got] == \
        [("*", "info"), ("4", "info"), ("2", "info")]


def test_worker_sends_dtmf_both_ways(engine, make_phone):
    phone = make_phone("caller")
    leg = call_in(engine, phone)
    engine.command("send_dtmf", leg=leg, digits="57")
    assert [phone.wait_for("dtmf")["digit"] for _ in range(2)] == ["5", "7"]
    engine.command("send_dtmf", leg=leg, digits="0", method="info")
    assert phone.wait_for("dtmf", method="info")["digit"] == "0"


def test_hold_both_ways(engine, make_phone):
    phone = make_phone("caller")
    leg = call_in(engine, phone)
    phone.hold()
    assert engine.wait_event("held", leg=leg)["by"] == "remote"
    phone.unhold()
    assert engine.wait_event("unheld", leg=leg)
    engine.command("hold", leg=leg)
    phone.wait_for("media_state", status=2)  # PJSUA_CALL_MEDIA_REMOTE_HOLD
    assert any(x["held"] for x in engine.command("status")["legs"])
    engine.command("unhold", leg=leg)
    phone.wait_for("media_state", status=1)  # PJSUA_CALL_MEDIA_ACTIVE


def test_blind_transfer_sends_refer_and_the_phone_calls_the_target(engine, make_phone):
    caller, target = make_phone("caller"), make_phone("target")
    leg = call_in(engine, caller)
    engine.command("transfer", leg=leg, uri=target.uri)
    assert "sip:caller@" in target.wait_for("incoming")["from"]
    target.answer()
    assert engine.wait_event("transfer_status", leg=leg, final=True)["status"] == 200
    engine.command("hangup", leg=leg)
    target.wait_for("call_state", state="CONFIRMED")


def test_refer_from_a_phone_goes_to_the_core(engine, make_phone):
    phone = make_phone("agent")
    leg = call_in(engine, phone)
    phone.transfer("sip:205@127.0.0.1")
    event = engine.wait_event("transfer_requested", leg=leg)
    assert event["target"].endswith("sip:205@127.0.0.1>") or "sip:205@127.0.0.1" in event["target"]
    # The worker did not dial on its own: still only the one leg.
    assert [x["leg"] for x in engine.command("status")["legs"]] == [leg]


def test_commands_on_unknown_legs_are_refused(engine):
    for cmd, args in [("answer", {"leg": "nope"}), ("bridge", {"a": "x", "b": "y"}),
                      ("play", {"leg": "nope", "file": "/dev/null"}),
                      ("record_stop", {"leg": "nope"})]:
        with pytest.raises(EngineError):
            engine.command(cmd, **args)
