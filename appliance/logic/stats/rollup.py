"""Daily roll-ups: one small JSON object per day that longer reports add up.

A roll-up holds only sums, counts and maxima (queue Tallies, AgentTallies, an
hour-of-week profile of arrivals and handle time), so `merge` of the days of
a week, month or year equals the roll-up of the whole period computed from
the calls, without reading a single call again. The service-level target
and the short-abandon time are fixed when a day is rolled up; roll-ups with
other settings do not merge (the wait histogram still gives any target
approximately, see Tally.answered_within).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from appliance.errors import ValidationError
from appliance.logic.acd.queue_log import AGENT_STATUS_KINDS
from appliance.logic.stats.agents import AgentStats, AgentTally, agent_tallies, stats_of
from appliance.logic.stats.intervals import day_bounds, zone
from appliance.logic.stats.kpis import ALL_QUEUES, QueueKpis, is_queue_call, kpis_of
from appliance.logic.stats.schema import (
    ANSWERED_RESULTS,
    Event,
    KpiSettings,
    Record,
    parse_time,
    queue_result,
    seconds,
)
from appliance.logic.stats.tally import Tally

FORMAT = 1
# Slot of the hour-of-week profile: [calls offered, calls answered, handle seconds].
OFFERED, ANSWERED, HANDLE_S = 0, 1, 2


def _zone_name(tz: str | tzinfo) -> str:
    return tz if isinstance(tz, str) else getattr(tz, "key", None) or str(tz)


@dataclass
class Rollup:
    """Sums over whole local days: one day from rollup_day, any span from merge."""

    first_day: str
    last_day: str
    days: int
    tz: str
    target_s: float
    short_abandon_s: float
    weekday_days: list[int] = field(default_factory=lambda: [0] * 7)
    queues: dict[str, Tally] = field(default_factory=dict)
    agents: dict[str, AgentTally] = field(default_factory=dict)
    # queue -> {"weekday*24+hour": [offered, answered, handle_s]}; weekday 0 is Monday.
    hours: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    @property
    def settings(self) -> KpiSettings:
        return KpiSettings(target_s=self.target_s, short_abandon_s=self.short_abandon_s)

    def total(self) -> Tally:
        """All queues together."""
        total = Tally()
        for tally in self.queues.values():
            total.merge(tally)
        return total

    def queue_kpis(self, target_s: float | None = None, all_queues: bool = True) -> list[QueueKpis]:
        """One KPI row per queue for the whole span (and one for "*", all queues)."""
        label = self.first_day if self.first_day == self.last_day else f"{self.first_day}/{self.last_day}"
        settings = self.settings
        rows = [kpis_of(self.queues[q], q, label, settings, target_s) for q in sorted(self.queues)]
        if all_queues:
            rows.insert(0, kpis_of(self.total(), ALL_QUEUES, label, settings, target_s))
        return rows

    def agent_stats(self) -> list[AgentStats]:
        return [stats_of(a, self.agents[a]) for a in sorted(self.agents)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "first_day": self.first_day,
            "last_day": self.last_day,
            "days": self.days,
            "tz": self.tz,
            "target_s": self.target_s,
            "short_abandon_s": self.short_abandon_s,
            "weekday_days": list(self.weekday_days),
            "queues": {q: t.to_dict() for q, t in self.queues.items()},
            "agents": {a: t.to_dict() for a, t in self.agents.items()},
            "hours": {q: {s: list(v) for s, v in slots.items()} for q, slots in self.hours.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rollup:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValidationError("not a statistics roll-up of a known format")
        try:
            return cls(
                first_day=str(data["first_day"]),
                last_day=str(data["last_day"]),
                days=int(data["days"]),
                tz=str(data["tz"]),
                target_s=float(data["target_s"]),
                short_abandon_s=float(data["short_abandon_s"]),
                weekday_days=[int(n) for n in data["weekday_days"]],
                queues={q: Tally.from_dict(t) for q, t in data["queues"].items()},
                agents={a: AgentTally.from_dict(t) for a, t in data["agents"].items()},
                hours={q: {s: [float(x) for x in v] for s, v in slots.items()}
                       for q, slots in data["hours"].items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ValidationError(f"bad roll-up: {e}") from e


def rollup_day(
    records: Iterable[Record],
    events: Iterable[Event],
    day: date | str,
    tz: str | tzinfo = "UTC",
    settings: KpiSettings | None = None,
    until: datetime | None = None,
) -> Rollup:
    """Roll up one local calendar day; records and events of other days are ignored.

    `until` (e.g. now, for today) ends agent sessions still open earlier
    than midnight.
    """
    settings = settings or KpiSettings()
    zone_ = zone(tz)
    day = date.fromisoformat(day) if isinstance(day, str) else day
    start, end = day_bounds(day, zone_)
    if until is not None:
        end = min(end, parse_time(until, zone_))
    mine = [r for r in records if start <= parse_time(r.get("start"), zone_) < end]
    rollup = Rollup(
        first_day=day.isoformat(), last_day=day.isoformat(), days=1, tz=_zone_name(tz),
        target_s=settings.target_s, short_abandon_s=settings.short_abandon_s,
    )
    rollup.weekday_days[day.weekday()] = 1
    for record in mine:
        if not is_queue_call(record):
            continue
        queue = str(record["queue"])
        tally = rollup.queues.get(queue)
        if tally is None:
            tally = rollup.queues[queue] = Tally()
        tally.add(record, settings)
        local = parse_time(record.get("start"), zone_).astimezone(zone_)
        slot = rollup.hours.setdefault(queue, {}).setdefault(
            str(local.weekday() * 24 + local.hour), [0.0, 0.0, 0.0])
        slot[OFFERED] += 1
        if queue_result(record) in ANSWERED_RESULTS:
            slot[ANSWERED] += 1
            slot[HANDLE_S] += seconds(record, "talk_s") + seconds(record, "wrap_up_s")
    rollup.agents = agent_tallies(mine, events, start, end, zone_)
    return rollup


def rollup_days(
    records: Iterable[Record],
    events: Iterable[Event],
    tz: str | tzinfo = "UTC",
    settings: KpiSettings | None = None,
) -> dict[date, Rollup]:
    """Roll up every local day that has a record or an event, sorting the input once."""
    zone_ = zone(tz)
    calls: dict[date, list[Record]] = {}
    for record in records:
        calls.setdefault(parse_time(record.get("start"), zone_).astimezone(zone_).date(), []).append(record)
    events_by_day: dict[date, list[Event]] = {}
    for event in events:
        when = parse_time(event.get("time"), zone_).astimezone(zone_)
        events_by_day.setdefault(when.date(), []).append(event)
    result: dict[date, Rollup] = {}
    # Sessions carry over midnight: each agent's last status event before a
    # day tells how the day begins for them.
    carried: dict[str, Event] = {}
    for day in sorted(set(calls) | set(events_by_day)):
        todays = sorted(events_by_day.get(day, []), key=lambda e: parse_time(e.get("time"), zone_))
        result[day] = rollup_day(calls.get(day, []), [*carried.values(), *todays], day, tz, settings)
        for event in todays:
            agent = event.get("agent")
            if agent and event.get("event") in AGENT_STATUS_KINDS:
                carried[str(agent)] = event
    return result


def merge(rollups: Iterable[Rollup]) -> Rollup:
    """Add roll-ups of distinct days into one for their whole span (week, month, year)."""
    rollups = list(rollups)
    if not rollups:
        raise ValidationError("nothing to merge")
    first = rollups[0]
    out = Rollup(
        first_day=min(r.first_day for r in rollups),
        last_day=max(r.last_day for r in rollups),
        days=0, tz=first.tz, target_s=first.target_s, short_abandon_s=first.short_abandon_s,
    )
    for r in rollups:
        if (r.tz, r.target_s, r.short_abandon_s) != (out.tz, out.target_s, out.short_abandon_s):
            raise ValidationError(
                f"roll-up of {r.first_day} was made with other settings "
                f"({r.tz}, {r.target_s} s, {r.short_abandon_s} s) and cannot be merged"
            )
        out.days += r.days
        out.weekday_days = [a + b for a, b in zip(out.weekday_days, r.weekday_days)]
        for q, tally in r.queues.items():
            mine = out.queues.get(q)
            if mine is None:
                mine = out.queues[q] = Tally()
            mine.merge(tally)
        for a, tally in r.agents.items():
            mine_a = out.agents.get(a)
            if mine_a is None:
                mine_a = out.agents[a] = AgentTally()
            mine_a.merge(tally)
        for q, slots in r.hours.items():
            into = out.hours.setdefault(q, {})
            for s, v in slots.items():
                have = into.get(s)
                if have is None:
                    into[s] = list(v)
                else:
                    have[0] += v[0]
                    have[1] += v[1]
                    have[2] += v[2]
    return out
