"""An agent whose phone unregisters is shown and treated as having no phone at once, not minutes later."""

from __future__ import annotations

import socket
import time

from tests.integration.rawphone import register as raw_register


def agent_state(box, ext: str) -> str:
    agents = box.api("GET", "/api/agents")[1]["agents"]
    return next(a["state"] for a in agents if a["extension"] == ext)


def test_an_agent_whose_phone_unregisters_has_no_phone_until_it_registers_again(box, phones):
    box.add_extension("1010")
    secret = box.api("GET", "/api/extensions/1010")[1]["secret"]
    desk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    desk.bind(("127.0.0.1", 0))
    desk.settimeout(5)
    assert " 200 " in raw_register(desk, box.sip_port, "1010", secret).split("\r\n")[0]
    assert box.api("POST", "/api/queues", {"name": "sales"})[0] == 201
    assert box.api("POST", "/api/agents/1010", {"queues": ["sales"]})[0] == 201
    assert box.api("POST", "/api/agents/1010/login", {})[1]["status"] == "AVAILABLE"
    assert agent_state(box, "1010") == "IDLE"
    # The phone says goodbye (REGISTER with Expires: 0).
    assert " 200 " in raw_register(desk, box.sip_port, "1010", secret, expires=0).split("\r\n")[0]
    box.wait_registered("1010", present=False)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and agent_state(box, "1010") != "NO_PHONE":
        time.sleep(0.1)
    assert agent_state(box, "1010") == "NO_PHONE"
    again = phones("ext1010-again")
    again.register(f"sip:127.0.0.1:{box.sip_port}", "1010", secret)
    again.wait_for("reg_state", code=200, timeout=15)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and agent_state(box, "1010") != "IDLE":
        time.sleep(0.1)
    assert agent_state(box, "1010") == "IDLE"
