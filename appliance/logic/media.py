"""The one media vocabulary: what a call handler asks the engine to do with its legs.

Every call machine of the domain (the extension-to-extension call, the calls the box answers
itself, voicemail, callbacks, click-to-dial) returns these commands; one executor on the
runtime side carries them out over the engine protocol (`appliance.engine.protocol`). A leg is
named by the handler; prompts are names (`appliance.prompts` finds the file), or a handler's own
audio that it turns into files itself (voicemail's greetings and messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MUSIC_ON_HOLD = "music-on-hold"
RINGBACK = "ringback"


@dataclass(frozen=True)
class Ringing:
    """Tell the caller their call rings (180)."""

    leg: str


@dataclass(frozen=True)
class Dial:
    """Place a new leg towards a phone or through a trunk."""

    leg: str
    uri: str
    caller_id: dict[str, str]
    timeout_s: float
    auth: dict[str, str] | None = None
    headers: dict[str, str] | None = None  # extra one-line headers (Alert-Info for auto-answer)


@dataclass(frozen=True)
class Answer:
    leg: str


@dataclass(frozen=True)
class Bridge:
    a: str
    b: str


@dataclass(frozen=True)
class Unbridge:
    a: str
    b: str


@dataclass(frozen=True)
class Hangup:
    leg: str


@dataclass(frozen=True)
class Reject:
    leg: str
    status: int


@dataclass(frozen=True)
class Conference:
    """Legs that all hear each other; listen_only legs hear but are not heard; whisper (to, from):
    only `to` hears `from` (a supervisor coaching an agent)."""

    legs: tuple[str, ...]
    listen_only: tuple[str, ...] = ()
    whisper: tuple[str, str] | None = None


@dataclass(frozen=True)
class Play:
    """Play a prompt (a name, or a file path when the handler resolved it) to one leg.

    A handler may ask for a playlist (`prompt`, then each of `then` in order) and name audio of its
    own (a voicemail greeting or message, a prompt with numbers to say); it turns those into files
    and plays one at a time, the next on the previous one's `play_done`, since the executor plays
    one file. `turn` numbers a handler's turns, so it can tell the end of a play that a key has
    since replaced from the end of the current one (0: not counted).
    """

    leg: str
    prompt: Any
    loop: bool = False
    then: tuple[Any, ...] = ()
    turn: int = 0

    @property
    def playlist(self) -> tuple[Any, ...]:
        return (self.prompt, *self.then)


@dataclass(frozen=True)
class StopPlay:
    leg: str


@dataclass(frozen=True)
class SendDtmf:
    leg: str
    digits: str
    method: str = "rfc2833"


@dataclass(frozen=True)
class Record:
    """Record what a leg says into a file, up to max_s seconds."""

    leg: str
    path: str
    max_s: float = 0.0


@dataclass(frozen=True)
class StopRecord:
    leg: str


@dataclass(frozen=True)
class StartTimer:
    """Wake the handler with a timer event `name` after after_s seconds (a new one replaces the old)."""

    name: str
    after_s: float
    turn: int = 0  # the handler's turn it belongs to, as in `Play`: a timer of an earlier turn is stale


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class WriteRecord:
    """The call is over: file its call record (built by `appliance.logic.records`)."""

    record: dict[str, Any]


MediaCommand = (Ringing | Dial | Answer | Bridge | Unbridge | Conference | Hangup | Reject | Play | StopPlay
                | SendDtmf | Record | StopRecord | StartTimer | CancelTimer | WriteRecord)
