"""The queue log: one line per thing that happened in a queue, for statistics.

Like Asterisk's queue_log, a flat record (time, queue, call, agent, event)
with a few numbers; reports and the wallboard compute service level, ASA,
AHT, abandon rate and agent sessions from it (docs/statistics.md reads the
same words). A line that settles a caller carries the caller's `result`;
every caller gets exactly one such line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
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
    AGENT_LOGIN = "AGENT_LOGIN"
    AGENT_LOGOUT = "AGENT_LOGOUT"
    AGENT_BREAK = "AGENT_BREAK"  # reason names the break; a second one switches the reason
    AGENT_AVAILABLE = "AGENT_AVAILABLE"
    WRAP_UP_END = "WRAP_UP_END"
    MISSED_OFFER = "MISSED_OFFER"


AGENT_STATUS_KINDS = frozenset({QueueLogKind.AGENT_LOGIN, QueueLogKind.AGENT_LOGOUT,
                                QueueLogKind.AGENT_BREAK, QueueLogKind.AGENT_AVAILABLE})


@dataclass(frozen=True)
class QueueLogEntry:
    time: float  # the centre's clock: seconds since the epoch
    kind: QueueLogKind
    queue: str = ""
    call_id: str = ""
    agent_id: str = ""
    number: str = ""
    wait_s: float | None = None  # since the caller joined
    talk_s: float | None = None
    position: int | None = None
    reason: str = ""  # break reason, overflow destination, unreachable cause
    result: str = ""  # the QueueResult, only on the line that settles a caller

    def to_dict(self, tz: tzinfo = timezone.utc) -> dict[str, Any]:
        """A queue-log line as docs/statistics.md reads it, without the empty fields."""
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(self.time, tz).isoformat(),
            "event": self.kind.value,
        }
        for key, name in (("queue", "queue"), ("call_id", "call_id"), ("agent_id", "agent"),
                          ("number", "number"), ("wait_s", "wait_s"), ("talk_s", "talk_s"),
                          ("position", "position"), ("reason", "reason"),
                          ("result", "result")):
            value = getattr(self, key)
            if value not in ("", None):
                out[name] = value
        return out
