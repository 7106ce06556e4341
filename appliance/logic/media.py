"""The one media vocabulary: what a call handler asks the engine to do with its legs.

Every call machine of the domain (the extension-to-extension call, the calls the box answers
itself, voicemail, callbacks, click-to-dial) returns these commands; one executor on the
runtime side carries them out over the engine protocol (`appliance.engine.protocol`). A leg is
named by the handler; prompts are names (`appliance.prompts` finds the file).
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
    """Play a prompt (a name, or a file path when the handler resolved it) to one leg."""

    leg: str
    prompt: str
    loop: bool = False


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


@dataclass(frozen=True)
class CancelTimer:
    name: str


@dataclass(frozen=True)
class WriteRecord:
    """The call is over: file its call record (built by `appliance.logic.records`)."""

    record: dict[str, Any]


MediaCommand = (Ringing | Dial | Answer | Bridge | Unbridge | Conference | Hangup | Reject | Play | StopPlay
                | SendDtmf | Record | StopRecord | StartTimer | CancelTimer | WriteRecord)
