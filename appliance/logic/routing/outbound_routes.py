"""Outbound routes: which trunks a dialled number leaves through, in failover order.

Routes are tried in order; the first whose pattern matches wins, and its
trunks are tried in order (failover) while the failure is the trunk's fault
(`fails_over`), not the callee's.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from appliance.directory import ClassOfService
from appliance.errors import ValidationError
from appliance.logic.flows.patterns import compile_pattern, number_matches
from appliance.logic.routing.checks import NAME_RE, is_whole_number


@dataclass(frozen=True)
class OutboundRoute:
    """Numbers matching `patterns` leave through `trunks`, tried in order.

    Patterns are Asterisk's (X Z N [1-5] . !), with or without the leading _.
    The number sent to the trunk drops `strip` digits from the front and gains
    `prefix`. `cos_required` raises the bar above what the number's class needs.
    `from_trunks` names trunks whose incoming calls may be sent out again here
    (trunk-to-trunk); empty, as it should almost always be, forbids it.
    """

    name: str
    patterns: tuple[str, ...]
    trunks: tuple[str, ...]
    strip: int = 0
    prefix: str = ""
    cos_required: ClassOfService | None = None
    from_trunks: tuple[str, ...] = ()

    def matches(self, number: str) -> bool:
        return any(number_matches(_as_pattern(p), number) for p in self.patterns)


@dataclass(frozen=True)
class RouteMatch:
    route: OutboundRoute
    dial_number: str
    trunks: tuple[str, ...]


_PATTERN_LETTERS = set("XZNxzn[].!")


def _as_pattern(text: str) -> str:
    """Asterisk dialplan syntax: people type outbound patterns without the leading _."""
    if text.startswith("_") or not (set(text) & _PATTERN_LETTERS):
        return text
    return "_" + text


def validate_outbound_route(data: Any, trunk_names: Collection[str] | None = None) -> OutboundRoute:
    """An OutboundRoute from a client's dict; with `trunk_names`, every trunk must exist."""
    if not isinstance(data, Mapping):
        raise ValidationError("route: must be a JSON object")
    problems: list[str] = []
    known = {"name", "patterns", "trunks", "strip", "prefix", "cos_required", "from_trunks"}
    problems += [f"{k}: unknown field" for k in sorted(set(data) - known)]
    name = data.get("name")
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        problems.append("name: must be 1 to 32 letters, digits, - or _")
    patterns = data.get("patterns")
    if not isinstance(patterns, (list, tuple)) or not patterns:
        problems.append("patterns: must be a non-empty list of numbers or patterns")
        patterns = []
    for p in patterns:
        try:
            if not isinstance(p, str):
                raise ValidationError("must be text")
            compile_pattern(_as_pattern(p))
        except ValidationError as err:
            problems.append(f"patterns: {p!r}: {err}")
    trunks = data.get("trunks")
    if not isinstance(trunks, (list, tuple)) or not trunks or not all(isinstance(t, str) for t in trunks):
        problems.append("trunks: must be a non-empty list of trunk names, in failover order")
        trunks = []
    elif len(set(trunks)) != len(trunks):
        problems.append("trunks: a trunk is listed twice")
    from_trunks = data.get("from_trunks", [])
    if not isinstance(from_trunks, (list, tuple)) or not all(isinstance(t, str) for t in from_trunks):
        problems.append("from_trunks: must be a list of trunk names")
        from_trunks = []
    if trunk_names is not None:
        for t in [*trunks, *from_trunks]:
            if t not in trunk_names:
                problems.append(f"trunks: no trunk is named {t!r}")
    strip = data.get("strip", 0)
    if not is_whole_number(strip) or not 0 <= strip <= 20:
        problems.append("strip: must be a whole number of digits from 0 to 20")
    prefix = data.get("prefix", "")
    if not isinstance(prefix, str) or (prefix and not re.fullmatch(r"\+?[0-9*#]{0,20}", prefix)):
        problems.append("prefix: must be digits (optionally a leading +)")
    cos = data.get("cos_required")
    if cos is not None:
        try:
            cos = ClassOfService(cos)
        except ValueError:
            problems.append(f"cos_required: must be one of {', '.join(c.value for c in ClassOfService)}")
    if problems:
        raise ValidationError("; ".join(problems))
    return OutboundRoute(name=name, patterns=tuple(patterns), trunks=tuple(trunks), strip=strip,
                         prefix=prefix, cos_required=cos, from_trunks=tuple(from_trunks))


def select_outbound(routes: Iterable[OutboundRoute], number: str) -> RouteMatch | None:
    """The first route, in the order given, whose patterns match `number`."""
    for route in routes:
        if route.matches(number):
            return RouteMatch(route, route.prefix + number[route.strip:], tuple(route.trunks))
    return None


def next_trunk(match: RouteMatch, failed: Collection[str]) -> str | None:
    """The next trunk to try: the first of the route's trunks not in `failed`.

    Pass disabled or full trunks in `failed` as well; they are skipped alike.
    """
    for name in match.trunks:
        if name not in failed:
            return name
    return None


# The trunk (or the provider behind it) failed, not the callee: another trunk
# may well get through. 4xx and 6xx answers come from the far end (busy,
# declined, no such number, temporarily unavailable) and another trunk would
# only ring the same refusal again, or ring a busy person twice.
FAILOVER_STATUSES = frozenset({408, *range(500, 600)})


def fails_over(status: int | None) -> bool:
    """Whether a failed attempt should be retried on the next trunk.

    `status` is the final SIP status, or None when there was no answer at all
    (transport error, connection refused, transaction timeout).
    """
    return status is None or status in FAILOVER_STATUSES
