"""The analog line: V.253 voice modem driver against the voice modem simulator."""

from __future__ import annotations

import pytest

from appliance.lines.at_parser import parse_vsm_list
from appliance.lines.notices import CallAnswered, CallEnded, DtmfReceived, IncomingCall
from appliance.lines.sim_voice import VSM_LIST
from appliance.lines.modem_core import LineState
from appliance.lines.voice_modem import VOICE_PROFILES, VoiceLine, choose_format, frame_bytes

from .conftest import wait_until
from .fakes import FakeClock, ScriptedModem

USR_VSM = ['128,"8-BIT LINEAR",(7200,8000,11025)', '129,"16-BIT LINEAR",(7200,8000,11025)',
           '130,"8-BIT ALAW",(8000)', '131,"8-BIT ULAW",(8000)', '132,"IMA ADPCM",(7200,8000,11025)']
CONEXANT_8BIT_ONLY = ['0,"SIGNED PCM",8,0,(7200,8000,11025),(0),(0)',
                      '1,"UNSIGNED PCM",8,0,(7200,8000,11025),(0),(0)',
                      '4,"G711U",8,0,(7200,8000,11025),(0),(0)']


@pytest.mark.parametrize("profile,lines,code,frame", [
    ("conexant", list(VSM_LIST), 130, 320),
    ("conexant", CONEXANT_8BIT_ONLY, 1, 160),
    ("usr", USR_VSM, 129, 320),
    ("usr", USR_VSM[2:4], 131, 160),
])
def test_format_choice_per_profile(profile, lines, code, frame):
    fmt = choose_format(parse_vsm_list(lines), VOICE_PROFILES[profile])
    assert fmt.code == code and frame_bytes(fmt) == frame


def test_no_usable_format():
    assert choose_format(parse_vsm_list(['132,"IMA ADPCM",(7200)']), VOICE_PROFILES["usr"]) is None


def test_audio_right_after_connect_never_reaches_the_parser():
    line = VoiceLine(clock=FakeClock())
    modem = ScriptedModem(line, {r"AT\+VSM=\?": ("\r\n" + "\r\n".join(VSM_LIST) + "\r\n\r\nOK\r\n").encode(),
                                 r"AT\+VTR": b"\r\nCONNECT\r\n\x10\x10OK\r\n\x105"})
    line.connected()
    modem.pump()
    line.receive(b"\r\nRING\r\n")
    line.notices()
    line.answer()
    modem.pump()
    assert line.state == LineState.TALKING
    assert line.audio_received() == b"\x10OK\r\n"
    assert DtmfReceived("5") in line.notices()


def test_caller_id_off_hook_dtmf_and_busy_tone(voice_modem, voice_driver):
    seen = voice_modem.commands_seen
    assert seen[:4] == ["ATZ", "ATE0", "AT+FCLASS=8", "AT+VCID=1"]
    assert "AT+VSM=?" in seen and "AT+VSM=130,8000,0,0" in seen
    voice_modem.ring(caller="0123456789", name="JOHN")
    assert voice_driver.wait_for(IncomingCall) == IncomingCall("0123456789", "JOHN")
    voice_driver.answer()
    assert voice_driver.wait_for(CallAnswered) == CallAnswered("in")
    wait_until(lambda: voice_modem.streaming, what="voice data mode")
    assert seen[-2:] == ["AT+VLS=1", "AT+VTR"]
    voice_modem.send_dtmf("5")
    voice_modem.send_dtmf("#")
    assert voice_driver.wait_for(DtmfReceived) == DtmfReceived("5")
    assert voice_driver.wait_for(DtmfReceived) == DtmfReceived("#")
    voice_modem.remote_hangs_up()
    assert voice_driver.wait_for(CallEnded) == CallEnded("busy_tone")
    assert seen[-1] == "ATH" and not voice_modem.off_hook
    assert voice_driver.status.state == "ready"


def test_audio_with_dle_bytes_survives_both_ways(voice_modem, voice_driver):
    pattern = bytes(range(256)) + b"\x10\x10\x10\x03\x10!" * 4
    voice_modem.ring()
    voice_driver.wait_for(IncomingCall)
    voice_driver.answer()
    wait_until(lambda: voice_modem.streaming, what="voice data mode")
    voice_modem.remote_plays(pattern)
    voice_driver.send_audio(pattern)
    received = bytearray()
    wait_until(lambda: received.extend(voice_driver.audio_received()) or pattern in received,
               what="the pattern from the line")
    wait_until(lambda: pattern in voice_modem.received_audio(), what="the pattern to the line")
    assert voice_driver.status.state == "talking"  # no stray DLE ETX ended the stream
    voice_driver.hangup()
    assert voice_driver.wait_for(CallEnded) == CallEnded("local_hangup")
    assert voice_modem.commands_seen[-1] == "ATH" and not voice_modem.streaming


def test_dial_out(voice_modem, voice_driver):
    voice_driver.dial("0221234567")
    assert voice_driver.wait_for(CallAnswered) == CallAnswered("out")
    wait_until(lambda: voice_modem.streaming, what="voice data mode")
    assert voice_modem.calls_made == ["0221234567"]
    voice_modem.dial_tone()
    assert voice_driver.wait_for(CallEnded) == CallEnded("dial_tone")


def test_unplug_and_replug(voice_modem, voice_driver):
    voice_modem.unplug()
    wait_until(lambda: voice_driver.status.state == "gone", what="gone")
    voice_modem.commands_seen.clear()
    voice_modem.replug()
    wait_until(lambda: voice_driver.status.state == "ready", what="ready again")
    assert "AT+FCLASS=8" in voice_modem.commands_seen
