"""One namespace of numbers: a number a phone dials reaches exactly one thing.

Extensions, ring groups, shared voicemail boxes, the feature codes (*97, *45
...) and the service numbers (DIDs) of call-flow routes all live in it. Before
this, the Extensions page accepted extension 500 while a call-flow route
answered 500, and every customer call then went to that extension's
voicemail: the switchboard tries an extension before a route.

Pure: the caller builds a `NumberDirectory` of what the box has and asks
`owner_of(number, directory)`; every create and update path asks before it
stores (docs/call-flows.md, "Numbers").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from appliance.errors import Conflict, ValidationError
from appliance.logic.flows.patterns import compile_pattern

# The codes the switchboard answers before anything else (appliance/switchboard.py).
FEATURE_CODES: dict[str, str] = {
    "*97": "your own voicemail", "*98": "any voicemail box",
    "*45": "agent log in or out", "*46": "agent break", "*47": "agent available",
}
# *30<agent> listen, *31<agent> whisper, *32<agent> barge: a prefix, then the agent's extension.
SUPERVISE_CODE = re.compile(r"^\*3([012])(\d{2,8})$")
SUPERVISE_MODES = {"0": "listen", "1": "whisper", "2": "barge"}


@dataclass(frozen=True)
class NumberDirectory:
    """What holds a number on the box, as plain data.

    `voicemail_boxes` are the shared boxes only: a box under the number of an
    extension (or the name of a queue) belongs to it and takes nothing more.
    `routes` are (did or pattern, route name) of the call-flow routes that have
    a number; a route without one (a catch-all for trunk calls) holds none.
    """

    extensions: frozenset[str] = frozenset()
    ring_groups: Mapping[str, str] = field(default_factory=dict)   # number -> group name
    voicemail_boxes: frozenset[str] = frozenset()
    routes: tuple[tuple[str, str], ...] = ()

    def without_routes(self) -> "NumberDirectory":
        """For checking a new set of routes, which replaces the old one."""
        return replace(self, routes=())

    def numbers(self) -> list[str]:
        """Every exact number held (routes' patterns aside), feature codes included."""
        return sorted({*FEATURE_CODES, *self.extensions, *self.ring_groups, *self.voicemail_boxes,
                       *(did for did, _ in self.routes if not did.startswith("_"))})


def _matches(did: str, number: str) -> bool:
    try:
        return compile_pattern(did).fullmatch(number) is not None
    except ValidationError:
        return False


def owner_of(number: str, directory: NumberDirectory) -> str | None:
    """Who holds `number`, in words ("call-flow route 'main'"), or None if it is free."""
    if number in FEATURE_CODES:
        return f"feature code {number} ({FEATURE_CODES[number]})"
    code = SUPERVISE_CODE.match(number)
    if code:
        return f"feature code *3{code.group(1)}<agent> ({SUPERVISE_MODES[code.group(1)]})"
    if number in directory.extensions:
        return f"extension {number}"
    if number in directory.ring_groups:
        return f"ring group '{directory.ring_groups[number]}'"
    if number in directory.voicemail_boxes:
        return f"voicemail box {number}"
    for did, name in directory.routes:
        if did == number:
            return f"call-flow route '{name}'"
        if did.startswith("_") and _matches(did, number):
            return f"call-flow route '{name}' (its pattern {did})"
    return None


def taken(number: str, directory: NumberDirectory) -> str | None:
    """The sentence that says who holds `number`; None when it is free."""
    owner = owner_of(number, directory)
    return f"{number} is already the number of {owner}" if owner else None


def check_free(number: str, directory: NumberDirectory, what: str = "number") -> None:
    """Raise Conflict (HTTP 409) naming the owner when `number` is held."""
    why = taken(number, directory)
    if why:
        raise Conflict(f"{what}: {why}")


def route_clashes(routes: Iterable[tuple[str, str]], directory: NumberDirectory) -> list[tuple[str, str]]:
    """(route name, reason) for every route whose number another thing holds.

    `directory` should not hold the routes being checked (`without_routes()`):
    routes of one set may share a number (one per caller, say). A pattern
    clashes with every held number it would take.
    """
    clashes = []
    for did, name in routes:
        if not did:
            continue
        if not did.startswith("_"):
            why = taken(did, directory)
            if why:
                clashes.append((name, why))
            continue
        for number in directory.numbers():
            if _matches(did, number):
                clashes.append((name, f"{did} would take {number}, which is already the number of "
                                      f"{owner_of(number, directory)}"))
                break
    return clashes
