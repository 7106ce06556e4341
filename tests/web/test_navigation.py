"""The menu, grouped by what people do: a few groups at the top, every page within two clicks."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.web import page_walk as pw

# The flat menu each role had before the groups: none of these may get lost.
OLD_MENU = {
    "admin": ["/", "/now", "/wallboard", "/queues", "/calls", "/reports", "/recordings",
              "/contacts", "/voicemail", "/ivr", "/prompts", "/trunks", "/phones", "/contract",
              "/wizard", "/extensions", "/registrations", "/bans", "/settings", "/users",
              "/system", "/audit"],
    "supervisor": ["/", "/now", "/wallboard", "/queues", "/calls", "/reports", "/recordings",
                   "/contacts"],
    "agent": ["/", "/voicemail", "/contacts"],
}


class _Nav(HTMLParser):
    """The links of the main menu and of the group's second row."""

    def __init__(self) -> None:
        super().__init__()
        self.top: list[str] = []
        self.sub: list[str] = []
        self.current: list[str] = []
        self._in: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "nav":
            kind = "sub" if "sub" in (a.get("class") or "").split() else (
                "top" if a.get("aria-label") == "Main" else None)
            self._in.append(kind)
        elif tag == "a" and self._in and self._in[-1]:
            getattr(self, self._in[-1]).append(a["href"])
            if a.get("aria-current") == "page":
                self.current.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "nav" and self._in:
            self._in.pop()


def nav_of(html: str) -> _Nav:
    parser = _Nav()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("role", ["admin", "supervisor", "agent"])
def test_every_page_of_the_old_menu_is_within_two_clicks(app, fake_api, role):
    pw.furnish(fake_api)
    client = pw.log_in_as(app, fake_api, "1001" if role == "agent" else "boss", role, "127.0.0.31")
    home = nav_of(client.get("/").text)
    assert 1 <= len(home.top) <= 7, home.top
    reachable = set(home.top)
    for href in home.top:
        assert "#" not in href  # a group opens at a page of its own, so it shows its pages
        reply = client.get(href)
        assert reply.status in (200, 303), (href, reply.status)
        if reply.status == 303:
            reply = client.get(reply.location)
        page = nav_of(reply.text)
        assert page.top == home.top  # the same groups on every page
        reachable.update(page.sub)
    reachable = {h.split("#")[0] for h in reachable}
    missing = [p for p in OLD_MENU[role] if p not in reachable]
    assert not missing, f"{role} cannot reach {missing} in two clicks"
    for href in reachable:  # and nothing in the menu is a page the role may not open
        assert client.get(href).status in (200, 303), href


def test_the_group_of_the_page_is_marked_and_its_pages_are_listed(admin, fake_api):
    pw.furnish(fake_api)
    nav = nav_of(admin.get("/extensions/1001/edit").text)
    assert nav.sub[:1] == ["/extensions"] and "/users" in nav.sub
    assert set(nav.current) == {"/extensions"}  # the Team group starts at Extensions
    assert nav.top.index("/extensions") == 1
    nav = nav_of(admin.get("/queues").text)  # Queues is a call flow; its agents are in Team too
    assert "/ivr" in nav.sub and "/prompts" in nav.sub
    nav = nav_of(admin.get("/").text)
    assert nav.sub == ["/", "/wallboard", "/now"]


def test_the_business_name_replaces_callbox_in_the_header(admin, fake_api):
    fake_api.settings["box.name"] = "Kwiaciarnia Róża"
    page = admin.submit("/settings", "/settings", {"shown": "box.name",
                                                  "setting.box.name": "Kwiaciarnia Róża"})
    page = admin.get("/extensions").text
    assert '<a class="brand" href="/">Kwiaciarnia Róża</a>' in page
    assert "<title>Extensions · Kwiaciarnia Róża</title>" in page


def test_the_favicon_is_served_without_a_login(browser):
    reply = browser.get("/favicon.ico")
    assert reply.status == 200 and reply.header("Content-Type") == "image/x-icon"
    assert not reply.cookies()
    assert browser.get("/static/favicon.svg").status == 200
