"""Headless Chromium switches the page to Polish and to Chinese and photographs the
dashboard, the wallboard and the reports in each (tests/artifacts/web-<page>-<lang>.png)."""

from __future__ import annotations

from tests.web.conftest import ADMIN_PASSWORD, add_user
from tests.web.page_walk import furnish
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM, served, sync_api  # noqa: F401

HEADINGS = {"pl": {"dashboard": "Pulpit", "wallboard": "Callbox — tablica", "reports": "Raporty"},
            "zh": {"dashboard": "仪表板", "wallboard": "Callbox — 看板", "reports": "报表"}}
PAGES = {"dashboard": "/", "wallboard": "/wallboard", "reports": "/reports"}


def test_switching_language_in_chromium(served):  # noqa: F811 - the fixture
    base, fake = served
    furnish(fake)
    add_user(fake, "boss", "admin", ADMIN_PASSWORD)
    fake.settings["setup.wizard"] = {"done": True}
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-US")
            page.set_default_timeout(15000)
            page.goto(base + "/login")
            page.get_by_label("Username").fill("boss")
            page.get_by_label("Password").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto(base + "/")
            for lang, label, change in (("pl", "Language", "Change"), ("zh", "Język", "Zmień")):
                page.get_by_label(label).select_option(lang)
                page.get_by_role("button", name=change).click()
                page.wait_for_selector(f'html[lang^="{lang}"]')
                assert fake.users["boss"]["language"] == lang
                for name, path in PAGES.items():
                    page.goto(base + path)
                    heading = page.get_by_role("heading", level=1)
                    assert heading.inner_text() == HEADINGS[lang][name]
                    page.screenshot(path=str(ARTIFACTS / f"web-{name}-{lang}.png"), full_page=True)
                page.goto(base + "/")
            assert (ARTIFACTS / "web-reports-zh.png").stat().st_size > 10_000
        finally:
            browser.close()
