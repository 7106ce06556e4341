"""Browser phones on the edge: what a request on a ticket-opened WebSocket may say, and the hook
where the media bridge meets their SDP. Pure: no I/O.

A WebSocket connection is opened with a ticket for one extension (browser_tickets.py): every
request on it is that extension's, proven by the connection, never by a digest or a source
address. The request must not claim to be somebody else: a REGISTER's From and To, and the From
of a request that starts something (no To tag), name that extension, or the answer is 403.
Inside a dialog (To tag) the From is the dialog's and is not checked: the connection proves who
sends it.

A browser's media is WebRTC (ICE, DTLS-SRTP: `UDP/TLS/RTP/SAVPF`); the engine speaks plain RTP.
The media bridge (appliance/webrtc/, driven by appliance/browser_media.py) rewrites the SDP both
ways, and hears from the edge when a browser's call is over. Without it (`UNCHANGED`) every
message goes on as it is.
"""

from __future__ import annotations

import re
from typing import Callable, Protocol

from appliance.errors import SipParseError
from appliance.sip.message import SipMessage, parse_name_addr

__all__ = ["FROM_ANOTHER", "identity_refusal", "BrowserMedia", "UnchangedMedia", "UNCHANGED", "carries_sdp",
           "is_webrtc_sdp", "ends_a_call"]

# The reason phrase of the 403 for a request that claims another extension.
FROM_ANOTHER = "From must be this browser phone's extension"

_WEBRTC_MEDIA = re.compile(rb"^m=[a-z]+ \d+ UDP/TLS/RTP/SAVPF ", re.MULTILINE)


def identity_refusal(req: SipMessage, extension: str) -> str | None:
    """Why `req`, sent on a connection opened for `extension`, may not go on in its name; None
    when it may. Raises SipParseError or ValueError for a From or To that does not parse."""
    if req.method == "REGISTER":
        names = (req.get("From") or "", req.get("To") or "")
    elif _has_to_tag(req):
        return None
    else:
        names = (req.get("From") or "",)
    for value in names:
        uri = parse_name_addr(value).uri
        if uri is None or (uri.user or "") != extension:
            return FROM_ANOTHER
    return None


def _has_to_tag(req: SipMessage) -> bool:
    to = req.get("To") or ""
    try:
        return bool(parse_name_addr(to).params.get("tag"))
    except SipParseError:
        return False


class BrowserMedia(Protocol):
    """Where the media bridge rewrites a browser's SDP; each calls `go_on` with the message to
    send on (at once, or later when the bridge has its answer), or never to drop it."""

    def from_browser(self, msg: SipMessage, extension: str, go_on: Callable[[SipMessage], None]) -> None:
        """A message from a browser whose body is WebRTC SDP (its INVITE, or its answer when the
        box rang it), before it is forwarded to the engine."""

    def to_browser(self, msg: SipMessage, extension: str, go_on: Callable[[SipMessage], None]) -> None:
        """A message with an SDP body on its way to a browser, before it is framed and sent."""

    def call_over(self, msg: SipMessage) -> None:
        """A BYE, a CANCEL or a final failure of an INVITE on its way to or from a browser
        (`ends_a_call`): that call's media may go (a re-INVITE's failure leaves it)."""


class UnchangedMedia:
    """Until the media bridge is plugged in: every SDP goes on as it is."""

    def from_browser(self, msg: SipMessage, extension: str, go_on: Callable[[SipMessage], None]) -> None:
        go_on(msg)

    def to_browser(self, msg: SipMessage, extension: str, go_on: Callable[[SipMessage], None]) -> None:
        go_on(msg)

    def call_over(self, msg: SipMessage) -> None:
        pass


UNCHANGED = UnchangedMedia()


def carries_sdp(msg: SipMessage) -> bool:
    """Whether the message's body is an SDP."""
    kind = (msg.get("Content-Type") or "").split(";")[0].strip().lower()
    return bool(msg.body) and kind == "application/sdp"


def is_webrtc_sdp(body: bytes) -> bool:
    """Whether an SDP offers media the WebRTC way (RFC 8827/8829: UDP/TLS/RTP/SAVPF)."""
    return _WEBRTC_MEDIA.search(body.replace(b"\r\n", b"\n")) is not None


def ends_a_call(msg: SipMessage) -> bool:
    """A BYE, a CANCEL, or a final failure (3xx-6xx) of an INVITE."""
    if msg.is_request:
        return msg.method in ("BYE", "CANCEL")
    try:
        return msg.status >= 300 and msg.cseq[1] == "INVITE"
    except (SipParseError, ValueError):
        return False
