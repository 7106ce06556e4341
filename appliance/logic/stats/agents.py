"""Per-agent figures: calls, talk and wrap-up time, breaks, logged-in time.

Two ratios, both asked for by owners and easy to confuse:

- utilisation = talk time / logged-in time (how much of the paid working
  time was spent talking);
- occupancy = (talk + wrap-up) / (logged-in - break) (how busy the agent
  was while available to take calls).

Working time comes from sessions rebuilt from the queue log: AGENT_LOGIN
opens a session, AGENT_LOGOUT closes it, AGENT_BREAK opens a break (its
`reason` names it) and AGENT_AVAILABLE or AGENT_LOGOUT closes it. Sessions
are clipped to the report window. An agent whose first event in the log is
not a login was logged in already when the window began; one whose first
event is AGENT_AVAILABLE was on a break then. Whatever is open at the end of
the window counts up to the window's end (pass "now" as the end for today).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from appliance.errors import ValidationError
from appliance.logic.acd.queue_log import QueueLogKind
from appliance.logic.calls import Disposition
from appliance.logic.stats import satisfaction
from appliance.logic.stats.intervals import zone
from appliance.logic.stats.schema import (
    ANSWERED_RESULTS,
    Event,
    Record,
    parse_time,
    queue_result,
    seconds,
)

UNSPECIFIED_REASON = "unspecified"


@dataclass
class AgentTally:
    """One agent's sums over some time; tallies of days add up to longer periods."""

    calls: int = 0
    talk_s: float = 0.0
    wrap_up_s: float = 0.0
    logged_in_s: float = 0.0
    break_s_by_reason: dict[str, float] = field(default_factory=dict)
    missed_offers: int = 0
    csat_offered: int = 0  # callers of this agent who heard the satisfaction survey
    csat_scores: list[int] = field(default_factory=satisfaction.no_scores)

    @property
    def break_s(self) -> float:
        return sum(self.break_s_by_reason.values())

    def merge(self, other: AgentTally) -> None:
        self.calls += other.calls
        self.talk_s += other.talk_s
        self.wrap_up_s += other.wrap_up_s
        self.logged_in_s += other.logged_in_s
        self.missed_offers += other.missed_offers
        for reason, s in other.break_s_by_reason.items():
            self.break_s_by_reason[reason] = self.break_s_by_reason.get(reason, 0.0) + s
        satisfaction.merge(self, other)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentTally:
        try:
            tally = cls(**data)
        except TypeError as e:
            raise ValidationError(f"bad agent tally: {e}") from e
        if not satisfaction.valid(tally.csat_scores):
            raise ValidationError("bad agent tally: satisfaction scores must be five counts")
        return tally


@dataclass(frozen=True)
class AgentStats:
    """One row of the agent report."""

    agent: str
    calls: int
    talk_s: float
    wrap_up_s: float
    logged_in_s: float
    break_s: float
    break_s_by_reason: dict[str, float]
    missed_offers: int
    utilisation: float | None
    occupancy: float | None
    avg_handle_s: float | None
    csat_offered: int = 0
    csat_answered: int = 0
    csat_average: float | None = None
    csat_pct: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def stats_of(agent: str, tally: AgentTally) -> AgentStats:
    """The report row of an agent's tally."""
    available = tally.logged_in_s - tally.break_s
    return AgentStats(
        agent=agent,
        calls=tally.calls,
        talk_s=tally.talk_s,
        wrap_up_s=tally.wrap_up_s,
        logged_in_s=tally.logged_in_s,
        break_s=tally.break_s,
        break_s_by_reason=dict(sorted(tally.break_s_by_reason.items())),
        missed_offers=tally.missed_offers,
        utilisation=tally.talk_s / tally.logged_in_s if tally.logged_in_s > 0 else None,
        occupancy=(tally.talk_s + tally.wrap_up_s) / available if available > 0 else None,
        avg_handle_s=(tally.talk_s + tally.wrap_up_s) / tally.calls if tally.calls else None,
        **satisfaction.figures(tally),
    )


def _is_handled(record: Record) -> bool:
    result = queue_result(record)
    if result is not None:
        return result in ANSWERED_RESULTS
    return record.get("disposition") == Disposition.ANSWERED


