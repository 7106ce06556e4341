"""Keep-alives and OPTIONS pings: how phones and NAT boxes learn that the edge is there.

Over UDP, NAT keep-alives (a CRLF pair, a lone CRLF, four zero bytes) are dropped unread; over TCP
the framer skips CRLF keep-alives between messages (RFC 5626 §3.5.1). An OPTIONS addressed to the
box itself is answered at once with what the box speaks; an OPTIONS for a user is that user's
business and is forwarded like any other request. Pure: no I/O.
"""

from __future__ import annotations

from appliance.errors import SipParseError
from appliance.sip.message import SipMessage, parse_uri

__all__ = ["ALLOW", "NAT_KEEPALIVES", "PING_ANSWER_HEADERS", "is_nat_keepalive", "is_ping_for_the_box"]

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, REFER, NOTIFY, SUBSCRIBE, INFO, MESSAGE, UPDATE, PRACK"
# What phones and NAT boxes send over UDP to keep a binding open: not messages.
NAT_KEEPALIVES = (b"\r\n\r\n", b"\r\n", b"\x00\x00\x00\x00")
# The headers of the 200 that answers an OPTIONS ping for the box.
PING_ANSWER_HEADERS = (("Allow", ALLOW), ("Accept", "application/sdp"), ("Supported", "replaces, timer"))


def is_nat_keepalive(datagram: bytes) -> bool:
    return datagram in NAT_KEEPALIVES


def is_ping_for_the_box(req: SipMessage) -> bool:
    """An OPTIONS whose Request-URI names no user is for the box (answered here); one for a user
    goes to that user (forwarded)."""
    if req.method != "OPTIONS":
        return False
    try:
        return not parse_uri(req.uri or "").user
    except SipParseError:
        return True
