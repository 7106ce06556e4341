"""Click-to-dial: the box rings the extension's own phone first, then dials the number it asked for.

One table over the call's states; the handler takes what the engine reported about its two
legs (the extension's phone, the far party) and returns media commands, and the call record
when the call is over.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from appliance.logic.calls import Disposition
from appliance.logic.dial_targets import Target
from appliance.logic.machine import Machine
from appliance.logic.media import Bridge, Dial, Hangup, WriteRecord
from appliance.logic.records import call_record

OUTCOME = "CLICK_TO_DIAL"
OWN_RING_S = 30.0  # how long the extension's own phone rings
FAR_RING_S = 60.0  # how long the number asked for rings


class ClickToDialState(StrEnum):
    NEW = "NEW"
    RINGING_OWN = "RINGING_OWN"  # the extension's phone rings
    DIALING_FAR = "DIALING_FAR"  # the extension answered: the number rings
    TALKING = "TALKING"
    ENDED = "ENDED"


class ClickToDialEvent(StrEnum):
    BEGIN = "begin"
    OWN_ANSWERED = "own_answered"
    FAR_ANSWERED = "far_answered"
    OWN_HUNG_UP = "own_hung_up"
    FAR_HUNG_UP = "far_hung_up"


S, E = ClickToDialState, ClickToDialEvent
TABLE: dict[ClickToDialState, dict[ClickToDialEvent, ClickToDialState]] = {
    S.NEW: {E.BEGIN: S.RINGING_OWN},
    S.RINGING_OWN: {E.OWN_ANSWERED: S.DIALING_FAR, E.OWN_HUNG_UP: S.ENDED},
    S.DIALING_FAR: {E.FAR_ANSWERED: S.TALKING, E.OWN_HUNG_UP: S.ENDED, E.FAR_HUNG_UP: S.ENDED},
    S.TALKING: {E.OWN_HUNG_UP: S.ENDED, E.FAR_HUNG_UP: S.ENDED},
    # The leg hung up by the box reports its end too: nothing is left to do.
    S.ENDED: {E.OWN_HUNG_UP: S.ENDED, E.FAR_HUNG_UP: S.ENDED},
}
MACHINE: Machine[ClickToDialState, ClickToDialEvent] = Machine(
    "click-to-dial", "click-to-dial %s", "state", TABLE, "callbox.outbound_calls")


@dataclass(eq=False)
class ClickToDial:
    """One click-to-dial call in one worker: its two legs, its times, its state."""

    id: str  # the call id
    ext: str
    destination: Target  # where the extension asked to be connected: a phone, or out through a trunk
    worker: str
    clock: Callable[[], float]
    state: ClickToDialState = S.NEW
    start: float = 0.0
    answer_time: float | None = None

    def __post_init__(self) -> None:
        self.start = self.clock()
        self.own_leg = f"{self.id}.o"
        self.far_leg = f"{self.id}.f"

    def begin(self, contact: str) -> list[Any]:
        """Ring the extension's phone at `contact`, showing the number it is about to call."""
        MACHINE.fire(self, E.BEGIN)
        return [Dial(self.own_leg, contact, {"number": self.destination.number, "name": "click-to-dial"},
                     OWN_RING_S)]

    def leg_answered(self, leg: str) -> list[Any]:
        if leg == self.own_leg and self.state is S.RINGING_OWN:
            MACHINE.fire(self, E.OWN_ANSWERED)
            return [Dial(self.far_leg, self.destination.uri, {"number": self.ext, "name": ""}, FAR_RING_S,
                         self.destination.auth or None)]
        if leg == self.far_leg:
            MACHINE.fire(self, E.FAR_ANSWERED)
            self.answer_time = self.clock()
            return [Bridge(self.own_leg, self.far_leg)]
        MACHINE.fire(self, E.OWN_ANSWERED)  # the extension's phone answered twice: refused by the table
        return []

    def leg_hung_up(self, leg: str) -> list[Any]:
        own = leg == self.own_leg
        was = self.state
        MACHINE.fire(self, E.OWN_HUNG_UP if own else E.FAR_HUNG_UP)
        if was is S.ENDED:
            return []
        out: list[Any] = []
        if own and was is not S.RINGING_OWN:
            out.append(Hangup(self.far_leg))
        elif not own:
            out.append(Hangup(self.own_leg))
        return out + [WriteRecord(self.record(by="caller" if own else "callee"))]

    def record(self, by: str) -> dict[str, Any]:
        answered = self.answer_time is not None
        return call_record(
            call_id=self.id, start=self.start, answer=self.answer_time, end=self.clock(),
            talk_from=self.answer_time,
            disposition=Disposition.ANSWERED if answered else Disposition.NO_ANSWER,
            direction="outbound" if self.destination.trunk else "internal",
            caller=self.ext, callee=self.destination.number,
            answered_by=self.destination.number if answered else None, hangup_by=by,
            trunk=self.destination.trunk, worker=self.worker, outcome=OUTCOME)
