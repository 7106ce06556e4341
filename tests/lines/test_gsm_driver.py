"""The GSM driver against the simulated modem, through a real pty opened by pyserial."""

from __future__ import annotations

import pytest
import serial

from appliance.errors import PortBusy
from appliance.lines.gsm import GsmDriver
from appliance.lines.notices import (
    CallAnswered, CallEnded, DtmfReceived, IncomingCall, LineError, SmsReceived, SmsSent,
    UssdResult,
)

from .conftest import wait_until

DIALECTS = ["huawei", "simcom"]
AUDIO_ON = {"huawei": "AT^DDSETEX=2", "simcom": "AT+CPCMREG=1"}


@pytest.mark.parametrize("dialect", DIALECTS)
def test_init_sequence(gsm_modem, gsm_driver, dialect):
    modem = gsm_modem(dialect, pin="1234")
    driver = gsm_driver(modem, pin="1234")
    seen = modem.commands_seen
    assert seen[:5] == ["ATZ", "ATE0", "AT+CMEE=2", "AT+CPIN?", 'AT+CPIN="1234"']
    for cmd in ("AT+CLIP=1", "AT+CREG=2", "AT+CMGF=0", "AT+CNMI=2,1,0,0,0", "AT+CSQ"):
        assert cmd in seen
    status = driver.status
    assert (status.sim, status.registered, status.operator, status.signal_dbm) == (
        "ready", True, "Plus", -73)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_incoming_call_answered_then_remote_hangup(gsm_modem, gsm_driver, dialect):
    modem = gsm_modem(dialect)
    driver = gsm_driver(modem)
    modem.ring(caller="+48601234567")
    assert driver.wait_for(IncomingCall) == IncomingCall("+48601234567")
    assert driver.status.in_call and driver.status.indicator == "fast_blink"
    driver.answer()
    assert driver.wait_for(CallAnswered) == CallAnswered("in")
    wait_until(lambda: AUDIO_ON[dialect] in modem.commands_seen, what="audio routed")
    assert modem.call.stat == 0
    modem.remote_hangup()
    assert driver.wait_for(CallEnded) == CallEnded("remote_hangup")
    assert not driver.status.in_call


def test_withheld_number(gsm_modem, gsm_driver):
    modem = gsm_modem("simcom")
    driver = gsm_driver(modem)
    modem.ring(withheld=True)
    assert driver.wait_for(IncomingCall) == IncomingCall("")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_dial_out_send_dtmf_and_hang_up(gsm_modem, gsm_driver, dialect):
    modem = gsm_modem(dialect)
    driver = gsm_driver(modem)
    driver.dial("+48602222222")
    wait_until(lambda: modem.calls_made, what="ATD")
    assert modem.calls_made == ["+48602222222"]
    modem.remote_answer()
    assert driver.wait_for(CallAnswered) == CallAnswered("out")
    driver.send_dtmf("12#")
    wait_until(lambda: len(modem.dtmf_sent) == 3, what="three AT+VTS")
    assert modem.dtmf_sent == ["1", "2", "#"]
    modem.send_dtmf("7")
    assert driver.wait_for(DtmfReceived) == DtmfReceived("7")
    driver.hangup()
    assert driver.wait_for(CallEnded) == CallEnded("local_hangup")
    assert modem.call is None and "AT+CHUP" in modem.commands_seen


def test_far_end_busy(gsm_modem, gsm_driver):
    modem = gsm_modem("simcom")
    driver = gsm_driver(modem)
    driver.dial("600100200")
    wait_until(lambda: modem.calls_made, what="ATD")
    modem.remote_busy()
    assert driver.wait_for(CallEnded) == CallEnded("busy")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sms_in_ucs2_and_long(gsm_modem, gsm_driver, dialect):
    modem = gsm_modem(dialect)
    driver = gsm_driver(modem)
    modem.deliver_sms("+48601234567", "Zażółć gęślą jaźń — 你好")
    sms = driver.wait_for(SmsReceived)
    assert (sms.sender, sms.text) == ("+48601234567", "Zażółć gęślą jaźń — 你好")
    assert sms.time.isoformat() == "2024-03-21T14:05:00+01:00"
    long_text = "Spotkanie jutro o 10:00 w biurze. " * 8
    modem.deliver_sms("Orange", long_text)
    assert driver.wait_for(SmsReceived) == SmsReceived("Orange", long_text, sms.time)
    wait_until(lambda: modem.stored_sms == {}, what="messages deleted from the SIM")


def test_sms_out(gsm_modem, gsm_driver):
    modem = gsm_modem("huawei")
    driver = gsm_driver(modem)
    driver.send_sms("+48601111111", "Oddzwonimy wkrótce")
    assert driver.wait_for(SmsSent) == SmsSent("+48601111111", True)
    assert [(s.number, s.text) for s in modem.sms_sent] == [("+48601111111", "Oddzwonimy wkrótce")]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_ussd(gsm_modem, gsm_driver, dialect):
    modem = gsm_modem(dialect, ussd_replies={"*100#": "Saldo: 12.50 PLN"})
    driver = gsm_driver(modem)
    driver.ussd("*100#")
    assert driver.wait_for(UssdResult) == UssdResult("Saldo: 12.50 PLN", 0)


