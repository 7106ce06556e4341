"""Where a message really came from, written on its top Via: received= (RFC 3261 §18.2.1) and
rport= (RFC 3581), so that answers find a phone behind a NAT. Pure: no I/O."""

from __future__ import annotations

from appliance.errors import SipParseError
from appliance.sip.message import SipMessage, Via, parse_via, split_header_list
from appliance.sip.source import Source

__all__ = ["stamp_via", "stamp_received", "stamp_response"]


def stamp_via(via: Via, source: Source) -> bool:
    """Add received= and fill in an empty rport= for where the message came from; whether anything changed."""
    changed = False
    if via.host != source.ip:
        via.params["received"] = source.ip
        changed = True
    if "rport" in via.params and not via.params["rport"]:
        via.params["rport"] = str(source.port)
        via.params["received"] = source.ip
        changed = True
    return changed


def stamp_received(msg: SipMessage, source: Source) -> None:
    """received= and rport= on the top Via of a request (or of a response to it)."""
    vias = msg.get_all("Via")
    if not vias:
        return
    try:
        via = parse_via(vias[0])
    except SipParseError:
        return
    if stamp_via(via, source):
        msg.remove_first("Via")
        msg.add("Via", str(via), first=True)


def stamp_response(resp: SipMessage, req: SipMessage, source: Source) -> bool:
    """stamp_received for a response of make_response(req), without parsing its Via again: the
    request's top Via was parsed with the request. False when the response is not of that shape."""
    headers = resp.headers
    top = req.get("Via")
    if not headers or headers[0] != ("Via", top):
        return False
    vias = 1
    while vias < len(headers) and headers[vias][0] == "Via":
        if "," in headers[vias][1]:
            return False  # get_all would split it, and may refuse it
        vias += 1
    if any(n.lower() == "via" for n, _ in headers[vias:]):
        return False
    try:
        via = req.top_via
    except SipParseError:
        return False
    if stamp_via(via, source):
        # As remove_first("Via") and add("Via", ..., first=True) would: the rest of a comma-joined line stays.
        items = split_header_list(top) if "," in top else ()
        rest = [("Via", ", ".join(items[1:]))] if len(items) > 1 else []
        resp.headers = [("Via", str(via)), *rest, *headers[1:]]
    return True
