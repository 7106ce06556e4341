"""One walk through the real server in headless Chromium: first run, login, add an extension."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

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
    app = create_app(WebSettings(secure_cookie=False), ApiClient(fake.url, fake.token))
    server = make_server(app, "127.0.0.1", 0)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.bind_addr[1]}", fake
    server.stop()
    thread.join(10)
    fake.stop()


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
            page.get_by_label("Username").fill("boss")
            page.get_by_label("Password", exact=True).fill(password)
            page.get_by_label("Password again").fill(password)
            page.get_by_role("button", name="Create admin").click()
            page.wait_for_url("**/login")
            page.get_by_label("Username").fill("boss")
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(base + "/")
            assert page.get_by_role("heading", name="Dashboard").is_visible()
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
