"""The line gateway end to end: modem simulators on pseudo-terminals, a gateway
process, and a pjsua2 test phone standing in for the box."""

from __future__ import annotations

import time
import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.engine.line_calls import (
    AnswerBox, AnswerLine, CallState, DialLine, DtmfToBox, DtmfToLine, GatewayCalls, HangUpBox,
    HangUpLine, InviteBox, JoinAudio, RefuseBox, RingBox, SplitAudio, dialled_number,
)
from appliance.engine.modem_port import dtmf_pcm, from_linear16, to_linear16
from appliance.lines.sim_gsm import GsmModemSim
from appliance.lines.sim_voice import VoiceModemSim
from bench.bench_line import GatewayProcess, measure_call
from tests.lines.conftest import wait_until
from tests.peers.audio import dominant_frequency, tone_share
from tests.peers.phones import Phone

pytestmark = pytest.mark.timeout(60)


# --- the pure call table ----------------------------------------------------------------------

def test_a_line_call_is_offered_to_the_box_and_picked_up_when_the_box_answers():
    calls = GatewayCalls("gsm1")
    assert calls.line_rings("+48601234567", "", ref=1) == [InviteBox("+48601234567", "")]
    assert calls.box_answers(ref=1) == [AnswerLine()]
    assert calls.line_answers() == [JoinAudio()]
    assert calls.state == CallState.TALKING
    assert calls.line_dtmf("5") == [DtmfToBox("5")]
    assert calls.box_dtmf(1, "7") == [DtmfToLine("7")]
    assert calls.box_ends(ref=1) == [SplitAudio(), HangUpLine()]
    assert calls.state == CallState.IDLE
    assert calls.line_ends("local_hangup") == []  # the modem confirming our own hang-up


def test_a_box_call_dials_and_a_failed_dial_is_refused_with_the_reason():
    calls = GatewayCalls("gsm1")
    assert calls.box_calls("0612345678", ref=4, line_ready=True) == [DialLine("0612345678"),
                                                                      RingBox()]
    assert calls.box_calls("0700", ref=5, line_ready=True) == [RefuseBox(5, 486, "Line Busy")]
    assert calls.line_ends("busy") == [RefuseBox(4, 486, "Busy Here")]
    assert calls.box_calls("0612", ref=6, line_ready=False) == [RefuseBox(6, 503, "Line Not Ready")]
    assert calls.box_calls("sales", ref=7, line_ready=True)[0].status == 484
    calls.box_calls("0612", ref=8, line_ready=True)
    assert calls.line_answers() == [AnswerBox(), JoinAudio()]
    assert calls.line_ends("modem_gone") == [SplitAudio(), HangUpBox("modem_gone")]


def test_an_old_calls_end_does_not_end_the_new_one():
    calls = GatewayCalls("gsm1")
    calls.line_rings("0123", "", ref=1)
    calls.box_ends(ref=1)
    calls.line_rings("0456", "", ref=2)
    assert calls.box_ends(ref=1) == []
    assert calls.state == CallState.OFFERING


@pytest.mark.parametrize("text, number", [
    ("INVITE sip:0612345678@127.0.0.1:5090 SIP/2.0", "0612345678"),
    ("INVITE sip:%2B48601234567@gw;user=phone SIP/2.0", "+48601234567"),
    ("<sip:06-12-34@127.0.0.1>", "061234"),
    ("INVITE sip:127.0.0.1 SIP/2.0", ""),
])
def test_the_dialled_number_is_the_request_uri_user(text, number):
    assert dialled_number(text) == number


@pytest.mark.parametrize("fmt", ["UNSIGNED PCM", "SIGNED PCM", "G711U", "16-BIT LINEAR"])
def test_voice_modem_formats_carry_a_tone(fmt):
    pcm = (np.sin(2 * np.pi * 1000 * np.arange(800) / 8000) * 12000).astype("<i2")
    back = np.frombuffer(to_linear16(from_linear16(pcm.tobytes(), fmt), fmt), dtype="<i2")
    assert len(back) == len(pcm)
    assert np.max(np.abs(back.astype(int) - pcm)) < 800  # 8-bit formats lose the low bits


def test_in_band_dtmf_holds_both_tones_of_the_digit():
    pcm = np.frombuffer(dtmf_pcm("5"), dtype="<i2")[:800].astype(float)
    spectrum = np.abs(np.fft.rfft(pcm))
    freqs = np.fft.rfftfreq(len(pcm), 1 / 8000)
    top_two = sorted(freqs[np.argsort(spectrum)[-2:]])
    assert abs(top_two[0] - 770) < 15 and abs(top_two[1] - 1336) < 15


# --- end to end ------------------------------------------------------------------------------

@pytest.fixture
def box():
    """A pjsua2 phone playing the box: the gateway's --box points at it."""
    phone = Phone("box")
    yield phone
    phone.close()


