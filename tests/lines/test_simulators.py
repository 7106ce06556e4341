"""The simulators speak the real bytes: checked by talking to them as a terminal would."""

from __future__ import annotations

import time

import pytest
import serial

from appliance.lines.at_parser import ATParser, FinalKind, FinalResult, Info, SmsPrompt, Unsolicited
from appliance.lines.pdu import decode_pdu_sms, encode_pdu_sms
from appliance.lines.sim_gsm import GsmModemSim
from appliance.lines.sim_voice import VoiceModemSim


class Terminal:
    """Types commands and collects the modem's reply up to its final result."""

    def __init__(self, port: str):
        self.ser = serial.serial_for_url(port, timeout=0.05)
        self.parser = ATParser()

    def send(self, text: str, *, until=FinalResult, timeout: float = 3.0, raw: bool = False) -> list:
        self.ser.write(text.encode() if raw else text.encode() + b"\r")
        events = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events += self.parser.feed(self.ser.read(512))
            if any(isinstance(e, until) for e in events):
                return events
        raise AssertionError(f"no reply to {text!r}: {events}")

    def close(self) -> None:
        self.ser.close()


@pytest.fixture
def huawei(dev):
    sim = GsmModemSim(str(dev / "ttyUSB2"), dialect="huawei", pin="1234").start()
    term = Terminal(sim.port)
    yield sim, term
    term.close()
    sim.stop()


def final(events) -> FinalResult:
    return next(e for e in events if isinstance(e, FinalResult))


def test_echo_until_ate0(huawei):
    _, term = huawei
    assert term.send("AT")[0] == Info("AT")
    term.send("ATE0")
    assert term.send("AT") == [FinalResult(FinalKind.OK, None, "OK")]


def test_three_wrong_pins_lock_the_sim(huawei):
    sim, term = huawei
    term.send("ATE0")
    assert final(term.send('AT+CPIN="0000"')).kind == FinalKind.ERROR  # CMEE=0: plain ERROR
    term.send("AT+CMEE=1")
    assert final(term.send('AT+CPIN="0000"')).code == 16
    term.send("AT+CMEE=2")
    assert final(term.send('AT+CPIN="0000"')).text == "incorrect password"
    assert sim.sim_locked
    assert Unsolicited("+CPIN", "SIM PUK", "+CPIN: SIM PUK") in term.send("AT+CPIN?")
    assert final(term.send('AT+CPIN="1234"')).text == "SIM PUK required"


def test_right_pin_then_network(huawei):
    sim, term = huawei
    term.send("ATE0")
    term.send("AT+CMEE=2")
    assert final(term.send("AT+CLIP=1")).kind == FinalKind.OK
    assert final(term.send("ATD123;")).text == "SIM PIN required"
    assert final(term.send('AT+CPIN="1234"')).kind == FinalKind.OK
    events = term.send("AT+CSQ")
    assert Info("+CSQ: 20,99") in events


def test_sms_prompt_and_submit(dev):
    sim = GsmModemSim(str(dev / "ttyUSB2"), dialect="simcom").start()
    term = Terminal(sim.port)
    try:
        term.send("ATE0")
        part = encode_pdu_sms("+48601234567", "Dzień dobry")[0]
        assert term.send(f"AT+CMGS={part.tpdu_length}", until=SmsPrompt)[-1] == SmsPrompt()
        events = term.send(part.hex + "\x1a", raw=True)
        assert Info("+CMGS: 1") in events and final(events).kind == FinalKind.OK
        assert sim.sms_sent[0].text == "Dzień dobry"
        sim.deliver_sms("+48600000000", "Hej")
        read = term.send("AT+CMGR=1")
        assert decode_pdu_sms(read[1].line).text == "Hej"
        assert final(term.send("AT+CMGR=9")).kind == FinalKind.CMS_ERROR
    finally:
        term.close()
        sim.stop()


def test_voice_modem_needs_voice_class(dev):
    sim = VoiceModemSim(str(dev / "ttyACM0")).start()
    term = Terminal(sim.port)
    try:
        term.send("ATE0")
        assert final(term.send("AT+VLS=1")).kind == FinalKind.ERROR
        term.send("AT+FCLASS=8")
        assert len([e for e in term.send("AT+VSM=?") if isinstance(e, Info)]) == 5
        assert final(term.send("AT+VSM=130,11025")).kind == FinalKind.ERROR
        assert final(term.send("AT+VLS=1")).kind == FinalKind.OK
        assert final(term.send("AT+VTR")).kind == FinalKind.CONNECT
        assert sim.streaming
    finally:
        term.close()
        sim.stop()
