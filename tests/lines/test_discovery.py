"""Finding modems by USB id and by asking them."""

from __future__ import annotations

import pytest

from appliance.lines.discovery import (
    ModemInfo, PortDescription, classify_probe, discover, match_usb, probe_port,
)
from appliance.lines.sim_gsm import GsmModemSim
from appliance.lines.sim_voice import VoiceModemSim


def test_usb_table_picks_the_at_and_audio_ttys():
    ports = [
        PortDescription("/dev/ttyUSB0", 0x12D1, 0x1001, "1-1.2:1.0"),
        PortDescription("/dev/ttyUSB1", 0x12D1, 0x1001, "1-1.2:1.1"),
        PortDescription("/dev/ttyUSB2", 0x12D1, 0x1001, "1-1.2:1.2"),
        PortDescription("/dev/ttyUSB3", 0x1E0E, 0x9001, "1-1.3:1.0"),
        PortDescription("/dev/ttyUSB5", 0x1E0E, 0x9001, "1-1.3:1.2"),
        PortDescription("/dev/ttyUSB7", 0x1E0E, 0x9001, "1-1.3:1.4"),
        PortDescription("/dev/ttyACM0", 0x0572, 0x1329, "1-1.4:1.0"),
        PortDescription("/dev/ttyAMA0", None, None),                   # the Pi's own UART
        PortDescription("/dev/ttyUSB9", 0x0403, 0x6001, "1-1.5:1.0"),  # an FTDI cable
    ]
    assert match_usb(ports) == [
        ModemInfo("voice", "conexant", "CX93010", "/dev/ttyACM0", None),
        ModemInfo("gsm", "huawei", "E169/E1550/E1750", "/dev/ttyUSB2", "/dev/ttyUSB1"),
        ModemInfo("gsm", "simcom", "SIM7600", "/dev/ttyUSB5", "/dev/ttyUSB7"),
    ]


def test_two_sticks_of_the_same_model_stay_apart():
    ports = [PortDescription(f"/dev/ttyUSB{i}", 0x2C7C, 0x0125, f"1-1.{hub}:1.{i % 4}")
             for i, hub in zip(range(8), [2, 2, 2, 2, 3, 3, 3, 3])]
    found = match_usb(ports)
    assert [(m.port, m.audio_port) for m in found] == [("/dev/ttyUSB2", "/dev/ttyUSB1"),
                                                       ("/dev/ttyUSB6", "/dev/ttyUSB5")]


@pytest.mark.parametrize("answers,expected", [
    ({"ATI": ["Manufacturer: huawei", "Model: E173"], "AT+CGMM": ["E173"]}, ("gsm", "huawei", "E173")),
    ({"AT+CGMI": ["SIMCOM INCORPORATED"], "AT+CGMM": ["SIMCOM_SIM7600E-H"]},
     ("gsm", "simcom", "SIMCOM_SIM7600E-H")),
    ({"ATI": ["Quectel", "EC25", "Revision: EC25EFAR06A06M4G"]}, ("gsm", "quectel", "quectel")),
    ({"ATI": ["CX93001-EIS_V0.2002-V92"], "AT+FCLASS=?": ["0,1,1.0,2,8"]},
     ("voice", "conexant", "cx930")),
    ({"ATI": ["U.S. Robotics 56K FAX USB V1.2.23"]}, ("voice", "usr", "robotics")),
    ({"ATI": ["ACME"], "AT+FCLASS=?": ["0,1,8"]}, ("voice", "conexant", "")),
    ({"ATI": ["ACME"], "AT+FCLASS=?": ["0,1"]}, None),
])
def test_classify_probe(answers, expected):
    assert classify_probe(answers) == expected


def test_probe_the_simulators(dev):
    gsm = GsmModemSim(str(dev / "ttyUSB0"), dialect="simcom").start()
    voice = VoiceModemSim(str(dev / "ttyACM0")).start()
    try:
        assert probe_port(gsm.port, timeout=1) == ModemInfo(
            "gsm", "simcom", "SIMCOM_SIM7600E-H", gsm.port)
        info = probe_port(voice.port, timeout=1)
        assert (info.kind, info.vendor, info.model) == ("voice", "conexant", "CX93001")
        assert probe_port(str(dev / "nothing"), timeout=0.5) is None
        found = discover([gsm.port], probe=lambda p: probe_port(p, timeout=1))
        assert ModemInfo("gsm", "simcom", "SIMCOM_SIM7600E-H", gsm.port) in found
    finally:
        gsm.stop()
        voice.stop()
