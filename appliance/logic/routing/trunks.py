"""Trunks: the SIP providers and gateways calls leave and arrive through, and
which of them sent a request.

Pure: no DNS. Whoever resolves a provider's host name passes the addresses
in. A request is a trunk call only when it comes from a trunk's address
(`identify_trunk`); anything else must authenticate like a phone.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from appliance.errors import ValidationError
from appliance.logic.routing.checks import NAME_RE, is_whole_number


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
_HOST_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*")
_NUMBER_RE = re.compile(r"\+?[0-9]{1,20}")
_USER_RE = re.compile(r"[A-Za-z0-9_.!~*'()&=+$,;?/%-]{1,64}")
TRANSPORTS = ("udp", "tcp")
# Shorter prefixes than these would trust a good part of the internet to call
# out through the box as a trunk.
_MIN_PREFIX = {4: 8, 6: 32}


# identify_trunk reads the source of every request the edge gets from outside a registration, and
# the same trunk hosts each time: the addresses, immutable, are read once.
@functools.lru_cache(maxsize=4096)
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
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
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
    if not is_whole_number(port) or not 1 <= port <= 65535:
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
    if not is_whole_number(expires) or not 60 <= expires <= 86400:
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
    if not is_whole_number(channels) or not 0 <= channels <= 1000:
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
