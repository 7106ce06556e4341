"""Browser phones' calls through the media bridge: the edge's `BrowserMedia` (sip/browser_phones.py).

The edge hands over every SDP on its way to or from a browser phone; this rewrites it so that
the browser sees WebRTC (ICE, DTLS-SRTP) and the engine worker sees plain RTP, the media bridge
process carrying the audio between them (docs/browser-phone.md, "How a call flows"):

- a browser calls (its INVITE): the bridge takes the browser's offer and gives the engine a plain
  one; the engine's answer (18x or 200) goes to the bridge, the browser gets the bridge's answer;
- the box rings a browser (a worker's INVITE through the edge): the bridge takes the engine's
  offer and gives the browser a WebRTC one; the browser's answer gives the engine its answer;
- a BYE, a CANCEL or a failed set-up (`call_over`) hangs the bridge's call up.

A call's SDP is negotiated once per side. A later offer (a re-INVITE from either side: hold)
gets the SDP the box gave the other side before, with only its direction (`a=sendonly`...) and
version changed: the bridge goes on carrying whatever comes, which is all that hold needs.

Retransmissions (UDP from a worker; 2xx from a browser) are dropped while the bridge is still
working on the first copy, and get the same rewritten SDP after. When the bridge cannot help (not
running, or it refuses the SDP), the message goes on unchanged and the far side refuses it (488):
a call fails, never hangs. Bridge calls are named by the SIP Call-ID.

Runs on the core's loop; the bridge is reached through `bridge()`, the running BridgeClient (or
None), so that a restarted bridge process is used at once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Protocol

from appliance.errors import SipParseError
from appliance.sip.message import SipMessage
from appliance.webrtc.errors import MediaBridgeError

__all__ = ["Bridge", "BridgedMedia", "direction_of", "with_direction"]

log = logging.getLogger("callbox.browser_media")

DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
_DIRECTION = re.compile(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", re.MULTILINE)
_ORIGIN = re.compile(r"^(o=\S+ \S+ )(\d+)( .*)$", re.MULTILINE)
_SETUP = re.compile(r"^a=setup:(\w+)\s*$", re.MULTILINE)
_OTHER_ROLE = {"active": "passive", "passive": "active"}


class Bridge(Protocol):
    """What of the media bridge (appliance/webrtc/client.py, BridgeClient) the calls use."""

    async def browser_calls(self, call: str, offer: str) -> tuple[str, str]: ...
    async def engine_answers(self, call: str, answer: str) -> None: ...
    async def ring_browser(self, call: str, engine_offer: str) -> str: ...
    async def browser_answers(self, call: str, answer: str) -> str: ...
    async def hang_up(self, call: str) -> None: ...


@dataclass
class BridgedCall:
    """One browser call: who began it, and the SDP the box gave each side."""

    call_id: str
    extension: str          # the browser phone's: another browser's messages never touch this call
    setup_cseq: int
    browser_began: bool
    to_browser: str = ""    # the SDP the box gave the browser (its answer, or its offer)
    to_engine: str = ""     # the SDP the box gave the engine
    offered: bool = False   # the bridge made the offer's other half
    answered: bool = False  # the bridge took the answer
    busy: bool = False      # the bridge is working on this call's set-up
    bridge_role: str = ""   # the bridge's DTLS role (RFC 5763 a=setup) once the browser answered its offer


def direction_of(sdp: str) -> str:
    """The media direction an SDP asks for (sendrecv when it says none)."""
    found = _DIRECTION.search(sdp.replace("\r\n", "\n"))
    return found.group(1) if found else "sendrecv"


def with_direction(sdp: str, direction: str, role: str = "") -> str:
    """`sdp` with every direction attribute set to `direction` and its version one higher (RFC
    3264 §8: a changed SDP says so); with `role`, its `a=setup` too (an offer's `actpass` sent
    again as an answer must name the DTLS role the call has)."""
    if direction not in DIRECTIONS:
        direction = "sendrecv"
    lines = sdp.replace("\r\n", "\n").rstrip("\n").split("\n")
    out, placed = [], False
    for line in lines:
        if _DIRECTION.match(line):
            line = f"a={direction}"
            placed = True
        elif role and line.startswith("a=setup:"):
            line = f"a=setup:{role}"
        out.append(line)
    if not placed:
        out.append(f"a={direction}")
    text = "\r\n".join(out) + "\r\n"
    return _ORIGIN.sub(lambda m: f"{m.group(1)}{int(m.group(2)) + 1}{m.group(3)}", text, count=1)


class BridgedMedia:
    """The edge's BrowserMedia on top of the media bridge process."""

    def __init__(self, bridge: Callable[[], Bridge | None], media_ended: Callable[[str], None] = lambda call_id: None,
                 spawn: Callable[[Awaitable[Any]], Any] = asyncio.ensure_future):
        """`media_ended(call_id)`: the bridge ended a call by itself (the browser went away, or the
        process stopped): its SIP call must end too (the edge says BYE in the browser's name)."""
        self.bridge = bridge
        self.media_ended = media_ended
        self.spawn = spawn
        self.calls: dict[str, BridgedCall] = {}

    # --- the edge's hook ---------------------------------------------------------------------

    def from_browser(self, msg: SipMessage, extension: str, go_on: Callable[[SipMessage], None]) -> None:
        self._pass(msg, extension, go_on, from_browser=True)

    def to_browser(self, msg: SipMessage, extension: str, go_on: Callable[[SipMessage], None]) -> None:
        self._pass(msg, extension, go_on, from_browser=False)

    def call_over(self, msg: SipMessage) -> None:
        call = self.calls.get(msg.call_id or "")
        if call is None:
            return
        if msg.is_request:
            if msg.method == "CANCEL" and call.answered:
                return  # too late: the call goes on until its BYE
        elif _cseq(msg) != call.setup_cseq:
            return  # a refused re-INVITE: the call goes on
        self.forget(call.call_id, "hang up")

    def bridge_ended(self, call_id: str, reason: str) -> None:
        """The bridge ended a call by itself (the browser went away, the process stopped)."""
        if self.calls.pop(call_id, None) is not None:
            log.info("browser call %s: media ended (%s)", call_id, reason)
        self.media_ended(call_id)

    def forget(self, call_id: str, why: str) -> None:
        if self.calls.pop(call_id, None) is None:
            return
        bridge = self.bridge()
        if bridge is not None:
            self.spawn(self._hang_up(bridge, call_id, why))

    # --- what each message becomes -----------------------------------------------------------

    def _pass(self, msg: SipMessage, extension: str, go_on: Callable[[SipMessage], None], *,
              from_browser: bool) -> None:
        cseq = _cseq(msg)
        call = self.calls.get(msg.call_id or "")
        if call is not None and call.extension != extension:
            go_on(msg)  # another extension's Call-ID: none of this call's business
            return
        if msg.is_request and msg.method == "INVITE":
            if call is None:
                self._set_up(msg, extension, go_on, cseq, browser_began=from_browser)
            elif cseq == call.setup_cseq and from_browser == call.browser_began:
                self._again(call, msg, go_on, call.offered, from_browser)
            else:
                self._direction_only(call, msg, go_on, from_browser)
            return
        if msg.is_request or call is None:
            go_on(msg)  # nothing the bridge made (a plain SDP both sides understand, or a stray one)
            return
        # A response: to the set-up when it comes from the side that did not begin the call.
        if cseq != call.setup_cseq or call.browser_began == from_browser:
            self._direction_only(call, msg, go_on, from_browser)
        elif call.answered:
            self._again(call, msg, go_on, True, from_browser)
        elif not call.busy:
            self._answer(call, msg, go_on, from_browser)
        # else: the bridge is taking the first copy of this answer; a retransmission comes again

    def _set_up(self, msg: SipMessage, extension: str, go_on: Callable[[SipMessage], None], cseq: int, *,
                browser_began: bool) -> None:
        bridge = self.bridge()
        if bridge is None:
            log.warning("browser call %s: the media bridge is not running", msg.call_id)
            go_on(msg)
            return
        call = BridgedCall(msg.call_id or "", extension, cseq, browser_began, busy=True)
        self.calls[call.call_id] = call
        self.spawn(self._offer(bridge, call, msg, go_on))

    async def _offer(self, bridge: Bridge, call: BridgedCall, msg: SipMessage,
                     go_on: Callable[[SipMessage], None]) -> None:
        sdp = msg.body.decode("utf-8", "replace")
        try:
            if call.browser_began:
                call.to_browser, call.to_engine = await bridge.browser_calls(call.call_id, sdp)
            else:
                call.to_browser = await bridge.ring_browser(call.call_id, sdp)
        except Exception as e:  # a refusal (MediaBridgeError) or anything else: the call must not hang
            if self.calls.get(call.call_id) is not call:
                return  # hung up meanwhile (the set-up failed for that): nothing goes on
            log.warning("browser call %s: the media bridge refused the offer: %s", call.call_id, e)
            del self.calls[call.call_id]
            go_on(msg)
            return
        call.busy, call.offered = False, True
        if self.calls.get(call.call_id) is not call:
            return  # hung up meanwhile
        msg.body = (call.to_engine if call.browser_began else call.to_browser).encode()
        go_on(msg)

    def _answer(self, call: BridgedCall, msg: SipMessage, go_on: Callable[[SipMessage], None],
                from_browser: bool) -> None:
        bridge = self.bridge()
        if bridge is None:
            go_on(msg)
            return
        call.busy = True
        self.spawn(self._take_answer(bridge, call, msg, go_on, from_browser))

    async def _take_answer(self, bridge: Bridge, call: BridgedCall, msg: SipMessage,
                           go_on: Callable[[SipMessage], None], from_browser: bool) -> None:
        sdp = msg.body.decode("utf-8", "replace")
        try:
            if from_browser:
                call.to_engine = await bridge.browser_answers(call.call_id, sdp)
                browser_role = _SETUP.search(sdp.replace("\r\n", "\n"))
                call.bridge_role = _OTHER_ROLE.get(browser_role.group(1) if browser_role else "", "")
            else:
                await bridge.engine_answers(call.call_id, sdp)
        except Exception as e:  # as for the offer
            log.warning("browser call %s: the media bridge refused the answer: %s", call.call_id, e)
            call.busy = False
            go_on(msg)
            return
        call.busy, call.answered = False, True
        msg.body = (call.to_engine if from_browser else call.to_browser).encode()
        go_on(msg)

    def _again(self, call: BridgedCall, msg: SipMessage, go_on: Callable[[SipMessage], None], ready: bool,
               from_browser: bool) -> None:
        """A retransmission: the same rewritten SDP as the first copy, or nothing while it is made."""
        if not ready or call.busy:
            return
        msg.body = (call.to_engine if from_browser else call.to_browser).encode()
        go_on(msg)

    def _direction_only(self, call: BridgedCall, msg: SipMessage, go_on: Callable[[SipMessage], None],
                        from_browser: bool) -> None:
        """A later offer or answer (hold, resume): the other side's SDP as before, in its direction."""
        if not call.answered:
            go_on(msg)
            return
        direction = direction_of(msg.body.decode("utf-8", "replace"))
        if from_browser:
            call.to_engine = with_direction(call.to_engine, direction)
            msg.body = call.to_engine.encode()
        else:
            # The bridge's offer, when it answers the browser's re-offer, takes the role it has.
            role = call.bridge_role if not msg.is_request and not call.browser_began else ""
            call.to_browser = with_direction(call.to_browser, direction, role)
            msg.body = call.to_browser.encode()
        go_on(msg)

    async def _hang_up(self, bridge: Bridge, call_id: str, why: str) -> None:
        try:
            await bridge.hang_up(call_id)
        except MediaBridgeError as e:
            log.debug("browser call %s: %s: %s", call_id, why, e)


def _cseq(msg: SipMessage) -> int:
    try:
        return msg.cseq[0]
    except (SipParseError, ValueError):
        return -1
