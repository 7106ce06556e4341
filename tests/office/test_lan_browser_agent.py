"""An agent with no desk phone, only the browser, on an office LAN with the box as it ships.

Headless Chromium on one desk opens the box's SIP WebSocket with a ticket and registers; a pjsua2
desk phone on another calls the sales queue; the box rings the browser through the edge and the
media bridge; each side hears the other's tone (FFT); the browser hangs up. Then the browser calls
the desk phone's extension, both hear each other, the desk phone hangs up. Last, the agent closes
the page in the middle of a queue call: the caller's call ends, the ACD stops offering them calls
and they are logged out of the queue.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.peers.audio import write_sine

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytest.importorskip("pjsua2", reason="the pjsua2 wheel is not installed")
from tests.office.browser_agent import BrowserSip, agent_browser  # noqa: E402
from tests.peers.phones import Phone  # noqa: E402
from tests.webrtc.browser_page import CHROMIUM  # noqa: E402
from tests.webrtc.hearing import heard_by_browser, heard_by_phone, wait_connected  # noqa: E402

if not os.path.exists(CHROMIUM):
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)

pytestmark = pytest.mark.peers

BROWSER_HZ = 700
PHONE_HZ = 1100
WSS_PORT = 7443
FLOWS = {"schema": 1, "version": 1, "language": "en",
         "routes": [{"name": "service", "did": "500", "destination": "sales"}],
         "nodes": {"sales": {"kind": "queue", "queue": "sales"}}}


@pytest.fixture
def sales_queue(lan, office, tmp_path):
    """`sales_queue(codecs)`: the box, with number 500 ringing queue `sales` whose agent 1010 has only
    the browser, and a customer's pjsua2 phone (`codecs`) on desk2, registered as 1001.
    Returns (box, desk1, tone, customer); desk1 is for the browser, whose microphone plays `tone`."""
    phones: list[Phone] = []

    def start(codecs: str):
        box = office({"sip.wss_port": WSS_PORT})
        desk1, desk2 = lan.host("desk1"), lan.host("desk2")
        box.engine_ready()
        box.add_extension("1010")
        customer_ext = box.add_extension("1001")
        assert box.api("POST", "/api/queues", {"name": "sales", "ring_timeout_s": 20})[0] == 201
        assert box.api("POST", "/api/agents/1010", {"queues": ["sales"]})[0] == 201
        assert box.api("PUT", "/api/flows", FLOWS)[0] in (200, 201)
        tone = write_sine(tmp_path / "mic.wav", BROWSER_HZ, 3.0, rate=48000)
        customer = Phone("customer", codecs=codecs, host=desk2)
        phones.append(customer)
        customer.register(f"sip:{box.host.address}:5060", "1001", customer_ext["secret"])
        customer.wait_for("reg_state", code=200, timeout=15)
        return box, desk1, tone, customer

    yield start
    for phone in phones:
        phone.close()


def _agent(box, ext: str) -> dict:
    return next(a for a in box.api("GET", "/api/agents")[1]["agents"] if a["extension"] == ext)


def test_a_browser_agent_takes_a_queue_call_calls_a_desk_phone_and_closing_the_page_logs_out(sales_queue, tmp_path):
    box, desk1, tone, customer = sales_queue("G722/16000,PCMU/8000,PCMA/8000")
    with agent_browser(desk1, tone, tmp_path) as page:
        status, ticket = box.api("POST", "/api/browser-phone/ticket", {"extension": "1010"})
        assert status == 201, ticket
        sip = BrowserSip(page, box.host.address, WSS_PORT, ticket["ticket"], "1010")
        sip.register()
        assert box.api("POST", "/api/agents/1010/login", {})[1]["status"] == "AVAILABLE"
        assert _agent(box, "1010")["state"] == "IDLE"

        # A customer calls the queue: the box rings the agent's browser, which answers.
        customer.call(f"sip:500@{box.host.address}:5060")
        offer = sip.wait_invite()
        assert "UDP/TLS/RTP/SAVPF" in offer and sip.invite.method == "INVITE" and sip.invite.uri.startswith("sip:")
        assert ".invalid;transport=ws" in sip.invite.uri  # the browser's own Contact, on its connection
        sip.answer(page.evaluate("offer => phone.answer(offer)", offer))
        wait_connected(page)
        customer.wait_for("call_state", state="CONFIRMED", timeout=15)
        customer.play_tone(PHONE_HZ)
        assert abs(heard_by_browser(page) - PHONE_HZ) < 25
        assert abs(heard_by_phone(customer, tmp_path / "customer.wav") - BROWSER_HZ) < 25
        assert sip.hang_up() == 200
        customer.wait_for("call_state", state="DISCONNECTED", timeout=10)

        # The agent calls the customer's extension from the browser.
        page.evaluate("phone.hangUp()")
        sip.call("1001", page.evaluate("phone.call()"))
        customer.wait_for("incoming", timeout=15)
        customer.answer()
        answer = sip.answered()
        customer.wait_for("call_state", state="CONFIRMED", timeout=15)
        page.evaluate("answer => phone.accept(answer)", answer)
        wait_connected(page)
        customer.play_tone(PHONE_HZ)
        assert abs(heard_by_browser(page) - PHONE_HZ) < 25
        assert abs(heard_by_phone(customer, tmp_path / "customer2.wav") - BROWSER_HZ) < 25
        customer.hangup()
        sip.wait_bye()
        customer.wait_for("call_state", state="DISCONNECTED", timeout=10)

        # Another customer's call; the agent closes the panel in the middle of it: the caller's
        # call ends (the box says BYE for the browser) and the agent is logged out.
        page.evaluate("phone.hangUp()")
        customer.call(f"sip:500@{box.host.address}:5060")
        sip.answer(page.evaluate("offer => phone.answer(offer)", sip.wait_invite()))
        wait_connected(page)
        customer.wait_for("call_state", state="CONFIRMED", timeout=15)
        page.close()
        customer.wait_for("call_state", state="DISCONNECTED", timeout=10)
        box.wait_registered("1010", present=False)
        box.wait_for("the agent logged out", lambda: _agent(box, "1010")["status"] == "LOGGED_OUT", 15)
    log = box.log()
    print("\n".join(line for line in log.splitlines() if "WARNING" in line or "ERROR" in line or "browser" in line))
    assert "Traceback" not in log


def _until(check, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, "not in time"
        time.sleep(0.1)


def _events(page, want: str, timeout: float = 20.0) -> list[str]:
    end = time.monotonic() + timeout
    while True:
        events = page.evaluate("agent.events")
        if any(e.startswith(want) for e in events):
            return events
        assert time.monotonic() < end, f"no {want!r} in {events}"
        time.sleep(0.1)


def test_the_agent_panels_sip_library_takes_a_queue_call_and_calls_out_through_the_box(sales_queue, tmp_path):
    """JsSIP (web/static/jssip.min.js), used as the agent panel uses it, against the real box: its
    route set, its answers and its BYEs work with the edge's routes and the media bridge."""
    if not (Path(__file__).resolve().parents[2] / "web" / "static" / "jssip.min.js").exists():
        pytest.skip("JsSIP is not vendored")
    box, desk1, tone, customer = sales_queue("PCMU/8000,PCMA/8000")
    with agent_browser(desk1, tone, tmp_path, jssip=True) as page:
        ticket = box.api("POST", "/api/browser-phone/ticket", {"extension": "1010"})[1]["ticket"]
        page.evaluate("([url, host]) => agent.start(url, '1010', host)",
                      [f"wss://{box.host.address}:{WSS_PORT}/?ticket={ticket}", box.host.address])
        _events(page, "registered")
        assert box.api("POST", "/api/agents/1010/login", {})[1]["status"] == "AVAILABLE"

        customer.call(f"sip:500@{box.host.address}:5060")
        _events(page, "session remote")
        page.evaluate("agent.answer()")
        _events(page, "confirmed")
        customer.wait_for("call_state", state="CONFIRMED", timeout=15)
        customer.play_tone(PHONE_HZ)
        assert abs(heard_by_browser(page) - PHONE_HZ) < 25
        assert abs(heard_by_phone(customer, tmp_path / "customer.wav") - BROWSER_HZ) < 25
        # Hold and resume the JsSIP way (re-INVITEs, a=sendonly then sendrecv): the box answers
        # each, the call stays up, and the audio flows again after.
        _until(lambda: page.evaluate("agent.hold(true)"))
        _until(lambda: page.evaluate("agent.hold(false)"))   # once the hold's re-INVITE is answered
        _events(page, "unhold local")
        time.sleep(0.5)
        assert abs(heard_by_browser(page) - PHONE_HZ) < 25
        assert abs(heard_by_phone(customer, tmp_path / "customer-resumed.wav") - BROWSER_HZ) < 25
        assert not [e for e in page.evaluate("agent.events") if e.startswith(("ended", "failed"))]
        customer.hangup()                                  # the box's BYE reaches JsSIP along its route
        _events(page, "ended remote")
        customer.wait_for("call_state", state="DISCONNECTED", timeout=10)

        page.evaluate("agent.call('sip:1001@' + location.hostname)")
        customer.wait_for("incoming", timeout=15)
        customer.answer()
        customer.wait_for("call_state", state="CONFIRMED", timeout=15)
        customer.play_tone(PHONE_HZ)
        assert abs(heard_by_browser(page) - PHONE_HZ) < 25
        assert abs(heard_by_phone(customer, tmp_path / "customer2.wav") - BROWSER_HZ) < 25
        page.evaluate("agent.hangUp()")                    # JsSIP's BYE, along the recorded route
        customer.wait_for("call_state", state="DISCONNECTED", timeout=10)
    assert "Traceback" not in box.log()


