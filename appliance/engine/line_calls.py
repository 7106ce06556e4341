"""The one call a modem line carries, as a state table: what the line gateway decides.

Pure: no pjsua2, no modem. `LineCalls` is told what the line and the box did
(`line_rings`, `box_answers`, ...) and answers with commands for the gateway to
carry out (`InviteBox`, `AnswerLine`, `JoinAudio`, ...). Late news from a modem
or the network (an end after our own hang-up) is ignored, never an error: it
must not stop the gateway.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from enum import StrEnum

from appliance.errors import StateMachineError
from appliance.logic.machine import Machine

log = logging.getLogger("callbox.engine.gateway")


class CallState(StrEnum):
    IDLE = "idle"
    OFFERING = "offering"      # the line rings; the box has our INVITE
    ANSWERING = "answering"    # the box answered; the modem is picking up
    DIALING = "dialing"        # the box called out; the modem dials
    TALKING = "talking"


class CallEvent(StrEnum):
    LINE_RINGS = "line_rings"
    BOX_CALLS = "box_calls"
    BOX_ANSWERS = "box_answers"
    LINE_ANSWERS = "line_answers"
    LINE_ENDS = "line_ends"
    BOX_ENDS = "box_ends"
    LINE_DTMF = "line_dtmf"
    BOX_DTMF = "box_dtmf"


C, CE = CallState, CallEvent
TRANSITIONS: dict[CallState, dict[CallEvent, CallState]] = {
    C.IDLE: {CE.LINE_RINGS: C.OFFERING, CE.BOX_CALLS: C.DIALING},
    C.OFFERING: {CE.BOX_ANSWERS: C.ANSWERING, CE.LINE_ENDS: C.IDLE, CE.BOX_ENDS: C.IDLE},
    C.ANSWERING: {CE.LINE_ANSWERS: C.TALKING, CE.LINE_ENDS: C.IDLE, CE.BOX_ENDS: C.IDLE},
    C.DIALING: {CE.LINE_ANSWERS: C.TALKING, CE.LINE_ENDS: C.IDLE, CE.BOX_ENDS: C.IDLE},
    C.TALKING: {CE.LINE_ENDS: C.IDLE, CE.BOX_ENDS: C.IDLE, CE.LINE_DTMF: C.TALKING,
                CE.BOX_DTMF: C.TALKING},
}


@dataclass(frozen=True)
class InviteBox:
    caller: str
    name: str = ""


@dataclass(frozen=True)
class RingBox:
    pass


@dataclass(frozen=True)
class AnswerBox:
    pass


@dataclass(frozen=True)
class RefuseBox:
    """A final error response to the box's INVITE `ref` (which may not be the current call)."""
    ref: int
    status: int
    reason: str


@dataclass(frozen=True)
class HangUpBox:
    cause: str


@dataclass(frozen=True)
class AnswerLine:
    pass


@dataclass(frozen=True)
class DialLine:
    number: str


@dataclass(frozen=True)
class HangUpLine:
    pass


@dataclass(frozen=True)
class JoinAudio:
    pass


@dataclass(frozen=True)
class SplitAudio:
    pass


@dataclass(frozen=True)
class DtmfToLine:
    digit: str


@dataclass(frozen=True)
class DtmfToBox:
    digit: str


GatewayCommand = (InviteBox | RingBox | AnswerBox | RefuseBox | HangUpBox | AnswerLine
                  | DialLine | HangUpLine | JoinAudio | SplitAudio | DtmfToLine | DtmfToBox)

# Why a dialled call failed, in SIP words (RFC 3261 §21).
REFUSALS: dict[str, tuple[int, str]] = {
    "busy": (486, "Busy Here"),
    "no_answer": (480, "No Answer"),
    "remote_hangup": (480, "Temporarily Unavailable"),
    "missed": (480, "Temporarily Unavailable"),
    "no_dialtone": (503, "No Dial Tone"),
    "dial_failed": (503, "Dial Failed"),
    "modem_gone": (503, "Modem Unplugged"),
    "modem_not_responding": (503, "Modem Not Responding"),
}
# A number the modem may dial, and the only caller number put in a From as it is.
DIALABLE = re.compile(r"^\+?[0-9*#]{1,40}$")


LINE_CALL: Machine[CallState, CallEvent] = Machine("line call", "%s", "state", TRANSITIONS,
                                                   "callbox.engine.gateway", who="name")


class GatewayCalls:
    """The one call a modem line carries, as a state table. Pure: it is told what
    the line and the box did and answers with commands for the gateway to carry out."""

    def __init__(self, name: str = "line"):
        self.name = name
        self.state = CallState.IDLE
        self.ref: int | None = None     # the box-side call this call belongs to
        self.number = ""
        self.direction = ""

    def _move(self, event: CallEvent) -> bool:
        try:
            new = LINE_CALL.fire(self, event)
        except StateMachineError:
            # Late news from a modem or the network (an end after our own hang-up)
            # must not stop the gateway.
            log.debug("%s: ignoring %s in %s", self.name, event, self.state)
            return False
        if new == C.IDLE:
            self.ref = None
        return True

    def line_rings(self, number: str, name: str, ref: int) -> list[GatewayCommand]:
        if not self._move(CE.LINE_RINGS):
            return []
        self.ref, self.number, self.direction = ref, number, "in"
        return [InviteBox(number, name)]

    def box_calls(self, number: str, ref: int, line_ready: bool) -> list[GatewayCommand]:
        if self.state != C.IDLE:
            return [RefuseBox(ref, 486, "Line Busy")]
        if not line_ready:
            return [RefuseBox(ref, 503, "Line Not Ready")]
        if not DIALABLE.match(number):
            return [RefuseBox(ref, 484, "Address Incomplete")]
        self._move(CE.BOX_CALLS)
        self.ref, self.number, self.direction = ref, number, "out"
        return [DialLine(number), RingBox()]

    def box_answers(self, ref: int) -> list[GatewayCommand]:
        if ref != self.ref or not self._move(CE.BOX_ANSWERS):
            return []
        return [AnswerLine()]

    def line_answers(self) -> list[GatewayCommand]:
        was = self.state
        if not self._move(CE.LINE_ANSWERS):
            return []
        return [AnswerBox(), JoinAudio()] if was == C.DIALING else [JoinAudio()]

    def line_ends(self, cause: str) -> list[GatewayCommand]:
        was, ref = self.state, self.ref
        if not self._move(CE.LINE_ENDS):
            return []
        if was == C.DIALING and ref is not None:
            status, reason = REFUSALS.get(cause, (503, "Line Failed"))
            return [RefuseBox(ref, status, reason)]
        return [SplitAudio(), HangUpBox(cause)]

    def box_ends(self, ref: int) -> list[GatewayCommand]:
        if ref != self.ref or not self._move(CE.BOX_ENDS):
            return []
        return [SplitAudio(), HangUpLine()]

    def box_dtmf(self, ref: int, digit: str) -> list[GatewayCommand]:
        if ref != self.ref or not self._move(CE.BOX_DTMF):
            return []
        return [DtmfToLine(digit)]

    def line_dtmf(self, digit: str) -> list[GatewayCommand]:
        if not self._move(CE.LINE_DTMF):
            return []
        return [DtmfToBox(digit)]


def dialled_number(request_line_or_uri: str) -> str:
    """The user part of the INVITE's Request-URI: `INVITE sip:0612@gw SIP/2.0` -> `0612`."""
    m = re.search(r"sips?:([^@;>\s]+)@", request_line_or_uri)
    if not m:
        return ""
    return re.sub(r"%2[Bb]", "+", m.group(1)).replace("-", "").replace(" ", "")
