"""What the ACD asks the core to do. The ACD never does any of it itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from appliance.logic.acd.queue_log import QueueLogEntry


@dataclass(frozen=True)
class Command:
    def to_dict(self) -> dict[str, Any]:
        return {"command": type(self).__name__, **asdict(self)}


@dataclass(frozen=True)
class Ring(Command):
    """Ring an agent's phone for a waiting caller; whisper is spoken to the agent on answer."""

    agent_id: str
    call_id: str
    queue: str
    timeout_s: float
    auto_answer: bool = False
    whisper: str = ""


@dataclass(frozen=True)
class StopRinging(Command):
    """Stop ringing the agent for this call, or drop the agent's leg if it answered too late."""

    agent_id: str
    call_id: str


@dataclass(frozen=True)
class Bridge(Command):
    """Connect the caller (or the callback's customer leg) with the agent."""

    call_id: str
    agent_id: str


@dataclass(frozen=True)
class Play(Command):
    """Play a prompt to the caller; args fill it in (position, minutes, agent)."""

    call_id: str
    prompt: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StartTimer(Command):
    """Call `timer_fired(name)` at clock time `at`; a timer of the same name is replaced."""

    name: str
    at: float
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CancelTimer(Command):
    name: str


@dataclass(frozen=True)
class Overflow(Command):
    """Send a caller who left the queue unanswered to the queue's overflow destination."""

    call_id: str
    destination: str


@dataclass(frozen=True)
class Hangup(Command):
    call_id: str
    reason: str


@dataclass(frozen=True)
class LogEvent(Command):
    """Append one line to the queue log (statistics, reports, wallboard)."""

    entry: QueueLogEntry


@dataclass(frozen=True)
class CallAgentForCallback(Command):
    """Ring the agent first; once they answer, the ACD asks to dial the customer."""

    agent_id: str
    callback_id: str
    queue: str
    number: str
    timeout_s: float
    auto_answer: bool = False


@dataclass(frozen=True)
class DialCustomer(Command):
    """Dial the customer from the agent's answered leg; report back answered or unreachable."""

    callback_id: str
    agent_id: str
    number: str


class MonitorMode(StrEnum):
    LISTEN = "listen"  # hear both sides, unheard
    WHISPER = "whisper"  # speak to the agent only
    BARGE = "barge"  # join the conversation


@dataclass(frozen=True)
class Monitor(Command):
    supervisor_id: str
    agent_id: str
    call_id: str
    mode: MonitorMode
