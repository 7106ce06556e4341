"""Calls through the box: pjsua2 phones register to the core's edge and call each other;
the engine workers carry the audio (checked by FFT both ways) and every call leaves a record."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.peers.audio import duration_s, tone_present, tone_share
from tests.peers.phones import Phone

pjsua2 = pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
pytestmark = pytest.mark.peers


def registered_phone(box, phones, number: str) -> Phone:
    ext = box.add_extension(number)
    phone = phones(f"ext{number}")
    phone.register(f"sip:127.0.0.1:{box.sip_port}", number, ext["secret"])
    phone.wait_for("reg_state", code=200, timeout=15)
    box.wait_registered(number)
    return phone


def call_records(box, timeout: float = 10.0, count: int = 1) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = box.api("GET", "/api/cdr")
        if status == 200 and len(body["records"]) >= count:
            return body["records"]
        time.sleep(0.2)
    raise AssertionError(f"no call record: {box.api('GET', '/api/cdr')}")


def the_recording_holds(box, hz: int) -> None:
    """The last call's record names its recording: a complete WAV in which the tone of `hz` is heard."""
    record = call_records(box)[0]
    assert tone_share(finished_wav(box.data_dir / record["recording"]), hz) > 0.1


def connect(box, caller: Phone, callee: Phone, number: str) -> dict:
    """The caller dials `number`, the callee answers: the callee's incoming event, once the call is up."""
    caller.call(f"sip:{number}@127.0.0.1:{box.sip_port}")
    incoming = callee.wait_for("incoming", timeout=15)
    callee.answer()
    caller.wait_for("call_state", state="CONFIRMED", timeout=15)
    return incoming


def hear_each_other(a: Phone, b: Phone, tmp_path, listen_s: float = 1.5, start_s: float = 0.3) -> None:
    """Audio flows both ways: `b` hears `a`'s 1 kHz tone and `a` hears `b`'s 400 Hz, each recorded to a file."""
    a.play_tone(1000)
    b.play_tone(400)
    a_heard, b_heard = tmp_path / f"{a.name}-heard.wav", tmp_path / f"{b.name}-heard.wav"
    a.record(a_heard)
    b.record(b_heard)
    time.sleep(listen_s)
    a.stop_record()
    b.stop_record()
    assert tone_present(b_heard, 1000, start_s=start_s)
    assert tone_present(a_heard, 400, start_s=start_s)


def test_extension_calls_extension_with_audio_both_ways(box, phones, tmp_path):
    anna, piotr = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    incoming = connect(box, anna, piotr, "1002")
    assert "1001" in incoming["from"]
    hear_each_other(anna, piotr, tmp_path, listen_s=2.0, start_s=0.5)
    anna.hangup()
    piotr.wait_for("call_state", state="DISCONNECTED", timeout=10)
    record = call_records(box)[0]
    assert record["disposition"] == "ANSWERED"
    assert (record["caller"], record["callee"], record["answered_by"]) == ("1001", "1002", "1002")
    assert record["hangup_by"] == "caller" and record["talk_s"] >= 2


def test_busy_and_unregistered_extensions(box, phones):
    anna, piotr = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    box.api("PATCH", "/api/extensions/1002", {"voicemail": False})  # no voicemail: callers hear busy
    box.add_extension("1003", voicemail=False)  # exists, but no phone registered
    anna.call(f"sip:1003@127.0.0.1:{box.sip_port}")
    state = anna.wait_for("call_state", state="DISCONNECTED", timeout=15)
    assert state["last_status"] == 480
    anna.call(f"sip:1002@127.0.0.1:{box.sip_port}")
    piotr.wait_for("incoming", timeout=15)
    piotr.answer(486)
    state = anna.wait_for("call_state", state="DISCONNECTED", timeout=15)
    assert state["last_status"] == 486
    anna.call(f"sip:4242@127.0.0.1:{box.sip_port}")
    assert anna.wait_for("call_state", state="DISCONNECTED", timeout=15)["last_status"] == 404
    dispositions = sorted(r["disposition"] for r in call_records(box, count=3))
    assert dispositions == ["BUSY", "FAILED", "NO ANSWER"]


