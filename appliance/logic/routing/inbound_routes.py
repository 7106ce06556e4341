"""Inbound routes: where calls from the outside world go.

A route maps the dialled number (DID) and the caller to an opaque destination
("extension:1001", "ring_group:sales", "flow:main").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from appliance.errors import ValidationError
from appliance.logic.flows.patterns import compile_pattern, match_route
from appliance.logic.routing.checks import is_whole_number


@dataclass(frozen=True)
class InboundRoute:
    """Calls to `did` from `caller` (numbers or patterns; empty: any) go to `destination`.

    The destination is opaque here: "extension:1001", "ring_group:sales",
    "flow:main". Lower `priority` is tried first; among equals the more
    specific route wins (see appliance.logic.flows.patterns.match_route).
    """

    did: str = ""
    caller: str = ""
    destination: str = ""
    priority: int = 0


_DESTINATION_RE = re.compile(r"[a-z][a-z_]{0,31}:[^\s:]{1,64}")


def validate_inbound_route(data: Any) -> InboundRoute:
    if not isinstance(data, Mapping):
        raise ValidationError("route: must be a JSON object")
    problems = [f"{k}: unknown field" for k in sorted(set(data) - {"did", "caller", "destination", "priority"})]
    values = {}
    for key in ("did", "caller"):
        value = data.get(key, "")
        if not isinstance(value, str):
            problems.append(f"{key}: must be a number or a pattern")
            value = ""
        elif value:
            try:
                compile_pattern(value)
            except ValidationError as err:
                problems.append(f"{key}: {err}")
        values[key] = value
    destination = data.get("destination")
    if not isinstance(destination, str) or not _DESTINATION_RE.fullmatch(destination):
        problems.append("destination: must look like kind:name, e.g. extension:1001 or ring_group:sales")
    priority = data.get("priority", 0)
    if not is_whole_number(priority) or not 0 <= priority <= 1000:
        problems.append("priority: must be a whole number from 0 to 1000")
    if problems:
        raise ValidationError("; ".join(problems))
    return InboundRoute(did=values["did"], caller=values["caller"], destination=destination, priority=priority)


def select_inbound(routes: Iterable[InboundRoute], did: str, caller: str) -> str | None:
    """The destination for a call to `did` from `caller`, or None when no route takes it."""
    return match_route(routes, did, caller)
