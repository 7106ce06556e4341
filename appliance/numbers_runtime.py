"""The box's numbers as `appliance.logic.numbers` sees them: read from the running box when asked.

Every path that gives something a number asks `Numbers.check_free(number)`
first: extensions (`Core.create_extension`) and shared voicemail boxes (the
control API), ring groups (`appliance.ring_groups`) and call-flow routes
(`CenterAdmin.put_flows`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from appliance.logic import numbers
from appliance.ports import ExtensionNumbers, Names


def route_numbers(routes: Any) -> tuple[tuple[str, str], ...]:
    """(did, name) of the routes that have a number; a route without a name is called by its place."""
    out = []
    for n, route in enumerate(routes or ()):
        did = route.get("did") if isinstance(route, dict) else getattr(route, "did", "")
        name = route.get("name") if isinstance(route, dict) else getattr(route, "name", None)
        if isinstance(did, str) and did:
            out.append((did, str(name) if name else f"#{n + 1}"))
    return tuple(out)


class Numbers:
    """One namespace: extensions, queues, ring groups, shared boxes, routes and feature codes."""

    def __init__(self, *, extension_numbers: ExtensionNumbers, queue_names: Names,
                 ring_groups: Callable[[], Iterable[dict[str, Any]]], voicemail_boxes: Names,
                 routes: Callable[[], Iterable[Any]]):
        self.extension_numbers = extension_numbers
        self.queue_names = queue_names
        self.ring_groups = ring_groups
        self.voicemail_boxes = voicemail_boxes
        self.routes = routes

    def directory(self) -> numbers.NumberDirectory:
        extensions = frozenset(self.extension_numbers())
        queues = set(self.queue_names())
        groups = {g["number"]: g["name"] for g in self.ring_groups() if g.get("number")}
        # A box under an extension's number or a queue's name is theirs; only shared boxes hold a number.
        shared = frozenset(self.voicemail_boxes()) - extensions - queues
        return numbers.NumberDirectory(extensions, groups, shared, route_numbers(self.routes()))

    def check_free(self, number: Any, what: str = "number") -> None:
        """Conflict naming the owner when `number` is held; a malformed number is left to its own check."""
        if isinstance(number, str) and number:
            numbers.check_free(number, self.directory(), what)

    def route_clashes(self, routes: Any) -> list[tuple[str, str]]:
        """(route, why) for each route whose number an extension, a group, a box or a code holds."""
        return list(numbers.route_clashes(route_numbers(routes), self.directory().without_routes()))
