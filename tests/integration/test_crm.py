"""What a CRM and the agent's desk need: contacts, the screen pop, after-call notes, click-to-dial,
call events pushed to a webhook; and the owner's backup and restore through the API."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from tests.integration.test_calls import call_records, connect, registered_phone


def test_contacts_are_normalised_imported_and_found_by_number(core):
    status, anna = core.api("POST", "/api/contacts", {"name": "Anna Nowak", "company": "Piekarnia",
                                                      "numbers": ["601 234 567", "+48 22 123 45 67"]})
    assert status == 201 and anna["numbers"] == ["+48601234567", "+48221234567"]
    assert core.api("POST", "/api/contacts", {"name": "X", "numbers": ["not-a-number"]})[0] == 400
    csv_text = "name,company,numbers,email\nLi Wei,茶馆,+86 10 1234 5678,li@example.cn\nBroken,,abc,\n"
    status, result = core.api("POST", "/api/contacts.csv", raw=csv_text.encode())
    assert status == 200 and result["imported"] == 1 and result["errors"][0]["line"] == 3
    status, pop = core.api("GET", "/api/contacts/lookup?number=0048601234567")
    assert pop["contact"]["name"] == "Anna Nowak"
    status, exported = core.api("GET", "/api/contacts.csv")
    assert "Li Wei" in exported and "+861012345678" in exported
    assert [c["name"] for c in core.api("GET", "/api/contacts?q=piekarnia")[1]["contacts"]] == ["Anna Nowak"]


def test_after_call_notes_and_click_to_dial(box, phones):
    anna, piotr = registered_phone(box, phones, "1001"), registered_phone(box, phones, "1002")
    status, body = box.api("POST", "/api/calls", {"from": "1001", "to": "1002"})
    assert status == 202, body
    anna.wait_for("incoming", timeout=15)  # the box rings the agent's own phone first
    anna.answer()
    piotr.wait_for("incoming", timeout=15)  # then the number asked for
    piotr.answer()
    piotr.wait_for("call_state", state="CONFIRMED", timeout=15)
    time.sleep(0.5)
    anna.hangup()
    piotr.wait_for("call_state", state="DISCONNECTED", timeout=10)
    record = call_records(box)[0]
    assert record["outcome"] == "CLICK_TO_DIAL" and record["disposition"] == "ANSWERED"
    status, updated = box.api("PATCH", f"/api/cdr/{record['call_id']}",
                              {"notes": "Wants a quote for 50 loaves", "disposition_code": "sale"})
    assert status == 200 and updated["disposition_code"] == "sale"
    assert call_records(box)[0]["notes"] == "Wants a quote for 50 loaves"
    # Class of service applies to click-to-dial too.
    box.api("PATCH", "/api/extensions/1001", {"class_of_service": "internal"})
    status, body = box.api("POST", "/api/calls", {"from": "1001", "to": "0048221234567"})
    assert status in (403, 409), body


def test_call_events_reach_the_crm_webhook(core):
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the stdlib's name
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/callbox"
        assert core.api("PATCH", "/api/settings", {"crm.webhook_url": url})[0] == 200
        core.add_extension("1010")
        core.api("POST", "/api/queues", {"name": "sales"})
        core.api("POST", "/api/agents/1010", {"queues": ["sales"]})
        core.api("POST", "/api/agents/1010/login", {})
        deadline = time.monotonic() + 10
        while not received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(e["event"] == "agent" and e["extension"] == "1010" for e in received), received
        # A number put on the do-not-call list reaches the CRM too (campaign events do).
        assert core.api("POST", "/api/do-not-call", {"number": "600100200", "why": "asked by phone"})[0] == 201
        deadline = time.monotonic() + 10
        while not any(e["event"] == "do_not_call" for e in received) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(e["event"] == "do_not_call" and e["number"] == "600100200" for e in received), received
    finally:
        server.shutdown()


def test_backup_download_and_restore_through_the_api(core_factory, tmp_path):
    core = core_factory()
    core.add_extension("1001")
    status, archive = core.api("GET", "/api/backup")
    assert status == 200
    data = archive
    assert data[:2] == b"\x1f\x8b"  # gzip
    core.add_extension("1002")  # made after the backup: the restore takes it away
    assert core.api("POST", "/api/restore", raw=b"not a backup")[0] == 400
    assert core.api("GET", "/api/extensions/1002")[0] == 200  # a refused file changed nothing
    status, body = core.api("POST", "/api/restore", raw=data)
    assert status == 202 and body["restarting"] is True
    core.proc.wait(timeout=20)
    again = core_factory(data_dir=core.data_dir)
    numbers = [e["number"] for e in again.api("GET", "/api/extensions")[1]["extensions"]]
    assert numbers == ["1001"]
    logs = again.api("GET", "/api/logs?lines=50")[1]["lines"]
    assert any("SIP edge listening" in line for line in logs)
