"""A registration's Contact points at the phone that registered.

The box calls a registered contact from its own trusted address, so a Contact
naming a gateway that trusts the box would make the box dial for whoever
registered it. The Contact's host must be the REGISTER's source address,
written as an IP address, and not a trunk, a line gateway, the box's own SIP
socket, or a multicast address; no `maddr` elsewhere and no URI headers.
Behind a NAT a phone whose Contact names its private address from the NAT's
public one is refused too (for now; an admin-allowed host per extension may
come). Pure: the edge passes in how to recognise the box and the trunks.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Callable

from appliance.errors import SipParseError
from appliance.sip.grammar import parse_uri
from appliance.sip.source import Source

__all__ = [
    "LINE_GATEWAYS", "CONTACT_ELSEWHERE", "CONTACT_IS_THE_BOX", "CONTACT_IS_A_TRUNK", "CONTACT_IS_A_LINE",
    "CONTACT_NOT_UNICAST", "CONTACT_WITH_HEADERS", "contact_refusal",
]

# The loopback network the line gateways listen on (127.0.1.n, appliance/lines_runtime.py).
LINE_GATEWAYS = ipaddress.ip_network("127.0.1.0/24")
_BROADCAST = ipaddress.ip_address("255.255.255.255")

# Reason phrases of the 403 for a Contact that may not be bound.
CONTACT_ELSEWHERE = "Contact must point at this phone"
CONTACT_IS_THE_BOX = "Contact must not be the box itself"
CONTACT_IS_A_TRUNK = "Contact must not be a trunk"
CONTACT_IS_A_LINE = "Contact must not be a line gateway"
CONTACT_NOT_UNICAST = "Contact must not be multicast or broadcast"
CONTACT_WITH_HEADERS = "Contact must not carry headers"


# Every REGISTER asks about its Contact's host and its source address, and phones send the same
# ones again and again: reading an address with ipaddress costs more than the rest of the check.
@functools.lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address (IPv4-mapped IPv6 as IPv4), or None for a host name."""
    try:
        ip = ipaddress.ip_address(text[1:-1] if text.startswith("[") else text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def contact_refusal(
    uri: str,
    source: Source,
    *,
    is_own: Callable[[str, int], bool] = lambda ip, port: False,
    is_trunk: Callable[[str, int], bool] = lambda ip, port: False,
) -> str | None:
    """Why a REGISTER from `source` may not bind `uri`, or None when it may.

    `is_own(ip, port)`: whether that is the box's own SIP socket; `is_trunk(ip, port)`: whether a
    trunk (a provider or a gateway that trusts the box by its address) is there.
    """
    try:
        parsed = parse_uri(uri)
    except SipParseError:
        return CONTACT_ELSEWHERE
    if parsed.scheme not in ("sip", "sips"):
        return CONTACT_ELSEWHERE
    if parsed.headers:
        # Headers in a URI the box dials become headers of its INVITE (a Route, say).
        return CONTACT_WITH_HEADERS
    host = _address(parsed.host)
    if host is None:
        if source.transport == "wss" and _reached_over_its_websocket(parsed):
            return None
        return CONTACT_ELSEWHERE  # a name could resolve anywhere
    if host.is_multicast or host.is_unspecified or host == _BROADCAST or \
            (isinstance(host, ipaddress.IPv4Address) and host.is_reserved):
        return CONTACT_NOT_UNICAST
    if host.version == 4 and host in LINE_GATEWAYS:
        return CONTACT_IS_A_LINE
    maddr = parsed.params.get("maddr")
    if host != _address(source.ip) or (maddr is not None and _address(maddr) != host):
        return CONTACT_ELSEWHERE
    port = parsed.port or (5061 if parsed.scheme == "sips" else 5060)
    if is_own(str(host), port):
        return CONTACT_IS_THE_BOX
    if is_trunk(str(host), port):
        return CONTACT_IS_A_TRUNK
    return None


def _reached_over_its_websocket(parsed) -> bool:
    """A browser phone's Contact (RFC 7118 §5): a name under `.invalid`, which never resolves
    (RFC 6761), with transport=ws or wss and no maddr: the box can reach it only over the
    WebSocket it registered on, never at a host of somebody's choosing."""
    transport = (parsed.params.get("transport") or "").lower()
    return parsed.host.lower().rstrip(".").endswith(".invalid") and transport in ("ws", "wss") \
        and "maddr" not in parsed.params
