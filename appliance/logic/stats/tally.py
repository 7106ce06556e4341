"""Sums, counts and maxima of queue calls: the mergeable core of every KPI.

Every queue KPI is a ratio of fields here, so tallies of days add up to the
tally of their week, month or year exactly, with no call re-read. Answer
waits also go into a histogram with fixed bucket edges, so a service level
for a target other than the configured one can still be told afterwards:
exactly at a bucket edge, interpolated inside a bucket.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from appliance.errors import ValidationError
from appliance.logic.acd.machines import QueueResult
from appliance.logic.stats import satisfaction
from appliance.logic.stats.schema import (
    ANSWERED_RESULTS,
    CALLBACK_RESULTS,
    REFUSED_RESULTS,
    KpiSettings,
    Record,
    queue_result,
    seconds,
)

# Upper edges (inclusive) of the answer-wait buckets, in seconds; one more
# bucket holds everything above the last edge. Common targets (10, 15, 20,
# 30, 60 s) are edges, so their service level is exact.
WAIT_EDGES: tuple[int, ...] = (0, 5, 10, 15, 20, 25, 30, 45, 60, 90, 120, 180, 300, 600)

_COUNTS = (
    "offered", "answered", "answered_within_target", "abandoned", "short_abandoned",
    "timeout", "refused", "callbacks_requested", "callbacks_completed", "callbacks_failed",
)
_SUMS = ("wait_answered_s", "wait_abandoned_s", "talk_s", "wrap_up_s")
_MAXES = ("longest_wait_s",)


@dataclass
class Tally:
    """What happened to the calls of one queue over some time, as sums."""

    offered: int = 0
    answered: int = 0
    answered_within_target: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    timeout: int = 0
    refused: int = 0
    callbacks_requested: int = 0
    callbacks_completed: int = 0
    callbacks_failed: int = 0
    wait_answered_s: float = 0.0
    wait_abandoned_s: float = 0.0
    talk_s: float = 0.0
    wrap_up_s: float = 0.0
    longest_wait_s: float = 0.0
    wait_histogram: list[int] = field(default_factory=lambda: [0] * (len(WAIT_EDGES) + 1))
    csat_offered: int = 0  # callers who heard the satisfaction survey
    csat_scores: list[int] = field(default_factory=satisfaction.no_scores)  # how many scored 1, 2, ... 5

    def add(self, record: Record, settings: KpiSettings) -> None:
        """Count one call record of this queue."""
        result = queue_result(record)
        wait = seconds(record, "wait_s")
        self.offered += 1
        self.longest_wait_s = max(self.longest_wait_s, wait)
        if result in ANSWERED_RESULTS:
            self.answered += 1
            self.wait_answered_s += wait
            self.talk_s += seconds(record, "talk_s")
            self.wrap_up_s += seconds(record, "wrap_up_s")
            if wait <= settings.target_s:
                self.answered_within_target += 1
            self.wait_histogram[bisect.bisect_left(WAIT_EDGES, wait)] += 1
        elif result is QueueResult.ABANDONED:
            self.abandoned += 1
            self.wait_abandoned_s += wait
            if wait < settings.short_abandon_s:
                self.short_abandoned += 1
        elif result is QueueResult.TIMEOUT:
            self.timeout += 1
        elif result in REFUSED_RESULTS:
            self.refused += 1
        if result in CALLBACK_RESULTS:
            self.callbacks_requested += 1
            if result is QueueResult.CALLBACK_COMPLETED:
                self.callbacks_completed += 1
            elif result is QueueResult.CALLBACK_FAILED:
                self.callbacks_failed += 1
        satisfaction.count(self, record)

    def merge(self, other: Tally) -> None:
        """Add another tally into this one."""
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in _SUMS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.longest_wait_s = max(self.longest_wait_s, other.longest_wait_s)
        self.wait_histogram = [a + b for a, b in zip(self.wait_histogram, other.wait_histogram)]
        satisfaction.merge(self, other)

    def answered_within(self, target_s: float) -> float:
        """Calls answered within `target_s`, from the histogram.

        Exact when target_s is one of WAIT_EDGES; inside a bucket the waits
        are taken as spread evenly (linear interpolation); waits above the
        last edge are never counted, so past it the count is a lower bound.
        """
        if target_s < 0:
            return 0.0
        i = bisect.bisect_left(WAIT_EDGES, target_s)
        below = float(sum(self.wait_histogram[:i]))
        if i < len(WAIT_EDGES) and WAIT_EDGES[i] == target_s:
            return below + self.wait_histogram[i]
        if i == 0 or i == len(WAIT_EDGES):
            return below
        lo, hi = WAIT_EDGES[i - 1], WAIT_EDGES[i]
        return below + self.wait_histogram[i] * (target_s - lo) / (hi - lo)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tally:
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValidationError(f"unknown tally fields: {sorted(unknown)}")
        tally = cls(**data)
        if len(tally.wait_histogram) != len(WAIT_EDGES) + 1:
            raise ValidationError("wait histogram has the wrong number of buckets")
        if not satisfaction.valid(tally.csat_scores):
            raise ValidationError("satisfaction scores must be five counts")
        return tally
