"""Who may dial out: the toll-fraud rules, and everything decided before a call leaves.

Nothing unauthenticated ever leaves through a trunk, an extension reaches only
the numbers its class of service permits (emergency always), and a call that
came in on a trunk leaves through another only on a route that names that
trunk in `from_trunks` (`may_dial_out`, `plan_outbound`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from appliance.directory import ClassOfService
from appliance.logic.routing.numbering import (
    NumberClass, NumberingPlan, classify, normalise_number, permitted, reaches)
from appliance.logic.routing.outbound_routes import OutboundRoute, RouteMatch, select_outbound


class CallerKind(StrEnum):
    EXTENSION = "extension"  # a phone of ours, authenticated by digest
    TRUNK = "trunk"          # a call that came in on a trunk
    UNKNOWN = "unknown"      # anything else: never dials out


@dataclass(frozen=True)
class Caller:
    """Who wants to dial out: the edge fills it from what it verified, never from headers."""

    kind: CallerKind
    name: str = ""
    authenticated: bool = False
    cos: ClassOfService = ClassOfService.INTERNAL


class DialVerdict(StrEnum):
    """Why an outbound call was allowed or refused; written into logs and call records."""

    ALLOWED = "ALLOWED"
    NOT_AUTHENTICATED = "NOT_AUTHENTICATED"
    COS_TOO_LOW = "COS_TOO_LOW"
    ROUTE_COS = "ROUTE_COS"
    TRUNK_TO_TRUNK = "TRUNK_TO_TRUNK"
    NO_ROUTE = "NO_ROUTE"
    INTERNAL = "INTERNAL"


def _verdict(caller: Caller, number_class: NumberClass | None, route: OutboundRoute | None) -> DialVerdict:
    if not caller.authenticated or caller.kind is CallerKind.UNKNOWN:
        return DialVerdict.NOT_AUTHENTICATED
    if caller.kind is CallerKind.TRUNK:
        if route is None or caller.name not in route.from_trunks:
            return DialVerdict.TRUNK_TO_TRUNK
        # Even a permitted forward never reaches premium numbers: that is the fraud's payday.
        return DialVerdict.COS_TOO_LOW if number_class is NumberClass.PREMIUM else DialVerdict.ALLOWED
    cos = ClassOfService(caller.cos)
    if number_class is None:
        # Asked without a number: may this extension reach a trunk at all?
        return DialVerdict.ALLOWED if cos is not ClassOfService.INTERNAL else DialVerdict.COS_TOO_LOW
    if not permitted(cos, number_class):
        return DialVerdict.COS_TOO_LOW
    if (route is not None and route.cos_required is not None and number_class is not NumberClass.EMERGENCY
            and not reaches(cos, route.cos_required)):
        return DialVerdict.ROUTE_COS
    return DialVerdict.ALLOWED


def may_dial_out(caller: Caller, number_class: NumberClass | str | None = None,
                 route: OutboundRoute | None = None) -> bool:
    """Whether `caller` may reach a trunk (for a number of `number_class`, through `route`).

    Only authenticated extensions whose class of service permits the number
    (emergency always), and calls from a trunk only on a route that names
    that trunk in `from_trunks` (and never to premium numbers). Unauthenticated
    callers never do.
    """
    return _verdict(caller, NumberClass(number_class) if number_class else None, route) is DialVerdict.ALLOWED


@dataclass(frozen=True)
class OutboundDecision:
    verdict: DialVerdict
    number_class: NumberClass | None = None
    match: RouteMatch | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict is DialVerdict.ALLOWED


def plan_outbound(caller: Caller, number: str, routes: Iterable[OutboundRoute],
                  plan: NumberingPlan | None = None, *,
                  extensions: Collection[str] | None = None) -> OutboundDecision:
    """Everything the box decides before a call leaves: the number's class,
    the route, and whether this caller may use it.

    Internal numbers never go to a trunk (verdict INTERNAL). ValidationError
    when the number is not dialable.
    """
    number_class = classify(number, plan, extensions=extensions)
    if not caller.authenticated or caller.kind is CallerKind.UNKNOWN:
        return OutboundDecision(DialVerdict.NOT_AUTHENTICATED, number_class)
    if number_class is NumberClass.INTERNAL:
        return OutboundDecision(DialVerdict.INTERNAL, number_class)
    match = select_outbound(routes, normalise_number(number))
    if match is None:
        return OutboundDecision(DialVerdict.NO_ROUTE, number_class)
    return OutboundDecision(_verdict(caller, number_class, match.route), number_class, match)
