"""How the box reaches a browser phone: only over its own WebSocket, through the edge. Pure.

A browser registers a Contact that never resolves (`sip:x9k2@df7jal23ls0d.invalid;transport=ws`,
RFC 7118 §5): nothing but the edge, which holds the connection, can reach it. So an engine worker
never calls a browser's Contact. It calls the edge at a *browser route*, a URI of the edge that
names one WebSocket connection:

    sip:1001@192.168.1.10:5060;cbx-ws=192.168.1.55~51234~3f9c...

and the edge puts the request on that connection with the Contact as its Request-URI. The edge
also records the same route (`Record-Route`, with `;lr`) in every dialog between a worker and a
browser, whichever side began it, so that both send what follows in the dialog (ACK, BYE, a
re-INVITE) through the edge: the worker to the route, the browser on its connection.

The route is signed with the edge's key (the one it signs engine requests with, new at every
start): nobody can make one for a connection, or for another browser's, without the key. The
edge also takes requests for a browser only from the box's own addresses (its workers), which
Linux never accepts from the LAN as a source. A route dies with its connection.
"""

from __future__ import annotations

import hashlib
import hmac

from appliance.errors import SipParseError
from appliance.sip.grammar import SipUri
from appliance.sip.message import SipMessage, parse_name_addr
from appliance.sip.source import Source

__all__ = ["PARAM", "route_value", "connection_of", "browser_route", "route_of_request", "names_edge_route"]

# The URI parameter that names a browser's connection.
PARAM = "cbx-ws"
WSS = "wss"


def _mac(key: bytes, ip: str, port: int) -> str:
    return hmac.new(key, f"browser-route|{ip}|{port}".encode(), hashlib.sha256).hexdigest()[:24]


def route_value(key: bytes, connection: Source) -> str:
    """The parameter's value for one browser connection."""
    return f"{connection.ip}~{connection.port}~{_mac(key, connection.ip, connection.port)}"


def connection_of(key: bytes, value: str) -> Source | None:
    """The browser connection a parameter value names; None when it is forged or malformed."""
    try:
        ip, port_text, mac = value.split("~")
        port = int(port_text)
    except ValueError:
        return None
    if not hmac.compare_digest(_mac(key, ip, port), mac):
        return None
    return Source(WSS, ip, port)


def browser_route(key: bytes, connection: Source, edge: str, user: str = "") -> str:
    """A URI of the edge (`host:port`) that leads to one browser's connection."""
    at = f"{user}@" if user else ""
    return f"sip:{at}{edge};{PARAM}={route_value(key, connection)}"


def route_of_request(key: bytes, req: SipMessage) -> tuple[Source, bool] | None:
    """The browser connection a request from a worker is for, and whether it named it in its
    Request-URI (a new call: the edge puts the browser's Contact there) rather than in its top
    Route (inside a dialog: the Request-URI is the browser's Contact already). None when it names
    none, or a forged one."""
    try:
        uri = req.request_uri
    except (SipParseError, ValueError):
        return None
    value = uri.params.get(PARAM)
    if value:
        found = connection_of(key, value)
        return (found, True) if found else None
    routes = req.get_all("Route")
    if not routes:
        return None
    try:
        top = parse_name_addr(routes[0]).uri
    except (SipParseError, ValueError):
        return None
    value = top.params.get(PARAM) if isinstance(top, SipUri) else None
    found = connection_of(key, value) if value else None
    return (found, False) if found else None


def names_edge_route(value: str) -> bool:
    """Whether a Route header value is one of the edge's browser routes (to be taken off)."""
    try:
        uri = parse_name_addr(value).uri
    except (SipParseError, ValueError):
        return False
    return isinstance(uri, SipUri) and PARAM in uri.params
