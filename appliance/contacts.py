"""Contacts: the people who call, for the agent's screen pop and for CRMs.

Numbers are normalised to E.164 with `phonenumbers` (Google's libphonenumber
data, well kept) in the box's country, so "601 234 567", "0048601234567" and
"+48 601-234-567" are one number.
"""

from __future__ import annotations

import io
import secrets
import time
from typing import Any

from appliance.errors import NotFound, ValidationError
from appliance.logic import contacts_csv, csv_safe
from appliance.ports import RecordLog, Setting, Tables

FIELDS = {"name", "company", "numbers", "email", "notes"}
CSV_COLUMNS = ("name", "company", "numbers", "email", "notes")
REGION_OF_CODE = {"48": "PL", "86": "CN", "44": "GB", "49": "DE", "1": "US"}


def normalise(number: str, country_code: str = "48") -> str:
    import phonenumbers
    region = REGION_OF_CODE.get(country_code, "PL")
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        # The library's own words ("(1) The string supplied did not seem to be ...") mean nothing to an owner.
        raise ValidationError(f"numbers: {number!r} is not a phone number") from None
    if not phonenumbers.is_possible_number(parsed):
        raise ValidationError(f"numbers: {number!r} is not a possible phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _clean(data: Any, country_code: str, partial: bool = False) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object")
    unknown = set(data) - FIELDS
    if unknown:
        raise ValidationError(f"{sorted(unknown)[0]}: unknown field")
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ValidationError("name: 1 to 100 characters")
        out["name"] = name.strip()
    for key, limit in (("company", 100), ("email", 200), ("notes", 4000)):
        if key in data:
            value = data[key]
            if not isinstance(value, str) or len(value) > limit:
                raise ValidationError(f"{key}: text of at most {limit} characters")
            out[key] = value.strip()
    if "numbers" in data or not partial:
        numbers = data.get("numbers", [])
        if isinstance(numbers, str):
            numbers = [n for n in numbers.replace(",", ";").split(";") if n.strip()]
        if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
            raise ValidationError("numbers: a list of phone numbers")
        out["numbers"] = list(dict.fromkeys(normalise(n, country_code) for n in numbers))
    return out


class Contacts:
    def __init__(self, *, tables: Tables, setting: Setting, call_records: RecordLog):
        self.tables = tables
        self.setting = setting
        self.call_records = call_records

    @property
    def table(self):
        return self.tables("contacts")

    def _cc(self) -> str:
        return self.setting("privacy.country_code")

    def list(self, q: str = "", offset: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        q = q.lower().strip()
        found = [dict(c) for c in self.table.all()
                 if not q or q in c.get("name", "").lower() or q in c.get("company", "").lower()
                 or any(q.replace(" ", "") in n for n in c.get("numbers", []))]
        found.sort(key=lambda c: c["name"].lower())
        return found[offset:offset + limit]

    def get(self, contact_id: str) -> dict[str, Any]:
        found = self.table.get(lambda d: d.get("id") == contact_id)
        if found is None:
            raise NotFound(f"contact {contact_id} does not exist")
        return dict(found)

    def create(self, data: Any) -> dict[str, Any]:
        now = time.time()
        contact = {"id": secrets.token_hex(6), "company": "", "email": "", "notes": "", "created": now,
                   "updated": now} | _clean(data, self._cc())
        self.table.insert(contact)
        return contact

    def update(self, contact_id: str, data: Any) -> dict[str, Any]:
        new = self.get(contact_id) | _clean(data, self._cc(), partial=True) | {"updated": time.time()}
        self.table.update(new, lambda d: d.get("id") == contact_id)
        return new

    def delete(self, contact_id: str) -> None:
        self.get(contact_id)
        self.table.remove(lambda d: d.get("id") == contact_id)

    def lookup(self, number: str) -> dict[str, Any]:
        """The screen pop: who is calling, and their last calls."""
        try:
            e164 = normalise(number, self._cc())
        except ValidationError:
            e164 = number
        contact = next((dict(c) for c in self.table.all() if e164 in c.get("numbers", [])), None)
        digits = e164.lstrip("+")

        def same(rec: dict) -> bool:
            return any(str(rec.get(k) or "").lstrip("+").endswith(digits[-9:]) for k in ("caller", "callee"))

        history = self.call_records.query(None, None, same, limit=10) if len(digits) >= 6 else []
        return {"contact": contact, "history": history}

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv_safe.writer(out)
        writer.writerow(CSV_COLUMNS)
        for c in self.list(limit=1_000_000):
            writer.writerow([c.get("name", ""), c.get("company", ""), ";".join(c.get("numbers", [])),
                             c.get("email", ""), c.get("notes", "")])
        return out.getvalue()

    def import_csv(self, data: bytes | str) -> dict[str, Any]:
        """Valid rows are imported; each row that is not is listed with its line and reason.

        The file may be UTF-8 (with or without BOM), Windows-1250 or GBK, separated
        by , ; or tabs, with headers in English, Polish or Chinese
        (`appliance.logic.contacts_csv`). A row whose number belongs to a contact
        already (or to an earlier row), or without numbers whose name does, is a
        duplicate: listed, not imported, so importing a file twice adds nothing.
        """
        raw = data.encode("utf-8") if isinstance(data, str) else data
        try:
            parsed = contacts_csv.read(raw)
        except contacts_csv.CsvProblem as e:
            raise ValidationError(f"CSV: {e}") from None
        cc = self._cc()
        existing = [dict(c) for c in self.table.all()]
        number_owner = {n: f"contact '{c['name']}'" for c in existing for n in c.get("numbers", [])}
        name_owner = {c["name"].casefold(): f"contact '{c['name']}'" for c in existing}
        imported, duplicates = 0, 0
        errors: list[dict[str, Any]] = list(parsed.errors)
        for line, row in parsed.rows:
            # An export of ours quoted formula-like names; they come back as they were.
            row = {k: [csv_safe.unquote_cell(x) for x in v] if isinstance(v, list) else csv_safe.unquote_cell(v)
                   for k, v in row.items()}
            try:
                clean = _clean(row, cc)
            except ValidationError as e:
                errors.append({"line": line, "error": str(e)})
                continue
            taken = next(((n, number_owner[n]) for n in clean["numbers"] if n in number_owner), None)
            if taken is None and not clean["numbers"] and clean["name"].casefold() in name_owner:
                taken = (clean["name"], name_owner[clean["name"].casefold()])
            if taken is not None:
                duplicates += 1
                errors.append({"line": line, "duplicate": True,
                               "error": f"duplicate: {taken[0]} is already {taken[1]}"})
                continue
            self.create(clean)
            imported += 1
            for n in clean["numbers"]:
                number_owner[n] = f"on line {line}"
            name_owner.setdefault(clean["name"].casefold(), f"on line {line}")
        errors.sort(key=lambda e: e["line"])
        return {"imported": imported, "duplicates": duplicates, "errors": errors,
                "encoding": parsed.encoding, "delimiter": parsed.delimiter,
                "columns": sorted(set(parsed.columns.values())), "ignored_columns": parsed.ignored}
