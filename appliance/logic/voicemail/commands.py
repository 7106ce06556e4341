"""What the voicemail machines ask for, the events they take, and their base.

The caller hears and is recorded through the house's media vocabulary (`appliance.logic.media`):
`Play` (a playlist of this module's audio items: prompts, greetings, messages, the take, with
the turn it belongs to), `Record` / `StopRecord` of the take, `StartTimer` of a turn, `Hangup`,
all on the caller's leg. What happens to the box (a message kept, heard, deleted, a greeting, a
PIN) is voicemail's own and declared here. `appliance.logic.handlers.voicemail_call` plays the
playlists, names the take's file and carries out the box's changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from appliance.logic.machine import Machine as TableMachine
from appliance.logic.media import Hangup, Play, Record, StartTimer, StopRecord
from appliance.logic.voicemail.boxes import GreetingKind

TIMER = "voicemail"  # the mailbox has one timer at a time: a new one replaces the old
TAKE = ""  # the file a mailbox's `Record` names: the handler gives each take its own (the store's)


# --- audio items of a playlist -------------------------------------------------------------

@dataclass(frozen=True)
class Prompt:
    """A system prompt by name (vm-goodbye, ...); args fill in numbers."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GreetingAudio:
    box: str
    kind: GreetingKind


@dataclass(frozen=True)
class MessageAudio:
    box: str
    message_id: str
    number: int  # announced before it: "message 3"


@dataclass(frozen=True)
class TakeAudio:
    """The recording just made on this call (a greeting under review)."""


Audio = Prompt | GreetingAudio | MessageAudio | TakeAudio


# --- voicemail's own commands: the take, the login, changes to a box -----------------------

@dataclass(frozen=True)
class SaveRecording:
    """Keep the take as a new message in the box."""

    box: str
    caller: str
    caller_name: str
    duration_s: float


@dataclass(frozen=True)
class DiscardRecording:
    pass


@dataclass(frozen=True)
class StartLogin:
    """Hand the call to the access menu of `box` (the caller pressed * during the greeting)."""

    box: str


@dataclass(frozen=True)
class MarkHeard:
    box: str
    message_id: str


@dataclass(frozen=True)
class SaveMessage:
    box: str
    message_id: str


@dataclass(frozen=True)
class DeleteMessage:
    box: str
    message_id: str


@dataclass(frozen=True)
class CallBack:
    """Connect the owner to the person who left the message."""

    number: str


@dataclass(frozen=True)
class SaveGreeting:
    box: str
    kind: GreetingKind


@dataclass(frozen=True)
class DeleteGreeting:
    box: str
    kind: GreetingKind


@dataclass(frozen=True)
class ChangePin:
    box: str
    pin_hash: str


Command = (Play | Record | StopRecord | StartTimer | Hangup | SaveRecording | DiscardRecording | StartLogin
           | MarkHeard | SaveMessage | DeleteMessage | CallBack | SaveGreeting | DeleteGreeting
           | ChangePin)


class Event(StrEnum):
    """What the core reports; internal decisions use the same words where they fit."""

    START = "start"
    BOX_FULL = "box_full"
    PLAY_DONE = "play_done"
    DIGIT = "digit"
    HANGUP = "hangup"
    TIMEOUT = "timeout"
    # decisions a machine takes on a digit or a timeout
    SKIP = "skip"
    LOGIN = "login"
    KEEP = "keep"
    TOO_SHORT = "too_short"
    LOCKED = "locked"
    NO_BOX = "no_box"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    GIVE_UP = "give_up"
    BOX_ENTERED = "box_entered"
    NEW_MESSAGES = "new_messages"
    OLD_MESSAGES = "old_messages"
    MAIN_MENU = "main_menu"
    OPTIONS = "options"
    ADVANCED = "advanced"
    BACK = "back"
    CALL_BACK = "call_back"
    RECORD_GREETING = "record_greeting"
    TEMP_OPTIONS = "temp_options"
    REVIEW = "review"
    REDO = "redo"
    DONE = "done"
    CHANGE_PIN = "change_pin"
    PIN_ENTERED = "pin_entered"
    EXIT = "exit"


class Machine:
    """The base of the two voicemail machines: its table is a `logic.machine.Machine` (`MACHINE`),
    whose `fire` is the one place `state` changes; this adds the caller's leg, which every media
    command names (the handler gives it when the call is answered), and the turns of prompts and
    timers."""

    name = "voicemail"
    MACHINE: TableMachine[Any, Event]

    def __init__(self, who: str, clock: Callable[[], float], initial: Any, leg: str = ""):
        self.who = who
        self.clock = clock
        self.state = initial
        self.leg = leg
        self.turn = 0

    @property
    def id(self) -> str:
        return self.who

    def _go(self, event: Event) -> None:
        self.MACHINE.fire(self, event)

    def _play(self, first: Audio, *then: Audio) -> Play:
        self.turn += 1
        return Play(self.leg, first, then=then, turn=self.turn)

    def _timer(self, after_s: float) -> StartTimer:
        self.turn += 1
        return StartTimer(TIMER, after_s, turn=self.turn)

    def _record(self, max_s: float) -> Record:
        return Record(self.leg, TAKE, max_s)

    def _stop_recording(self) -> StopRecord:
        return StopRecord(self.leg)

    def _hangup(self) -> Hangup:
        return Hangup(self.leg)

    def _stale(self, turn: int | None) -> bool:
        return turn is not None and turn != self.turn
