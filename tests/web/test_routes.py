"""The admin page through its WSGI app, against the fake control API over HTTP."""

from __future__ import annotations

import threading
import time

from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.wsgi_client import WsgiClient

PASSWORD = "a long enough pass"


def test_first_run_sends_every_page_to_setup_and_setup_creates_the_admin(browser, fake_api):
    for path in ("/", "/extensions", "/settings", "/users"):
        reply = browser.get(path)
        assert (reply.status, reply.location) == (303, "/setup")
    page = browser.get("/setup")
    reply = browser.post("/setup", {"username": "Boss", "password": PASSWORD, "code": "abcd efgh jkmn",
                                    "password2": PASSWORD, "csrf_token": page.csrf()})
    assert (reply.status, reply.location) == (303, "/login")
    assert fake_api.setup_code is None  # used up
    assert fake_api.users["boss"]["role"] == "admin"
    assert fake_api.users["boss"]["password_hash"].startswith("scrypt$16384$8$1$")
    assert fake_api.audit[0]["action"] == "setup"
    assert log_in(browser, "boss", PASSWORD).status == 303


def test_setup_is_closed_once_an_admin_exists(browser, fake_api):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    reply = browser.get("/setup")
    assert (reply.status, reply.location) == (303, "/login")
    token = browser.get("/login").csrf()
    reply = browser.post("/setup", {"username": "intruder", "password": PASSWORD,
                                    "password2": PASSWORD, "csrf_token": token})
    assert reply.status == 403
    assert set(fake_api.users) == {"boss"}


def test_setup_refuses_short_or_mismatched_passwords(browser, fake_api):
    for password, repeated, why in (("short", "short", "at least 10"),
                                    (PASSWORD, PASSWORD + "x", "differ")):
        page = browser.get("/setup")
        reply = browser.post("/setup", {"username": "boss", "password": password, "code": fake_api.setup_code,
                                        "password2": repeated, "csrf_token": page.csrf()})
        assert reply.status == 400 and why in reply.text
    assert fake_api.users == {}


def test_no_default_login_works_after_setup(browser, fake_api):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    for username, password in (("admin", "admin"), ("admin", "password"), ("boss", ""),
                               ("root", "root")):
        reply = log_in(WsgiClient(browser.app, remote_addr="127.0.0.2"), username, password)
        assert reply.status == 400 and "Wrong username or password" in reply.text
    assert browser.get("/").status == 303


def test_after_five_failures_each_try_waits_longer_even_with_the_right_password(browser, fake_api, clock):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    for _ in range(5):
        assert log_in(browser, "boss", "wrong password!").status == 400
    reply = log_in(browser, "boss", ADMIN_PASSWORD)
    assert reply.status == 429 and reply.header("Retry-After") == "1"
    waits = []
    for _ in range(4):
        clock.advance(int(log_in(browser, "boss", "wrong").header("Retry-After") or 0))
        reply = log_in(browser, "boss", "wrong password!")
        assert reply.status == 400
        waits.append(int(log_in(browser, "boss", ADMIN_PASSWORD).header("Retry-After")))
    assert waits == [2, 4, 8, 16]  # growing, never a lockout
    clock.advance(16)
    assert log_in(browser, "boss", ADMIN_PASSWORD).status == 303


def test_throttling_by_address_covers_many_usernames(browser, fake_api):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    for n in range(20):
        assert log_in(browser, f"guess{n}", "whatever123").status == 400
    assert log_in(browser, "boss", ADMIN_PASSWORD).status == 429
    other = WsgiClient(browser.app, remote_addr="127.0.0.3")
    assert log_in(other, "boss", ADMIN_PASSWORD).status == 303


def test_session_ends_after_idle_time_and_after_twelve_hours(admin, clock):
    assert admin.get("/").status == 200
    clock.advance(29 * 60)
    assert admin.get("/").status == 200
    clock.advance(31 * 60)
    reply = admin.get("/")
    assert (reply.status, reply.location) == (303, "/login?next=/")

    assert log_in(admin, "boss", ADMIN_PASSWORD).status == 303
    for _ in range(25):  # active every 29 minutes, for more than 12 hours
        clock.advance(29 * 60)
        if admin.get("/").status != 200:
            break
    else:
        raise AssertionError("the session outlived its absolute lifetime")


