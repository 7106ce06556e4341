"""The calls, Now and system pages through the WSGI app, against the fake control API."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest

from appliance.hw.panel import PanelState, blink_code
from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.wsgi_client import WsgiClient
from web.kit import PAGE_SIZE

WATCH_PAGES = ("/calls", "/calls.csv", "/now", "/now.json")
ADMIN_ONLY = ("/system", "/system/panel.json")


def _as(app, fake_api, username: str, role: str) -> WsgiClient:
    client = WsgiClient(app, remote_addr=f"127.0.0.{10 + len(fake_api.users)}")
    add_user(fake_api, username, role, ADMIN_PASSWORD)
    assert log_in(client, username, ADMIN_PASSWORD).status == 303
    return client


def _local(day: int, hour: int, minute: int = 0) -> str:
    """A record time as the core writes it: the box's wall clock with its offset."""
    return datetime(2026, 11, day, hour, minute).astimezone().isoformat()


# -- roles and CSRF -------------------------------------------------------------------

def test_agents_get_403_on_calls_now_and_system(app, fake_api):
    agent = _as(app, fake_api, "anna", "agent")
    for path in WATCH_PAGES + ADMIN_ONLY:
        assert agent.get(path).status == 403, path
    token = agent.get("/").csrf()
    reply = agent.post("/system/panel", {"csrf_token": token, "button": "night", "action": "toggle"})
    assert reply.status == 403
    assert fake_api.panel_presses == []
    assert not fake_api.panel.night_mode


def test_supervisors_watch_calls_and_now_but_not_the_system_page(app, fake_api):
    boss = _as(app, fake_api, "sue", "supervisor")
    for path in WATCH_PAGES:
        assert boss.get(path).status == 200, path
    for path in ADMIN_ONLY:
        assert boss.get(path).status == 403, path
    nav = boss.get("/").text
    assert 'href="/now"' in nav and 'href="/calls"' in nav and 'href="/system"' not in nav


def test_not_logged_in_pages_go_to_login_and_json_gets_403(browser, fake_api):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    assert browser.get("/calls").location == "/login?next=/calls"
    assert browser.get("/now.json").status == 403


def test_panel_press_without_or_with_a_wrong_csrf_token_changes_nothing(admin, fake_api):
    for form in ({"button": "night", "action": "toggle"},
                 {"button": "night", "action": "toggle", "csrf_token": "forged"}):
        assert admin.post("/system/panel", form).status == 403
    assert fake_api.panel_presses == []
    assert not fake_api.panel.night_mode
    assert not any(a["action"] == "panel_button" for a in fake_api.audit)


# -- call records ----------------------------------------------------------------------

def test_calls_are_paged_newest_first_with_links_that_keep_the_filter(admin, fake_api):
    total = 2 * PAGE_SIZE + 7
    for n in range(total):
        start = (datetime(2026, 11, 2, 8) + timedelta(minutes=n)).astimezone().isoformat()
        fake_api.add_call_record(caller=f"9{n:03d}", start=start)
    first = admin.get("/calls?number=9")
    assert first.status == 200
    assert first.text.index(f">9{total - 1:03d}<") < first.text.index(f">9{total - 2:03d}<")
    assert f">9{total - PAGE_SIZE:03d}<" in first.text
    assert f">9{total - PAGE_SIZE - 1:03d}<" not in first.text
    assert 'href="/calls?number=9&amp;page=2"' in first.text and "Newer calls" not in first.text
    last = admin.get("/calls?number=9&page=3")
    assert last.text.count("<tr>") == 1 + 7  # the header and the seven oldest
    assert ">9000<" in last.text and "Older calls" not in last.text
    assert 'href="/calls?number=9&amp;page=2"' in last.text
    query = fake_api.queries[-1][1]
    assert (query["offset"], query["limit"], query["number"]) == (["100"], [str(PAGE_SIZE + 1)], ["9"])


