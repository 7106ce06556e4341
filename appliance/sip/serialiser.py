"""A SIP message as bytes on the wire (RFC 3261 §7): start line, headers, Content-Length, body.

Pure: the message in, bytes out. Content-Length is always written, once, and always says the
length of the body that follows, whatever the message's headers claimed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.sip.grammar import VERSION

if TYPE_CHECKING:
    from appliance.sip.message import SipMessage

__all__ = ["serialise"]


def serialise(msg: SipMessage) -> bytes:
    """The bytes of `msg`: its start line, its headers in their order, then its body."""
    if msg.method is not None:
        lines = [f"{msg.method} {msg.uri} {VERSION}"]
    else:
        lines = [f"{VERSION} {msg.status} {msg.reason or ''}"]
    length = f"{len(msg.body)}"
    wrote_length = False
    for n, v in msg.headers:
        if n.lower() in ("content-length", "l"):
            if wrote_length:
                continue
            v = length
            wrote_length = True
        lines.append(f"{n}: {v}")
    if not wrote_length:
        lines.append(f"Content-Length: {length}")
    lines.append("\r\n")
    return "\r\n".join(lines).encode() + msg.body