def test_session_cookie_is_httponly_strict_and_secure(fake_api, browser):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    reply = log_in(browser, "boss", ADMIN_PASSWORD)
    cookie = next(c for c in reply.cookies() if c.startswith("callbox_session="))
    lowered = cookie.lower()
    assert "httponly" in lowered and "samesite=strict" in lowered and "secure" in lowered
    assert len(cookie.split(";")[0].split("=", 1)[1]) >= 43  # 256 bits in base64


def test_login_gives_a_new_session_id(fake_api, browser):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    browser.get("/login")
    before = browser.cookies["callbox_session"]
    log_in(browser, "boss", ADMIN_PASSWORD)
    assert browser.cookies["callbox_session"] != before


def test_logout_ends_the_session(admin):
    token = admin.get("/").csrf()
    stolen = dict(admin.cookies)
    assert admin.post("/logout", {"csrf_token": token}).status == 303
    replay = WsgiClient(admin.app)
    replay.cookies = stolen
    assert replay.get("/").status == 303


def test_post_without_or_with_wrong_csrf_token_changes_nothing(admin, fake_api):
    form = {"number": "1001", "name": "Anna", "class_of_service": "national"}
    assert admin.post("/extensions", form).status == 403
    assert admin.post("/extensions", {**form, "csrf_token": "forged"}).status == 403
    assert admin.post("/extensions", form, headers={"X-CSRF-Token": "forged"}).status == 403
    assert fake_api.extensions == {}
    # The token of another session does not work either.
    other = WsgiClient(admin.app)
    foreign = other.get("/login").csrf()
    assert admin.post("/extensions", {**form, "csrf_token": foreign}).status == 403
    assert fake_api.extensions == {}
    # The header form of the token works.
    token = admin.get("/extensions").csrf()
    assert admin.post("/extensions", form, headers={"X-CSRF-Token": token}).status == 200
    assert set(fake_api.extensions) == {"1001"}


def test_agents_and_supervisors_cannot_use_admin_pages(fake_api, app):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    add_user(fake_api, "ann", "agent", PASSWORD)
    add_user(fake_api, "sam", "supervisor", PASSWORD)
    agent, supervisor = WsgiClient(app), WsgiClient(app)
    assert log_in(agent, "ann", PASSWORD).status == 303
    assert log_in(supervisor, "sam", PASSWORD).status == 303
    for path in ("/settings", "/extensions", "/users", "/audit", "/bans", "/registrations"):
        assert agent.get(path).status == 403, path
        assert supervisor.get(path).status == 403, path
    token = agent.get("/").csrf()
    reply = agent.post("/extensions", {"number": "1001", "name": "X", "csrf_token": token})
    assert reply.status == 403 and fake_api.extensions == {}
    assert "My panel" in agent.get("/").text
    assert "Dashboard" in supervisor.get("/").text
    assert agent.get("/events").status == 403


def test_adding_an_extension_shows_the_secret_once_and_the_sheet(admin, fake_api):
    reply = admin.submit("/extensions", "/extensions",
                         {"number": "1001", "name": "Anna", "class_of_service": "local",
                          "voicemail": "on"})
    assert reply.status == 200
    secret = fake_api.extensions["1001"]["secret"]
    assert len(secret) >= 16 and secret in reply.text
    assert secret not in admin.get("/extensions").text
    sheet = admin.get("/extensions/1001/sheet")
    assert sheet.status == 200
    for shown in (secret, "1001", "5060", "192.168.1.20"):  # the box's LAN address, not the browser's name
        assert shown in sheet.text
    assert sheet.header("Cache-Control") == "no-store"
    again = admin.get("/extensions/1001/sheet").text  # shown once means once
    assert secret not in again and "shown once, when it was made." in again and "1001" in again
    assert fake_api.audit[0]["action"] == "extension_added"
    assert secret not in fake_api.audit[0]["detail"]


