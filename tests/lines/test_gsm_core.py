"""The GSM line core without a port: bytes in, commands and notices out, a fake clock."""

from __future__ import annotations

import logging

import pytest

from appliance.errors import Conflict, ValidationError
from appliance.lines.gsm import TRANSITIONS, GsmLine, LineEvent, LineState
from appliance.lines.notices import CallEnded, IncomingCall, LineError, LineStatus

from .fakes import FakeClock, ScriptedModem


def started(profile="huawei", pin=None, replies=None):
    clock = FakeClock()
    line = GsmLine(profile=profile, pin=pin, clock=clock, poll_interval=10)
    modem = ScriptedModem(line, replies)
    line.connected()
    modem.pump()
    return line, modem, clock


def kinds(notices, cls):
    return [n for n in notices if isinstance(n, cls)]


def test_init_sequence_in_order():
    line, modem, _ = started()
    assert modem.written[:4] == ["ATZ", "ATE0", "AT+CMEE=2", "AT+CPIN?"]
    for cmd in ("AT+CLIP=1", "AT+CREG=2", "AT+CMGF=0", "AT+CNMI=2,1,0,0,0", "AT^CVOICE?"):
        assert cmd in modem.written
    assert line.state == LineState.READY
    assert line.status.registered and line.status.operator == "Plus"
    assert line.status.signal_dbm == -73 and line.status.indicator == "on"


def test_wrong_pin_is_sent_once_and_never_again_until_it_changes():
    pin_replies = {r"AT\+CPIN\?": b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n",
                   r'AT\+CPIN="\d+"': b"\r\n+CME ERROR: incorrect password\r\n"}
    line, modem, _ = started(pin="1111", replies=pin_replies)
    errors = kinds(line.notices(), LineError)
    assert [e.kind for e in errors] == ["sim_pin_wrong"]
    assert line.state == LineState.SIM_PROBLEM and line.status.indicator == "fault"
    assert modem.commands('AT+CPIN="') == ['AT+CPIN="1111"']
    # The modem restarts (or is replugged): the same PIN is not tried again.
    line.connected()
    modem.pump()
    assert modem.commands('AT+CPIN="') == ['AT+CPIN="1111"']
    assert [e.kind for e in kinds(line.notices(), LineError)] == ["sim_pin_wrong"]
    # The owner types a new PIN: that one gets its single try.
    modem.replies[r'AT\+CPIN="\d+"'] = b"\r\nOK\r\n"
    line.set_pin("2222")
    modem.pump()
    assert modem.commands('AT+CPIN="') == ['AT+CPIN="1111"', 'AT+CPIN="2222"']


def test_puk_required_is_reported_without_any_try():
    line, modem, _ = started(pin="1111", replies={r"AT\+CPIN\?": b"\r\n+CPIN: SIM PUK\r\n\r\nOK\r\n"})
    assert [e.kind for e in kinds(line.notices(), LineError)] == ["sim_puk_required"]
    assert modem.commands('AT+CPIN="') == []
    assert line.status.sim == "puk_required"


