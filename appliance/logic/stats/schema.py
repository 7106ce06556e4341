"""The shape of what statistics read: call records and queue-log events.

Both are plain dicts as the store keeps them (docs/statistics.md lists every
field). Their words are the ones the machines write: a call's `Disposition`
(logic/calls.py), a caller's `QueueResult` (acd/machines.py) and a queue-log
line's `QueueLogKind` (acd/queue_log.py). Reading is forgiving: a missing
number counts as 0 and a missing word as unknown, because one odd record must
not break a year's report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from enum import StrEnum
from typing import Any

from appliance.errors import ValidationError
from appliance.logic.acd.machines import QueueResult
from appliance.logic.calls import Disposition

Record = dict[str, Any]
Event = dict[str, Any]


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


# A transferred call was answered by an agent first, then passed on.
ANSWERED_RESULTS = frozenset({QueueResult.ANSWERED, QueueResult.TRANSFERRED})
CALLBACK_RESULTS = frozenset(
    {QueueResult.CALLBACK_REQUESTED, QueueResult.CALLBACK_COMPLETED, QueueResult.CALLBACK_FAILED}
)
# Turned away at the door or dropped because nobody was logged in.
REFUSED_RESULTS = frozenset({QueueResult.FULL, QueueResult.JOINEMPTY, QueueResult.LEAVEEMPTY})


@dataclass(frozen=True)
class KpiSettings:
    """The business's targets: 80 % of calls answered within 20 s by default."""

    target_s: float = 20.0
    target_service_level: float = 0.80
    short_abandon_s: float = 5.0

    def __post_init__(self) -> None:
        if self.target_s < 0 or self.short_abandon_s < 0:
            raise ValidationError("service level target and short abandon time must not be negative")
        if not 0 < self.target_service_level <= 1:
            raise ValidationError("target service level must be a fraction in (0, 1]")


def parse_time(value: Any, tz: tzinfo) -> datetime:
    """An ISO 8601 time as an aware UTC datetime; a time without offset is the box's local time.

    UTC, because Python compares and subtracts two times of the same zone by
    their wall clocks, which is wrong across a DST change.
    """
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError as e:
            raise ValidationError(f"{value!r} is not an ISO 8601 time") from e
    else:
        raise ValidationError(f"{value!r} is not an ISO 8601 time")
    if when.tzinfo is None:
        when = when.replace(tzinfo=tz)
    return when.astimezone(timezone.utc)


def seconds(record: Record, key: str) -> float:
    """A duration field in seconds; missing, null or negative counts as 0."""
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return 0.0
    return float(value) if value > 0 else 0.0


def queue_result(record: Record) -> QueueResult | None:
    """The record's queue outcome; older records without one are inferred from the disposition."""
    outcome = record.get("outcome")
    if outcome:
        try:
            return QueueResult(outcome)
        except ValueError:
            return None
    if record.get("disposition") == Disposition.ANSWERED and record.get("agent"):
        return QueueResult.ANSWERED
    if record.get("disposition") in (Disposition.NO_ANSWER, Disposition.CANCELLED):
        return QueueResult.ABANDONED
    return None
