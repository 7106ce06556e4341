"""The box's extensions: numbers, names, SIP secrets and class of service, kept in the store.

Also what the SIP edge's digest asks for: the secret of an extension, from memory (it is
asked on every REGISTER and INVITE). A number is checked against the box's one numbering
namespace before it is taken (`check_free`); deleting an extension ends its registrations
and forgets its phones (`forget`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appliance import directory
from appliance.errors import Conflict, NotFound
from appliance.ports import Publish, Tables


def _number_is(number: str) -> Callable[[dict[str, Any]], bool]:
    return lambda doc: doc.get("number") == number


class Extensions:
    def __init__(self, *, tables: Tables, publish: Publish, registered: Callable[[str], bool],
                 registered_numbers: Callable[[], set[str]], check_free: Callable[[str], None],
                 forget: Callable[[str], None]):
        self.tables = tables
        self.publish = publish
        self.registered = registered
        self.registered_numbers = registered_numbers
        self.check_free = check_free
        self.forget = forget
        self.secrets: dict[str, str] = {e["number"]: e["secret"] for e in tables("extensions").all()}

    @property
    def table(self):
        return self.tables("extensions")

    def secret(self, number: str) -> str | None:
        return self.secrets.get(number)

    def all(self) -> list[dict[str, Any]]:
        regs = self.registered_numbers()
        exts = sorted(self.table.all(), key=lambda e: e["number"])
        return [directory.public_extension(dict(e), e["number"] in regs) for e in exts]

    def numbers(self) -> list[str]:
        return list(self.secrets)

    def get_or_none(self, number: str) -> dict[str, Any] | None:
        found = self.table.get(_number_is(number))
        return dict(found) if found is not None else None

    def get(self, number: str) -> dict[str, Any]:
        found = self.table.get(_number_is(number))
        if found is None:
            raise NotFound(f"extension {number} does not exist")
        return dict(found) | {"registered": self.registered(number)}

    def create(self, data: Any) -> dict[str, Any]:
        ext = directory.new_extension(data)
        if ext["number"] in self.secrets:
            raise Conflict(f"extension {ext['number']} exists already")
        self.check_free(ext["number"])  # one namespace: not a route's, a group's, a box's or a code's number
        self.table.insert(ext)
        self.secrets[ext["number"]] = ext["secret"]
        self.publish("extension", action="created", number=ext["number"])
        return ext

    def update(self, number: str, data: Any) -> dict[str, Any]:
        current = self.get(number)
        current.pop("registered", None)
        new = directory.change_extension(current, data)
        self.table.update(new, _number_is(number))
        self.secrets[number] = new["secret"]
        self.publish("extension", action="changed", number=number)
        return new

    def delete(self, number: str) -> None:
        self.get(number)
        self.table.remove(_number_is(number))
        self.secrets.pop(number, None)
        self.forget(number)
        self.publish("extension", action="deleted", number=number)
