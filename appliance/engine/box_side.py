"""The line gateway's SIP side: its pjsua2 endpoint, the one call to or from the box, and the modem's
audio port on the conference bridge.

An INVITE from the box to ``sip:NUMBER@gateway`` and a line call offered to the box
(``sip:LINE@box``) are both one `BoxCall`, numbered by `next_ref` so that late news
about an earlier call is told apart. What happens to a call goes to the gateway
(`BoxEvents`); what the gateway decides comes back as the commands below.

Runs on the gateway's pjsua2 thread only.
"""

from __future__ import annotations

import gc
import logging
from typing import Protocol

import pjsua2 as pj

from appliance.engine import call_control, media
from appliance.engine.legs import guarded
from appliance.engine.line_calls import DIALABLE, dialled_number
from appliance.engine.modem_port import AudioRing, FrameRing, ModemPort

log = logging.getLogger("callbox.engine.gateway")

_HANGUP_GRACE_S = 1.0


class BoxEvents(Protocol):
    """What the gateway hears of the box's side."""

    def box_calls(self, call: "BoxCall", number: str) -> None: ...
    def box_answered(self, ref: int) -> None: ...
    def box_ended(self, ref: int, current: bool, status: int, reason: str) -> None: ...
    def box_dtmf(self, ref: int, digit: str) -> None: ...


class BoxCall(pj.Call):
    """The SIP side of the line's call; callbacks go to the box side (main thread)."""

    def __init__(self, side: "BoxSide", ref: int, account: pj.Account,
                 call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.side = side
        self.ref = ref

    @guarded
    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        self.side.on_call_state(self, self.getInfo())

    @guarded
    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        self.side.on_media(self)

    @guarded
    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        self.side.on_dtmf(self, prm.digit)


class BoxSide:
    """The endpoint, the current call with the box (`call`) and the modem's port on the bridge."""

    def __init__(self, name: str, bind: str, sip_port: int, box: str, events: BoxEvents,
                 from_line: AudioRing, to_line: FrameRing, log_level: int = 1):
        self.name = name
        self.bind = bind
        self.events = events
        self.box_host = box.split(":", 1)[1] if box.startswith("sip:") else box
        self.ep, self.sip_port = media.start_endpoint(bind, sip_port, log_level=log_level)
        self.account: pj.Account | None = media.local_account(name, bind, self.sip_port, self._on_incoming)
        self.port: ModemPort | None = ModemPort(from_line, to_line).open(f"modem-{name}")
        self.call: BoxCall | None = None
        self._last_ref = 0
        self._joined = False
        self._joined_to: pj.AudioMedia | None = None

    def next_ref(self) -> int:
        self._last_ref += 1
        return self._last_ref

    def take(self, call: BoxCall) -> None:
        """The box's INVITE is the line's call now."""
        self.call = call

    # --- pjsua callbacks (inside libHandleEvents) --------------------------------------------

    def _on_incoming(self, prm: pj.OnIncomingCallParam) -> None:
        call = BoxCall(self, self.next_ref(), self.account, prm.callId)
        first_line = prm.rdata.wholeMsg.split("\n", 1)[0]
        number = dialled_number(first_line) or dialled_number(call.getInfo().localUri)
        self.events.box_calls(call, number)

    def on_call_state(self, call: BoxCall, info: pj.CallInfo) -> None:
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.events.box_answered(call.ref)
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            current = call is self.call
            if current:
                # Let go now: pjsua reuses call ids, and a stale Call deleted later
                # would hang up whichever new call took its id.
                self.call = None
                self._joined_to = None
            self.events.box_ended(call.ref, current, info.lastStatusCode, info.lastReason)

    def on_media(self, call: BoxCall) -> None:
        if call is self.call:
            self._wire()

    def on_dtmf(self, call: BoxCall, digit: str) -> None:
        self.events.box_dtmf(call.ref, digit)

    # --- what the gateway carries out -----------------------------------------------------------

    def invite(self, ref: int, caller: str, name: str) -> None:
        """Offer the line's call to the box: From the caller's number, To the line's name."""
        call = BoxCall(self, ref, self.account)
        prm = pj.CallOpParam(True)
        user = caller if caller and DIALABLE.match(caller) else "anonymous"
        name = name.replace('"', "").replace("\\", "")
        prm.txOption.localUri = f'"{name}" <sip:{user}@{self.bind}:{self.sip_port}>' \
            if name else f"<sip:{user}@{self.bind}:{self.sip_port}>"
        self.call = call
        try:
            call.makeCall(f"sip:{self.name}@{self.box_host}", prm)
        except pj.Error:
            self.call = None
            raise

    def respond(self, status: int) -> None:
        if self.call is not None:
            call_control.respond(self.call, status)

    def refuse(self, ref: int, status: int, reason: str, candidate: BoxCall | None = None) -> None:
        """A final error response to the box's INVITE `ref` (the one just in, or the current one)."""
        call = candidate if candidate is not None and candidate.ref == ref else self.call
        if call is not None and call.ref == ref:
            self._end(call, status, reason)

    def hang_up(self) -> None:
        if self.call is not None:
            self._end(self.call, 0, "")

    def send_digit(self, digit: str) -> None:
        if self.call is None:
            return
        try:
            self.call.dialDtmf(digit)  # RFC 4733, when the box offered telephone-event
        except pj.Error:
            call_control.send_digits(self.call, digit, "info")

    def join(self) -> None:
        self._joined = True
        self._wire()

    def split(self) -> None:
        self._joined = False
        if self._joined_to is not None and self.port is not None:
            try:
                self.port.stopTransmit(self._joined_to)
                self._joined_to.stopTransmit(self.port)
            except pj.Error:
                pass  # the call's port went with the call
        self._joined_to = None

    def _end(self, call: BoxCall, status: int, reason: str) -> None:
        try:
            call_control.end(call, status, reason)
        except pj.Error as e:
            log.debug("hangup of call %s: %s", call.ref, e.reason)

    def _wire(self) -> None:
        """Join the modem port and the call's audio both ways, again after a
        re-INVITE, which may give the call a new conference slot."""
        if not self._joined or self.call is None or self.port is None:
            return
        call_media = media.audio_of(self.call)
        if call_media is None:
            return
        self.port.startTransmit(call_media)
        call_media.startTransmit(self.port)
        self._joined_to = call_media

    # --- the loop -----------------------------------------------------------------------------

    def handle_events(self, ms: int) -> None:
        self.ep.libHandleEvents(ms)

    def end_calls(self) -> None:
        """Hang up and wait a moment for the box to hear it."""
        media.hang_up_all(self.ep, lambda: self.call is not None, _HANGUP_GRACE_S)

    def close(self) -> None:
        """Take the endpoint down (its calls ended first)."""
        self.split()
        self.call = None
        self.port = None
        gc.collect()
        media.stop_endpoint(self.ep, self.account)
        self.account = None
