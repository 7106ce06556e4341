"""Two agents with no desk phone, only the agent panel, on an office LAN with the box as it ships.

The box runs `callbox core` and `callbox web` (HTTPS on 8443, its self-signed certificate, which
the test browsers are told to accept as an agent does once). Anna (1010) and Ben (1011) each open
the panel in headless Chromium on their own desk, their panels register, and they log in to the
sales queue with its button. A customer's pjsua2 phone on a third desk calls the queue: one panel rings,
its agent answers with a click, each side hears the other's tone (FFT), and the customer hangs up.
With that agent in wrap-up, a second call rings the other panel; answered, heard, and the agent
hangs up from the panel. Together the two calls are "two browser agents in one queue".
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PYTHON, ROOT
from tests.peers.audio import dominant_frequency, write_sine
from tests.web.conftest import ADMIN_PASSWORD

pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytest.importorskip("pjsua2", reason="the pjsua2 wheel is not installed")
from tests.peers.phones import Phone  # noqa: E402
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM  # noqa: E402
from tests.web.test_browser_agent_call import MEDIA, PANEL_TAKE, RECORD_PANEL, _hears  # noqa: E402
from web.kit import hash_password  # noqa: E402

pytestmark = pytest.mark.peers

CUSTOMER_HZ = 1100
AGENT_HZ = {"1010": 700, "1011": 900}
FLOWS = {"schema": 1, "version": 1, "language": "en",
         "routes": [{"name": "service", "did": "500", "destination": "sales"}],
         "nodes": {"sales": {"kind": "queue", "queue": "sales"}}}


def _web_on(box, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    """`callbox web` on the box's host, as its unit starts it: HTTPS on 8443."""
    log = open(tmp_path / "web.log", "wb")
    proc = box.host.popen([PYTHON, "-m", "appliance.cli", "web", "--data", str(box.data_dir),
                           "--host", box.host.address, "--port", "8443"],
                          cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 20
    while True:
        try:
            box.host.connect((box.host.address, 8443), timeout=1).close()
            return proc, f"https://{box.host.address}:8443"
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "web.log").read_text()
            time.sleep(0.2)


def _panel(p, host, ext: str, base: str, tmp_path: Path):
    """Agent `ext`'s panel in Chromium on `host`, its microphone a tone of its own."""
    wrapper = tmp_path / f"chromium-{ext}"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {host.ns} {CHROMIUM} "$@"\n')
    os.chmod(wrapper, 0o755)
    tone = write_sine(tmp_path / f"mic-{ext}.wav", AGENT_HZ[ext], 5, rate=16000)
    browser = p.chromium.launch(executable_path=str(wrapper), headless=True, args=ARGS + MEDIA + [
        f"--use-file-for-fake-audio-capture={tone}", "--ignore-certificate-errors"])
    page = browser.new_page(ignore_https_errors=True, viewport={"width": 1024, "height": 900})
    page.set_default_timeout(20000)
    page.goto(base + "/login")
    page.get_by_label("Username").fill(ext)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")
    page.wait_for_selector('#phone[data-phone-state="phone-ready"]')
    # While the phone runs, the status button is sent by the panel's script: no reload.
    page.locator("#agent").get_by_role("button", name="Log in", exact=True).click()
    page.get_by_text("You are available.").wait_for()
    page.wait_for_selector('#phone[data-phone-state="phone-ready"]')
    return browser, page


def _ringing(box, pages: dict, timeout: float = 20):
    """The agent whose panel rings, and its page."""
    def which():
        return next(((ext, page) for ext, page in pages.items()
                     if page.locator("#phone").get_attribute("data-call") == "ringing"), None)
    return box.wait_for("a panel ringing", which, timeout)


def _heard_by_phone(phone: Phone, wav: Path, seconds: float = 1.5) -> float:
    phone.record(wav)
    time.sleep(seconds)
    phone.stop_record()
    return dominant_frequency(wav, start_s=0.3)


def _answer_and_talk(box, page, ext: str, customer: Phone, tmp_path: Path, n: int) -> None:
    page.get_by_role("button", name="Answer").click()
    page.wait_for_selector('#phone[data-call="talking"]')
    customer.wait_for("call_state", state="CONFIRMED", timeout=15)
    page.evaluate(RECORD_PANEL)
    customer.play_tone(CUSTOMER_HZ)
    time.sleep(1.0)
    assert abs(_hears(page, PANEL_TAKE, 1.5, tmp_path / f"panel-{ext}-{n}.wav") - CUSTOMER_HZ) <= 30
    assert abs(_heard_by_phone(customer, tmp_path / f"customer-{n}.wav") - AGENT_HZ[ext]) <= 30


def test_two_panel_agents_in_one_queue_take_calls_from_a_desk_phone(lan, office, tmp_path):
    from playwright.sync_api import sync_playwright
    box = office({"sip.wss_port": 7443})
    box.engine_ready()
    customer_ext = box.add_extension("1001")
    assert box.api("POST", "/api/queues", {"name": "sales", "ring_timeout_s": 20, "wrap_up_s": 60})[0] == 201
    for ext, name in (("1010", "Anna"), ("1011", "Ben")):
        box.add_extension(ext, name=name)
        assert box.api("POST", f"/api/agents/{ext}", {"queues": ["sales"]})[0] == 201
        assert box.api("POST", "/api/users", {"username": ext, "role": "agent",
                                              "password_hash": hash_password(ADMIN_PASSWORD)})[0] == 201
    assert box.api("PUT", "/api/flows", FLOWS)[0] in (200, 201)
    assert box.api("PATCH", "/api/settings", {"setup.wizard": {"step": "done"}})[0] == 200
    web, base = _web_on(box, tmp_path)
    customer = Phone("customer", host=lan.host("desk9"))
    browsers = []
    try:
        customer.register(f"sip:{box.host.address}:5060", "1001", customer_ext["secret"])
        customer.wait_for("reg_state", code=200, timeout=15)
        with sync_playwright() as p:
            pages = {}
            for ext, desk in (("1010", "desk1"), ("1011", "desk2")):
                browser, pages[ext] = _panel(p, lan.host(desk), ext, base, tmp_path)
                browsers.append(browser)
                box.wait_registered(ext)
            try:
                # The first call: a panel rings with the customer's number; the customer hangs up.
                customer.call(f"sip:500@{box.host.address}:5060")
                first, page = _ringing(box, pages)
                assert "1001" in page.locator("#phone-call-state").inner_text()
                _answer_and_talk(box, page, first, customer, tmp_path, 1)
                page.screenshot(path=str(ARTIFACTS / "web-agent-phone-queue-call.png"), full_page=True)
                customer.hangup()
                page.get_by_text("Call ended.").wait_for()

                # The second: the first agent is in wrap-up, so the other panel rings; its agent hangs up.
                customer.call(f"sip:500@{box.host.address}:5060")
                second, page = _ringing(box, pages)
                assert second != first
                _answer_and_talk(box, page, second, customer, tmp_path, 2)
                page.get_by_role("button", name="Hang up").click()
                customer.wait_for("call_state", state="DISCONNECTED", timeout=10)
                page.get_by_text("Call ended.").wait_for()
            finally:
                for browser in browsers:
                    browser.close()
        records = box.api("GET", "/api/cdr")[1]["records"]
        assert len([r for r in records if r["disposition"] == "ANSWERED"]) >= 2
        assert "Traceback" not in box.log()
    finally:
        customer.close()
        web.terminate()
        web.wait(10)
