"""Shaping contacts, the screen pop and after-call work for the pages; no I/O.

The core stores numbers in E.164 (+48601234567); people read them grouped
the way their country writes them (+48 601 234 567), so the page formats
them here and links each to click-to-dial with the E.164 form.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import phonenumbers

from web.views import fmt_duration, fmt_time

MAX_NAME = 100
MAX_NOTES = 2000
MAX_DISPOSITION = 40
# A form's numbers: one per line, or separated by commas or semicolons, as people paste them.
_SPLIT = re.compile(r"[\n,;]+")
DIAL_RE = re.compile(r"^\+?[0-9*#]{2,32}$")
DISPOSITION_CODES = ("sale", "resolved", "callback", "complaint", "wrong number", "other")


def format_number(number: Any) -> str:
    """+48601234567 as +48 601 234 567; anything that is not E.164 as it was given."""
    text = str(number or "")
    if not text.startswith("+"):
        return text
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    if not phonenumbers.is_possible_number(parsed):
        return text
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def contact_row(contact: Mapping[str, Any], tz: str | None = None,
                lang: str | None = None) -> dict[str, Any]:
    """A contact as the list, the edit form and the screen pop show it (times in `tz`)."""
    numbers = [str(n) for n in contact.get("numbers") or []]
    return {"id": str(contact.get("id") or ""), "name": str(contact.get("name") or ""),
            "company": str(contact.get("company") or ""),
            "numbers": [(n, format_number(n)) for n in numbers],
            "numbers_text": "\n".join(numbers),
            "email": str(contact.get("email") or ""), "notes": str(contact.get("notes") or ""),
            "updated": fmt_time(contact.get("updated") or contact.get("created"), tz, lang)}


def parse_contact_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body from the contact form, and errors by field (English, for translate_message)."""
    errors: dict[str, str] = {}
    name = (form.get("name") or "").strip()
    if not name:
        errors["name"] = "name: required"
    elif len(name) > MAX_NAME:
        errors["name"] = f"name: at most {MAX_NAME} characters"
    numbers = [n.strip() for n in _SPLIT.split(form.get("numbers") or "") if n.strip()]
    notes = (form.get("notes") or "").strip()
    if len(notes) > MAX_NOTES:
        errors["notes"] = f"notes: at most {MAX_NOTES} characters"
    body = {"name": name, "company": (form.get("company") or "").strip(), "numbers": numbers,
            "email": (form.get("email") or "").strip(), "notes": notes}
    return body, errors


def history_row(rec: Mapping[str, Any], tz: str | None = None,
                lang: str | None = None) -> dict[str, str]:
    """One of the caller's earlier calls, as the screen pop lists it (times in `tz`)."""
    return {"start": fmt_time(rec.get("start"), tz, lang),
            "agent": str(rec.get("agent") or rec.get("answered_by") or ""),
            "queue": str(rec.get("queue") or ""),
            "disposition": str(rec.get("disposition") or ""),
            "disposition_code": str(rec.get("disposition_code") or ""),
            "talk": fmt_duration(rec.get("talk_s")),
            "notes": str(rec.get("notes") or "")}


def screen_pop(lookup: Mapping[str, Any] | None, tz: str | None = None,
               lang: str | None = None) -> dict[str, Any]:
    """/api/contacts/lookup's answer as the pop shows it: {contact | None, history: [...]}."""
    lookup = lookup or {}
    contact = lookup.get("contact")
    return {"contact": contact_row(contact, tz, lang) if isinstance(contact, Mapping) else None,
            "history": [history_row(r, tz, lang) for r in lookup.get("history") or []
                        if isinstance(r, Mapping)]}


def last_call(extension: str, queue_log: list[Mapping[str, Any]]) -> dict[str, str] | None:
    """The newest call offered to or taken by this agent (for after-call notes), or None."""
    for line in queue_log:  # newest first
        if str(line.get("agent") or "") == extension and line.get("call_id") and line.get(
                "event") in ("OFFERED", "ANSWERED", "CONNECTED"):
            return {"call_id": str(line["call_id"]), "number": str(line.get("number") or ""),
                    "queue": str(line.get("queue") or "")}
    return None


def agent_handled(extension: str, call_id: str, queue_log: list[Mapping[str, Any]]) -> bool:
    """Whether the queue log shows this call offered to or taken by this agent."""
    return any(str(line.get("agent") or "") == extension and str(line.get("call_id")) == call_id
               for line in queue_log)


def parse_after_call(form: Mapping[str, str]) -> tuple[dict[str, str], str]:
    """The after-call changes ({notes, disposition_code}) and an error (English) or ''."""
    notes = (form.get("notes") or "").strip()
    code = (form.get("disposition_code") or "").strip()
    if len(code) > MAX_DISPOSITION:
        return {}, f"disposition: at most {MAX_DISPOSITION} characters"
    if len(notes) > MAX_NOTES:
        return {}, f"notes: at most {MAX_NOTES} characters"
    if not notes and not code:
        return {}, "write a note or choose a disposition"
    changes = {}
    if notes:
        changes["notes"] = notes
    if code:
        changes["disposition_code"] = code
    return changes, ""


def parse_dial(to: str) -> tuple[str, str]:
    """The number to call with spaces, dashes and brackets removed, and an error (English) or ''."""
    cleaned = re.sub(r"[\s().-]", "", to or "")
    if not DIAL_RE.match(cleaned):
        return "", "number: use digits, * and #, with an optional + in front"
    return cleaned, ""