def test_the_date_range_covers_whole_days_in_the_box_zone(admin, fake_api):
    fake_api.add_call_record(caller="before", start=_local(2, 23, 59))
    fake_api.add_call_record(caller="first", start=_local(3, 0, 0))
    fake_api.add_call_record(caller="last", start=_local(4, 23, 59))
    fake_api.add_call_record(caller="after", start=_local(5, 0, 0))
    page = admin.get("/calls?from=2026-11-03&to=2026-11-04")
    assert ">first<" in page.text and ">last<" in page.text
    assert ">before<" not in page.text and ">after<" not in page.text
    query = fake_api.queries[-1][1]
    assert datetime.fromisoformat(query["from"][0]) == datetime(2026, 11, 3).astimezone()
    assert datetime.fromisoformat(query["to"][0]) == datetime(2026, 11, 5).astimezone()


@pytest.mark.parametrize("query, why", [
    ("from=yesterday", "from: must be a date"),
    ("from=2026-11-05&to=2026-11-01", "to: must not be before from"),
    ("number=%3Cscript%3E", "number:"),
    ("page=0", "page:"),
])
def test_a_bad_filter_is_explained_and_asks_the_core_nothing(admin, fake_api, query, why):
    reply = admin.get("/calls?" + query)
    assert reply.status == 400 and why in reply.text
    assert "<script>" not in reply.text
    assert fake_api.queries == []
    assert admin.get("/calls.csv?" + query).status == 400
    assert fake_api.queries == []


def test_csv_is_proxied_with_the_filter_and_audited_without_the_token(admin, fake_api):
    fake_api.add_call_record(caller="1001", callee="1002", start=_local(3, 9))
    fake_api.add_call_record(caller="1003", callee="1004", start=_local(3, 10))
    fake_api.add_call_record(caller="1001", callee="1005", start=_local(6, 9))
    reply = admin.get("/calls.csv?from=2026-11-03&to=2026-11-03&number=1001")
    assert reply.status == 200
    assert reply.header("Content-Type").startswith("text/csv")
    assert reply.header("Content-Disposition") == \
        'attachment; filename="calls-2026-11-03-2026-11-03.csv"'
    assert reply.header("Cache-Control") == "no-store"
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert [(r["caller"], r["callee"]) for r in rows] == [("1001", "1002")]
    assert fake_api.token not in reply.text and fake_api.token not in str(reply.headers)
    what, query = fake_api.queries[-1]
    assert what == "cdr.csv" and query["limit"] == ["10000"] and query["number"] == ["1001"]
    assert fake_api.audit[0]["action"] == "calls_exported"
    assert "number 1001" in fake_api.audit[0]["detail"]


def test_the_calls_page_links_the_csv_of_the_same_filter(admin, fake_api):
    fake_api.add_call_record(caller="1001")
    page = admin.get("/calls?number=1001&from=2026-11-01")
    assert 'href="/calls.csv?from=2026-11-01&amp;number=1001"' in page.text


def test_a_core_without_call_records_says_not_available_yet(admin, fake_api):
    fake_api.has_cdr = False
    page = admin.get("/calls")
    assert page.status == 200 and "does not offer call records yet" in page.text
    assert admin.get("/calls.csv").status == 404


# -- the Now page ---------------------------------------------------------------------

def test_now_shows_calls_in_progress_workers_and_recent_calls(admin, fake_api):
    call = fake_api.start_call("1001", "1002", "ANSWERED")
    fake_api.start_call("0601234567", "1003", "RINGING")
    fake_api.add_call_record(caller="1009", callee="1010", disposition="NO ANSWER")
    page = admin.get("/now")
    assert page.status == 200
    assert ">0601234567<" in page.text and ">RINGING<" in page.text
    assert 'data-summary="active" aria-labelledby="t-active">2<' in page.text
    assert "NO ANSWER" in page.text and ">w1<" in page.text
    data = json.loads(admin.get("/now.json").text)
    assert [c["caller"] for c in data["calls"]] == ["1001", "0601234567"]
    assert data["summary"] == {"active": "2", "talking": "1", "waiting": "1", "workers": "1 of 1"}
    fake_api.end_call(call, "ANSWERED")
    data = json.loads(admin.get("/now.json").text)
    assert [c["caller"] for c in data["calls"]] == ["0601234567"]
    assert data["recent"][0]["caller"] == "1001" and data["recent"][0]["disposition"] == "ANSWERED"


def test_now_says_what_an_older_core_does_not_offer(admin, fake_api):
    fake_api.has_engine = False
    page = admin.get("/now")
    assert page.status == 200 and "does not offer engine status yet" in page.text
    assert json.loads(admin.get("/now.json").text)["available"] == {"engine": False, "records": True}