def finished_wav(path, timeout: float = 10.0):
    """The worker writes a recording's WAV header when it closes the recorder, a moment after the call."""
    import wave
    deadline = time.monotonic() + timeout
    while True:
        try:
            with wave.open(str(path)) as w:
                if w.getnframes() > 0:
                    return path
        except (wave.Error, EOFError, FileNotFoundError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never became a complete WAV")
        time.sleep(0.2)


def test_a_worker_killed_mid_call_drops_only_its_call_and_the_box_recovers(core_factory, phones, tmp_path):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 4})  # two workers of 4 legs
    a1, a2 = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    b1, b2 = registered_phone(box, phones, "1003"), registered_phone(box, phones, "1004")
    connect(box, a1, a2, "1002")
    # Workers start on demand: the spare that came up when the first worker got busy takes the next call.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        workers = box.api("GET", "/api/engine")[1]["workers"]
        if len(workers) == 2 and all(w["alive"] for w in workers):
            break
        time.sleep(0.2)
    connect(box, b1, b2, "1004")
    workers = box.api("GET", "/api/engine")[1]["workers"]
    assert len(workers) == 2
    calls = box.api("GET", "/api/engine")[1]["calls"]
    by_caller = {c["caller"]: c["worker"] for c in calls}
    assert by_caller["1001"] != by_caller["1003"]  # placed on different workers
    doomed = next(w for w in workers if w["id"] == by_caller["1001"])
    os.kill(doomed["pid"], signal.SIGKILL)
    record = call_records(box)[0]
    assert record["disposition"] == "ANSWERED" and record["hangup_by"] == "box" and record["caller"] == "1001"
    # The other conversation goes on, with audio.
    b1.play_tone(1000)
    b2.record(tmp_path / "b2-heard.wav")
    time.sleep(1.5)
    b2.stop_record()
    assert tone_present(tmp_path / "b2-heard.wav", 1000, start_s=0.3)
    assert [c["caller"] for c in box.api("GET", "/api/engine")[1]["calls"]] == ["1003"]
    # The dead worker comes back; the dropped phones hang up and can call again.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        workers = box.api("GET", "/api/engine")[1]["workers"]
        if all(w["alive"] for w in workers) and any(w["restarts"] for w in workers):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"worker not restarted: {workers}")
    a1.hangup()
    a2.hangup()
    connect(box, a1, a2, "1002")


def test_baresip_and_a_pjsua2_phone_call_each_other_through_the_box(box, phones, tmp_path):
    from tests.integration.baresip_peer import Baresip, baresip_available
    if not baresip_available():
        pytest.skip("baresip is not installed")
    anna = registered_phone(box, phones, "1001")
    ext = box.add_extension("1002")
    heard = tmp_path / "baresip-heard"
    heard.mkdir()
    bare = Baresip(tmp_path / "baresip", heard=heard)  # its microphone is a 1 kHz sine
    try:
        bare.register("1002", ext["secret"], box.sip_port)
        bare.wait_event("REGISTER_OK", timeout=15)
        anna.call(f"sip:1002@127.0.0.1:{box.sip_port}")
        bare.wait_event("CALL_INCOMING", timeout=15)
        bare.command("accept")
        anna.wait_for("call_state", state="CONFIRMED", timeout=15)
        anna.play_tone(400)
        anna.record(tmp_path / "anna-heard.wav")
        time.sleep(2.0)
        anna.stop_record()
        anna.hangup()
        bare.wait_event("CALL_CLOSED", timeout=10)
    finally:
        bare.close()
    assert tone_present(tmp_path / "anna-heard.wav", 1000, start_s=0.5)
    decoded = sorted(heard.glob("*dec*.wav"))
    assert decoded, list(heard.iterdir())
    assert tone_present(decoded[0], 400, start_s=0.5)
    assert call_records(box)[0]["answered_by"] == "1002"


def test_a_recorded_call_holds_both_parties_and_survives_a_killed_worker(box, phones, tmp_path):
    anna, piotr = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    box.api("PATCH", "/api/extensions/1002", {"record": "always"})
    connect(box, anna, piotr, "1002")
    anna.play_tone(1000)
    piotr.play_tone(400)
    time.sleep(2.5)
    # Pull the plug on the worker mid-recording: the file must still be a valid, playable WAV.
    worker = next(w for w in box.api("GET", "/api/engine")[1]["workers"] if w["free"] < w["max_calls"])
    os.kill(worker["pid"], signal.SIGKILL)
    record = call_records(box)[0]
    path = finished_wav(box.data_dir / record["recording"])
    assert tone_share(path, 1000) > 0.1 and tone_share(path, 400) > 0.1


