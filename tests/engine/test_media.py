"""Audio through a worker, checked by FFT on what each side recorded."""

import time

import pytest

from appliance.errors import EngineError
from tests.engine.conftest import call_in

pytestmark = pytest.mark.peers
from tests.peers.audio import (
    dominant_frequency, duration_s, tone_present, tone_share, write_sine)

LISTEN_S = 2.0


def test_worker_plays_to_phone_and_records_what_phone_sends(engine, make_phone, tone_wav,
                                                            tmp_path):
    phone = make_phone("alice")
    leg = call_in(engine, phone)
    phone.record(tmp_path / "phone-heard.wav")
    phone.play_tone(400)
    engine.command("record_start", leg=leg, file=str(tmp_path / "worker-heard.wav"))
    engine.command("play", leg=leg, file=str(tone_wav(1000)))
    time.sleep(LISTEN_S)
    stopped = engine.command("record_stop", leg=leg)
    phone.stop_record()

    assert stopped["files"] == [str(tmp_path / "worker-heard.wav")]
    assert tone_present(tmp_path / "phone-heard.wav", 1000, start_s=0.5)
    assert tone_present(tmp_path / "worker-heard.wav", 400, start_s=0.5)


def test_play_done_comes_at_end_of_prompt_and_stop_play_silences(engine, make_phone, tmp_path):
    short = write_sine(tmp_path / "short.wav", 1000, 0.5)
    phone = make_phone("alice")
    leg = call_in(engine, phone)
    engine.command("play", leg=leg, file=str(short))
    assert engine.wait_event("play_done", leg=leg)

    looped = write_sine(tmp_path / "loop.wav", 600, 0.5)
    engine.command("play", leg=leg, file=str(looped), loop=True)
    time.sleep(1.0)
    engine.command("stop_play", leg=leg)
    time.sleep(0.3)
    phone.record(tmp_path / "after-stop.wav")
    time.sleep(1.0)
    phone.stop_record()
    assert dominant_frequency(tmp_path / "after-stop.wav", 0.2) == 0.0


def test_play_of_missing_file_is_refused(engine, make_phone, tmp_path):
    phone = make_phone("alice")
    leg = call_in(engine, phone)
    with pytest.raises(EngineError, match="no such file"):
        engine.command("play", leg=leg, file=str(tmp_path / "missing.wav"))


def test_recording_stops_with_the_call_and_the_file_is_complete(engine, make_phone, tmp_path):
    phone = make_phone("alice")
    leg = call_in(engine, phone)
    phone.play_tone(400)
    engine.command("record_start", leg=leg, file=str(tmp_path / "call.wav"))
    engine.command("play", leg=leg, file=str(write_sine(tmp_path / "moh.wav", 800, 0.5)),
                   loop=True)
    time.sleep(1.5)
    phone.hangup()
    assert engine.wait_event("hangup", leg=leg)["by"] == "remote"
    assert engine.wait_event("recording_stopped")["file"] == str(tmp_path / "call.wav")
    assert duration_s(tmp_path / "call.wav") > 0.5
    assert tone_present(tmp_path / "call.wav", 400, start_s=0.3)
    # The prompt and recorder of the gone leg are released; the worker goes on.
    status = engine.command("status")
    assert (status["legs"], status["recordings"]) == ([], [])


def test_bridge_lets_two_callers_hear_each_other(engine, make_phone, tmp_path):
    alice, bob = make_phone("alice"), make_phone("bob")
    a = call_in(engine, alice, "200")
    b = call_in(engine, bob, "201")
    alice.play_tone(1000)
    bob.play_tone(400)
    engine.command("bridge", a=a, b=b)
    engine.command("record_start", legs=[a, b], file=str(tmp_path / "both.wav"))
    alice.record(tmp_path / "alice.wav")
    bob.record(tmp_path / "bob.wav")
    time.sleep(LISTEN_S)
    alice.stop_record()
    bob.stop_record()
    engine.command("record_stop", file=str(tmp_path / "both.wav"))
    assert tone_present(tmp_path / "alice.wav", 400, start_s=0.5)
    assert tone_present(tmp_path / "bob.wav", 1000, start_s=0.5)
    # The call recording holds both sides.
    assert tone_share(tmp_path / "both.wav", 400, start_s=0.5) > 0.2
    assert tone_share(tmp_path / "both.wav", 1000, start_s=0.5) > 0.2

    engine.command("unbridge", a=a, b=b)
    time.sleep(0.3)
    alice.record(tmp_path / "alice-after.wav")
    time.sleep(1.0)
    alice.stop_record()
    assert dominant_frequency(tmp_path / "alice-after.wav", 0.2) == 0.0


def test_connect_is_one_way(engine, make_phone, tmp_path):
    """The primitive behind listen-in: the supervisor hears, the caller does not."""
    caller, supervisor = make_phone("caller"), make_phone("supervisor")
    c = call_in(engine, caller, "200")
    s = call_in(engine, supervisor, "201")
    caller.play_tone(1000)
    supervisor.play_tone(400)
    engine.command("connect", src=c, dst=s)
    caller.record(tmp_path / "caller.wav")
    supervisor.record(tmp_path / "supervisor.wav")
    time.sleep(LISTEN_S)
    caller.stop_record()
    supervisor.stop_record()
    assert tone_present(tmp_path / "supervisor.wav", 1000, start_s=0.5)
    assert dominant_frequency(tmp_path / "caller.wav", 0.5) == 0.0


def test_g722_phone_gets_g722(engine, make_phone):
    phone = make_phone("wideband", codecs="G722/16000,PCMA/8000")
    phone.call(engine.uri())
    leg = engine.wait_event("incoming")["leg"]
    engine.command("answer", leg=leg)
    assert engine.wait_event("answered", leg=leg)["codec"] == "G722/16000"


def test_conference_with_a_listening_supervisor_who_whispers_to_the_agent(
        engine, make_phone, tmp_path):
    caller, agent, supervisor = (make_phone("caller"), make_phone("agent"),
                                 make_phone("supervisor"))
    c = call_in(engine, caller, "200")
    a = call_in(engine, agent, "201")
    s = call_in(engine, supervisor, "202")
    caller.play_tone(1000)
    agent.play_tone(400)
    supervisor.play_tone(700)
    engine.command("conference", legs=[c, a, s], listen_only=[s],
                   whisper={"to": a, "from": s})
    for phone in (caller, agent, supervisor):
        phone.record(tmp_path / f"{phone.name}.wav")
    time.sleep(LISTEN_S)
    for phone in (caller, agent, supervisor):
        phone.stop_record()

    def share(name, hz):
        return tone_share(tmp_path / f"{name}.wav", hz, start_s=0.5)

    assert share("caller", 400) > 0.8 and share("caller", 700) < 0.01
    assert share("agent", 1000) > 0.2 and share("agent", 700) > 0.2
    assert share("supervisor", 1000) > 0.2 and share("supervisor", 400) > 0.2