def test_the_api_reason_for_a_bad_extension_is_shown(admin, fake_api):
    reply = admin.submit("/extensions", "/extensions", {"number": "0abc", "name": "Bad"})
    assert reply.status == 400 and "must be 2 to 6 digits" in reply.text
    admin.submit("/extensions", "/extensions", {"number": "1001", "name": "Anna"})
    reply = admin.submit("/extensions", "/extensions", {"number": "1001", "name": "Again"})
    assert reply.status == 409 and "exists already" in reply.text
    assert fake_api.extensions["1001"]["name"] == "Anna"


def test_edit_and_delete_an_extension(admin, fake_api):
    admin.submit("/extensions", "/extensions", {"number": "1001", "name": "Anna"})
    old_secret = fake_api.extensions["1001"]["secret"]
    reply = admin.submit("/extensions/1001/edit", "/extensions/1001/edit",
                         {"name": "Anna B", "class_of_service": "international"})
    assert reply.status == 303
    assert fake_api.extensions["1001"]["name"] == "Anna B"
    assert fake_api.extensions["1001"]["class_of_service"] == "international"
    assert fake_api.extensions["1001"]["voicemail"] is False
    reply = admin.submit("/extensions/1001/edit", "/extensions/1001/edit",
                         {"name": "Anna B", "class_of_service": "international", "new_secret": "on"})
    new_secret = fake_api.extensions["1001"]["secret"]
    assert new_secret != old_secret and new_secret in reply.text
    reply = admin.submit("/extensions", "/extensions/1001/delete", {})
    assert reply.status == 303 and fake_api.extensions == {}
    actions = [a["action"] for a in fake_api.audit]
    assert actions[:3] == ["extension_deleted", "extension_changed", "extension_changed"]


def test_settings_form_is_built_from_the_declarations(admin):
    page = admin.get("/settings")
    assert 'type="number"' in page.text and 'id="f-sip-port"' in page.text
    assert 'type="checkbox" id="f-sip-tcp"' in page.text
    assert '<select id="f-recording-policy"' in page.text
    assert "SIP port of the edge (UDP and TCP)." in page.text
    assert 'for="f-box-name"' in page.text


def _settings_form(page, **values):
    form = {"csrf_token": page.csrf(),
            "shown": ["sip.port", "security.ban_failures", "sip.tcp", "recording.policy",
                      "box.name"],
            "set:sip.port": "5060", "set:security.ban_failures": "5", "set:sip.tcp": "on",
            "set:recording.policy": "never", "set:box.name": "Callbox"}
    form.update({f"set:{k.replace('_dot_', '.')}": v for k, v in values.items()})
    return form


def test_settings_error_from_the_api_is_shown_next_to_its_field(admin, fake_api):
    page = admin.get("/settings")
    form = _settings_form(page, sip_dot_port="70000", box_dot_name="Front desk")
    reply = admin.post("/settings", form)
    assert reply.status == 400
    field = reply.text.split('id="f-sip-port"', 1)[1].split("</div>", 1)[0]
    assert 'id="f-sip-port-error"' in field and "must be between 0 and 65535" in field
    assert 'value="70000"' in reply.text  # the input is kept for correction
    assert fake_api.settings["sip.port"] == 5060 and fake_api.settings["box.name"] == "Callbox"
    assert not any(a["action"] == "settings_changed" for a in fake_api.audit)


def test_settings_change_is_saved_and_audited(admin, fake_api):
    page = admin.get("/settings")
    form = _settings_form(page, sip_dot_port="5070", recording_dot_policy="always")
    del form["set:sip.tcp"]  # an unticked checkbox is not sent
    reply = admin.post("/settings", form)
    assert reply.status == 303
    assert fake_api.settings["sip.port"] == 5070
    assert fake_api.settings["sip.tcp"] is False
    assert fake_api.settings["recording.policy"] == "always"
    assert fake_api.audit[0]["action"] == "settings_changed"
    assert "sip.port=5070" in fake_api.audit[0]["detail"]
    assert "restart is needed for: sip.port" in admin.get("/settings").text


