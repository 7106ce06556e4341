"""A call the voicemail takes: a caller leaving a message, or a box owner at the phone menu.

The mailbox machines (`appliance.logic.voicemail`: `Deposit`, `Access`) decide what the caller
hears and what happens to messages, in the media vocabulary (`appliance.logic.media`) on the
caller's leg plus voicemail's own commands. This handler holds the call around them: it plays
their playlists one file at a time and keeps the turn of what plays and of the running timer,
names each take's file, and returns media commands plus the mailbox changes to carry out
(`FileMessage`, `DiscardTake`, `KeepGreeting` and the machines' own `MarkHeard`, `SaveMessage`,
`DeleteMessage`, `ChangePin`, `DeleteGreeting`, `CallBack`), and the call record at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from appliance.logic import voicemail as vm
from appliance.logic.calls import Disposition
from appliance.logic.machine import Machine
from appliance.logic.media import CancelTimer, Play, Record, StartTimer, WriteRecord
from appliance.logic.records import call_record
from appliance.logic.voicemail import TIMER


class VoicemailOutcome(StrEnum):
    """What the call record says the voicemail call was."""

    VOICEMAIL = "VOICEMAIL"  # a caller sent to a box to leave a message
    VOICEMAIL_LOGIN = "VOICEMAIL_LOGIN"  # ... who pressed * and logged into the box
    VOICEMAIL_ACCESS = "VOICEMAIL_ACCESS"  # an owner who dialled the voicemail menu


class VoicemailCallState(StrEnum):
    NEW = "NEW"
    LEAVING_MESSAGE = "LEAVING_MESSAGE"
    AT_MENU = "AT_MENU"
    ENDED = "ENDED"


class VoicemailCallEvent(StrEnum):
    LEAVE_MESSAGE = "leave_message"  # answered for a caller sent to a box
    OPEN_MENU = "open_menu"  # answered for an owner at the menu
    LOGIN = "login"  # * during the greeting: the owner's own menu
    DIGIT = "digit"
    PLAY_DONE = "play_done"
    TIMER = "timer"
    HANGUP = "hangup"


S, E = VoicemailCallState, VoicemailCallEvent
_TALKING = {E.DIGIT, E.PLAY_DONE, E.TIMER}
TABLE: dict[VoicemailCallState, dict[VoicemailCallEvent, VoicemailCallState]] = {
    S.NEW: {E.LEAVE_MESSAGE: S.LEAVING_MESSAGE, E.OPEN_MENU: S.AT_MENU, E.HANGUP: S.ENDED},
    S.LEAVING_MESSAGE: {**{e: S.LEAVING_MESSAGE for e in _TALKING}, E.LOGIN: S.AT_MENU, E.HANGUP: S.ENDED},
    S.AT_MENU: {**{e: S.AT_MENU for e in _TALKING}, E.HANGUP: S.ENDED},
    # What the engine still reports about a leg that is gone changes nothing.
    S.ENDED: {**{e: S.ENDED for e in _TALKING}, E.HANGUP: S.ENDED},
}
MACHINE: Machine[VoicemailCallState, VoicemailCallEvent] = Machine(
    "voicemail call", "voicemail call %s", "state", TABLE, "callbox.voicemail")


# --- mailbox changes that need this call's recording (the take) ----------------------------

@dataclass(frozen=True)
class FileMessage:
    """File the take as a new message in `box`, once the worker has closed the WAV."""

    box: str
    take: str
    caller: str
    caller_name: str


@dataclass(frozen=True)
class DiscardTake:
    take: str


@dataclass(frozen=True)
class KeepGreeting:
    box: str
    kind: vm.GreetingKind
    take: str


@dataclass(eq=False)
class VoicemailCall:
    """The caller's leg in one worker, driven by a `Deposit` or an `Access` mailbox machine.

    Ports: `audio_file(item)` finds the file of a prompt, greeting or message (None: missing);
    `take_path(box, greeting)` names a new recording (a message for `box`, or a greeting its owner
    is recording); `open_menu(box)` builds the owner's `Access` menu
    when a caller logs in from the greeting.
    """

    id: str  # the call id
    leg: str
    caller: str
    caller_name: str
    callee: str  # the box the caller was sent to ("" at the menu)
    worker: str
    clock: Callable[[], float]
    mailbox: vm.Deposit | vm.Access
    audio_file: Callable[[vm.Audio], str | None]
    take_path: Callable[[str, bool], str]
    open_menu: Callable[[str], vm.Access]
    outcome: str = VoicemailOutcome.VOICEMAIL  # or the queue's result of a caller sent here from a queue
    state: VoicemailCallState = S.NEW
    start: float = 0.0
    take: str | None = None  # the WAV being recorded
    playlist: list[str] = field(default_factory=list)
    turn: int = 0  # the turn of what plays now
    timer_turn: int = 0  # the turn the running timer belongs to

    def __post_init__(self) -> None:
        self.start = self.clock()

    # --- events ---------------------------------------------------------------------------

    def begin(self) -> list[Any]:
        """The caller's leg is answered: the mailbox speaks first."""
        MACHINE.fire(self, E.LEAVE_MESSAGE if isinstance(self.mailbox, vm.Deposit) else E.OPEN_MENU)
        self.mailbox.leg = self.leg  # the mailbox speaks to the caller's leg
        return self._carry_out(self.mailbox.start())

    def digit(self, d: str) -> list[Any]:
        if MACHINE.fire(self, E.DIGIT) is S.ENDED:
            return []
        return self._carry_out(self.mailbox.digit(d))

    def play_done(self) -> list[Any]:
        if MACHINE.fire(self, E.PLAY_DONE) is S.ENDED:
            return []
        if self.playlist:
            return [Play(self.leg, self.playlist.pop(0))]
        return self._carry_out(self.mailbox.play_done(self.turn))

    def timer(self, name: str = TIMER) -> list[Any]:
        if MACHINE.fire(self, E.TIMER) is S.ENDED:
            return []
        return self._carry_out(self.mailbox.timeout(self.timer_turn))

    def hung_up(self) -> list[Any]:
        was = self.state
        MACHINE.fire(self, E.HANGUP)
        if was is S.ENDED:
            return []
        # What the mailbox does at the end (keep the message) runs before the record is written.
        out: list[Any] = [CancelTimer(TIMER)] + self._carry_out(self.mailbox.hangup())
        return out + [WriteRecord(self.record())]

    # --- the mailbox's commands -------------------------------------------------------------

    def _carry_out(self, commands: list[Any]) -> list[Any]:
        out: list[Any] = []
        nothing_to_play: int | None = None
        for c in commands:
            if isinstance(c, Play):
                self.turn = c.turn
                files = [f for f in (self._file(item) for item in c.playlist) if f]
                self.playlist = files[1:]
                if files:
                    out.append(Play(c.leg, files[0]))
                    nothing_to_play = None
                else:
                    nothing_to_play = c.turn  # as if it had played, once the rest is done
            elif isinstance(c, Record) and c.path == vm.TAKE:
                # Each take has its own file, named by the store beside a note that recovers it
                # after a power loss.
                if isinstance(self.mailbox, vm.Deposit):
                    self.take = self.take_path(self.mailbox.box.number, False)
                else:  # the owner records a greeting in their own box
                    self.take = self.take_path(self.mailbox.box_number or "", True)
                out.append(replace(c, path=self.take))
            elif isinstance(c, StartTimer):
                self.timer_turn = c.turn
                out.append(c)
            elif isinstance(c, vm.SaveRecording):
                if self.take:
                    out.append(FileMessage(c.box, self.take, c.caller, c.caller_name))
            elif isinstance(c, vm.DiscardRecording):
                if self.take:
                    out.append(DiscardTake(self.take))
            elif isinstance(c, vm.SaveGreeting):
                if self.take:
                    out.append(KeepGreeting(c.box, c.kind, self.take))
            elif isinstance(c, vm.StartLogin):
                MACHINE.fire(self, E.LOGIN)
                self.mailbox = self.open_menu(c.box)
                self.mailbox.leg = self.leg
                self.outcome = VoicemailOutcome.VOICEMAIL_LOGIN
                out += self._carry_out(self.mailbox.start())
            else:  # StopRecord, Hangup; MarkHeard, SaveMessage, DeleteMessage, ChangePin, DeleteGreeting, CallBack
                out.append(c)
        if nothing_to_play is not None:
            out += self._carry_out(self.mailbox.play_done(nothing_to_play))
        return out

    def _file(self, item: vm.Audio) -> str | None:
        if isinstance(item, vm.TakeAudio):
            return self.take
        return self.audio_file(item)

    def record(self) -> dict[str, Any]:
        return call_record(
            call_id=self.id, start=self.start, answer=self.start, end=self.clock(), talk_from=None,
            disposition=Disposition.ANSWERED, direction="internal", caller=self.caller,
            caller_name=self.caller_name, callee=self.callee, answered_by="voicemail", hangup_by="caller",
            worker=self.worker, trunk=None, outcome=str(self.outcome))
