"""The admin page served for a browser test against a control API, and headless Chromium logged in to it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.web.conftest import ADMIN_PASSWORD
from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM, sync_api
from web.api_client import ApiClient
from web.app import WebSettings, create_app
from web.server import make_server


@contextmanager
def serving(api: ApiClient) -> Iterator[str]:
    """The web page on a free loopback port, its base URL while the block runs.

    No polling on the live pages: what changes there must come through the event stream. A short
    idle time lets event relays notice a closed browser soon, so the server stops quickly.
    """
    app = create_app(WebSettings(secure_cookie=False, live_poll_s=0, event_idle_s=1), api)
    server = make_server(app, "127.0.0.1", 0)
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.bind_addr[1]}"
    finally:
        server.stop()
        thread.join(10)


@contextmanager
def chromium(args: list[str] = ARGS) -> Iterator:
    """Headless Chromium for the block, closed after it; screenshots go to ARTIFACTS."""
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def log_in_page(page, base: str, username: str) -> None:
    """`username` logs in on the page with ADMIN_PASSWORD and lands on the home page; steps wait up to 15 s."""
    page.set_default_timeout(15000)
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base + "/")


def logged_in_window(browser, base: str, username: str):
    """A new window (a context of its own, 1024×900) of `browser`, logged in as `username`."""
    page = browser.new_context(viewport={"width": 1024, "height": 900}).new_page()
    log_in_page(page, base, username)
    return page
