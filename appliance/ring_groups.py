"""Ring groups: one number that rings several extensions, all at once or one after another."""

from __future__ import annotations

import re
from typing import Any

from appliance.errors import Conflict, NotFound, ValidationError
from appliance.ports import CheckNumber, ExtensionNumbers, Tables

NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
STRATEGIES = ("ringall", "hunt")
FIELDS = {"name", "number", "members", "strategy", "ring_timeout_s"}


def validate(data: Any, extensions: set[str]) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object")
    unknown = set(data) - FIELDS
    if unknown:
        raise ValidationError(f"{sorted(unknown)[0]}: unknown field")
    if not isinstance(data.get("name"), str) or not NAME.match(data["name"]):
        raise ValidationError("name: 1 to 32 lowercase letters, digits, _ or -, starting with a letter")
    number = data.get("number", "")
    if number and (not isinstance(number, str) or not re.fullmatch(r"[1-9][0-9]{1,7}", number)):
        raise ValidationError("number: 2 to 8 digits, not starting with 0")
    members = data.get("members")
    if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
        raise ValidationError("members: a list of extension numbers")
    missing = [m for m in members if m not in extensions]
    if missing:
        raise ValidationError(f"members: no extension {missing[0]}")
    strategy = data.get("strategy", "ringall")
    if strategy not in STRATEGIES:
        raise ValidationError("strategy: ringall (all at once) or hunt (one after another)")
    timeout = data.get("ring_timeout_s", 20)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 5 <= timeout <= 300:
        raise ValidationError("ring_timeout_s: 5 to 300 seconds")
    return {"name": data["name"], "number": number, "members": list(dict.fromkeys(members)),
            "strategy": strategy, "ring_timeout_s": float(timeout)}


class RingGroups:
    def __init__(self, *, tables: Tables, extension_numbers: ExtensionNumbers, check_free: CheckNumber):
        self.tables = tables
        self.extension_numbers = extension_numbers
        self.check_free = check_free

    def all(self) -> list[dict[str, Any]]:
        return [dict(d) for d in self.tables("ring_groups").all()]

    def get(self, name: str) -> dict[str, Any] | None:
        return next((g for g in self.all() if g["name"] == name), None)

    def by_number(self, number: str) -> dict[str, Any] | None:
        return next((g for g in self.all() if number and g.get("number") == number), None)

    def create(self, data: Any) -> dict[str, Any]:
        group = validate(data, set(self.extension_numbers()))
        if self.get(group["name"]):
            raise Conflict(f"ring group {group['name']} exists already")
        self.check_free(group["number"])  # names the route, extension, box or code that holds it
        self.tables("ring_groups").insert(group)
        return group

    def delete(self, name: str) -> None:
        if self.get(name) is None:
            raise NotFound(f"ring group {name} does not exist")
        self.tables("ring_groups").remove(lambda d: d.get("name") == name)
