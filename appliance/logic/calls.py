"""One conversation through the box (a B2BUA call), as a pure state machine.

The inbound leg is the caller's phone talking to an engine worker. The call
rings one or more outbound legs (a phone's contacts, a ring group's members,
at once or in order), bridges the first that answers and ends them all when
one side hangs up. It returns commands for the engine and a call record at
the end; the core carries them out. Time comes in as events (timers).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from appliance.logic.dial_targets import Target
from appliance.errors import StateMachineError
from appliance.logic.machine import Machine
from appliance.logic.media import (MUSIC_ON_HOLD, RINGBACK, Answer, Bridge, Dial, Hangup, Play, Reject,  # noqa: F401
                                    Ringing, SendDtmf, StopPlay, Unbridge, WriteRecord)

log = logging.getLogger("callbox.calls")


class CallState(StrEnum):
    ROUTING = "ROUTING"
    RINGING = "RINGING"
    ANSWERED = "ANSWERED"
    TRANSFERRING = "TRANSFERRING"  # one party left by blind transfer; the other waits for the target
    ENDED = "ENDED"


class Disposition(StrEnum):
    """How a call ended, as call records say it (the words CDR readers expect)."""

    ANSWERED = "ANSWERED"
    NO_ANSWER = "NO ANSWER"
    BUSY = "BUSY"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class Ev(StrEnum):
    DIAL = "dial"              # routing found targets
    REFUSE = "refuse"          # routing refused the call
    ANSWERED = "answered"      # an outbound leg answered
    ALL_FAILED = "all_failed"  # every target failed or timed out
    CALLER_GONE = "caller_gone"
    CALLEE_GONE = "callee_gone"
    WORKER_LOST = "worker_lost"  # the engine worker holding every leg died
    TRANSFER = "transfer"        # a party asked to hand the other party on (REFER)
    HANDED_OVER = "handed_over"  # attended transfer: this call's callee joins another call


TRANSITIONS: dict[CallState, dict[Ev, CallState]] = {
    CallState.ROUTING: {Ev.DIAL: CallState.RINGING, Ev.REFUSE: CallState.ENDED,
                        Ev.CALLER_GONE: CallState.ENDED, Ev.WORKER_LOST: CallState.ENDED},
    CallState.RINGING: {Ev.ANSWERED: CallState.ANSWERED, Ev.ALL_FAILED: CallState.ENDED,
                        Ev.CALLER_GONE: CallState.ENDED, Ev.WORKER_LOST: CallState.ENDED},
    CallState.ANSWERED: {Ev.CALLER_GONE: CallState.ENDED, Ev.CALLEE_GONE: CallState.ENDED,
                         Ev.WORKER_LOST: CallState.ENDED, Ev.TRANSFER: CallState.TRANSFERRING,
                         Ev.HANDED_OVER: CallState.ENDED},
    CallState.TRANSFERRING: {Ev.ANSWERED: CallState.ANSWERED, Ev.ALL_FAILED: CallState.ENDED,
                             Ev.CALLER_GONE: CallState.ENDED, Ev.WORKER_LOST: CallState.ENDED},
    CallState.ENDED: {},
}


CALL: Machine[CallState, Ev] = Machine("call", "call %s", "state", TRANSITIONS, "callbox.calls", who="call_id")
# An event the table does not allow (the one error policy of every machine).
TransitionError = StateMachineError


# --- commands: the one media vocabulary (appliance.logic.media), plus what only this call asks ---

@dataclass(frozen=True)
class ResolveTransfer:
    """Ask the switchboard where a transfer target rings (it answers with call.transfer_to())."""

    target: str


Command = (Ringing | Dial | Answer | Bridge | Unbridge | Hangup | Reject | Play | StopPlay | SendDtmf
           | ResolveTransfer | WriteRecord)


@dataclass
class _Leg:
    id: str
    target: Target
    state: str = "dialling"  # dialling, ringing, answered, gone
    cause: int | None = None


@dataclass
class Call:
    call_id: str
    inbound: str
    caller: dict[str, str]          # {"number", "name"} as the callee should see them
    dialled: str
    clock: Callable[[], float]
    worker: str = ""
    direction: str = "internal"
    trunk: str | None = None
    state: CallState = CallState.ROUTING
    legs: dict[str, _Leg] = field(default_factory=dict)
    answered_leg: str | None = None
    start: float = 0.0
    answer_time: float | None = None
    hangup_by: str | None = None
    refused_status: int | None = None
    kept_leg: str | None = None       # the party that stays when the other transfers it away
    transferred_by: str | None = None
    held_by: set[str] = field(default_factory=set)
    recording: str | None = None   # the file of this conversation's recording, when it is recorded
    # The box answered the caller already: a call flow (the menu) handed them on to an extension.
    inbound_answered: bool = False
    _waves: list[list[Target]] = field(default_factory=list)
    # Whether a failed wave moves on to the next one: always for ring groups; for trunks only
    # on failures another trunk could cure (the routing rules decide).
    advance_on: Callable[[int], bool] = lambda cause: True
    _ring_timeout: float = 30.0
    _leg_seq: int = 0

    def __post_init__(self) -> None:
        self.start = self.clock()

    # --- the one place state changes ---------------------------------------------

    def _go(self, event: Ev) -> None:
        CALL.fire(self, event)

    # --- routing results -----------------------------------------------------------

    def refuse(self, status: int) -> list[Command]:
        self._go(Ev.REFUSE)
        self.refused_status = status
        return [Reject(self.inbound, status), self._record()]

    def ring(self, waves: list[list[Target]], ring_timeout_s: float) -> list[Command]:
        """Ring the targets: each wave at once, the next wave when the previous one failed."""
        waves = [w for w in waves if w]
        if not waves:
            return self.refuse(480)
        self._go(Ev.DIAL)
        self._waves = waves
        self._ring_timeout = ring_timeout_s
        return [Ringing(self.inbound)] + self._next_wave()

    def _next_wave(self) -> list[Command]:
        wave = self._waves.pop(0)
        out: list[Command] = []
        for target in wave:
            self._leg_seq += 1
            leg = f"{self.inbound}.{self._leg_seq}"
            self.legs[leg] = _Leg(leg, target)
            out.append(Dial(leg, target.uri, dict(self.caller), self._ring_timeout, target.auth))
        return out

    # --- engine events ---------------------------------------------------------------

    def on_ringing(self, leg: str) -> list[Command]:
        if leg in self.legs and self.legs[leg].state == "dialling":
            self.legs[leg].state = "ringing"
        return []

    def on_answered(self, leg: str) -> list[Command]:
        if leg == self.inbound:
            return []
        if leg not in self.legs:
            return []
        if self.state not in (CallState.RINGING, CallState.TRANSFERRING):
            # A second phone picked up a fork that lost the race: send it away.
            return [Hangup(leg)]
        transferring = self.state is CallState.TRANSFERRING
        self._go(Ev.ANSWERED)
        self.legs[leg].state = "answered"
        self.answered_leg = leg
        if transferring:
            kept = self.kept_leg or self.inbound
            out: list[Command] = [StopPlay(kept), Bridge(kept, leg)]
        else:
            self.answer_time = self.clock()
            out = [Answer(self.inbound), Bridge(self.inbound, leg)]
        out += [Hangup(other.id) for other in self.legs.values()
                if other.id != leg and other.state in ("dialling", "ringing")]
        return out

    def on_hangup(self, leg: str, cause: int, by: str) -> list[Command]:
        if leg == self.transferred_by:
            return []  # the transferring party leaving is part of the transfer
        if leg == (self.kept_leg or self.inbound):
            return self._caller_gone(by)
        if leg not in self.legs:
            return []
        lg = self.legs[leg]
        was = lg.state
        lg.state, lg.cause = "gone", cause
        if self.state is CallState.ANSWERED and leg == self.answered_leg:
            self._go(Ev.CALLEE_GONE)
            self.hangup_by = "callee"
            return [Hangup(self.kept_leg or self.inbound), self._record()]
        if self.state is CallState.TRANSFERRING and was in ("dialling", "ringing"):
            if any(other.state in ("dialling", "ringing") for other in self.legs.values()):
                return []
            self._go(Ev.ALL_FAILED)
            self.refused_status = cause
            return [Hangup(self.kept_leg or self.inbound), self._record()]
        if self.state is CallState.RINGING and was in ("dialling", "ringing"):
            if any(other.state in ("dialling", "ringing") for other in self.legs.values()):
                return []
            if self._waves and self.advance_on(cause):
                return self._next_wave()
            self._go(Ev.ALL_FAILED)
            status = self._failure_status()
            self.refused_status = status
            return [Reject(self.inbound, status), self._record()]
        return []

    def other_party(self, leg: str) -> str | None:
        """In an answered call, the leg that hears `leg`."""
        if self.state is not CallState.ANSWERED:
            return None
        a, b = self.talkers()
        return b if leg == a else a if leg == b else None

    def talkers(self) -> tuple[str, str]:
        return (self.kept_leg or self.inbound, self.answered_leg or "")

    def on_dtmf(self, leg: str, digit: str, method: str) -> list[Command]:
        """Digits are not audio: the bridge does not carry them, so they are relayed."""
        other = self.other_party(leg)
        return [SendDtmf(other, digit, method)] if other else []

    def on_held(self, leg: str) -> list[Command]:
        other = self.other_party(leg)
        if other is None or leg in self.held_by:
            return []
        self.held_by.add(leg)
        return [Unbridge(leg, other), Play(other, MUSIC_ON_HOLD, loop=True)]

    def on_unheld(self, leg: str) -> list[Command]:
        other = self.other_party(leg)
        if other is None or leg not in self.held_by:
            return []
        self.held_by.discard(leg)
        return [StopPlay(other), Bridge(leg, other)]

    def on_transfer_requested(self, leg: str, target: str) -> list[Command]:
        """Blind transfer: `leg` hands the other party to `target` and leaves."""
        other = self.other_party(leg)
        if other is None:
            return []
        self._go(Ev.TRANSFER)
        self.transferred_by = leg
        self.kept_leg = other
        self.held_by.clear()
        if leg == self.answered_leg:
            self.answered_leg = None
        return [Hangup(leg), Play(other, RINGBACK, loop=True), ResolveTransfer(target)]

    def transfer_to(self, targets: list[Target]) -> list[Command]:
        """The switchboard's answer to ResolveTransfer: ring the target's contacts."""
        if self.state is not CallState.TRANSFERRING:
            return []
        if not targets:
            self._go(Ev.ALL_FAILED)
            self.refused_status = 404
            return [Hangup(self.kept_leg), self._record()] if self.kept_leg else [self._record()]
        self._waves = [targets]
        return self._next_wave()

    def adopt(self, leg: str, extension: str | None) -> list[Command]:
        """Attended transfer: the kept party is joined with `leg`, taken over from another call."""
        if self.state is not CallState.TRANSFERRING:
            return []
        self.legs[leg] = _Leg(leg, Target("", extension), state="dialling")
        return self.on_answered(leg)

    def hand_over(self) -> tuple[str, list[Command]] | None:
        """Attended transfer, the consultation call's side: give up the callee, end the rest."""
        if self.state is not CallState.ANSWERED or not self.answered_leg:
            return None
        leg = self.answered_leg
        self._go(Ev.HANDED_OVER)
        self.transferred_by = self.inbound
        self.legs[leg].state = "gone"
        self.hangup_by = "transfer"
        return leg, [Hangup(self.inbound), self._record()]

    def _caller_gone(self, by: str) -> list[Command]:
        if self.state is CallState.ENDED:
            return []
        self._go(Ev.CALLER_GONE)
        self.hangup_by = "caller" if by == "remote" else "box"
        out: list[Command] = [Hangup(lg.id) for lg in self.legs.values() if lg.state != "gone"]
        return out + [self._record()]

    def on_worker_lost(self) -> list[Command]:
        """The worker died: its legs are gone with it; only the record is left to write."""
        if self.state is CallState.ENDED:
            return []
        self._go(Ev.WORKER_LOST)
        self.hangup_by = "box"
        self.refused_status = 500
        return [self._record()]

    def _failure_status(self) -> int:
        causes = [lg.cause for lg in self.legs.values() if lg.cause]
        if causes and all(c in (486, 600) for c in causes):
            return 486
        if any(c == 408 for c in causes) or any(c in (480, 487) for c in causes):
            return 480
        return 480 if not causes else max(set(causes), key=causes.count)

    # --- the call record -------------------------------------------------------------

    def disposition(self) -> Disposition:
        if self.answer_time is not None:
            return Disposition.ANSWERED
        if self.refused_status == 486:
            return Disposition.BUSY
        if self.hangup_by == "caller":
            return Disposition.CANCELLED
        if self.hangup_by == "box" and self.refused_status == 500:
            return Disposition.FAILED
        if self.refused_status in (408, 480) or any(lg.cause == 408 for lg in self.legs.values()):
            return Disposition.NO_ANSWER
        return Disposition.FAILED

    def _record(self) -> WriteRecord:
        end = self.clock()
        answered = self.legs.get(self.answered_leg) if self.answered_leg else None
        if answered is not None and answered.target.trunk:
            self.trunk = answered.target.trunk
        return WriteRecord({
            "call_id": self.call_id,
            "start": self.start,
            "answer": self.answer_time,
            "end": end,
            "duration_s": round(end - self.start, 3),
            "talk_s": round(end - self.answer_time, 3) if self.answer_time is not None else 0.0,
            "disposition": self.disposition().value,
            "direction": self.direction,
            "caller": self.caller.get("number", ""),
            "caller_name": self.caller.get("name", ""),
            "callee": self.dialled,
            "answered_by": answered.target.extension if answered else None,
            "hangup_by": self.hangup_by,
            "status": self.refused_status,
            "trunk": self.trunk,
            "worker": self.worker,
            "transferred": self.transferred_by is not None,
            "legs": [{"leg": self.inbound, "role": "caller"}] +
                    [{"leg": lg.id, "role": "callee", "uri": lg.target.uri, "extension": lg.target.extension,
                      "cause": lg.cause} for lg in self.legs.values()],
        })
