"""The agent panel's call controls against the box as it ships, on an office LAN.

Anna (1010) has only the agent panel, in headless Chromium on her desk. A customer's pjsua2 phone
calls the sales queue; Anna answers with a click and each hears the other (FFT). Then, each
through the real box: Mute (the customer no longer hears her), Unmute; Hold (a re-INVITE: the box
parts the call and the customer hears the box's music on hold), Resume; a keypad digit (it reaches
the customer's phone as DTMF); and a blind transfer to Piotr's desk phone (1002), which rings and,
answered, hears the customer. The queue's call record says ANSWERED by Anna and transferred to 1002, with her talk.
"""

from __future__ import annotations

import time

import pytest

from tests.peers.audio import dominant_frequency
from tests.web.conftest import ADMIN_PASSWORD

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytest.importorskip("pjsua2", reason="the pjsua2 wheel is not installed")
from tests.office.test_lan_agent_panel import (  # noqa: E402
    AGENT_HZ, CUSTOMER_HZ, FLOWS, _answer_and_talk, _panel, _ringing, _web_on)
from tests.peers.phones import Phone  # noqa: E402
from web.kit import hash_password  # noqa: E402

pytestmark = pytest.mark.peers

MUSIC_ON_HOLD_HZ = (150, 350)   # appliance/tones.py: an arpeggio of notes from 165 to 330 Hz


def _customer_hears(customer: Phone, wav, seconds: float = 1.5) -> float:
    customer.record(wav)
    time.sleep(seconds)
    customer.stop_record()
    return dominant_frequency(wav, start_s=0.3)


def test_mute_hold_keypad_and_transfer_from_the_panel_work_through_the_box(lan, office, tmp_path):
    from playwright.sync_api import sync_playwright
    box = office({"sip.wss_port": 7443})
    box.engine_ready()
    secrets = {n: box.add_extension(n)["secret"] for n in ("1001", "1002")}
    assert box.api("POST", "/api/queues", {"name": "sales", "ring_timeout_s": 20, "wrap_up_s": 60})[0] == 201
    box.add_extension("1010", name="Anna")
    assert box.api("POST", "/api/agents/1010", {"queues": ["sales"]})[0] == 201
    assert box.api("POST", "/api/users", {"username": "1010", "role": "agent",
                                          "password_hash": hash_password(ADMIN_PASSWORD)})[0] == 201
    assert box.api("PUT", "/api/flows", FLOWS)[0] in (200, 201)
    assert box.api("PATCH", "/api/settings", {"setup.wizard": {"step": "done"}})[0] == 200
    web, base = _web_on(box, tmp_path)
    customer = Phone("customer", host=lan.host("desk9"))
    piotr = Phone("piotr", host=lan.host("desk3"))
    try:
        for phone, number in ((customer, "1001"), (piotr, "1002")):
            phone.register(f"sip:{box.host.address}:5060", number, secrets[number])
            phone.wait_for("reg_state", code=200, timeout=15)
        with sync_playwright() as p:
            browser, page = _panel(p, lan.host("desk1"), "1010", base, tmp_path)
            try:
                box.wait_registered("1010")
                customer.call(f"sip:500@{box.host.address}:5060")
                _ringing(box, {"1010": page})
                _answer_and_talk(box, page, "1010", customer, tmp_path, 1)

                page.get_by_role("button", name="Mute").click()
                time.sleep(0.5)
                assert abs(_customer_hears(customer, tmp_path / "muted.wav") - AGENT_HZ["1010"]) > 30
                page.get_by_role("button", name="Unmute").click()
                time.sleep(0.5)
                assert abs(_customer_hears(customer, tmp_path / "unmuted.wav") - AGENT_HZ["1010"]) <= 30

                # Hold: the box plays its music to the customer; Resume: Anna again.
                page.get_by_role("button", name="Hold").click()
                assert page.locator("#phone-call-state").inner_text().startswith("On hold")
                time.sleep(1.0)
                low, high = MUSIC_ON_HOLD_HZ
                assert low <= _customer_hears(customer, tmp_path / "held.wav", 2.0) <= high
                page.get_by_role("button", name="Resume").click()
                time.sleep(1.0)
                assert abs(_customer_hears(customer, tmp_path / "resumed.wav") - AGENT_HZ["1010"]) <= 30

                # A keypad digit reaches the customer's phone (RFC 4733 through the bridge and the box).
                page.locator("#phone-keypad").get_by_role("button", name="5").click()
                assert customer.wait_for("dtmf", timeout=10)["digit"] == "5"

                # A blind transfer to Piotr's desk phone: it rings, and he talks with the customer.
                page.get_by_label("Transfer to extension").fill("1002")
                page.get_by_role("button", name="Transfer", exact=True).click()
                piotr.wait_for("incoming", timeout=15)
                page.get_by_text("Call ended.").wait_for()
                piotr.answer()
                piotr.wait_for("call_state", state="CONFIRMED", timeout=15)
                customer.play_tone(CUSTOMER_HZ)
                time.sleep(0.5)
                assert abs(_customer_hears(piotr, tmp_path / "piotr.wav") - CUSTOMER_HZ) <= 30
                assert page.locator("#phone-problem").is_hidden()   # the panel says no failure
                agent = next(a for a in box.api("GET", "/api/agents")[1]["agents"] if a["extension"] == "1010")
                assert agent["state"] == "WRAP_UP"                  # Anna is done with the call: wrap-up
                piotr.hangup()
                customer.wait_for("call_state", state="DISCONNECTED", timeout=10)
            finally:
                browser.close()
        records = box.wait_for("both call records", lambda: [
            r for r in box.api("GET", "/api/cdr")[1]["records"] if r["disposition"] == "ANSWERED"] or None)
        queue_part = next(r for r in records if r.get("queue") == "sales")
        assert (queue_part["outcome"], queue_part["agent"], queue_part["transferred"], queue_part["transferred_to"]) \
            == ("ANSWERED", "1010", True, "1002")
        assert queue_part["talk_s"] > 5
        box.wait_for("the transferred call's record", lambda: any(
            r.get("answered_by") == "1002" for r in box.api("GET", "/api/cdr")[1]["records"]) or None)
        assert "Traceback" not in box.log()
    finally:
        customer.close()
        piotr.close()
        web.terminate()
        web.wait(10)
