"""Trunks, lines, routes, prompts and the new settings groups through the WSGI app."""

from __future__ import annotations

import re

from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.fake_more import wav
from tests.web.wsgi_client import WsgiClient


def _as(app, fake_api, username: str, role: str) -> WsgiClient:
    client = WsgiClient(app, remote_addr=f"127.0.0.{60 + len(fake_api.users)}")
    add_user(fake_api, username, role, ADMIN_PASSWORD)
    assert log_in(client, username, ADMIN_PASSWORD).status == 303
    return client


def test_trunks_lines_and_prompts_are_for_admins_only(app, fake_api):
    supervisor = _as(app, fake_api, "lead", "supervisor")
    for path in ("/trunks", "/prompts"):
        assert supervisor.get(path).status == 403
    token = supervisor.get("/").csrf()
    for path in ("/trunks", "/lines", "/routes", "/prompts/speak"):
        assert supervisor.post(path, {"csrf_token": token, "name": "x"}).status == 403
    assert fake_api.trunks == {} and fake_api.prompt_uploads == []


def test_every_new_form_needs_the_csrf_token(admin, fake_api):
    for path, form in (("/trunks", {"name": "op", "host": "sip.example.com"}),
                       ("/lines", {"name": "gsm2", "kind": "gsm", "device": "sim:gsm"}),
                       ("/routes", {"out-count": "0", "in-count": "0"}),
                       ("/prompts/speak", {"name": "hi", "language": "en", "text": "Hi"})):
        assert admin.post(path, form).status == 403, path
    assert fake_api.trunks == {} and fake_api.prompt_uploads == []
    assert not any(ln["name"] == "gsm2" for ln in fake_api.lines)


def test_a_trunk_is_added_and_deleted(admin, fake_api):
    reply = admin.submit("/trunks", "/trunks", {
        "name": "operator", "kind": "register", "host": "sip.example.com", "port": "5060",
        "transport": "udp", "username": "48221234567", "secret": "Provider-Secret-1",
        "dids": "+48221234567, +48221234568", "caller_id_number": ""})
    assert reply.status == 303, reply.text
    trunk = fake_api.trunks["operator"]
    assert trunk.dids == ("+48221234567", "+48221234568") and trunk.register
    assert "Provider-Secret-1" not in str(fake_api.audit)
    page = admin.get("/trunks").text
    assert "sip.example.com:5060" in page and "Provider-Secret-1" not in page
    assert admin.submit("/trunks", "/trunks/operator/delete", {}).status == 303
    assert fake_api.trunks == {}


def test_trunk_errors_are_shown_next_to_their_fields_and_the_input_is_kept(admin, fake_api):
    reply = admin.submit("/trunks", "/trunks", {
        "name": "operator", "kind": "register", "host": "not a host", "port": "5060",
        "transport": "udp", "username": "", "secret": "kept-secret-1", "dids": "", "caller_id_number": ""})
    assert reply.status == 400
    assert re.search(r'id="tr-host-error" role="alert">must be a host name', reply.text)
    assert re.search(r'id="tr-username-error" role="alert">is required', reply.text)
    assert 'aria-invalid="true"' in reply.text and 'value="not a host"' in reply.text
    assert "kept-secret-1" not in reply.text  # a secret is never sent back to the browser
    assert fake_api.trunks == {}


def test_lines_show_their_status_and_a_bad_device_is_named(admin, fake_api):
    fake_api.lines.append({"name": "gsm1", "kind": "gsm", "number": "+48600100200", "simulated": False,
                           "sip_port": 5070, "restarts": 0, "state": "registered", "signal": 21,
                           "operator": "Orange PL", "sim": "ready", "last_error": "no carrier"})
    page = admin.get("/trunks").text
    assert "Orange PL" in page and "no carrier" in page and ">21<" in page
    reply = admin.submit("/trunks", "/lines", {"name": "gsm2", "kind": "gsm", "device": "COM3"})
    assert reply.status == 400
    assert re.search(r'id="ln-device-error" role="alert">the modem', reply.text)
    assert len(fake_api.lines) == 1
    assert admin.submit("/trunks", "/lines", {"name": "gsm2", "kind": "gsm", "device": "sim:gsm",
                                              "pin": "1234"}).status == 303
    assert fake_api.lines[-1]["name"] == "gsm2"
    assert "1234" not in str(fake_api.audit)


