"""Contacts, the screen pop's lookup, after-call notes, click-to-dial, backup/restore and logs."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.web import fake_contacts as fc
from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.wsgi_client import WsgiClient
from web.kit import format_number, last_call, parse_after_call, parse_dial


def _as(app, fake_api, username: str, role: str) -> WsgiClient:
    client = WsgiClient(app, remote_addr=f"127.0.0.{30 + len(fake_api.users)}")
    add_user(fake_api, username, role, ADMIN_PASSWORD)
    assert log_in(client, username, ADMIN_PASSWORD).status == 303
    return client


def _agent_on_a_call(fake_api, number: str = "+48601234567") -> str:
    fake_api.queues["sales"] = {"name": "sales"}
    fake_api.extensions["1001"] = {"number": "1001", "name": "Anna", "secret": "s" * 16,
                                   "class_of_service": "national", "voicemail": True}
    fake_api.agents["1001"] = {"extension": "1001", "name": "Anna", "status": "AVAILABLE",
                               "state": "IDLE", "break_reason": "", "queues": {"sales": 1}}
    call = fake_api.caller_waits("sales", number)
    fake_api.offer(call, "1001")
    return call


# -- pure helpers -----------------------------------------------------------------------

def test_numbers_are_shown_grouped_and_anything_else_as_given():
    assert format_number("+48601234567") == "+48 601 234 567"
    assert format_number("+442079460000") == "+44 20 7946 0000"
    assert format_number("1001") == "1001" and format_number("+12") == "+12"


def test_after_call_and_dial_forms_are_checked():
    assert parse_after_call({"notes": " wants a quote ", "disposition_code": ""}) == (
        {"notes": "wants a quote"}, "")
    assert parse_after_call({"notes": "", "disposition_code": ""})[1]
    assert parse_after_call({"disposition_code": "x" * 41})[1].startswith("disposition")
    assert parse_dial("+48 (601) 234-567") == ("+48601234567", "")
    assert parse_dial("call me")[1] and parse_dial("")[1]


def test_the_last_call_of_an_agent_comes_from_the_newest_queue_log_line():
    log = [{"event": "CALL_ENDED", "agent": "1001", "call_id": "b"},
           {"event": "ANSWERED", "agent": "1002", "call_id": "c", "number": "+1"},
           {"event": "OFFERED", "agent": "1001", "call_id": "b", "number": "+2", "queue": "q"},
           {"event": "OFFERED", "agent": "1001", "call_id": "a", "number": "+3"}]
    assert last_call("1001", log) == {"call_id": "b", "number": "+2", "queue": "q"}
    assert last_call("1003", log) is None


# -- contacts ---------------------------------------------------------------------------

def test_contacts_are_added_searched_edited_and_deleted(admin, fake_api):
    reply = admin.submit("/contacts", "/contacts", {"name": "Ala Kot", "company": "Kot SA",
                                                    "numbers": "601 234 567\n+48 22 123 45 67",
                                                    "email": "ala@kot.test", "notes": "VIP"})
    assert reply.status == 303, reply.text
    (contact,) = fake_api.contacts.values()
    assert contact["numbers"] == ["+48601234567", "+48221234567"]
    fc.add_contact(fake_api, "Jan Nowak", ["+48500100200"])
    page = admin.get("/contacts?q=kot").text
    assert "+48 601 234 567" in page and "Jan Nowak" not in page
    assert "Jan Nowak" in admin.get("/contacts?q=500100").text
    reply = admin.submit(f"/contacts/{contact['id']}/edit", f"/contacts/{contact['id']}/edit",
                         {"name": "Alicja Kot", "numbers": "+48601234567", "company": "Kot SA",
                          "email": "", "notes": ""})
    assert reply.status == 303 and contact["name"] == "Alicja Kot"
    assert contact["numbers"] == ["+48601234567"]
    reply = admin.submit("/contacts", f"/contacts/{contact['id']}/delete", {})
    assert reply.status == 303 and contact["id"] not in fake_api.contacts
    actions = [e["action"] for e in fake_api.audit]
    assert {"contact_added", "contact_changed", "contact_deleted"} <= set(actions)


def test_a_bad_number_is_named_and_the_form_is_kept(admin, fake_api):
    reply = admin.submit("/contacts", "/contacts", {"name": "Ala", "numbers": "12", "company": "Firma"})
    assert reply.status == 400 and not fake_api.contacts
    assert "&#039;12&#039; is not a phone number" in reply.text
    assert 'value="Firma"' in reply.text
    reply = admin.submit("/contacts", "/contacts", {"name": "", "numbers": "+48601234567"})
    assert reply.status == 400 and 'id="ct-name-error"' in reply.text and not fake_api.contacts


def test_agents_read_contacts_and_dial_them_but_cannot_change_them(app, fake_api):
    fc.add_contact(fake_api, "Ala Kot", ["+48601234567"])
    agent = _as(app, fake_api, "1001", "agent")
    page = agent.get("/contacts")
    assert page.status == 200 and "Ala Kot" in page.text
    assert 'action="/dial"' in page.text and 'value="+48601234567"' in page.text
    assert 'method="post" action="/contacts"' not in page.text and "/contacts.csv" not in page.text
    token = page.csrf()
    assert agent.post("/contacts", {"name": "X", "numbers": "", "csrf_token": token}).status == 403
    assert agent.get("/contacts.csv").status == 403
    assert agent.get("/contacts/c1/edit").status == 403
    assert agent.post("/contacts/c1/delete", {"csrf_token": token}).status == 403
    assert agent.post_multipart("/contacts/import", {"csrf_token": token},
                                {"file": ("c.csv", b"name\nX\n")}).status == 403
    assert len(fake_api.contacts) == 1


def test_every_new_form_needs_the_csrf_token(admin, fake_api):
    contact = fc.add_contact(fake_api, "Ala Kot", ["+48601234567"])
    call = _agent_on_a_call(fake_api)
    for action, form in (("/contacts", {"name": "X"}),
                         (f"/contacts/{contact['id']}/edit", {"name": "Y"}),
                         (f"/contacts/{contact['id']}/delete", {}),
                         (f"/agent/calls/{call}/notes", {"notes": "x"}),
                         ("/dial", {"to": "+48601234567"})):
        assert admin.post(action, form).status == 403, action
    assert admin.post_multipart("/contacts/import", {}, {"file": ("c.csv", b"name\nX\n")}).status == 403
    assert admin.post_multipart("/system/restore", {"confirm": "on"},
                                {"backup": ("b.tar.gz", fc.make_backup())}).status == 403
    assert contact["name"] == "Ala Kot" and len(fake_api.contacts) == 1
    assert fake_api.cdr_changes == [] and fake_api.dialled == [] and fake_api.restored == []


def test_csv_export_is_audited_and_import_keeps_good_rows_and_lists_bad_ones(admin, fake_api):
    fc.add_contact(fake_api, "Ala Kot", ["+48601234567", "+48221234567"], email="ala@kot.test")
    reply = admin.get("/contacts.csv")
    assert reply.status == 200 and "attachment" in reply.header("Content-Disposition")
    rows = list(csv.reader(io.StringIO(reply.text)))
    assert rows[0] == list(fc.CSV_COLUMNS)
    assert rows[1][:3] == ["Ala Kot", "", "+48601234567;+48221234567"]
    assert fake_api.audit[0]["action"] == "contacts_exported"
    token = admin.get("/contacts").csrf()
    text = "name,company,numbers,email,notes\nJan,,+48500100200,,\n,,+48500100201,,\nEwa,,12,,\n"
    reply = admin.post_multipart("/contacts/import", {"csrf_token": token},
                                 {"file": ("contacts.csv", text.encode())})
    assert reply.status == 400
    assert {c["name"] for c in fake_api.contacts.values()} == {"Ala Kot", "Jan"}
    errors = re.findall(r"<li>(Line \d+: [^<]*)</li>", reply.text)
    assert errors[0] == "Line 3: name: required" and errors[1].startswith("Line 4: numbers:")
    assert "1 contact was imported." in reply.text
    assert fake_api.audit[0]["action"] == "contacts_imported"
    good = admin.post_multipart("/contacts/import", {"csrf_token": token},
                                {"file": ("c.csv", b"name,numbers\nOla,+48500100300\n")})
    assert good.status == 303 and len(fake_api.contacts) == 3
    refused = admin.post_multipart("/contacts/import", {"csrf_token": token},
                                   {"file": ("c.csv", b"who,what\n")})
    assert refused.status == 400 and "first line must name the columns" in refused.text


# -- the screen pop, after-call notes, click-to-dial ------------------------------------

def test_the_agents_screen_pop_shows_the_contact_and_the_last_calls(app, fake_api):
    fc.add_contact(fake_api, "Ala Kot", ["+48601234567"], company="Kot SA", notes="Pays late")
    fake_api.add_call_record(caller="+48601234567", callee="100", agent="1002",
                             disposition_code="complaint", notes="Broken pot")
    _agent_on_a_call(fake_api)
    agent = _as(app, fake_api, "1001", "agent")
    page = agent.get("/agent").text
    card = page[page.index('id="pop-contact"'):page.index('id="pop-history"')]
    assert "Ala Kot" in card and "Kot SA" in card and "Pays late" in card
    assert "Broken pot" in page and "complaint" in page
    found = agent.get("/agent/lookup.json?number=%2B48601234567")
    assert found.status == 200 and '"name": "Ala Kot"' in found.text
    assert '"contact": null' in agent.get("/agent/lookup.json?number=%2B48999").text
    assert agent.get("/agent/lookup.json").status == 400


def test_after_call_notes_are_saved_on_the_agents_own_call_only(app, fake_api):
    call = _agent_on_a_call(fake_api)
    fake_api.call_records.append({"id": "r9", "call_id": call, "start": "2026-11-22T10:00:00+01:00",
                                  "caller": "+48601234567", "callee": "100"})
    other = fake_api.add_call_record(caller="+48500100200", callee="100")
    agent = _as(app, fake_api, "1001", "agent")
    fake_api.hang_up_agent("1001")
    page = agent.get("/agent")
    assert f'action="/agent/calls/{call}/notes"' in page.text
    reply = agent.post(f"/agent/calls/{call}/notes", {"notes": "wants a quote",
                                                      "disposition_code": "sale",
                                                      "csrf_token": page.csrf(), "next": "/agent"})
    assert reply.status == 303 and reply.location == "/agent"
    assert fake_api.cdr_changes == [(call, {"notes": "wants a quote", "disposition_code": "sale",
                                            "agent": "1001"})]
    assert fake_api.audit[0]["action"] == "after_call_notes"
    refused = agent.post(f"/agent/calls/{other['call_id']}/notes",
                         {"notes": "x", "csrf_token": page.csrf()})
    assert refused.status == 403 and len(fake_api.cdr_changes) == 1
    empty = agent.post(f"/agent/calls/{call}/notes", {"notes": "", "csrf_token": page.csrf()})
    assert empty.status == 400 and len(fake_api.cdr_changes) == 1


def test_click_to_dial_calls_from_the_users_own_extension_and_shows_a_refusal(app, fake_api):
    _agent_on_a_call(fake_api)
    agent = _as(app, fake_api, "1001", "agent")
    reply = agent.submit("/agent", "/dial", {"to": "+48 601 234 567", "next": "/contacts"})
    assert reply.status == 303 and reply.location == "/contacts"
    assert fake_api.dialled == [("1001", "+48601234567")]
    assert "Your phone rings first" in agent.get("/contacts").text
    fake_api.extensions["1001"]["class_of_service"] = "internal"
    agent.submit("/agent", "/dial", {"to": "+48601234567", "next": "/agent"})
    assert "class of service internal does not allow" in agent.get("/agent").text
    agent.submit("/agent", "/dial", {"to": "a number", "next": "/agent"})
    assert len(fake_api.dialled) == 1


# -- backup, restore, logs --------------------------------------------------------------

def test_the_backup_download_is_for_admins_and_audited(app, admin, fake_api):
    reply = admin.get("/system/backup")
    assert reply.status == 200 and reply.header("Content-Type") == "application/gzip"
    assert re.match(r'attachment; filename="callbox-backup-\d{8}-\d{6}\.tar\.gz"',
                    reply.header("Content-Disposition"))
    assert reply.text[0] == "\x1f"  # the archive as the core sent it: gzip's magic byte
    assert fake_api.audit[0]["action"] == "backup_downloaded"
    assert fake_api.backups_for == ["boss"]
    supervisor = _as(app, fake_api, "lead", "supervisor")
    assert supervisor.get("/system/backup").status == 403
    assert [e["action"] for e in fake_api.audit].count("backup_downloaded") == 1


def test_a_restore_needs_confirmation_shows_the_cores_refusal_and_then_restarts(admin, fake_api):
    token = admin.get("/system").csrf()
    unconfirmed = admin.post_multipart("/system/restore", {"csrf_token": token},
                                       {"backup": ("b.tar.gz", fc.make_backup())})
    assert unconfirmed.status == 400 and fake_api.restored == []
    bad = admin.post_multipart("/system/restore", {"csrf_token": token, "confirm": "on"},
                               {"backup": ("b.tar.gz", b"not a backup at all")})
    assert bad.status == 400 and "not a Callbox backup" in bad.text and fake_api.restored == []
    foreign = admin.post_multipart("/system/restore", {"csrf_token": token, "confirm": "on"},
                                   {"backup": ("b.tar.gz", fc.make_backup({"product": "other"}))})
    assert foreign.status == 400 and "no Callbox manifest" in foreign.text
    archive = fc.make_backup()
    good = admin.post_multipart("/system/restore", {"csrf_token": token, "confirm": "on"},
                                {"backup": ("b.tar.gz", archive)})
    assert good.status == 303 and fake_api.restored == [archive]
    assert "The core is restarting" in admin.get("/system").text
    assert fake_api.audit[0]["action"] == "restore_started"


def test_the_system_page_shows_the_cores_recent_log(admin, fake_api):
    fake_api.log_lines.append("2026-11-22 09:05:00 WARNING appliance.lines: modem <gsm1> lost")
    page = admin.get("/system").text
    assert "modem &lt;gsm1&gt; lost" in page and "core started" in page
    assert ("GET", "/api/logs") in fake_api.requests


@pytest.mark.parametrize("path", ["/system/backup", "/contacts.csv"])
def test_downloads_need_a_login(app, fake_api, path):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    assert WsgiClient(app).get(path).status == 303


def test_the_crm_webhook_setting_is_shown_and_saved_like_any_other(admin, fake_api):
    page = admin.get("/settings").text
    assert "CRM integration" in page and 'name="set:crm.webhook_url"' in page
    reply = admin.submit("/settings", "/settings", {"shown": "crm.webhook_url",
                                                    "set:crm.webhook_url": "https://crm.test/hook"})
    assert reply.status == 303 and fake_api.settings["crm.webhook_url"] == "https://crm.test/hook"
