"""Trunks and routing: who may call out where, through which trunk, and where
calls from the outside world go.

Pure: no I/O, no DNS. Whoever resolves a provider's host name passes the
addresses in. The rules, in the words docs/trunks.md uses:

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

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from appliance.directory import ClassOfService
from appliance.errors import ValidationError
from appliance.logic.flows.patterns import compile_pattern, match_route, number_matches

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


# --------------------------------------------------------------------------
# Numbering plans and class of service


class NumberClass(StrEnum):
    """What kind of number was dialled, as the class-of-service rules see it."""

    EMERGENCY = "emergency"
    INTERNAL = "internal"
    LOCAL = "local"
    NATIONAL = "national"
    INTERNATIONAL = "international"
    PREMIUM = "premium"


# Every number any supported country uses for emergencies. Dialling a foreign
# one costs nothing, and refusing a real one could cost a life.
DEFAULT_EMERGENCY = ("112", "997", "998", "999", "911", "110", "119", "120", "122")
# Satellite and international networks: priced like premium lines and the
# favourite destinations of toll fraud.
_COSTLY_NETWORKS = ("+881", "+882", "+883")


@dataclass(frozen=True)
class NumberingPlan:
    """How people in one country dial.

    `premium_prefixes` are prefixes of national numbers (as dialled after the
    national prefix) that cost extra; an entry starting with + names foreign
    numbers (e.g. "+882", "+883", the international networks toll fraud loves).
    `area_code` (optional) makes national numbers in the box's own area LOCAL;
    `local_lengths` are the lengths of subscriber numbers dialled without an
    area code (China: 7 and 8 digits; Poland dials all 9 digits, so none).
    Numbers of `extension_lengths` dialled without a prefix are INTERNAL.
    """

    name: str = "Poland"
    country_code: str = "48"
    national_prefix: str = "0"
    international_prefix: str = "00"
    emergency: tuple[str, ...] = DEFAULT_EMERGENCY
    premium_prefixes: tuple[str, ...] = ("70", *_COSTLY_NETWORKS)
    area_code: str = ""
    local_lengths: tuple[int, ...] = ()
    extension_lengths: tuple[int, ...] = (3, 4)


POLAND = NumberingPlan()
CHINA = NumberingPlan(
    name="China", country_code="86", national_prefix="0", international_prefix="00",
    emergency=("110", "119", "120", "122", "112"), premium_prefixes=("168", *_COSTLY_NETWORKS),
    local_lengths=(7, 8))
PLANS = {"PL": POLAND, "CN": CHINA}

_DIAL_CHARS = re.compile(r"\+?[0-9*#]+")
_SEPARATORS = str.maketrans("", "", " -.()/")


def _normalise(number: Any) -> str:
    if not isinstance(number, str):
        raise ValidationError("number: must be a string")
    n = number.translate(_SEPARATORS)
    if not n or len(n) > 32 or not _DIAL_CHARS.fullmatch(n):
        raise ValidationError(f"number: {number!r} is not a dialable number")
    return n


def classify(number: str, plan: NumberingPlan | None = None, *,
             extensions: Collection[str] | None = None, **plan_fields: Any) -> NumberClass:
    """The class of a dialled number under `plan` (Poland unless given).

    Plan fields may also be given by keyword (`country_code="86"`), which
    replace the plan's. With `extensions`, INTERNAL means one of those numbers
    rather than a number of extension length. Raises ValidationError when the
    number is not dialable at all.
    """
    plan = plan or POLAND
    if plan_fields:
        plan = dataclasses.replace(plan, **plan_fields)
    n = _normalise(number)
    if n in plan.emergency:
        return NumberClass.EMERGENCY
    if "*" in n or "#" in n:
        # Feature codes (*97 voicemail, #8 pickup) never leave the box.
        return NumberClass.INTERNAL
    intl = plan.international_prefix
    if n.startswith("+") or (intl and n.startswith(intl)):
        rest = n[1:] if n.startswith("+") else n[len(intl):]
        if rest.startswith(plan.country_code):
            return _national(plan, rest[len(plan.country_code):])
        if any(p.startswith("+") and ("+" + rest).startswith(p) for p in plan.premium_prefixes):
            return NumberClass.PREMIUM
        return NumberClass.INTERNATIONAL
    national = plan.national_prefix
    if national and n.startswith(national) and len(n) > len(national):
        return _national(plan, n[len(national):])
    if extensions is not None:
        if n in extensions:
            return NumberClass.INTERNAL
    elif len(n) in plan.extension_lengths:
        return NumberClass.INTERNAL
    if len(n) in plan.local_lengths and not _premium(plan, n):
        return NumberClass.LOCAL
    # Whatever else was dialled without a prefix is a national number (Polish
    # nine-digit numbers, Chinese mobiles) or a national short code; treating
    # unknown shapes as national keeps them off the cheapest rung.
    return _national(plan, n)


def _premium(plan: NumberingPlan, national_number: str) -> bool:
    return any(not p.startswith("+") and national_number.startswith(p) for p in plan.premium_prefixes)


def _national(plan: NumberingPlan, national_number: str) -> NumberClass:
    if _premium(plan, national_number):
        return NumberClass.PREMIUM
    if plan.area_code and national_number.startswith(plan.area_code):
        return NumberClass.LOCAL
    return NumberClass.NATIONAL


_LADDER = {
    ClassOfService.INTERNAL: 0, ClassOfService.LOCAL: 1,
    ClassOfService.NATIONAL: 2, ClassOfService.INTERNATIONAL: 3,
}
# The rung a number class needs; premium sits with international on purpose:
# a premium call can cost as much as an intercontinental one.
_NEEDS = {
    NumberClass.INTERNAL: ClassOfService.INTERNAL, NumberClass.LOCAL: ClassOfService.LOCAL,
    NumberClass.NATIONAL: ClassOfService.NATIONAL, NumberClass.INTERNATIONAL: ClassOfService.INTERNATIONAL,
    NumberClass.PREMIUM: ClassOfService.INTERNATIONAL,
}


def permitted(ext_cos: ClassOfService | str, number_class: NumberClass | str) -> bool:
    """Whether an extension with class of service `ext_cos` may dial a number of `number_class`."""
    number_class = NumberClass(number_class)
    if number_class is NumberClass.EMERGENCY:
        return True
    return _LADDER[ClassOfService(ext_cos)] >= _LADDER[_NEEDS[number_class]]


# --------------------------------------------------------------------------
# Trunks


class TrunkKind(StrEnum):
    REGISTER = "register"  # a SIP provider the box registers to with digest auth
    PEER = "peer"          # a gateway that sends from known addresses, no registration


@dataclass(frozen=True)
class Trunk:
    name: str
    kind: TrunkKind
    host: str
    port: int = 5060
    transport: str = "udp"
    username: str = ""
    auth_user: str = ""
    secret: str = ""
    realm: str | None = None
    from_domain: str | None = None
    register: bool = False
    register_expires: int = 300
    peer_networks: tuple[str, ...] = ()
    dids: tuple[str, ...] = ()
    caller_id_number: str = ""
    max_channels: int = 0  # 0: no limit of our own
    enabled: bool = True

    @property
    def domain(self) -> str:
        """The domain of our address at the provider (From/To of a REGISTER)."""
        return self.from_domain or self.host

    @property
    def networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The networks calls from this trunk come from: peer_networks, else the host if it is an address."""
        if self.peer_networks:
            return tuple(ipaddress.ip_network(n, strict=False) for n in self.peer_networks)
        if _ip(self.host) is not None:
            return (ipaddress.ip_network(self.host),)
        return ()