def test_routes_are_saved_whole_and_a_refusal_keeps_the_rows(admin, fake_api):
    admin.submit("/trunks", "/trunks", {"name": "op", "kind": "peer", "host": "192.168.1.20", "port": "",
                                        "transport": "udp", "username": "", "secret": "", "dids": "",
                                        "caller_id_number": ""})
    rows = {"out-count": "2", "out-name-0": "national", "out-patterns-0": "0XXXXXXXXX 00.",
            "out-trunks-0": "nowhere", "out-strip-0": "1", "out-prefix-0": "",
            "out-name-1": "", "in-count": "0"}
    fake_api.routes["inbound"] = [{"did": "+48221234567", "destination": "extension:1001", "priority": 5}]
    reply = admin.submit("/trunks", "/routes", rows)
    assert reply.status == 400 and "no trunk is named" in reply.text
    assert 'value="0XXXXXXXXX 00."' in reply.text
    assert fake_api.routes["outbound"] == []
    rows["out-trunks-0"] = "op"
    assert admin.submit("/trunks", "/routes", rows).status == 303
    assert fake_api.routes == {
        "outbound": [{"name": "national", "patterns": ["0XXXXXXXXX", "00."], "trunks": ["op"], "strip": 1}],
        "inbound": [{"did": "+48221234567", "destination": "extension:1001", "priority": 5}]}
    rows |= {"out-count": "1", "out-remove-0": "on"}
    assert admin.submit("/trunks", "/routes", rows).status == 303
    assert fake_api.routes["outbound"] == []


def test_prompts_are_listed_without_a_player_and_made_from_text(admin, fake_api):
    page = admin.get("/prompts").text
    assert "welcome" in page and "<audio" not in page
    reply = admin.submit("/prompts", "/prompts/speak", {"name": "closed", "language": "pl",
                                                        "text": "Zapraszamy jutro."})
    assert reply.status == 303
    assert fake_api.prompt_uploads == [("pl", "closed", "tts", len(b'{"text": "Zapraszamy jutro."}'))]


def test_an_upload_sends_the_file_bytes_and_a_broken_one_changes_nothing(admin, fake_api):
    token = admin.get("/prompts").csrf()
    before = [dict(p) for p in fake_api.prompts]
    broken = admin.post_multipart("/prompts/upload", {"csrf_token": token, "name": "welcome",
                                                      "language": "en"},
                                  {"audio": ("welcome.wav", b"this is not audio")})
    assert broken.status == 400
    assert re.search(r'role="alert">the upload is not a sound file', broken.text)
    assert fake_api.prompts == before and fake_api.prompt_uploads == []
    sound = wav(1.0)
    good = admin.post_multipart("/prompts/upload", {"csrf_token": token, "name": "welcome",
                                                    "language": "en"},
                                {"audio": ("welcome.wav", sound)})
    assert good.status == 303, good.text
    assert fake_api.prompt_uploads == [("en", "welcome", "upload", len(sound))]
    assert admin.post_multipart("/prompts/upload", {"name": "x", "language": "en"},
                                {"audio": ("x.wav", sound)}).status == 403


def test_a_prompt_name_is_checked_before_the_core_is_asked(admin, fake_api):
    reply = admin.submit("/prompts", "/prompts/speak", {"name": "Bad Name", "language": "en", "text": ""})
    assert reply.status == 400
    assert "Use 1 to 64 lowercase letters" in reply.text and "Write what the prompt says." in reply.text
    assert fake_api.prompt_uploads == []


def test_settings_groups_have_headings_and_secrets_are_password_inputs(admin, fake_api):
    fake_api.settings |= {"smtp.password": "mail-secret-9", "prompts.builtin_languages": ["en", "pl"]}
    page = admin.get("/settings").text
    for title in ("Email (SMTP server)", "Prompts", "Voicemail", "Set-up"):
        assert f"<legend>{title}</legend>" in page
    assert re.search(r'name="set:smtp.password" type="password" value=""', page)
    assert "mail-secret-9" not in page
    assert 'value="en, pl"' in page
    assert 'name="set:setup.wizard"' not in page  # the wizard's own record is shown, not edited
    shown = {"shown": ["smtp.password", "prompts.builtin_languages"], "set:smtp.password": "",
             "set:prompts.builtin_languages": "en, pl, zh"}
    admin.submit("/settings", "/settings", shown)
    assert fake_api.settings["prompts.builtin_languages"] == ["en", "pl", "zh"]
    assert fake_api.settings["smtp.password"] == "mail-secret-9"  # empty keeps it
