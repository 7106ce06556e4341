"""Trunks and routing: who may call out where, through which trunk, and where
calls from the outside world go.

Pure: no I/O, no DNS. Whoever resolves a provider's host name passes the
addresses in. The rules, in the words docs/trunks.md uses, one module each:

- A number is classified against a numbering plan (`classify`) into one
  `NumberClass`; an extension's class of service is a rung on the ladder
  internal < local < national < international, and `permitted` says whether
  the rung reaches the class. Emergency numbers are always permitted; premium
  numbers only with international.
- Outbound routes are tried in order; the first whose pattern matches wins,
  and its trunks are tried in order (failover) while the failure is the
  trunk's fault (`fails_over`), not the callee's.
- Inbound routes map the dialled number (DID) and the caller to an opaque
  destination ("extension:1001", "ring_group:sales", "flow:main").
- A request is a trunk call only when it comes from a trunk's address
  (`identify_trunk`); nothing unauthenticated ever leaves through a trunk, and
  a call that came in on a trunk leaves through another only on a route that
  names that trunk in `from_trunks` (`may_dial_out`, `plan_outbound`).
"""

from appliance.directory import ClassOfService
from appliance.logic.routing.dial_out import (
    Caller, CallerKind, DialVerdict, OutboundDecision, may_dial_out, plan_outbound)
from appliance.logic.routing.inbound_routes import InboundRoute, select_inbound, validate_inbound_route
from appliance.logic.routing.numbering import (
    CHINA, PLANS, POLAND, NumberClass, NumberingPlan, classify, permitted)
from appliance.logic.routing.outbound_routes import (
    FAILOVER_STATUSES, OutboundRoute, RouteMatch, fails_over, next_trunk, select_outbound,
    validate_outbound_route)
from appliance.logic.routing.trunks import Trunk, TrunkKind, identify_trunk, validate_trunk

__all__ = [
    "ClassOfService", "NumberClass", "NumberingPlan", "POLAND", "CHINA", "PLANS",
    "classify", "permitted",
    "Trunk", "TrunkKind", "validate_trunk",
    "OutboundRoute", "RouteMatch", "validate_outbound_route", "select_outbound", "next_trunk",
    "FAILOVER_STATUSES", "fails_over",
    "InboundRoute", "validate_inbound_route", "select_inbound",
    "identify_trunk",
    "CallerKind", "Caller", "may_dial_out", "DialVerdict", "OutboundDecision", "plan_outbound",
]
