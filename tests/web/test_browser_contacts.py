"""Headless Chromium: the agent's screen pop shows the caller's contact card and last calls,
and after the call the agent saves notes and a disposition on the call record."""

from __future__ import annotations

from tests.web import fake_contacts
from tests.web.conftest import ADMIN_PASSWORD, add_user
from tests.web.test_browser import ARTIFACTS, served, sync_api  # noqa: F401
from tests.web.test_browser_center import _browser, _center, _log_in, _until, _wait


def test_the_screen_pop_shows_the_contact_and_after_call_notes_are_saved(served):
    base, fake = served
    ARTIFACTS.mkdir(exist_ok=True)
    add_user(fake, "1001", "agent", ADMIN_PASSWORD)
    _center(fake)
    fake_contacts.add_contact(fake, "Ala Kot", ["+48601234567"], company="Kwiaciarnia Kot",
                              notes="Always roses")
    fake.add_call_record(caller="+48601234567", callee="100", agent="1002",
                         disposition_code="complaint", notes="Wilted tulips")
    with sync_api.sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1024, "height": 900})
            page.set_default_timeout(15000)
            _log_in(page, base, "1001", "/agent")
            assert not page.locator("#after-call").is_visible()
            status = page.locator("#agent-status")
            _wait(page, lambda: "connected" in status.inner_text(), "no live connection")
            call = fake.caller_waits("sales", "+48601234567")
            pop = page.locator("#screen-pop")
            _until(page, pop.is_visible, lambda: fake.offer(call, "1001"),
                   "the screen pop never showed")
            card = page.locator("#pop-contact")
            card.wait_for(state="visible")
            assert page.locator("#pop-contact-name").inner_text() == "Ala Kot"
            assert page.locator("#pop-contact-company").inner_text() == "Kwiaciarnia Kot"
            assert page.locator("#pop-contact-notes").inner_text() == "Always roses"
            assert not page.locator("#pop-no-contact").is_visible()
            history = page.locator("#pop-history tbody")
            _wait(page, lambda: "Wilted tulips" in history.inner_text(), "no call history")
            page.screenshot(path=str(ARTIFACTS / "web-agent-contact-card.png"), full_page=True)
            fake.call_records.append({"id": "r-live", "call_id": call, "caller": "+48601234567",
                                      "callee": "100", "start": "2026-11-22T10:00:00+01:00"})
            fake.answer(call, "1001")
            fake.hang_up_agent("1001")
            after = page.locator("#after-call")
            after.wait_for(state="visible")
            assert not pop.is_visible()
            assert page.locator("#after-call-id").inner_text() == call
            page.get_by_label("Notes", exact=True).fill("Wants 20 red roses on Friday")
            page.get_by_label("Disposition").fill("sale")
            page.get_by_role("button", name="Save notes").click()
            page.wait_for_url(base + "/agent")
            assert page.get_by_text(f"The notes on call {call} were saved.").is_visible()
            assert fake.cdr_changes == [(call, {"notes": "Wants 20 red roses on Friday",
                                                "disposition_code": "sale", "agent": "1001"})]
        finally:
            browser.close()
