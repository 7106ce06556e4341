"""Headless Chromium on the phones and recordings pages: approve a waiting phone, play a recording."""

from __future__ import annotations

from tests.web import fake_phones
from tests.web.conftest import ADMIN_PASSWORD, add_user
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM, _log_in, served, sync_api  # noqa: F401


def test_approve_a_waiting_phone_and_play_a_recording_in_chromium(served):  # noqa: F811
    base, fake = served
    ARTIFACTS.mkdir(exist_ok=True)
    add_user(fake, "boss", "admin", ADMIN_PASSWORD)
    fake.extensions["1002"] = {"number": "1002", "name": "Jan Kowalski", "secret": "s3cretSecret12",
                               "class_of_service": "national", "voicemail": True}
    fake_phones.add_pending(fake, "00:15:65:AB:CD:EF")
    fake_phones.add_recording(fake, "call-42")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(15000)
            _log_in(page, base, "/phones")
            assert page.get_by_role("heading", name="Phones waiting for an extension").is_visible()
            page.get_by_label("Extension for 00:15:65:AB:CD:EF").select_option("1002")
            page.get_by_role("button", name="Approve").click()
            page.wait_for_selector("#phone-password")
            password = page.locator("#phone-password").inner_text()
            assert password == fake.phone_bindings["001565abcdef"]["password"]
            assert page.locator("#phone-full-url").inner_text().startswith("http://001565abcdef:")
            page.screenshot(path=str(ARTIFACTS / "web-phone-approved.png"), full_page=True)
            page.get_by_role("link", name="Back to phones").click()
            assert page.get_by_text("No phone is waiting.").is_visible()
            assert "1002" in page.locator("table", has_text="Bound phones").inner_text()

            page.get_by_role("link", name="Reports", exact=True).click()
            page.get_by_role("link", name="Recordings").click()
            page.wait_for_url(base + "/recordings")
            player = page.get_by_label("Listen to the call from +48601234567 to 100")
            assert player.is_visible()
            # Loading the audio asks the web process, which fetches it from the core.
            duration = player.evaluate("""a => new Promise((ok, fail) => {
                a.addEventListener('loadedmetadata', () => ok(a.duration));
                a.addEventListener('error', () => fail(String(a.error && a.error.code)));
                a.preload = 'metadata'; a.load(); })""")
            assert duration > 0
            page.screenshot(path=str(ARTIFACTS / "web-recordings.png"), full_page=True)
        finally:
            browser.close()
    listened = [a for a in fake.audit if a["action"] == "recording_listened"]
    assert {(a["actor"], a["detail"]) for a in listened} == {("boss", "call-42")}
    assert any(a["action"] == "phone_bound" for a in fake.audit)