def test_now_json_reports_an_unreachable_core_as_json(admin, fake_api):
    fake_api.stop()
    reply = admin.get("/now.json")
    assert reply.status == 503 and "not reachable" in json.loads(reply.text)["error"]


def test_the_open_now_page_does_not_keep_a_session_alive(admin, clock):
    clock.advance(20 * 60)
    assert admin.get("/now.json").status == 200
    clock.advance(11 * 60)  # 31 minutes since the person last did anything
    assert admin.get("/now.json").status == 403
    assert admin.get("/now").status == 303


# -- the system page and the virtual panel ----------------------------------------------

def test_system_page_shows_core_box_workers_and_panel(fake_api, app):
    fake_api.workers.append({"id": "w2", "alive": False, "sip_port": 40002, "max_calls": 4,
                             "pid": None, "free": 0, "room": 0, "restarts": 3})
    fake_api.panel.show(PanelState(ready=True, lines_ok=True, callers_waiting=5,
                                   faults=["disk_full"]))
    admin = _as(app, fake_api, "boss", "admin")
    page = admin.get("/system")
    assert page.status == 200
    assert ">0.1.0<" in page.text
    assert ">w2<" in page.text and ">down<" in page.text
    assert "led led-green led-on" in page.text  # ready
    assert "led led-yellow led-fast" in page.text  # more than 3 callers waiting
    assert "led led-red led-code-2" in page.text and "disk_full (code 2)" in page.text
    assert "Memory" in page.text


def test_system_page_reads_the_data_directory_disk(fake_api, tmp_path):
    from web.api_client import ApiClient
    from web.app import WebSettings, create_app

    app = create_app(WebSettings(data_dir=str(tmp_path)), ApiClient(fake_api.url, fake_api.token))
    admin = _as(app, fake_api, "boss", "admin")
    page = admin.get("/system")
    assert f"<code>{tmp_path}</code>" in page.text


def test_panel_buttons_are_worked_through_the_core_and_audited(admin, fake_api):
    def press(button, action):
        token = admin.get("/system").csrf()
        return admin.post("/system/panel", {"csrf_token": token, "button": button, "action": action})

    reply = press("night", "toggle")
    assert (reply.status, reply.location) == (303, "/system")
    assert fake_api.panel.night_mode
    assert "Turn night mode off" in admin.get("/system").text
    press("status", "click")
    assert fake_api.panel_presses[-2:] == [("status", "press"), ("status", "release")]
    press("reset", "press")
    assert fake_api.panel.is_pressed("reset")
    assert "Let go of reset" in admin.get("/system").text
    press("reset", "release")
    assert not fake_api.panel.is_pressed("reset")
    assert [a["detail"] for a in fake_api.audit if a["action"] == "panel_button"] == \
        ["reset: release", "reset: press", "status: click", "night: toggle"]
    assert press("night", "explode").status == 400
    assert press("fuse", "press").status == 400
    assert len(fake_api.panel_presses) == 5


def test_panel_json_follows_the_leds(admin, fake_api):
    fake_api.panel.show(PanelState(ready=False, voicemail_waiting=True))
    data = json.loads(admin.get("/system/panel.json").text)
    assert data["leds"]["ready"]["css"] == "led-slow"
    assert data["leds"]["voicemail"]["says"] == "blinking slowly"
    assert data["leds"]["line"]["css"] == "led-off"
    fake_api.panel.led("fault").blink(blink_code(3))
    assert json.loads(admin.get("/system/panel.json").text)["leds"]["fault"]["css"] == "led-code-3"


def test_a_core_without_a_panel_says_not_available_yet(admin, fake_api):
    fake_api.panel = None
    page = admin.get("/system")
    assert page.status == 200
    assert "The front panel is not available (yet): the core says “no such endpoint”" in page.text
    token = page.csrf()
    reply = admin.post("/system/panel", {"csrf_token": token, "button": "night", "action": "toggle"})
    assert reply.status == 303
    assert "is not available (yet)" in admin.get("/system").text


def test_a_real_hardware_panel_shows_its_leds_but_no_buttons(admin, fake_api):
    fake_api.panel.backend.simulated = False
    page = admin.get("/system")
    assert 'data-led="ready"' in page.text and "Real hardware" in page.text
    assert 'name="button"' not in page.text