@pytest.fixture
def gateway(tmp_path):
    started: list[GatewayProcess] = []

    def start(*args: str) -> GatewayProcess:
        gw = GatewayProcess(*args, "--sip-port", "0", "--bind", "127.0.0.1",
                            "--lock-dir", str(tmp_path), "--backoff-start", "0.1")
        started.append(gw)
        return gw
    yield start
    for gw in started:
        gw.close()


@pytest.fixture
def gsm_sim(tmp_path):
    sim = GsmModemSim(str(tmp_path / "ttyUSB2"), dialect="huawei",
                      audio_port=str(tmp_path / "ttyUSB1"), ring_interval=0.5)
    yield sim.start()
    sim.stop()


@pytest.fixture
def gsm_gateway(gsm_sim, box, gateway):
    gw = gateway("--line", "gsm", "--device", gsm_sim.port, "--audio-device",
                 gsm_sim.audio_port, "--profile", "huawei", "--name", "gsm1",
                 "--box", f"sip:127.0.0.1:{box.port}")
    gw.wait_for("status", timeout=20, state="ready")
    return gw


def write_wav(path: Path, pcm: bytes) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(pcm)
    return path


def answer_line_call(box: Phone, record: Path | None = None) -> dict:
    incoming = box.wait_for("incoming", timeout=10)
    if record is not None:
        box.record(record)
    box.answer()
    box.wait_for("call_state", timeout=10, state="CONFIRMED")
    return incoming


def tones_cross(sim, box: Phone, tmp_path: Path, box_hears: Path) -> None:
    """The far end plays 1 kHz, the box 400 Hz; each must hear the other."""
    sim.remote_plays_tone(1000)
    box.play_tone(400)
    time.sleep(1.5)
    box.stop_record()
    assert dominant_frequency(box_hears, start_s=-1.0 + _duration(box_hears)) == \
        pytest.approx(1000, abs=20)
    heard_by_line = write_wav(tmp_path / "line-heard.wav", sim.received_audio()[-16000:])
    assert dominant_frequency(heard_by_line) == pytest.approx(400, abs=20)


def _duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def test_gsm_caller_reaches_the_box_and_audio_flows_both_ways(gsm_sim, box, gsm_gateway,
                                                              tmp_path):
    gsm_sim.ring("+48601234567")
    incoming = answer_line_call(box, record=tmp_path / "box-heard.wav")
    assert "+48601234567" in incoming["from"]
    assert "gsm1" in incoming["to"]
    wait_until(lambda: gsm_sim.call is not None and gsm_sim.call.stat == 0, what="modem answered")
    assert "ATA" in gsm_sim.commands_seen
    gsm_gateway.wait_for("call", state="talking")
    tones_cross(gsm_sim, box, tmp_path, tmp_path / "box-heard.wav")

    box.hangup()
    wait_until(lambda: gsm_sim.call is None, what="modem hung up")
    assert "AT+CHUP" in gsm_sim.commands_seen


def test_box_calls_out_through_the_gsm_line(gsm_sim, box, gsm_gateway, tmp_path):
    box.call(f"sip:0612345678@127.0.0.1:{gsm_gateway.sip_port}")
    wait_until(lambda: "0612345678" in gsm_sim.calls_made, what="modem dialled")
    assert "ATD0612345678;" in gsm_sim.commands_seen
    box.wait_for("call_state", timeout=10, state="EARLY")
    box.record(tmp_path / "box-heard.wav")
    gsm_sim.remote_answer()
    box.wait_for("call_state", timeout=10, state="CONFIRMED")
    tones_cross(gsm_sim, box, tmp_path, tmp_path / "box-heard.wav")

    box.dtmf("4")
    wait_until(lambda: "4" in gsm_sim.dtmf_sent, what="AT+VTS=4")
    gsm_sim.remote_hangup()
    box.wait_for("call_state", timeout=10, state="DISCONNECTED")


def test_a_busy_number_is_refused_with_486(gsm_sim, box, gsm_gateway):
    box.call(f"sip:0612345678@127.0.0.1:{gsm_gateway.sip_port}")
    wait_until(lambda: "0612345678" in gsm_sim.calls_made, what="modem dialled")
    gsm_sim.remote_busy()
    ended = box.wait_for("call_state", timeout=10, state="DISCONNECTED")
    assert ended["last_status"] == 486


def test_unplug_mid_call_ends_it_and_the_line_works_after_replug(gsm_sim, box, gsm_gateway,
                                                                 tmp_path):
    gsm_sim.ring("+48601111111")
    answer_line_call(box)
    gsm_gateway.wait_for("call", state="talking")

    gsm_sim.unplug()
    box.wait_for("call_state", timeout=10, state="DISCONNECTED")
    gsm_gateway.wait_for("status", timeout=10, state="gone")
    assert gsm_gateway.alive

    gsm_sim.replug()
    gsm_gateway.wait_for("status", timeout=20, state="ready")
    gsm_sim.ring("+48602222222")
    incoming = answer_line_call(box, record=tmp_path / "after-replug.wav")
    assert "+48602222222" in incoming["from"]
    gsm_gateway.wait_for("call", state="talking")
    tones_cross(gsm_sim, box, tmp_path, tmp_path / "after-replug.wav")


