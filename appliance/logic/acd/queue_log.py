"""The queue log: one line per thing that happened in a queue, for statistics.

Like Asterisk's queue_log, a flat record (time, queue, call, agent, kind)
with a few numbers; reports and the wallboard compute service level, ASA,
AHT and abandon rate from it. A line that settles a caller carries the
caller's `result`; every caller gets exactly one such line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class QueueLogKind(StrEnum):
    ENTERED = "ENTERED"
    OFFERED = "OFFERED"
    ANSWERED = "ANSWERED"
    ABANDONED = "ABANDONED"
    TIMEOUT = "TIMEOUT"
    OVERFLOWED = "OVERFLOWED"
    FULL = "FULL"
    JOINEMPTY = "JOINEMPTY"
    LEAVEEMPTY = "LEAVEEMPTY"
    TRANSFERRED = "TRANSFERRED"
    CALL_ENDED = "CALL_ENDED"
    CALLBACK_REQUESTED = "CALLBACK_REQUESTED"
    CALLBACK_RETRY = "CALLBACK_RETRY"
    CALLBACK_COMPLETED = "CALLBACK_COMPLETED"
    CALLBACK_FAILED = "CALLBACK_FAILED"
    AGENT_STATUS = "AGENT_STATUS"
    WRAP_UP_END = "WRAP_UP_END"
    MISSED_OFFER = "MISSED_OFFER"


@dataclass(frozen=True)
class QueueLogEntry:
    time: float
    kind: QueueLogKind
    queue: str = ""
    call_id: str = ""
    agent_id: str = ""
    number: str = ""
    wait_s: float | None = None  # since the caller joined
    talk_s: float | None = None
    position: int | None = None
    status: str = ""  # AGENT_STATUS: LOGGED_OUT, AVAILABLE, ON_BREAK
    reason: str = ""  # break reason, overflow destination, unreachable cause
    result: str = ""  # the QueueResult, only on the line that settles a caller

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, without the empty fields."""
        out: dict[str, Any] = {"time": self.time, "kind": self.kind.value}
        for key in ("queue", "call_id", "agent_id", "number", "wait_s", "talk_s", "position",
                    "status", "reason", "result"):
            value = getattr(self, key)
            if value not in ("", None):
                out[key] = str(value) if isinstance(value, StrEnum) else value
        return out
