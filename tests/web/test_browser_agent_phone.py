"""The agent panel is a phone: headless Chromium against a real core with browser phones on (a free
`sip.wss_port`) and the web page served against it. The panel gets a ticket through the page and
registers over WSS (the core lists the agent's extension over `wss:`); a status button keeps the
page and its phone; a second tab takes over and
the first says so; a restart of the box is said and survived; closing the tab ends the
registration; a refused microphone is said in words
and registers nothing."""

from __future__ import annotations

import socket
import time

import pytest

from tests.conftest import free_port
from tests.integration.corebox import CoreProcess
from tests.web.conftest import ADMIN_PASSWORD
from tests.web.fake_api import FakeControlApi
from tests.web.served_page import chromium, log_in_page, serving
from tests.web.test_api_contract import Both
from tests.web.test_browser import ARGS, ARTIFACTS
from web.api_client import ApiClient
from web.kit import hash_password

# The box's certificate is self-signed: the test's browser accepts it as an agent does once.
PHONE_ARGS = ARGS + ["--use-fake-device-for-media-stream", "--ignore-certificate-errors",
                     "--autoplay-policy=no-user-gesture-required"]
READY = '#phone[data-phone-state="phone-ready"]'


@pytest.fixture
def on_core(tmp_path):
    """A real core with browser phones on, a queue with agents 1001 and 1002, and the web page."""
    core = CoreProcess(tmp_path / "data", settings={"sip.wss_port": free_port(socket.SOCK_STREAM)}).start()
    api = ApiClient.from_data_dir(core.data_dir)
    api.add_queue({"name": "support"})
    for ext, name in (("1001", "Anna Agent"), ("1002", "Bob Agent")):
        api.add_extension(ext, name)
        api.add_agent(ext, ["support"])
        api.add_user(ext, "agent", hash_password(ADMIN_PASSWORD))
    api.update_settings({"setup.wizard": {"step": "done"}})
    with serving(api) as base:
        yield base, core
    core.stop()


def _over_wss(core, aor: str) -> list[dict]:
    return [r for r in core.registrations() if r["aor"] == aor and str(r.get("source", "")).startswith("wss:")]


def _wait(predicate, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_the_panel_registers_a_second_tab_takes_over_and_closing_it_unregisters(on_core):
    base, core = on_core
    with chromium(PHONE_ARGS + ["--use-fake-ui-for-media-stream"]) as browser:
        context = browser.new_context(viewport={"width": 1024, "height": 900})
        first = context.new_page()
        log_in_page(first, base, "1001")
        first.wait_for_selector(READY)
        assert "calls to extension 1001 ring here" in first.locator("#phone-state").inner_text()
        [reg] = _wait(lambda: _over_wss(core, "1001"), "1001 registered over wss")
        assert reg["contact"].endswith(";transport=ws")
        # A status button does not reload the panel, so the phone stays registered as it was.
        first.evaluate("window.notReloaded = true")
        first.locator("#agent").get_by_role("button", name="Log in", exact=True).click()
        first.get_by_text("You are available.").wait_for()
        assert first.locator("#agent").get_by_role("button", name="Break").is_visible()
        assert first.evaluate("window.notReloaded") is True
        assert [r["contact"] for r in _over_wss(core, "1001")] == [reg["contact"]]
        assert next(a for a in core.api("GET", "/api/agents")[1]["agents"]
                    if a["extension"] == "1001")["status"] == "AVAILABLE"
        first.screenshot(path=str(ARTIFACTS / "web-agent-phone.png"), full_page=True)

        second = context.new_page()
        second.set_default_timeout(15000)
        second.goto(base + "/agent")
        second.wait_for_selector(READY)
        first.get_by_text("This phone moved to a newer tab or window of this browser").wait_for()
        assert first.locator("#phone").get_attribute("data-phone-state") == "phone-off"
        # One registration again: the second tab's, on its own connection.
        _wait(lambda: len(_over_wss(core, "1001")) == 1 and _over_wss(core, "1001")[0]["contact"] != reg["contact"],
              "only the second tab registered")
        first.screenshot(path=str(ARTIFACTS / "web-agent-phone-moved.png"), full_page=True)

        # The box restarts: the panel says the connection is lost, tries again with a new
        # ticket, waiting longer each time, and registers once the box is back.
        core.stop()
        second.get_by_text("The connection to the box was lost; trying again in").wait_for()
        assert second.locator("#phone").get_attribute("data-phone-state") == "phone-lost"
        second.screenshot(path=str(ARTIFACTS / "web-agent-phone-lost.png"), full_page=True)
        core.start()
        second.wait_for_selector(READY, timeout=40000)
        _wait(lambda: _over_wss(core, "1001"), "1001 registered again after the restart")

        second.close()
        _wait(lambda: not _over_wss(core, "1001"), "the closed tab's registration ended")


def test_a_refused_microphone_is_said_in_words_and_nothing_registers(on_core):
    base, core = on_core
    # No --use-fake-ui-for-media-stream: the permission is the context's, and it is refused.
    with chromium(PHONE_ARGS) as browser:
        context = browser.new_context(permissions=[])
        page = context.new_page()
        log_in_page(page, base, "1002")
        page.get_by_text("The browser refused the microphone to this page").wait_for()
        assert page.locator("#phone").get_attribute("data-phone-state") == "phone-off"
        page.screenshot(path=str(ARTIFACTS / "web-agent-phone-no-microphone.png"), full_page=True)
        time.sleep(0.5)
        assert not _over_wss(core, "1002")


def test_the_fakes_tickets_are_the_cores(on_core):
    """web/api_client.py's ticket call, on the fake and on this real core: the same answers."""
    _, core = on_core
    fake = FakeControlApi().start()
    try:
        fake.extensions["1001"] = {"number": "1001", "name": "Anna Agent"}
        both = Both(fake, core)
        answer = both.same(lambda a: a.browser_phone_ticket("1001"))
        assert set(answer) == {"ticket", "extension", "expires_in", "port"}
        assert both.status(lambda a: a.browser_phone_ticket("1999")) == 404
        assert both.status(lambda a: a.browser_phone_ticket("")) == 400
    finally:
        fake.stop()


def test_no_microphone_is_said_in_words(on_core):
    base, core = on_core
    # The permission is given, but the machine has no microphone (no fake device either).
    with chromium(ARGS + ["--use-fake-ui-for-media-stream"]) as browser:
        page = browser.new_page()
        log_in_page(page, base, "1002")
        inputs = page.evaluate("navigator.mediaDevices.enumerateDevices()"
                               ".then(ds => ds.filter(d => d.kind === 'audioinput').length)")
        if inputs:
            pytest.skip("this machine has a microphone")
        page.get_by_text("This computer has no microphone").wait_for()
        assert not _over_wss(core, "1002")