def test_gsm_audio_delay_and_cpu_are_measured(gsm_sim, box, gsm_gateway, tmp_path):
    """Prints the numbers (no speed is asserted); fails only if no burst got through."""
    gsm_sim.ring("+48601234567")
    answer_line_call(box)
    gsm_gateway.wait_for("call", state="talking")
    time.sleep(0.3)
    numbers = measure_call(gsm_sim, box, gsm_gateway.pid, tmp_path, bursts=3)
    print(f"\nline gateway: modem->phone {numbers['to_phone_ms']} ms, "
          f"phone->modem {numbers['from_phone_ms']} ms, "
          f"round trip {numbers['line_audio_latency_ms']:.1f} ms, "
          f"jitter {numbers['line_audio_jitter_ms']:.1f} ms, "
          f"CPU {numbers['cpu_pct_per_line']:.1f} % of a core")
    assert numbers["to_phone_ms"] and numbers["from_phone_ms"]


# --- analog line -------------------------------------------------------------------------

@pytest.fixture
def voice_sim(tmp_path):
    sim = VoiceModemSim(str(tmp_path / "ttyACM0"), ring_interval=0.3)
    yield sim.start()
    sim.stop()


def test_analog_caller_id_and_dtmf_both_ways(voice_sim, box, gateway, tmp_path):
    gw = gateway("--line", "analog", "--device", voice_sim.port, "--profile", "conexant",
                 "--name", "pots1", "--box", f"sip:127.0.0.1:{box.port}")
    gw.wait_for("status", timeout=20, state="ready")
    voice_sim.ring(caller="0123456789", name="JOHN")
    incoming = answer_line_call(box, record=tmp_path / "box-heard.wav")
    assert "0123456789" in incoming["from"]
    assert "JOHN" in incoming["from"]
    wait_until(lambda: voice_sim.streaming, what="voice data mode")

    voice_sim.send_dtmf("1")
    assert box.wait_for("dtmf", timeout=10)["digit"] == "1"

    voice_sim.remote_plays_tone(1000)
    time.sleep(1.2)
    box.stop_record()
    heard = tmp_path / "box-heard.wav"
    assert dominant_frequency(heard, start_s=_duration(heard) - 0.8) == pytest.approx(1000, abs=20)

    before = len(voice_sim.received_audio())
    box.dtmf("5")
    wait_until(lambda: len(voice_sim.received_audio()) > before + 8000, what="audio to the line")
    time.sleep(0.3)
    line_heard = write_wav(tmp_path / "line-heard.wav", voice_sim.received_audio()[before:])
    assert tone_share(line_heard, 770) > 0.2 and tone_share(line_heard, 1336) > 0.2

    voice_sim.remote_hangs_up()
    box.wait_for("call_state", timeout=10, state="DISCONNECTED")
    wait_until(lambda: not voice_sim.off_hook, what="modem on-hook")


def test_status_lines_go_to_the_core_socket(gsm_sim, tmp_path):
    """With --status-socket the core gets JSON lines: the gateway's start, then the line's status."""
    import json
    import socket
    import subprocess

    from bench.bench_line import PYTHON, ROOT
    path = str(tmp_path / "core.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.settimeout(20)
    proc = subprocess.Popen(
        [PYTHON, "-m", "appliance.engine.gateway", "--line", "gsm", "--device", gsm_sim.port,
         "--audio-device", gsm_sim.audio_port, "--profile", "huawei", "--name", "gsm7",
         "--box", "sip:127.0.0.1:9", "--sip-port", "0", "--bind", "127.0.0.1",
         "--lock-dir", str(tmp_path), "--status-socket", path],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        conn, _ = server.accept()
        conn.settimeout(20)
        seen: list[dict] = []
        buf = b""
        deadline = time.monotonic() + 20
        while not any(m.get("state") == "ready" and m.get("registered") for m in seen):
            assert time.monotonic() < deadline, f"no ready status, got {seen}"
            chunk = conn.recv(4096)
            assert chunk, f"the gateway closed the socket after {seen}"
            buf += chunk
            *lines, buf = buf.split(b"\n")
            seen += [json.loads(line) for line in lines if line.strip()]
        ready = next(m for m in seen if m.get("state") == "ready")
        assert ready["event"] == "status" and ready["line"] == "gsm7"
        assert ready["operator"] == "Plus" and ready["sim"] == "ready"
        assert isinstance(ready["signal"], int) and ready["in_call"] is False
        assert seen[0]["event"] == "ready" and seen[0]["sip_port"] > 0
        conn.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        server.close()