def test_users_are_managed_by_the_admin_and_audited(admin, fake_api, app):
    reply = admin.submit("/users", "/users", {"username": "ann", "role": "agent",
                                              "password": PASSWORD, "password2": PASSWORD})
    assert reply.status == 303 and fake_api.users["ann"]["role"] == "agent"
    ann = WsgiClient(app, remote_addr="127.0.0.5")
    assert log_in(ann, "ann", PASSWORD).status == 303
    admin.submit("/users", "/users/ann/edit", {"role": "supervisor"})
    assert fake_api.users["ann"]["role"] == "supervisor"
    assert ann.get("/").status == 303  # a changed user is logged out everywhere
    reply = admin.submit("/users", "/users/boss/delete", {})
    assert reply.status == 403 and "boss" in fake_api.users
    admin.submit("/users", "/users/ann/delete", {})
    assert "ann" not in fake_api.users
    user_actions = [a["action"] for a in fake_api.audit if a["action"].startswith("user_")]
    assert user_actions == ["user_deleted", "user_changed", "user_added"]
    assert "ann" in admin.get("/audit").text


def test_unban_removes_the_ban_and_is_audited(admin, fake_api):
    fake_api.ban("127.0.0.9")
    page = admin.get("/bans")
    assert "127.0.0.9" in page.text and "5 failed authentications" in page.text
    reply = admin.post("/bans/127.0.0.9/unban", {"csrf_token": page.csrf()})
    assert reply.status == 303 and fake_api.bans == []
    assert fake_api.audit[0] | {"time": None, "id": None} == {"time": None, "id": None, "actor": "boss",
                                                               "action": "unbanned", "detail": "127.0.0.9"}


def test_dashboard_and_registrations_show_the_core_state(admin, fake_api):
    fake_api.register("1001")
    fake_api.ban("127.0.0.9")
    page = admin.get("/")
    assert 'id="registration-count">1<' in page.text
    assert "0.1.0" in admin.get("/system").text  # the core's version is a System matter
    assert "sip:1001@127.0.0.1:5062" in admin.get("/registrations").text


def test_own_password_change(fake_api, app):
    add_user(fake_api, "ann", "agent", PASSWORD)
    ann = WsgiClient(app)
    log_in(ann, "ann", PASSWORD)
    reply = ann.submit("/", "/account/password", {"current": "not it at all", "password": "x" * 12,
                                                  "password2": "x" * 12})
    assert reply.status == 400
    new = "another long pass"
    reply = ann.submit("/", "/account/password", {"current": PASSWORD, "password": new,
                                                  "password2": new})
    assert reply.status == 303
    assert log_in(WsgiClient(app), "ann", new).status == 303


def test_healthz_needs_no_login(browser):
    reply = browser.get("/healthz")
    assert (reply.status, reply.text) == (200, "ok")


def test_pages_send_security_headers_and_escape_input(admin, fake_api):
    admin.submit("/extensions", "/extensions", {"number": "1002", "name": "<script>x</script>"})
    page = admin.get("/extensions")
    assert "<script>x</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "frame-ancestors 'none'" in page.header("Content-Security-Policy")
    assert page.header("X-Frame-Options") == "DENY"


def test_login_next_only_goes_to_local_paths(fake_api, browser):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    fake_api.settings["setup.wizard"] = {"step": "done"}  # else the first login opens the wizard
    token = browser.get("/login").csrf()
    reply = browser.post("/login", {"username": "boss", "password": ADMIN_PASSWORD,
                                    "next": "//evil.example/", "csrf_token": token})
    assert reply.location == "/"


def test_core_unreachable_gives_a_503_page(fake_api, browser):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    log_in(browser, "boss", ADMIN_PASSWORD)
    fake_api.stop()
    reply = browser.get("/extensions")
    assert reply.status == 503 and "not reachable" in reply.text


def test_live_events_are_relayed_without_secrets(admin, fake_api, clock):
    chunks: list[str] = []
    got_it = threading.Event()

    def read():
        reply = admin.get("/events")
        chunks.append(reply.text)
        got_it.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while fake_api.subscribers() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    fake_api.emit("registration", {"aor": "1001", "secret": "hush"})
    fake_api.emit("ban", {"ip": "127.0.0.9"})
    # The relay ends on its own after event_relay_max_s (5 s in these tests).
    clock.advance(6)
    assert got_it.wait(30)
    text = chunks[0]
    assert 'event: registration\ndata: {"aor": "1001"}' in text
    assert 'event: ban\ndata: {"ip": "127.0.0.9"}' in text
    assert "hush" not in text