def test_pin_asked_but_not_set():
    line, modem, _ = started(replies={r"AT\+CPIN\?": b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"})
    assert [e.kind for e in kinds(line.notices(), LineError)] == ["sim_pin_missing"]
    assert modem.commands('AT+CPIN="') == []


def test_missing_sim():
    line, _, _ = started(replies={r"AT\+CPIN\?": b"\r\n+CME ERROR: SIM not inserted\r\n"})
    assert line.status.sim == "missing" and line.state == LineState.SIM_PROBLEM


def test_silent_modem_is_reset():
    clock = FakeClock()
    line = GsmLine(profile="huawei", clock=clock)
    line.connected()
    assert line.writes() == [b"ATZ\r"]
    clock.advance(5.1)
    line.tick()
    assert line.writes() == [b"ATE0\r"]
    clock.advance(2.1)
    line.tick()
    assert [e.kind for e in kinds(line.notices(), LineError)] == ["no_response"]
    assert line.writes() == []
    clock.advance(2.1)
    line.tick()
    assert line.writes() == [b"ATZ\r"]  # initialisation starts over


def test_ring_without_caller_id_is_announced_as_withheld():
    line, _, clock = started()
    line.notices()
    line.receive(b"\r\nRING\r\n")
    assert kinds(line.notices(), IncomingCall) == []
    clock.advance(3)
    line.receive(b"\r\nRING\r\n")
    assert kinds(line.notices(), IncomingCall) == [IncomingCall("")]


def test_caller_who_gives_up_is_a_missed_call():
    line, _, clock = started()
    line.receive(b'\r\nRING\r\n\r\n+CLIP: "+48601234567",145,,,,0\r\n')
    assert line.state == LineState.RINGING
    clock.advance(9)
    line.tick()
    assert kinds(line.notices(), CallEnded) == [CallEnded("missed")]
    assert line.state == LineState.READY


def test_quectel_polls_clcc_and_sees_the_call_end():
    clcc = {"reply": b'\r\n+CLCC: 1,0,0,0,0,"+48601",145\r\n\r\nOK\r\n'}
    line, modem, clock = started("quectel", replies={r"AT\+CLCC": lambda c: clcc["reply"]})
    line.dial("+48601")
    modem.pump()
    clock.advance(1.1)
    line.tick()
    modem.pump()
    assert line.state == LineState.TALKING and "AT+QPCMV=1,0" in modem.written
    clcc["reply"] = b"\r\nOK\r\n"
    clock.advance(1.1)
    line.tick()
    modem.pump()
    assert kinds(line.notices(), CallEnded) == [CallEnded("remote_hangup")]
    assert "AT+QPCMV=0" in modem.written


def test_actions_refuse_in_the_wrong_state_and_bad_input():
    line, _, _ = started()
    with pytest.raises(Conflict):
        line.answer()
    with pytest.raises(ValidationError):
        line.dial("12; ATZ")
    with pytest.raises(ValidationError):
        line.send_dtmf("x")
    with pytest.raises(ValidationError):
        line.ussd('*100#"')


def test_garbage_between_commands_changes_nothing():
    line, modem, _ = started()
    line.receive(b"\x00\xff\xfe\r\n\x1b[0m\r\n^RSSI:7\r\n")
    assert line.state == LineState.READY and line.status.signal_dbm == -99


def test_status_indicator_words():
    assert LineStatus().indicator == "off"
    assert LineStatus(state="starting").indicator == "blink"
    assert LineStatus(state="ready", registered=False).indicator == "blink"
    assert LineStatus(state="ringing", registered=True).indicator == "fast_blink"


def test_every_state_can_lose_the_modem():
    for state, moves in TRANSITIONS.items():
        assert moves.get("lost") == LineState.GONE, state


def test_each_change_is_logged_once_and_a_late_event_is_ignored(caplog):
    with caplog.at_level(logging.INFO, logger="appliance.lines.modem_core"):
        line, modem, _ = started()
        line.receive(b"\r\nRING\r\n")
        line.receive(b"\r\nRING\r\n")  # the same call ringing on: no news
        modem.pump()
    changes = [r.getMessage() for r in caplog.records if " -> " in r.getMessage()]
    assert changes == ["gsm: gone -> starting", "gsm: starting -> ready", "gsm: ready -> ringing"]
    assert line._fire(LineEvent.STREAMING) is False  # not in the GSM table: ignored, not raised
    assert line.state == LineState.RINGING


def test_vendor_without_clip_is_asked_with_clcc():
    from appliance.lines.gsm import VendorProfile
    line, modem, _ = started(VendorProfile("quiet", sends_clip=False), replies={
        r"AT\+CLCC": b'\r\n+CLCC: 1,1,4,0,0,"+48601234567",145\r\n\r\nOK\r\n'})
    line.notices()
    line.receive(b"\r\nRING\r\n")
    modem.pump()
    assert "AT+CLCC" in modem.written
    assert kinds(line.notices(), IncomingCall) == [IncomingCall("+48601234567")]


def test_refused_pin_is_remembered_by_digest_only():
    from appliance.lines.gsm import pin_digest
    replies = {r"AT\+CPIN\?": b"\r\n+CPIN: SIM PIN\r\n\r\nOK\r\n"}
    line, modem, _ = started(pin="1111", replies={
        **replies, r'AT\+CPIN="\d+"': b"\r\n+CME ERROR: incorrect password\r\n"})
    assert line.refused_pin == pin_digest("1111") and "1111" not in line.refused_pin
    # A new process started with what the old one remembered does not try again.
    clock = FakeClock()
    again = GsmLine(profile="huawei", pin="1111", clock=clock, refused_pin=line.refused_pin)
    modem2 = ScriptedModem(again, replies)
    again.connected()
    modem2.pump()
    assert modem2.commands('AT+CPIN="') == []
    assert again.status.sim == "pin_wrong"
