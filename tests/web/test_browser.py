"""Walks through the real server in headless Chromium: first run and an extension; the live pages."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from appliance.hw.panel import PanelState
from tests.web.conftest import ADMIN_PASSWORD, add_user
from tests.web.fake_api import FakeControlApi
from web.api_client import ApiClient
from web.app import WebSettings, create_app
from web.server import make_server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not os.path.exists(CHROMIUM):
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def served():
    fake = FakeControlApi().start()
    # No polling on the live pages: what changes there must have come through the event stream.
    # A short idle time lets event relays notice a closed browser soon, so the server stops quickly.
    app = create_app(WebSettings(secure_cookie=False, live_poll_s=0, event_idle_s=1,
                                 data_dir=str(ARTIFACTS.parent)),
                     ApiClient(fake.url, fake.token))
    server = make_server(app, "127.0.0.1", 0)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.bind_addr[1]}", fake
    fake.stop()  # first, so that open event relays end instead of holding the server's threads
    server.stop()
    thread.join(10)


def test_first_run_login_and_add_extension_in_chromium(served):
    base, fake = served
    ARTIFACTS.mkdir(exist_ok=True)
    password = "a very long password"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone screen
            page.set_default_timeout(15000)
            page.goto(base + "/")
            assert page.url.endswith("/setup")
            page.get_by_label("Set-up code").fill(fake.setup_code)
            page.get_by_label("Username").fill("boss")
            page.get_by_label("Password", exact=True).fill(password)
            page.get_by_label("Password again").fill(password)
            page.get_by_role("button", name="Create admin").click()
            page.wait_for_url("**/login")
            page.get_by_label("Username").fill("boss")
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            # The first login of the admin opens the set-up wizard; it can wait.
            page.wait_for_url(base + "/wizard/business")
            page.get_by_role("link", name="Finish later").click()
            page.wait_for_url(base + "/")
            assert page.get_by_role("heading", name="Dashboard").is_visible()
            page.get_by_role("link", name="Team").click()  # the group, then its page
            page.get_by_role("link", name="Extensions").click()
            page.get_by_label("Number").fill("1001")
            page.get_by_label("Name").fill("Anna")
            page.get_by_label("Class of service").select_option("local")
            page.get_by_role("button", name="Add extension").click()
            page.wait_for_selector("#secret")
            secret = page.locator("#secret").inner_text()
            assert secret and secret == fake.extensions["1001"]["secret"]
            page.screenshot(path=str(ARTIFACTS / "web-extension-added.png"), full_page=True)
            page.get_by_role("link", name="Printable phone sheet").click()
            assert page.get_by_text(secret).is_visible()
            page.screenshot(path=str(ARTIFACTS / "web-phone-sheet.png"), full_page=True)
        finally:
            browser.close()
    assert [a["action"] for a in fake.audit][:2] == ["extension_added", "login"]


def _log_in(page, base: str, target: str) -> None:
    page.goto(f"{base}/login?next={target}")
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + target)


def test_now_calls_and_system_pages_in_chromium(served):
    base, fake = served
    ARTIFACTS.mkdir(exist_ok=True)
    add_user(fake, "boss", "admin", ADMIN_PASSWORD)
    for n in range(57):
        start = (datetime(2026, 11, 2, 8) + timedelta(minutes=7 * n)).astimezone().isoformat()
        fake.add_call_record(caller=f"06012345{n:02d}", callee="1002", start=start,
                             disposition=("ANSWERED", "NO ANSWER", "BUSY", "FAILED")[n % 4])
    talking = fake.start_call("1001", "0612345678", "ANSWERED")
    fake.start_call("0698765432", "1003", "RINGING")
    fake.panel.show(PanelState(ready=True, lines_ok=True, callers_waiting=5,
                               voicemail_waiting=True, faults=["disk_full"]))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15000)
            _log_in(page, base, "/now")
            calls = page.locator('table[data-block="calls"] tbody tr')
            assert calls.count() == 2
            page.evaluate("window.loadedOnce = true")
            page.wait_for_function("document.getElementById('now-status').textContent"
                                   ".indexOf('connected') >= 0")
            record = fake.end_call(talking, "ANSWERED")
            recent = page.locator('table[data-block="recent"] tbody tr').first
            # The page's relay may subscribe to the core a moment after it connects:
            # the event is sent again until the page shows it (it refetches on each).
            deadline = time.monotonic() + 20
            while "0612345678" not in recent.inner_text():
                assert time.monotonic() < deadline, "the Now page never showed the ended call"
                fake.emit("call_record", {k: record[k] for k in ("call_id", "disposition", "caller",
                                                                 "callee", "duration_s")})
                page.wait_for_timeout(500)
            assert calls.count() == 1 and "0698765432" in calls.first.inner_text()
            assert page.locator('[data-summary="active"]').inner_text() == "1"
            assert page.evaluate("window.loadedOnce") is True  # updated in place, not reloaded
            page.screenshot(path=str(ARTIFACTS / "web-now.png"), full_page=True)

            page.get_by_role("link", name="Reports", exact=True).click()
            page.get_by_role("link", name="Calls", exact=True).click()
            page.wait_for_url(base + "/calls")
            assert page.locator("table.records tbody tr").count() == 50
            page.screenshot(path=str(ARTIFACTS / "web-calls.png"), full_page=True)
            page.get_by_role("link", name="Older calls").click()
            page.wait_for_url("**/calls?page=2")
            assert page.locator("table.records tbody tr").count() == 8  # 57 + the ended call - 50

            page.get_by_role("link", name="Settings", exact=True).click()
            page.get_by_role("link", name="System and backup").click()
            page.wait_for_url(base + "/system")
            assert "led-code-2" in page.locator('[data-led="fault"]').get_attribute("class")
            assert page.locator('[data-led="fault"]').evaluate(
                "el => getComputedStyle(el).animationName") == "led-code-2"
            page.screenshot(path=str(ARTIFACTS / "web-system.png"), full_page=True)
            page.get_by_role("button", name="Turn night mode on").click()
            page.wait_for_url(base + "/system#panel")
            assert fake.panel.night_mode
            assert page.get_by_role("button", name="Turn night mode off").is_visible()

            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.set_default_timeout(15000)
            _log_in(phone, base, "/calls")
            phone.screenshot(path=str(ARTIFACTS / "web-calls-phone.png"), full_page=False)
            phone.goto(base + "/system")
            phone.screenshot(path=str(ARTIFACTS / "web-system-phone.png"), full_page=True)
        finally:
            browser.close()
