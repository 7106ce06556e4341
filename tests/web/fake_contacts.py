"""The fake core's contacts, after-call work, click-to-dial, backup/restore and logs,
answering as the control API is specified to (numbers normalised with phonenumbers)."""

from __future__ import annotations

import csv
import io
import json
import tarfile
import time
from typing import Any

import phonenumbers

from tests.web.fake_phones import Raw

CSV_COLUMNS = ("name", "company", "numbers", "email", "notes")
MANIFEST = "callbox-backup.json"


def seed(api) -> None:
    api.contacts = {}
    api.contact_seq = 0
    api.dialled = []           # (from, to) the core was asked to call
    api.cdr_changes = []       # (call_id, changes) of after-call work
    api.restored = []          # archives the core accepted
    api.backups_for = []       # actors the core was told a backup was downloaded for
    api.log_lines = ["2026-11-22 09:00:01 INFO appliance.core: core started",
                     "2026-11-22 09:00:02 INFO appliance.sip.edge: listening on 5060"]
    api.has_contacts = True


def normalise(number: str) -> str:
    """E.164, as the core stores it; ValueError naming the number when it is not one."""
    try:
        parsed = phonenumbers.parse(number, "PL" if not number.startswith("+") else None)
    except phonenumbers.NumberParseException:
        raise ValueError(f"numbers: {number!r} is not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValueError(f"numbers: {number!r} is not a phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def add_contact(api, name: str, numbers: list[str], **fields: Any) -> dict:
    status, body = _create(api, {"name": name, "numbers": numbers} | fields)
    assert status == 201, body
    return body


def make_backup(manifest: dict | None = None) -> bytes:
    """A backup as the core writes one: a gzip tar with its manifest first."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        raw = json.dumps(manifest or {"product": "callbox", "format": 1}).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return out.getvalue()


def _check(body: Any, partial: bool = False) -> tuple[dict, str]:
    if not isinstance(body, dict):
        return {}, "body must be a JSON object"
    clean: dict[str, Any] = {}
    if not partial or "name" in body:
        name = str(body.get("name") or "").strip()
        if not name:
            return {}, "name: required"
        clean["name"] = name
    for key in ("company", "email", "notes"):
        if key in body:
            clean[key] = str(body.get(key) or "")
    if not partial or "numbers" in body:
        try:
            clean["numbers"] = [normalise(str(n)) for n in body.get("numbers") or []]
        except ValueError as exc:
            return {}, str(exc)
    return clean, ""


def _create(api, body: Any) -> tuple[int, Any]:
    clean, error = _check(body)
    if error:
        return 400, {"error": error}
    api.contact_seq += 1
    now = time.time()  # epoch seconds, as the core stores them
    contact = {"id": f"c{api.contact_seq}", "company": "", "email": "", "notes": "",
               "created": now, "updated": now} | clean
    api.contacts[contact["id"]] = contact
    return 201, dict(contact)


def _matches(contact: dict, q: str) -> bool:
    q = q.lower()
    digits = "".join(ch for ch in q if ch.isdigit())
    return (q in contact["name"].lower() or q in contact["company"].lower()
            or bool(digits) and any(digits in n for n in contact["numbers"]))


def route(api, route, parts, query, body):  # noqa: C901 - one table, as api.py
    method, what, n = route
    q = {k: v[0] for k, v in query.items()}
    if what == "contacts.csv" and method == "GET":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for c in api.contacts.values():
            writer.writerow([c["name"], c["company"], ";".join(c["numbers"]), c["email"], c["notes"]])
        return 200, Raw(out.getvalue().encode(), "text/csv; charset=utf-8")
    if what == "contacts" and api.has_contacts:
        if route == ("GET", "contacts", 1):
            found = [c for c in api.contacts.values() if not q.get("q") or _matches(c, q["q"])]
            found.sort(key=lambda c: c["name"].lower())
            offset, limit = int(q.get("offset", 0)), int(q.get("limit", 100))
            return 200, {"contacts": [dict(c) for c in found[offset:offset + limit]]}
        if route == ("POST", "contacts", 1):
            return _create(api, body)
        if route == ("GET", "contacts", 2) and parts[1] == "lookup":
            try:
                number = normalise(q.get("number", ""))
            except ValueError:
                number = q.get("number", "")
            contact = next((c for c in api.contacts.values() if number in c["numbers"]), None)
            history = [r for r in reversed(api.call_records)
                       if number in (r.get("caller"), r.get("callee"))][:10]
            return 200, {"contact": dict(contact) if contact else None, "history": history}
        contact = api.contacts.get(parts[1]) if n == 2 else None
        if contact is None:
            return 404, {"error": "no such contact"}
        if method == "GET":
            return 200, dict(contact)
        if method == "PATCH":
            clean, error = _check(body, partial=True)
            if error:
                return 400, {"error": error}
            contact.update(clean, updated=time.time())
            return 200, dict(contact)
        if method == "DELETE":
            del api.contacts[contact["id"]]
            return 204, None
    if route[:2] == ("PATCH", "cdr") and n == 2:
        rec = next((r for r in api.call_records if parts[1] in (r["call_id"], r["id"])), None)
        if rec is None:
            return 404, {"error": "no such call record"}
        if not isinstance(body, dict) or not set(body) <= {"notes", "disposition_code", "agent"}:
            return 400, {"error": "only notes, disposition_code and agent can be changed"}
        if len(str(body.get("disposition_code") or "")) > 40:
            return 400, {"error": "disposition_code: at most 40 characters"}
        api.cdr_changes.append((parts[1], dict(body)))
        rec.update(body)
        return 200, dict(rec)
    if route == ("POST", "calls", 1):
        ext = api.extensions.get(str((body or {}).get("from") or ""))
        to = str((body or {}).get("to") or "")
        if ext is None:
            return 404, {"error": "from: no such extension"}
        if ext.get("class_of_service") == "internal" and to not in api.extensions:
            return 403, {"error": f"class of service internal does not allow calling {to}"}
        api.dialled.append((ext["number"], to))
        return 202, {"call_id": f"ctd-{len(api.dialled)}@fake"}
    if route == ("GET", "backup", 1):
        api.backups_for.append(q.get("actor", "api"))  # the core audits a download under this name
        return 200, Raw(make_backup(), "application/gzip")
    if route == ("GET", "logs", 1):
        lines = int(q.get("lines", 200))
        return 200, {"lines": api.log_lines[-lines:]}
    return 404, {"error": "no such endpoint"}


def raw_post(api, path: str, raw: bytes) -> tuple[int, Any]:
    """The two endpoints whose body is a file rather than JSON."""
    if path == "/api/contacts.csv":
        try:
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        except UnicodeDecodeError:
            return 400, {"error": "the file is not UTF-8 text"}
        if not rows or [h.strip().lower() for h in rows[0]][:1] != ["name"]:
            return 400, {"error": "the first line must name the columns: " + ",".join(CSV_COLUMNS)}
        header = [h.strip().lower() for h in rows[0]]
        imported, errors = 0, []
        for line, row in enumerate(rows[1:], start=2):
            fields = dict(zip(header, row))
            fields["numbers"] = [x for x in (fields.get("numbers") or "").split(";") if x.strip()]
            status, reply = _create(api, fields)
            if status == 201:
                imported += 1
            else:
                errors.append({"line": line, "error": reply["error"]})
                api.errors_sent.append(reply["error"])  # the core's own words, as _reply notes them
        return 200, {"imported": imported, "duplicates": 0, "errors": errors, "encoding": "utf-8",
                     "delimiter": ",", "columns": sorted(header), "ignored_columns": []}
    if path == "/api/restore":
        try:
            with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as tar:
                member = tar.extractfile(MANIFEST)
                manifest = json.loads(member.read()) if member else {}
        except (tarfile.TarError, KeyError, ValueError, OSError, EOFError):
            return 400, {"error": "not a Callbox backup (the archive cannot be read)"}
        if manifest.get("product") != "callbox":
            return 400, {"error": "not a Callbox backup (no Callbox manifest)"}
        api.restored.append(raw)
        return 202, {"restarting": True}
    return 404, {"error": "no such endpoint"}
