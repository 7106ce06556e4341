"""The control API: token, extensions, bad input is a 4xx with a reason, api.json."""

from __future__ import annotations

import os
import stat

import pytest


def test_api_json_is_private_and_points_at_the_api(core):
    path = core.data_dir / "run" / "api.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    status, body = core.api("GET", "/api/health")
    assert status == 200 and body["status"] == "ok"


@pytest.mark.parametrize("token", ["", "wrong", "Bearer"])
def test_every_request_needs_the_token(core, token):
    status, body = core.api("GET", "/api/extensions", token=token)
    assert status == 401
    assert "token" in body["error"]


def test_extension_lifecycle(core):
    created = core.add_extension("1001")
    assert len(created["secret"]) >= 16  # generated, strong
    status, listing = core.api("GET", "/api/extensions")
    assert status == 200
    assert listing["extensions"][0]["number"] == "1001"
    assert "secret" not in listing["extensions"][0]  # never in lists
    status, one = core.api("GET", "/api/extensions/1001")
    assert one["secret"] == created["secret"]
    status, changed = core.api("PATCH", "/api/extensions/1001", {"name": "Anna", "class_of_service": "internal"})
    assert status == 200 and changed["name"] == "Anna" and changed["class_of_service"] == "internal"
    assert core.api("DELETE", "/api/extensions/1001")[0] == 204
    assert core.api("GET", "/api/extensions/1001")[0] == 404


def test_secrets_survive_a_restart(core_factory):
    core = core_factory()
    created = core.add_extension("1002", secret="Str0ng-enough-secret")
    core.stop()
    again = core_factory(data_dir=core.data_dir)
    assert again.api("GET", "/api/extensions/1002")[1]["secret"] == "Str0ng-enough-secret"


@pytest.mark.parametrize("method,path,body,raw,expect", [
    ("POST", "/api/extensions", None, b"{not json", 400),
    ("POST", "/api/extensions", None, b"[1, 2]", 400),
    ("POST", "/api/extensions", {"number": "0123"}, None, 400),
    ("POST", "/api/extensions", {"number": "12345678901"}, None, 400),
    ("POST", "/api/extensions", {"number": "1001", "secret": "short"}, None, 400),
    ("POST", "/api/extensions", {"number": "1001", "secret": "1234567890123"}, None, 400),
    ("POST", "/api/extensions", {"number": "1001", "class_of_service": "galactic"}, None, 400),
    ("POST", "/api/extensions", {"number": "1001", "voicemail": "yes"}, None, 400),
    ("POST", "/api/extensions", {"number": "1001", "colour": "red"}, None, 400),
    ("POST", "/api/extensions", None, b"\xff\xfe\x00", 400),
    ("PATCH", "/api/extensions/9999", {"name": "x"}, None, 404),
    ("DELETE", "/api/bans/127.0.0.99", None, None, 404),
    ("PATCH", "/api/settings", {"sip.port": 70000}, None, 400),
    ("PATCH", "/api/settings", {"no.such": 1}, None, 400),
    ("PATCH", "/api/settings", {"sip.min_expires": "soon"}, None, 400),
    ("GET", "/api/nothing-here", None, None, 404),
    ("PUT", "/api/extensions", None, None, 405),
    ("GET", "/api/audit?limit=lots", None, None, 400),
])
def test_bad_input_is_a_4xx_with_a_reason(core, method, path, body, raw, expect):
    status, answer = core.api(method, path, body, raw=raw)
    assert status == expect, answer
    assert isinstance(answer, dict) and answer["error"]
    assert core.alive()


def test_duplicate_extension_is_a_conflict(core):
    core.add_extension("1001")
    status, body = core.api("POST", "/api/extensions", {"number": "1001"})
    assert status == 409 and "1001" in body["error"]


def test_settings_change_names_the_setting_and_changes_nothing_on_error(core):
    status, body = core.api("PATCH", "/api/settings", {"security.ban_failures": 3, "sip.port": -1})
    assert status == 400 and body["error"].startswith("sip.port:")
    values = {s["key"]: s["value"] for s in core.api("GET", "/api/settings")[1]["settings"]}
    assert values["security.ban_failures"] == 5
    status, body = core.api("PATCH", "/api/settings", {"security.ban_failures": 3})
    assert status == 200 and body["changed"] == ["security.ban_failures"] and body["restart_needed"] == []
    values = {s["key"]: s["value"] for s in core.api("GET", "/api/settings")[1]["settings"]}
    assert values["security.ban_failures"] == 3


def test_users_and_audit_for_the_web_page(core):
    status, _ = core.api("POST", "/api/users", {"username": "owner", "role": "admin",
                                                 "password_hash": "scrypt$16384$8$1$c2FsdA$aGFzaA"})
    assert status == 201
    listing = core.api("GET", "/api/users")[1]["users"]
    assert listing == [{"username": "owner", "role": "admin", "created": listing[0]["created"], "language": "en"}]
    assert core.api("GET", "/api/users/owner")[1]["password_hash"].startswith("scrypt$")
    assert core.api("POST", "/api/users", {"username": "x", "role": "god", "password_hash": "scrypt$1"})[0] == 400
    assert core.api("POST", "/api/audit", {"actor": "owner", "action": "login"})[0] == 201
    assert core.api("GET", "/api/audit")[1]["audit"][0]["action"] == "login"
