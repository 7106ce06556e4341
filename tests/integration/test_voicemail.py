"""Voicemail with real phones: an unanswered call leaves a message, the owner's phone is told by MWI
(RFC 3842 NOTIFY), and the owner listens to it by phone after the PIN."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_calls import registered_phone
from tests.peers.audio import tone_present
from tests.peers.phones import Phone

pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
pytestmark = pytest.mark.peers


def wait_messages(box, number: str, count: int, timeout: float = 15) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = box.api("GET", f"/api/voicemail/{number}")
        if status == 200 and len(body["messages"]) >= count:
            return body["messages"]
        time.sleep(0.3)
    raise AssertionError(f"no voicemail in {number}: {box.api('GET', f'/api/voicemail/{number}')}")


def test_leave_a_message_get_mwi_and_listen_by_phone(box, phones, tmp_path):
    caller = registered_phone(box, phones, "1001")
    owner_ext = box.add_extension("1002")  # no phone registered: the call goes to voicemail
    assert box.api("PATCH", "/api/voicemail/1002", {"pin": "4321"})[0] == 200
    caller.call(f"sip:1002@127.0.0.1:{box.sip_port}")
    caller.wait_for("call_state", state="CONFIRMED", timeout=15)  # the box answered for 1002
    time.sleep(1.0)  # greeting and beep
    caller.play_tone(800)
    time.sleep(2.5)
    caller.hangup()
    message = wait_messages(box, "1002", 1)[0]
    assert message["caller"] == "1001" and message["duration_s"] >= 1.5
    status, boxes = box.api("GET", "/api/voicemail")
    assert next(b for b in boxes["boxes"] if b["number"] == "1002")["new"] == 1
    # The owner's phone subscribes to message-summary and hears there is a new message.
    owner = Phone("owner")
    try:
        owner.register(f"sip:127.0.0.1:{box.sip_port}", "1002", owner_ext["secret"], mwi=True)
        owner.wait_for("reg_state", code=200, timeout=15)
        mwi = owner.wait_for("mwi", timeout=15)
        assert "Messages-Waiting: yes" in mwi["body"] and "Voice-Message: 1/0" in mwi["body"]
        # *97: own box, PIN, 1 for new messages; the message plays.
        owner.call(f"sip:*97@127.0.0.1:{box.sip_port}")
        owner.wait_for("call_state", state="CONFIRMED", timeout=15)
        time.sleep(0.5)
        owner.dtmf("4321#")
        time.sleep(1.0)
        owner.record(tmp_path / "owner-heard.wav")
        owner.dtmf("1")
        time.sleep(5.0)  # the whole message: it counts as heard once played to its end
        owner.stop_record()
        owner.hangup()
        assert tone_present(tmp_path / "owner-heard.wav", 800, start_s=0.3)
        # Heard: the message is old now, and the phone is told.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            b = next(b for b in box.api("GET", "/api/voicemail")[1]["boxes"] if b["number"] == "1002")
            if b["new"] == 0:
                break
            time.sleep(0.3)
        assert (b["new"], b["old"]) == (0, 1)
        assert "Messages-Waiting: no" in owner.wait_for("mwi", timeout=10)["body"]
    finally:
        owner.close()


def test_an_uploaded_greeting_is_what_callers_hear(box, phones, tmp_path):
    from tests.peers.audio import write_sine
    caller = registered_phone(box, phones, "1001")
    box.add_extension("1002")
    greeting = write_sine(tmp_path / "greeting.wav", 300, 2.0)
    status, body = box.api("PUT", "/api/voicemail/1002/greeting/unavailable", raw=greeting.read_bytes())
    assert status == 201, body
    caller.call(f"sip:1002@127.0.0.1:{box.sip_port}")
    caller.wait_for("call_state", state="CONFIRMED", timeout=15)
    caller.record(tmp_path / "heard.wav")
    time.sleep(1.5)
    caller.stop_record()
    caller.hangup()
    assert tone_present(tmp_path / "heard.wav", 300, start_s=0.2)
    status, body = box.api("PUT", "/api/voicemail/1002/greeting/unavailable", raw=b"not audio at all")
    assert status == 400


def test_a_message_is_filed_when_the_data_directory_is_relative(phones, tmp_path):
    """`callbox demo --data var` runs the core with a relative data directory: a message left
    there is filed at once (it was recorded, then lost until a restart, under var/var/voicemail)."""
    from tests.integration.corebox import CoreProcess
    box = CoreProcess("var", {"engine.enabled": True, "engine.max_calls": 2}, cwd=tmp_path).start()
    try:
        caller = registered_phone(box, phones, "1001")
        box.add_extension("1002")  # nobody answers: voicemail
        caller.call(f"sip:1002@127.0.0.1:{box.sip_port}")
        caller.wait_for("call_state", state="CONFIRMED", timeout=15)
        time.sleep(1.0)
        caller.play_tone(800)
        time.sleep(2.0)
        caller.hangup()
        message = wait_messages(box, "1002", 1)[0]
        assert message["caller"] == "1001"
        assert "could not file" not in box.log()
        assert not (tmp_path / "var" / "var").exists()
        assert list((tmp_path / "var" / "voicemail" / "1002").glob(f"{message['id']}*.wav"))
    finally:
        box.stop()


def test_the_owner_records_a_greeting_by_phone_and_callers_hear_it(box, phones, tmp_path):
    owner_ext = box.add_extension("1003")
    assert box.api("PATCH", "/api/voicemail/1003", {"pin": "8642"})[0] == 200
    owner = Phone("owner3")
    try:
        owner.register(f"sip:127.0.0.1:{box.sip_port}", "1003", owner_ext["secret"])
        owner.wait_for("reg_state", code=200, timeout=15)
        owner.call(f"sip:*97@127.0.0.1:{box.sip_port}")
        owner.wait_for("call_state", state="CONFIRMED", timeout=15)
        time.sleep(0.5)
        owner.dtmf("8642#")
        time.sleep(1.0)
        owner.dtmf("0")  # options
        time.sleep(1.0)
        owner.dtmf("1")  # record the unavailable greeting
        time.sleep(1.0)  # the instructions (no spoken prompts in a test box), then the beep
        owner.play_tone(600)
        time.sleep(2.5)
        owner.dtmf("#")  # done: review menu
        time.sleep(1.0)
        owner.dtmf("1")  # keep it
        time.sleep(1.5)
        owner.hangup()
    finally:
        owner.close()
    greeting = box.data_dir / "voicemail" / "1003" / "greetings" / "unavailable.wav"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not greeting.exists():
        time.sleep(0.3)
    assert greeting.exists() and tone_present(greeting, 600, start_s=1.0)
    assert not list(greeting.parent.glob(".take-*"))  # the take became the greeting
    caller = registered_phone(box, phones, "1001")
    caller.call(f"sip:1003@127.0.0.1:{box.sip_port}")
    # The owner's phone may still be registered: it rings out before voicemail answers.
    caller.wait_for("call_state", state="CONFIRMED", timeout=45)
    caller.record(tmp_path / "caller-heard.wav")
    time.sleep(3.5)
    caller.stop_record()
    caller.hangup()
    assert tone_present(tmp_path / "caller-heard.wav", 600, start_s=1.5)  # the owner's own greeting