TRUNK_FIELDS = {f.name for f in dataclasses.fields(Trunk)}
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_HOST_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*")
_NUMBER_RE = re.compile(r"\+?[0-9]{1,20}")
_USER_RE = re.compile(r"[A-Za-z0-9_.!~*'()&=+$,;?/%-]{1,64}")
TRANSPORTS = ("udp", "tcp")
# Shorter prefixes than these would trust a good part of the internet to call
# out through the box as a trunk.
_MIN_PREFIX = {4: 8, 6: 32}


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def validate_trunk(data: Any) -> Trunk:
    """A Trunk from a client's dict; ValidationError names every bad field and why."""
    if not isinstance(data, Mapping):
        raise ValidationError("trunk: must be a JSON object")
    problems: list[str] = []

    def bad(name: str, reason: str) -> None:
        problems.append(f"{name}: {reason}")

    for unknown in sorted(set(data) - TRUNK_FIELDS):
        bad(unknown, "unknown field")
    name = data.get("name")
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        bad("name", "must be 1 to 32 letters, digits, - or _, starting with a letter or digit")
    try:
        kind = TrunkKind(data.get("kind"))
    except ValueError:
        bad("kind", "must be register or peer")
        kind = None
    host = data.get("host")
    if not isinstance(host, str) or not (_ip(host) or (len(host) <= 253 and _HOST_RE.fullmatch(host))):
        bad("host", "must be a host name or an IP address (no scheme, no port)")
        host = ""
    port = data.get("port", 5060)
    if not _is_int(port) or not 1 <= port <= 65535:
        bad("port", "must be a whole number from 1 to 65535")
    transport = data.get("transport", "udp")
    if transport not in TRANSPORTS:
        bad("transport", f"must be one of {', '.join(TRANSPORTS)}")
    texts = {}
    for key in ("username", "auth_user", "secret", "realm", "from_domain", "caller_id_number"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            bad(key, "must be text")
            value = None
        texts[key] = value or ""
    for key in ("username", "auth_user"):
        if texts[key] and not _USER_RE.fullmatch(texts[key]):
            bad(key, "must be 1 to 64 characters allowed in a SIP user name")
    if texts["secret"] and (len(texts["secret"]) > 128 or not texts["secret"].isprintable()
                            or any(c in texts["secret"] for c in '"\\')):
        bad("secret", "must be printable, at most 128 characters, without quotes or backslashes")
    if texts["realm"] and any(c in texts["realm"] for c in '"\\\r\n'):
        bad("realm", "must not contain quotes, backslashes or line breaks")
    if texts["from_domain"] and not _HOST_RE.fullmatch(texts["from_domain"]) and not _ip(texts["from_domain"]):
        bad("from_domain", "must be a domain name or an IP address")
    if texts["caller_id_number"] and not _NUMBER_RE.fullmatch(texts["caller_id_number"]):
        bad("caller_id_number", "must be digits, optionally with a leading +")

    register = data.get("register", kind is TrunkKind.REGISTER)
    if not isinstance(register, bool):
        bad("register", "must be true or false")
    elif kind is TrunkKind.PEER and register:
        bad("register", "a peer trunk does not register; use kind register")
    elif kind is TrunkKind.REGISTER and register:
        if not texts["username"]:
            bad("username", "is required for a trunk that registers")
        if not texts["secret"]:
            bad("secret", "is required for a trunk that registers")
    expires = data.get("register_expires", 300)
    if not _is_int(expires) or not 60 <= expires <= 86400:
        bad("register_expires", "must be a whole number of seconds from 60 to 86400")

    networks = data.get("peer_networks", [])
    if not isinstance(networks, (list, tuple)):
        bad("peer_networks", "must be a list of networks (CIDR)")
        networks = []
    for net in networks:
        try:
            parsed = ipaddress.ip_network(net, strict=False)
        except (TypeError, ValueError):
            bad("peer_networks", f"{net!r} is not a network such as 192.168.1.20/32")
            continue
        if parsed.prefixlen < _MIN_PREFIX[parsed.version]:
            bad("peer_networks", f"{net} is too wide: it would trust a large part of the internet")
    if kind is TrunkKind.PEER and not networks and host and _ip(host) is None:
        bad("peer_networks", "a peer trunk needs its address: give host as an IP address or list peer_networks")

    dids = data.get("dids", [])
    if not isinstance(dids, (list, tuple)) or not all(isinstance(d, str) and _NUMBER_RE.fullmatch(d) for d in dids):
        bad("dids", "must be a list of numbers (digits, optionally with a leading +)")
        dids = []
    channels = data.get("max_channels", 0)
    if not _is_int(channels) or not 0 <= channels <= 1000:
        bad("max_channels", "must be a whole number from 0 (no limit) to 1000")
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        bad("enabled", "must be true or false")

    if problems:
        who = f"trunk {name!r}: " if isinstance(name, str) and name else ""
        raise ValidationError(who + "; ".join(problems))
    return Trunk(
        name=name, kind=kind, host=host, port=port, transport=transport,
        username=texts["username"], auth_user=texts["auth_user"] or texts["username"],
        secret=texts["secret"], realm=texts["realm"] or None, from_domain=texts["from_domain"] or None,
        register=register, register_expires=expires, peer_networks=tuple(networks),
        dids=tuple(dids), caller_id_number=texts["caller_id_number"],
        max_channels=channels, enabled=enabled,
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------
# Outbound routes


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
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
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
    if not _is_int(strip) or not 0 <= strip <= 20:
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


# --------------------------------------------------------------------------
# Inbound routes


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
    if not _is_int(priority) or not 0 <= priority <= 1000:
        problems.append("priority: must be a whole number from 0 to 1000")
    if problems:
        raise ValidationError("; ".join(problems))
    return InboundRoute(did=values["did"], caller=values["caller"], destination=destination, priority=priority)


def select_inbound(routes: Iterable[InboundRoute], did: str, caller: str) -> str | None:
    """The destination for a call to `did` from `caller`, or None when no route takes it."""
    return match_route(routes, did, caller)


# --------------------------------------------------------------------------
# Which trunk sent a request


def identify_trunk(trunks: Iterable[Trunk], source_ip: str, source_port: int, request_user: str = "",
                   *, resolved: Mapping[str, Iterable[str]] | None = None) -> Trunk | None:
    """The trunk a request came from, or None: then it is not a trunk call and
    must authenticate like a phone.

    A peer trunk matches by its networks; a provider trunk by the addresses
    its host resolves to (`resolved`: host -> addresses, kept by the caller;
    a literal IP host needs no entry). The source port does not decide:
    providers send calls from other ports than the one we register to. When
    several trunks share the address (two accounts at one provider), the one
    whose DIDs or user name equal the Request-URI user wins, then the one
    whose port matches, then the first listed.
    """
    addr = _ip(source_ip)
    if addr is None:
        return None
    resolved = resolved or {}
    candidates: list[Trunk] = []
    for trunk in trunks:
        if not trunk.enabled:
            continue
        if trunk.kind is TrunkKind.PEER or trunk.peer_networks:
            if any(addr.version == net.version and addr in net for net in trunk.networks):
                candidates.append(trunk)
                continue
        if trunk.kind is TrunkKind.REGISTER:
            known = {trunk.host} if _ip(trunk.host) else set(resolved.get(trunk.host, ()))
            if any(_ip(a) == addr for a in known):
                candidates.append(trunk)
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    user = request_user.lstrip("+")

    def rank(trunk: Trunk) -> tuple[int, int]:
        named = any(d.lstrip("+") == user for d in trunk.dids) or (user and trunk.username == request_user)
        return (0 if named else 1, 0 if trunk.port == source_port else 1)

    return min(candidates, key=rank)


# --------------------------------------------------------------------------
# Toll fraud


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
            and _LADDER[cos] < _LADDER[ClassOfService(route.cos_required)]):
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
    match = select_outbound(routes, _normalise(number))
    if match is None:
        return OutboundDecision(DialVerdict.NO_ROUTE, number_class)
    return OutboundDecision(_verdict(caller, number_class, match.route), number_class, match)
