"""The box's numbers as `appliance.logic.numbers` sees them: read from the running core.

Every path that gives something a number asks `check_free(core, number)`
first: extensions and shared voicemail boxes (the control API), ring groups
(`appliance.ring_groups`) and call-flow routes (`CenterAdmin.put_flows`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.logic import numbers

if TYPE_CHECKING:
    from appliance.core import Core


def route_numbers(routes: Any) -> tuple[tuple[str, str], ...]:
    """(did, name) of the routes that have a number; a route without a name is called by its place."""
    out = []
    for n, route in enumerate(routes or ()):
        did = route.get("did") if isinstance(route, dict) else getattr(route, "did", "")
        name = route.get("name") if isinstance(route, dict) else getattr(route, "name", None)
        if isinstance(did, str) and did:
            out.append((did, str(name) if name else f"#{n + 1}"))
    return tuple(out)


def directory_of(core: "Core") -> numbers.NumberDirectory:
    extensions = frozenset(core.extension_numbers())
    queues = set(core.contact_center.queue_names())
    groups = {g["number"]: g["name"] for g in core.ring_groups.all() if g.get("number")}
    # A box under an extension's number or a queue's name is theirs; only shared boxes hold a number.
    shared = frozenset(b.number for b in core.voicemail.boxes()) - extensions - queues
    routes = route_numbers(core.flows.routes) if core.flows is not None else ()
    return numbers.NumberDirectory(extensions, groups, shared, routes)


def check_free(core: "Core", number: Any, what: str = "number") -> None:
    """Conflict naming the owner when `number` is held; a malformed number is left to its own check."""
    if isinstance(number, str) and number:
        numbers.check_free(number, directory_of(core), what)