def test_wrong_pin_is_sent_exactly_once(gsm_modem, gsm_driver):
    modem = gsm_modem("huawei", pin="1234")
    driver = gsm_driver(modem, pin="1111", wait_ready=False)
    error = driver.wait_for(LineError)
    assert error.kind == "sim_pin_wrong" and "incorrect password" in error.text
    wait_until(lambda: driver.status.state == "sim_problem", what="sim problem")
    # Pull and re-insert the stick: the modem asks for the PIN again, the driver
    # must not spend another of the SIM's three tries on the same wrong PIN.
    modem.unplug()
    modem.replug()
    wait_until(lambda: modem.commands_seen.count("AT+CPIN?") >= 2, what="re-initialised")
    assert driver.wait_for(LineError).kind == "sim_pin_wrong"
    assert modem.pin_attempts == ['AT+CPIN="1111"']
    assert not modem.sim_locked and modem.pin_tries_left == 2
    driver.set_pin("1234")
    wait_until(lambda: driver.status.state == "ready", what="ready with the right PIN")
    assert modem.pin_attempts == ['AT+CPIN="1111"', 'AT+CPIN="1234"']


def test_unplug_mid_call_then_replug(gsm_modem, gsm_driver):
    modem = gsm_modem("huawei")
    driver = gsm_driver(modem)
    modem.ring()
    driver.wait_for(IncomingCall)
    driver.answer()
    driver.wait_for(CallAnswered)
    modem.unplug()
    assert driver.wait_for(CallEnded) == CallEnded("modem_gone")
    wait_until(lambda: driver.status.state == "gone", what="status gone")
    assert driver.status.indicator == "off"
    modem.commands_seen.clear()
    modem.replug()
    wait_until(lambda: driver.status.state == "ready", what="ready again")
    assert modem.commands_seen[:2] == ["ATZ", "ATE0"]
    modem.ring(caller="+48600000001")
    assert driver.wait_for(IncomingCall) == IncomingCall("+48600000001")


def test_garbage_between_commands(gsm_modem, gsm_driver):
    modem = gsm_modem("huawei")
    driver = gsm_driver(modem)
    modem.emit_garbage(b"\x00\xff\xfe\x10garbage\r\n\x1b[0m\r\nOK\r\n+CSQ: x\r\n" + b"Z" * 3000)
    modem.emit_garbage(b"\r\n")
    driver.ussd("*100#")
    assert driver.wait_for(UssdResult).text == "Your balance is 12.50 PLN"
    modem.set_signal(31)
    wait_until(lambda: driver.status.signal_dbm == -51, what="signal from ^RSSI")
    assert driver.status.state == "ready"


def test_port_lock_refuses_a_second_driver(gsm_modem, gsm_driver, dev):
    modem = gsm_modem("huawei")
    gsm_driver(modem)
    second = GsmDriver(modem.port, lock_dir=str(dev))
    with pytest.raises(PortBusy):
        second.start()


def test_call_audio_on_the_second_port(gsm_modem, gsm_driver):
    modem = gsm_modem("huawei")
    driver = gsm_driver(modem)
    modem.remote_plays_tone(440)
    modem.ring()
    driver.wait_for(IncomingCall)
    driver.answer()
    driver.wait_for(CallAnswered)
    audio = serial.serial_for_url(modem.audio_port, timeout=2)
    try:
        got = b""
        while len(got) < 320 * 3:
            chunk = audio.read(320 * 3 - len(got))
            assert chunk, "no audio from the modem"
            got += chunk
        assert any(b != 0 for b in got)  # a tone, not silence
        audio.write(bytes(range(256)) + b"\x10\x10")
        wait_until(lambda: len(modem.received_audio()) >= 258, what="audio to the modem")
        assert modem.received_audio()[:258] == bytes(range(256)) + b"\x10\x10"
    finally:
        audio.close()


def test_refused_pin_survives_a_restart_of_the_driver(gsm_modem, gsm_driver, dev):
    modem = gsm_modem("huawei", pin="1234")
    memory = str(dev / "sim-pin-refused")
    first = gsm_driver(modem, pin="1111", wait_ready=False, pin_memory=memory)
    assert first.wait_for(LineError).kind == "sim_pin_wrong"
    first.stop()
    second = gsm_driver(modem, pin="1111", wait_ready=False, pin_memory=memory)
    assert second.wait_for(LineError).kind == "sim_pin_wrong"
    assert modem.pin_attempts == ['AT+CPIN="1111"'] and modem.pin_tries_left == 2


def test_driver_waits_for_a_modem_plugged_in_later(dev, gsm_driver):
    from appliance.lines.sim_gsm import GsmModemSim
    modem = GsmModemSim(str(dev / "ttyUSB2"))  # not plugged in yet
    try:
        driver = gsm_driver(modem, wait_ready=False, wait_for_device=True)
        assert driver.status.state == "gone"
        modem.start()
        wait_until(lambda: driver.status.state == "ready", what="ready once plugged")
        assert modem.commands_seen[0] == "ATZ"
    finally:
        modem.stop()
