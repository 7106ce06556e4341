"""Headless Chromium through the contact-center pages: the set-up wizard, the IVR editor
refusing an edit, the wallboard following a waiting caller, and an agent's screen pop."""

from __future__ import annotations

import time

from appliance.logic.flows.template import default_flows
from tests.web.conftest import ADMIN_PASSWORD, add_user
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM, served, sync_api  # noqa: F401


def _browser(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def _log_in(page, base: str, username: str, target: str) -> None:
    page.goto(f"{base}/login?next={target}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + target)


def _until(page, check, again, what: str) -> None:
    """Repeat `again` (the core sending an event) until `check` holds: the page's relay may
    subscribe to the core a moment after the page says it is connected."""
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, what
        again()
        page.wait_for_timeout(400)


def _wait(page, check, what: str) -> None:
    """Poll from Python: the page's CSP (no eval) rules out Playwright's wait_for_function."""
    deadline = time.monotonic() + 20
    while not check():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(200)


def _center(fake) -> None:
    fake.queues["sales"] = {"name": "sales"}
    fake.queues["support"] = {"name": "support"}
    for n, name in (("100", "Operator"), ("1001", "Anna"), ("1002", "Piotr")):
        fake.extensions[n] = {"number": n, "name": name, "secret": "s" * 16,
                              "class_of_service": "national", "voicemail": True}
    for n in ("1001", "1002"):
        fake.agents[n] = {"extension": n, "name": fake.extensions[n]["name"],
                          "status": "AVAILABLE", "state": "IDLE", "break_reason": "",
                          "queues": {"sales": 1}}
    fake.flow_versions.append(default_flows({"mon": [("09:00", "17:00")]}, "sales", "100",
                                            timezone="Europe/Warsaw").to_dict())


def test_the_set_up_wizard_in_chromium(served):
    base, fake = served
    ARTIFACTS.mkdir(exist_ok=True)
    add_user(fake, "boss", "admin", ADMIN_PASSWORD)
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 900})
            page.set_default_timeout(15000)
            page.goto(base + "/login")
            page.get_by_label("Username").fill("boss")
            page.get_by_label("Password").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(base + "/wizard/business")  # the first login opens the wizard
            page.get_by_label("Business name").fill("Kwiaciarnia Róża")
            page.get_by_label("Time zone").select_option("Europe/Warsaw")
            page.screenshot(path=str(ARTIFACTS / "web-wizard-business.png"), full_page=True)
            page.get_by_role("button", name="Save and continue").click()
            page.wait_for_url(base + "/wizard/hours")
            page.reload()  # progress lives in the core: a reload stays on this step
            page.get_by_label("Open on Saturday").check()
            page.get_by_label("Saturday opens").fill("10:00")
            page.get_by_label("Saturday closes").fill("14:00")
            page.get_by_role("button", name="Save and continue").click()
            page.wait_for_url(base + "/wizard/staff")
            page.get_by_label("One person per line").fill("1001 Anna\n1002 Piotr")
            page.get_by_role("button", name="Add these phones").click()
            page.get_by_role("link", name="printable sheet for 1002").wait_for()
            page.screenshot(path=str(ARTIFACTS / "web-wizard-staff.png"), full_page=True)
            page.get_by_role("link", name="Continue").click()
            page.wait_for_url(base + "/wizard/flows")
            page.get_by_label("Operator for option 0").select_option("1001")
            page.get_by_role("button", name="Set up menu and queues").click()
            page.wait_for_url(base + "/wizard/voicemail")
            page.get_by_label("Voicemail PIN").fill("2468")
            page.get_by_role("button", name="Save and continue").click()
            page.wait_for_url(base + "/wizard/provider")
            page.get_by_role("button", name="Skip: no provider").click()
            page.wait_for_url(base + "/wizard/lines")
            assert page.get_by_text("none yet").is_visible()
            page.get_by_role("button", name="Continue").click()
            page.wait_for_url(base + "/wizard/test")
            assert page.locator("#service-number").inner_text() == "500"
            status = page.locator("#feed-status")
            _wait(page, lambda: "Connected" in status.inner_text(), "no live connection")
            events = page.locator("#wizard-feed")
            _until(page, lambda: "A caller (+48601234567) waits in queue sales." in events.inner_text(),
                   lambda: fake.caller_waits("sales", "+48601234567"),
                   "the test-call step never showed the arriving call")
            page.screenshot(path=str(ARTIFACTS / "web-wizard-test-call.png"), full_page=True)
            page.get_by_role("button", name="Finish set-up").click()
            page.wait_for_url(base + "/")
        finally:
            browser.close()
    assert fake.settings["box.name"] == "Kwiaciarnia Róża"
    assert fake.settings["setup.wizard"]["step"] == "done"
    assert set(fake.agents) == {"1001", "1002"}
    week = fake.flow_versions[-1]["nodes"]["business_hours"]["week"]
    assert week["sat"] == [{"start": "10:00", "end": "14:00"}] and "mon" in week


