"""The web page as a separate process against the real core, as on the box: the owner creates the
admin, adds an extension in headless Chromium, and a real phone registers with the secret shown."""

from __future__ import annotations

import os

import pytest

from tests.integration.corebox import WebProcess
from tests.integration.baresip_peer import Baresip, baresip_available
from web.api_client import ApiClient

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def test_web_api_client_speaks_the_real_core(core):
    api = ApiClient.from_data_dir(core.data_dir)
    assert api.health()["status"] == "ok"
    created = api.add_extension("1001", "Anna")
    assert len(created["secret"]) >= 16
    assert [e["number"] for e in api.extensions()] == ["1001"]
    api.update_extension("1001", name="Anna K")
    assert api.extension("1001")["name"] == "Anna K"
    api.add_user("boss", "admin", "scrypt$16384$8$1$c2FsdA$aGFzaA")
    assert api.user("boss")["role"] == "admin"
    api.add_audit("boss", "login", "")
    assert api.audit(limit=5)[0]["action"] == "login"
    keys = {s["key"] for s in api.settings()}
    assert "sip.port" in keys
    api.delete_extension("1001")
    assert api.extensions() == []


@pytest.fixture
def web(core, tmp_path):
    web = WebProcess(core.data_dir, tmp_path / "web.log")
    yield web.base
    web.stop()


@pytest.mark.peers
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Chromium is not installed")
@pytest.mark.skipif(not baresip_available(), reason="baresip is not installed")
def test_owner_sets_up_an_extension_and_a_phone_registers(core, web, tmp_path, artifacts):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    password = "correct horse battery staple"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(15000)
            page.goto(web + "/")
            assert page.url.endswith("/setup")  # no default password: the first visit creates the admin
            # ... with the set-up code the core printed on its console: a stranger on the LAN cannot.
            page.get_by_label("Set-up code").fill((core.data_dir / "state" / "setup_code").read_text())
            page.get_by_label("Username").fill("owner")
            page.get_by_label("Password", exact=True).fill(password)
            page.get_by_label("Password again").fill(password)
            page.get_by_role("button", name="Create admin").click()
            page.wait_for_url("**/login")
            page.get_by_label("Username").fill("owner")
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/wizard/**")  # the first login opens the set-up wizard
            page.goto(web + "/extensions")
            page.get_by_label("Number").fill("1001")
            page.get_by_label("Name").fill("Anna")
            page.get_by_role("button", name="Add extension").click()
            page.wait_for_selector("#secret")
            secret = page.locator("#secret").inner_text().strip()
            page.screenshot(path=str(artifacts / "core-web-extension-added.png"), full_page=True)
        finally:
            browser.close()
    # The secret the page showed is the one the core holds, and a real phone registers with it.
    assert core.api("GET", "/api/extensions/1001")[1]["secret"] == secret
    phone = Baresip(tmp_path / "baresip")
    try:
        phone.register("1001", secret, core.sip_port)
        phone.wait_event("REGISTER_OK", timeout=15)
        assert core.wait_registered("1001")
    finally:
        phone.close()
    assert core.api("GET", "/api/users")[1]["users"][0]["username"] == "owner"