class _Session:
    """Rebuilds one agent's working time from its events in time order."""

    def __init__(self, start: datetime, end: datetime, tally: AgentTally):
        self.start, self.end, self.tally = start, end, tally
        self.seen = False
        self.login_at: datetime | None = None
        self.break_at: datetime | None = None
        self.break_reason = UNSPECIFIED_REASON

    def _span(self, since: datetime, until: datetime) -> float:
        lo, hi = max(since, self.start), min(until, self.end)
        return (hi - lo).total_seconds() if hi > lo else 0.0

    def _close_break(self, at: datetime) -> None:
        if self.break_at is not None:
            spent = self._span(self.break_at, at)
            reasons = self.tally.break_s_by_reason
            reasons[self.break_reason] = reasons.get(self.break_reason, 0.0) + spent
            self.break_at = None

    def _close_session(self, at: datetime) -> None:
        self._close_break(at)
        if self.login_at is not None:
            self.tally.logged_in_s += self._span(self.login_at, at)
            self.login_at = None

    def feed(self, kind: str, at: datetime, reason: str | None) -> None:
        if not self.seen:
            self.seen = True
            if kind != QueueLogKind.AGENT_LOGIN:
                self.login_at = self.start
                if kind == QueueLogKind.AGENT_AVAILABLE:
                    self.break_at = self.start
        if kind == QueueLogKind.AGENT_LOGIN:
            if self.login_at is None:
                self.login_at = at
        elif kind == QueueLogKind.AGENT_LOGOUT:
            self._close_session(at)
        elif kind == QueueLogKind.AGENT_BREAK:
            if self.login_at is None:
                # A break without a login in sight: the login was not logged.
                self.login_at = at
            self._close_break(at)
            self.break_at, self.break_reason = at, reason or UNSPECIFIED_REASON
        elif kind == QueueLogKind.AGENT_AVAILABLE:
            self._close_break(at)
        elif kind == QueueLogKind.MISSED_OFFER and self.start <= at < self.end:
            self.tally.missed_offers += 1

    def finish(self) -> None:
        self._close_session(self.end)


def agent_tallies(
    records: Iterable[Record],
    events: Iterable[Event],
    start: datetime,
    end: datetime,
    tz: str | tzinfo = "UTC",
) -> dict[str, AgentTally]:
    """Each agent's tally for the window [start, end).

    Calls count in the window they started in; events before the window
    only set the state the window starts in.
    """
    tz = zone(tz)
    start, end = parse_time(start, tz), parse_time(end, tz)
    if end < start:
        raise ValidationError("a report window must not end before it starts")
    tallies: dict[str, AgentTally] = {}
    for record in records:
        agent = record.get("agent")
        if not agent or not _is_handled(record):
            continue
        if not start <= parse_time(record.get("start"), tz) < end:
            continue
        tally = tallies.setdefault(str(agent), AgentTally())
        tally.calls += 1
        tally.talk_s += seconds(record, "talk_s")
        tally.wrap_up_s += seconds(record, "wrap_up_s")
        satisfaction.count(tally, record)

    timeline: list[tuple[datetime, int, str, str, str | None]] = []
    for n, event in enumerate(events):
        agent = event.get("agent")
        if not agent:
            continue
        at = parse_time(event.get("time"), tz)
        if at >= end:
            continue
        timeline.append((at, n, str(agent), str(event.get("event")), event.get("reason")))
    timeline.sort(key=lambda t: (t[0], t[1]))
    sessions: dict[str, _Session] = {}
    for at, _, agent, kind, reason in timeline:
        session = sessions.get(agent)
        if session is None:
            session = sessions[agent] = _Session(start, end, tallies.setdefault(agent, AgentTally()))
        session.feed(kind, at, reason)
    for session in sessions.values():
        session.finish()
    return tallies


def agent_stats(
    records: Iterable[Record],
    events: Iterable[Event],
    start: datetime,
    end: datetime,
    tz: str | tzinfo = "UTC",
) -> list[AgentStats]:
    """The agent report for [start, end), one row per agent in name order."""
    tallies = agent_tallies(records, events, start, end, tz)
    return [stats_of(agent, tallies[agent]) for agent in sorted(tallies)]
