"""A campaign's call list from a spreadsheet: the contacts' robust CSV reading, plus free columns.

Same reading as the address book (`appliance.logic.contacts_csv`: encodings, separators,
headers in Polish, Chinese or English, a broken row costs its own line). A name column is
optional here; every column that is not a contact field is kept as a free field for the
agent's card and the script, except the callee's time zone, which is recognised by its header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from appliance.logic import contacts_csv
from appliance.logic.campaigns.model import Entry
from appliance.logic.campaigns.rules import subscriber_key
from appliance.logic.flows.schedule import load_zone
from appliance.errors import ValidationError

ZONE_HEADERS = {"timezone", "tz", "zone", "strefa", "strefaczasowa", "时区"}
MAX_ENTRIES = 100_000


@dataclass
class CallList:
    entries: list[Entry] = field(default_factory=list)
    errors: list[dict[str, object]] = field(default_factory=list)  # {"line", "error"}: nothing lost silently
    duplicates: int = 0
    encoding: str = ""


def read(data: bytes, *, first_id: int = 1, known: set[str] | None = None) -> CallList:
    """Entries from CSV bytes; rows without a usable number or with a bad time zone are listed, not lost.

    `known` holds the number keys already on the list: a number twice is called once.
    """
    parsed = contacts_csv.read(data, name_required=False, keep_other_columns=True)
    out = CallList(encoding=parsed.encoding)
    seen = set(known or ())
    next_id = first_id
    for line, row in parsed.rows:
        numbers = [n for n in row.get("numbers", []) if re.sub(r"\D", "", str(n))]  # type: ignore[union-attr]
        if not numbers:
            out.errors.append({"line": line, "error": "no phone number"})
            continue
        number = str(numbers[0]).strip()
        if len(re.sub(r"\D", "", number)) < 3 or re.search(r"[^\d\s+()./-]", number):
            out.errors.append({"line": line, "error": f"{number!r} is not a phone number"})
            continue
        extra = dict(row.get("fields") or {})  # type: ignore[arg-type]
        zone = ""
        for header in list(extra):
            if re.sub(r"[\s._\-:]+", "", header.lower()) in ZONE_HEADERS:
                zone = extra.pop(header).strip()
        if zone:
            try:
                load_zone(zone)
            except ValidationError as e:
                out.errors.append({"line": line, "error": str(e)})
                continue
        for key in ("company", "email", "notes"):
            if row.get(key):
                extra[key] = str(row[key])
        key = subscriber_key(number)
        if key in seen:
            out.duplicates += 1
            continue
        if len(out.entries) >= MAX_ENTRIES:
            out.errors.append({"line": line, "error": f"a list holds at most {MAX_ENTRIES} numbers"})
            break
        seen.add(key)
        out.entries.append(Entry(id=str(next_id), number=number, name=str(row.get("name", "")), fields=extra,
                                 zone=zone))
        next_id += 1
    out.errors += parsed.errors
    return out