def test_hold_and_resume_through_the_box(box, phones, tmp_path):
    anna, piotr = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    connect(box, anna, piotr, "1002")
    anna.play_tone(1000)
    anna.hold()
    time.sleep(1.0)
    piotr.record(tmp_path / "on-hold.wav")
    time.sleep(1.5)
    piotr.stop_record()
    # On hold: Piotr hears the music, not Anna's tone.
    assert not tone_present(tmp_path / "on-hold.wav", 1000, start_s=0.2)
    assert duration_s(tmp_path / "on-hold.wav") > 1.0
    anna.unhold()
    time.sleep(1.0)
    piotr.record(tmp_path / "resumed.wav")
    time.sleep(1.5)
    piotr.stop_record()
    assert tone_present(tmp_path / "resumed.wav", 1000, start_s=0.2)


def test_blind_transfer_through_the_box(box, phones, tmp_path):
    anna, piotr, li = (registered_phone(box, phones, n) for n in ("1001", "1002", "1003"))
    connect(box, anna, piotr, "1002")
    piotr.transfer(f"sip:1003@127.0.0.1:{box.sip_port}")  # Piotr hands Anna on to Li
    li.wait_for("incoming", timeout=15)
    li.answer()
    piotr.wait_for("call_state", state="DISCONNECTED", timeout=15)
    time.sleep(0.8)
    hear_each_other(anna, li, tmp_path)
    anna.hangup()
    li.wait_for("call_state", state="DISCONNECTED", timeout=10)
    record = call_records(box)[0]
    assert record["transferred"] is True and record["answered_by"] == "1003"


def test_attended_transfer_through_the_box(box, phones, tmp_path):
    anna, piotr, li = (registered_phone(box, phones, n) for n in ("1001", "1002", "1003"))
    piotr_desk2 = phones("piotr-second-device")  # Piotr's consultation call from his second device
    piotr_desk2.register(f"sip:127.0.0.1:{box.sip_port}", "1002",
                         box.api("GET", "/api/extensions/1002")[1]["secret"])
    piotr_desk2.wait_for("reg_state", code=200, timeout=15)
    connect(box, anna, piotr, "1002")
    piotr.hold()
    piotr_desk2.call(f"sip:1003@127.0.0.1:{box.sip_port}")
    li.wait_for("incoming", timeout=15)
    li.answer()
    piotr_desk2.wait_for("call_state", state="CONFIRMED", timeout=15)
    consult = next(c for c in box.api("GET", "/api/engine")[1]["calls"] if c["caller"] == "1002")
    # REFER with Replaces: "connect Anna with the call I have with Li".
    piotr.transfer(f"sip:1003@127.0.0.1:{box.sip_port}?Replaces={consult['call_id']}")
    piotr.wait_for("call_state", state="DISCONNECTED", timeout=15)
    piotr_desk2.wait_for("call_state", state="DISCONNECTED", timeout=15)
    time.sleep(0.8)
    hear_each_other(anna, li, tmp_path)


def test_an_extension_with_two_phones_rings_both_and_the_first_to_answer_wins(box, phones):
    anna = registered_phone(box, phones, "1001")
    desk = registered_phone(box, phones, "1002")
    soft = phones("piotr-softphone")
    soft.register(f"sip:127.0.0.1:{box.sip_port}", "1002", box.api("GET", "/api/extensions/1002")[1]["secret"])
    soft.wait_for("reg_state", code=200, timeout=15)
    assert len([r for r in box.registrations() if r["aor"] == "1002"]) == 2
    anna.call(f"sip:1002@127.0.0.1:{box.sip_port}")
    desk.wait_for("incoming", timeout=15)
    soft.wait_for("incoming", timeout=15)
    soft.answer()
    anna.wait_for("call_state", state="CONFIRMED", timeout=15)
    desk.wait_for("call_state", state="DISCONNECTED", timeout=15)  # the other phone stops ringing
    anna.hangup()
    soft.wait_for("call_state", state="DISCONNECTED", timeout=10)