def test_an_extension_call_and_a_transfer_reach_an_agent_who_is_only_in_the_browser(lan, office, tmp_path):
    box = office({"sip.wss_port": WSS_PORT})
    desk1, desk2, desk3 = lan.host("desk1"), lan.host("desk2"), lan.host("desk3")
    box.engine_ready()
    box.add_extension("1010")
    secrets = {n: box.add_extension(n)["secret"] for n in ("1001", "1002")}
    tone = write_sine(tmp_path / "mic.wav", BROWSER_HZ, 3.0, rate=48000)
    anna = Phone("anna", host=desk2)
    piotr = Phone("piotr", host=desk3)
    try:
        for phone, number in ((anna, "1001"), (piotr, "1002")):
            phone.register(f"sip:{box.host.address}:5060", number, secrets[number])
            phone.wait_for("reg_state", code=200, timeout=15)
        with agent_browser(desk1, tone, tmp_path) as page:
            ticket = box.api("POST", "/api/browser-phone/ticket", {"extension": "1010"})[1]["ticket"]
            sip = BrowserSip(page, box.host.address, WSS_PORT, ticket, "1010")
            sip.register()

            # A colleague dials the agent's extension.
            piotr.call(f"sip:1010@{box.host.address}:5060")
            sip.answer(page.evaluate("offer => phone.answer(offer)", sip.wait_invite()))
            wait_connected(page)
            piotr.wait_for("call_state", state="CONFIRMED", timeout=15)
            piotr.play_tone(PHONE_HZ)
            assert abs(heard_by_browser(page) - PHONE_HZ) < 25
            piotr.hangup()
            sip.wait_bye()
            piotr.wait_for("call_state", state="DISCONNECTED", timeout=10)

            # A caller reaches Anna, who passes him on to the agent (a blind transfer).
            page.evaluate("phone.hangUp()")
            piotr.call(f"sip:1001@{box.host.address}:5060")
            anna.wait_for("incoming", timeout=15)
            anna.answer()
            piotr.wait_for("call_state", state="CONFIRMED", timeout=15)
            anna.transfer(f"sip:1010@{box.host.address}:5060")
            sip.answer(page.evaluate("offer => phone.answer(offer)", sip.wait_invite()))
            wait_connected(page)
            piotr.play_tone(PHONE_HZ)
            assert abs(heard_by_browser(page) - PHONE_HZ) < 25
            assert abs(heard_by_phone(piotr, tmp_path / "piotr.wav") - BROWSER_HZ) < 25
            assert sip.hang_up() == 200
            piotr.wait_for("call_state", state="DISCONNECTED", timeout=10)
        assert "Traceback" not in box.log()
    finally:
        anna.close()
        piotr.close()