def test_an_ivr_edit_is_rejected_with_a_visible_error_next_to_the_node(served):
    base, fake = served
    ARTIFACTS.mkdir(exist_ok=True)
    add_user(fake, "boss", "admin", ADMIN_PASSWORD)
    _center(fake)
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 900})
            page.set_default_timeout(15000)
            _log_in(page, base, "boss", "/ivr")
            page.get_by_role("link", name="Edit Sales").click()
            page.wait_for_url(base + "/ivr/nodes/sales")
            page.get_by_label("queue").fill("nosuchqueue")
            page.get_by_role("button", name="Save").click()
            problem = page.locator("#node-sales .problems")
            problem.wait_for()
            assert problem.is_visible() and "nosuchqueue" in problem.inner_text()
            assert page.locator("#node-support .problems").count() == 0
            assert page.locator("#n-queue-error").is_visible()
            assert page.locator("#node-sales").evaluate(
                "el => getComputedStyle(el).borderTopColor") != "rgb(208, 215, 222)"
            page.locator("#node-sales").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "web-ivr-rejected.png"), full_page=True)
        finally:
            browser.close()
    assert len(fake.flow_versions) == 1  # nothing was saved


def test_the_wallboard_follows_a_waiting_caller_in_chromium(served):
    base, fake = served
    ARTIFACTS.mkdir(exist_ok=True)
    add_user(fake, "sue", "supervisor", ADMIN_PASSWORD)
    _center(fake)
    fake.agents["1002"]["status"] = "ON_BREAK"
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15000)
            _log_in(page, base, "sue", "/wallboard")
            page.evaluate("window.loadedOnce = true")
            waiting = page.locator('[data-summary="waiting"]')
            assert waiting.inner_text() == "0"
            status = page.locator("#now-status")
            _wait(page, lambda: "connected" in status.inner_text(), "no live connection")
            callers: list[str] = []
            _until(page, lambda: waiting.inner_text() != "0",
                   lambda: callers or callers.append(fake.caller_waits("sales", "+48601234567",
                                                                       waited_s=30))
                   or fake.emit("queue", fake.queue_log[0]),
                   "the wallboard never showed the waiting caller")
            assert waiting.inner_text() == "1"
            longest = page.locator('table[data-block="queues"] td[data-since]').first
            first = longest.inner_text()
            deadline = time.monotonic() + 10
            while longest.inner_text() == first:  # the longest wait ticks
                assert time.monotonic() < deadline, "the longest wait does not tick"
                page.wait_for_timeout(300)
            assert page.locator('[data-summary="on_break"]').inner_text() == "1"
            page.screenshot(path=str(ARTIFACTS / "web-wallboard.png"), full_page=True)
            fake.answer(callers[0], "1001")
            _wait(page, lambda: waiting.inner_text() == "0", "the answered caller still waits")
            assert page.locator('[data-summary="talking"]').inner_text() == "1"
            assert page.evaluate("window.loadedOnce") is True  # updated in place
            page.goto(base + "/wallboard/kiosk")
            page.screenshot(path=str(ARTIFACTS / "web-wallboard-kiosk.png"), full_page=True)
        finally:
            browser.close()


def test_an_agent_gets_a_screen_pop_in_chromium(served):
    base, fake = served
    ARTIFACTS.mkdir(exist_ok=True)
    add_user(fake, "1001", "agent", ADMIN_PASSWORD)
    _center(fake)
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.set_default_timeout(15000)
            _log_in(page, base, "1001", "/agent")
            pop = page.locator("#screen-pop")
            assert not pop.is_visible()
            page.get_by_label("Reason").select_option("lunch")
            page.get_by_role("button", name="Break").click()
            page.wait_for_url(base + "/agent")
            assert fake.agents["1001"]["status"] == "ON_BREAK"
            page.get_by_role("button", name="Available").click()
            page.wait_for_url(base + "/agent")
            status = page.locator("#agent-status")
            _wait(page, lambda: "connected" in status.inner_text(), "no live connection")
            call = fake.caller_waits("sales", "+48601234567")
            _until(page, pop.is_visible, lambda: fake.offer(call, "1001"),
                   "the screen pop never showed")
            assert page.locator("#pop-number").inner_text() == "+48601234567"
            assert page.locator("#pop-state").inner_text() == "Ringing"
            assert page.locator("#agent-says").inner_text() == "ringing"
            page.screenshot(path=str(ARTIFACTS / "web-agent-screen-pop.png"), full_page=True)
            fake.answer(call, "1001")
            state = page.locator("#pop-state")
            _wait(page, lambda: state.inner_text() == "On a call", "the pop never said On a call")
            fake.hang_up_agent("1001")
            pop.wait_for(state="hidden")
            # A core that reports only the queue log: the call's end there hides the pop too.
            second = fake.caller_waits("sales", "+48607654321")
            fake.emit("queue", {"event": "OFFERED", "queue": "sales", "call_id": second,
                                "agent": "1001", "number": "+48607654321"})
            pop.wait_for(state="visible")
            assert page.locator("#pop-number").inner_text() == "+48607654321"
            fake.emit("queue", {"event": "CALL_ENDED", "queue": "sales", "call_id": second,
                                "agent": "1001"})
            pop.wait_for(state="hidden")
        finally:
            browser.close()