@pytest.mark.parametrize("strategy", ["ringall", "hunt"])
def test_ring_groups_ring_everyone_at_once_or_in_turn(core_factory, phones, strategy):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2})
    anna = registered_phone(box, phones, "1001")
    sales = [registered_phone(box, phones, n) for n in ("1002", "1003")]
    status, body = box.api("POST", "/api/ring-groups", {"name": "sales", "number": "600", "members": ["1002", "1003"],
                                                        "strategy": strategy, "ring_timeout_s": 5})
    assert status == 201, body
    anna.call(f"sip:600@127.0.0.1:{box.sip_port}")
    sales[0].wait_for("incoming", timeout=15)
    if strategy == "ringall":
        sales[1].wait_for("incoming", timeout=15)  # both at once
        sales[1].answer()
    else:
        with pytest.raises(Exception):
            sales[1].wait_for("incoming", timeout=2)  # not yet: one after another
        sales[1].wait_for("incoming", timeout=15)  # after the first one's 5 s
        sales[1].answer()
    anna.wait_for("call_state", state="CONFIRMED", timeout=15)
    anna.hangup()
    assert call_records(box)[0]["answered_by"] == "1003"


def test_a_full_box_refuses_new_calls_cleanly_and_keeps_the_others(box, phones):
    a, b, c, d, e = (registered_phone(box, phones, n) for n in ("1001", "1002", "1003", "1004", "1005"))
    connect(box, a, b, "1002")
    connect(box, c, d, "1004")  # engine.max_calls 2: the one worker's four legs are in use
    e.call(f"sip:1001@127.0.0.1:{box.sip_port}")
    refused = e.wait_for("call_state", state="DISCONNECTED", timeout=15)
    assert refused["last_status"] == 503
    assert {w["alive"] for w in box.api("GET", "/api/engine")[1]["workers"]} == {True}
    assert len(box.api("GET", "/api/engine")[1]["calls"]) == 2  # the two conversations go on


def test_recording_on_demand_through_the_api(box, phones, tmp_path):
    anna, piotr = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    connect(box, anna, piotr, "1002")
    call_id = box.api("GET", "/api/engine")[1]["calls"][0]["call_id"]
    status, body = box.api("POST", f"/api/calls/{call_id}/record")
    assert status == 200, body
    anna.play_tone(1000)
    time.sleep(2.0)
    anna.hangup()
    piotr.wait_for("call_state", state="DISCONNECTED", timeout=10)
    the_recording_holds(box, 1000)


def test_star_one_during_a_call_records_it(box, phones):
    anna, piotr = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    connect(box, anna, piotr, "1002")
    time.sleep(0.5)
    piotr.dtmf("*1")
    piotr.play_tone(400)
    time.sleep(2.0)
    anna.hangup()
    piotr.wait_for("call_state", state="DISCONNECTED", timeout=10)
    the_recording_holds(box, 400)


def test_a_queue_listed_for_recording_is_recorded(core_factory, phones):
    from tests.integration.test_callcenter import queue_call
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2, "recording.queues": ["sales"]})
    customer, agent = queue_call(box, phones)
    time.sleep(1.0)
    customer.hangup()
    agent.wait_for("call_state", state="DISCONNECTED", timeout=10)
    record = call_records(box)[0]
    assert record["queue"] == "sales"
    finished_wav(box.data_dir / record["recording"])


def test_engine_workers_start_as_calls_come_and_stop_when_idle(core_factory, phones):
    """Room for ten conversations (five workers of four legs) costs one idle worker until calls come."""
    box = core_factory({"engine.enabled": True, "engine.max_calls": 10, "engine.idle_stop_s": 1})
    engine = box.api("GET", "/api/engine")[1]
    assert len(engine["workers"]) == 1, engine["workers"]
    a, b = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    connect(box, a, b, "1002")            # the idle worker is busy now: a spare starts at once

    def workers() -> list[dict]:
        return box.api("GET", "/api/engine")[1]["workers"]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (len(workers()) == 2 and all(w["alive"] for w in workers())):
        time.sleep(0.2)
    assert len(workers()) == 2 and all(w["alive"] for w in workers()), workers()
    a.hangup()
    b.wait_for("call_state", state="DISCONNECTED", timeout=10)
    deadline = time.monotonic() + 20     # both idle: the extra one stops after engine.idle_stop_s
    while time.monotonic() < deadline and len(workers()) != 1:
        time.sleep(0.3)
    assert [w["id"] for w in workers()] == ["w0"]
    connect(box, a, b, "1002")           # and calls still go through
