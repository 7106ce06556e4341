"""Contracted hours and who was logged in during them, as spans of time.

Coverage answers the owner's question "was anybody at the phones when we
promised to be open?": the share of the contracted hours during which at
least one agent was logged in. Both sides are lists of [start, end) spans of
UTC instants, so a DST change or a month boundary needs no special case.

Contracted hours are a weekly schedule in the wall time of the business
(the same `WeekSchedule` the call flows' time conditions use), less
holidays, which close the whole local day, 00:00-24:00, also the part of an
overnight interval that spills into it. An interval in the spring-forward
gap does not happen; one in the repeated autumn hour counts twice, exactly
as a time condition is open twice then.

Logged-in spans follow the session rules of the statistics (docs/statistics.md,
"Agents"), so each agent's spans add up to the logged-in time of the agent
report for the same window. A break does not end a session: an agent on a
break is logged in (as in the agent report); an agent who logs out is not.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime, time, timedelta, timezone, tzinfo

from appliance.logic.acd.queue_log import QueueLogKind
from appliance.logic.flows.schedule import DAYS, HolidayCalendar, WeekSchedule
from appliance.logic.stats.schema import Event, parse_time

Span = tuple[datetime, datetime]


def _wall(day: date, minute: int, tz: tzinfo) -> datetime:
    """A local wall time as a UTC instant; minute 1440 is the next midnight."""
    local = datetime.combine(day, time()) + timedelta(minutes=minute)
    # fold=0: the first of a repeated time, and a skipped one maps past the gap,
    # which makes an interval inside the gap empty.
    return local.replace(tzinfo=tz).astimezone(timezone.utc)


def contracted_spans(week: WeekSchedule, start: datetime, end: datetime, tz: tzinfo,
                     holidays: HolidayCalendar | None = None) -> list[Span]:
    """The contracted hours inside [start, end), as sorted disjoint UTC spans."""
    first = start.astimezone(tz).date() - timedelta(days=1)   # yesterday's overnight spill
    last = end.astimezone(tz).date()
    spans: list[Span] = []
    day = first
    while day <= last:
        for interval in week.days.get(DAYS[day.weekday()], ()):
            finish = interval.end + (1440 if interval.overnight else 0)
            # Cut at midnight so each part can meet its own day's holiday.
            parts = [(day, interval.start, min(finish, 1440))]
            if finish > 1440:
                parts.append((day + timedelta(days=1), 0, finish - 1440))
            for on, lo, hi in parts:
                if holidays is not None and holidays.closes(on):
                    continue
                a, b = max(_wall(on, lo, tz), start), min(_wall(on, hi, tz), end)
                if b > a:
                    spans.append((a, b))
        day += timedelta(days=1)
    return union(spans)


def union(spans: Iterable[Span]) -> list[Span]:
    """Sorted disjoint spans covering the same instants; touching spans join."""
    out: list[Span] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def intersection(left: list[Span], right: list[Span]) -> list[Span]:
    """Instants in both of two sorted disjoint span lists."""
    out: list[Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        a = max(left[i][0], right[j][0])
        b = min(left[i][1], right[j][1])
        if b > a:
            out.append((a, b))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def seconds_in(spans: Iterable[Span]) -> float:
    return sum((b - a).total_seconds() for a, b in spans)


def logged_in_spans(events: Iterable[Event], start: datetime, end: datetime,
                    tz: tzinfo, agents: Collection[str] | None = None) -> dict[str, list[Span]]:
    """Each agent's logged-in spans inside [start, end), rebuilt from the queue log.

    The rules of the agent report: AGENT_LOGIN opens a session, AGENT_LOGOUT
    closes it; an agent whose first event is anything else was logged in
    already when the window began; a break without a login opens a session;
    what is open at `end` runs up to it. Events before the window only set
    the state it starts in. With `agents`, only those agents.
    """
    start, end = parse_time(start, tz), parse_time(end, tz)
    timeline = []
    for n, event in enumerate(events):
        agent = event.get("agent")
        if not agent or (agents is not None and str(agent) not in agents):
            continue
        # Every event of an agent counts for "first event": an offer or a
        # call before any login means the agent was logged in already.
        kind = event.get("event")
        at = parse_time(event.get("time"), tz)
        if at < end:
            timeline.append((at, n, str(agent), str(kind)))
    timeline.sort(key=lambda t: (t[0], t[1]))
    opened: dict[str, datetime | None] = {}
    spans: dict[str, list[Span]] = {}

    def close(agent: str, at: datetime) -> None:
        since = opened.get(agent)
        if since is not None:
            a, b = max(since, start), min(at, end)
            if b > a:
                spans.setdefault(agent, []).append((a, b))
            opened[agent] = None

    for at, _, agent, kind in timeline:
        if agent not in opened:
            spans.setdefault(agent, [])
            opened[agent] = None if kind == QueueLogKind.AGENT_LOGIN else start
        if kind == QueueLogKind.AGENT_LOGIN or kind == QueueLogKind.AGENT_BREAK:
            if opened[agent] is None:
                opened[agent] = at
        elif kind == QueueLogKind.AGENT_LOGOUT:
            close(agent, at)
    for agent in list(opened):
        close(agent, end)
    return spans


def staffed_spans(events: Iterable[Event], start: datetime, end: datetime, tz: tzinfo,
                  agents: Collection[str] | None = None) -> list[Span]:
    """When at least one agent (of `agents`, or any) was logged in."""
    per_agent = logged_in_spans(events, start, end, tz, agents)
    return union(s for spans in per_agent.values() for s in spans)
