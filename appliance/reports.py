"""Report tables from the daily roll-ups (`appliance.report_days`): queues, agents, staffing, heat map.

Each table is asked for a span of local days and, for queues, an interval
(quarter hour, hour, day, month); today's figures are computed up to now.
"""

from __future__ import annotations

import io
from datetime import date, timedelta, timezone
from typing import Any

from appliance.errors import ValidationError
from appliance.logic import csv_safe
from appliance.logic.stats import (
    ALL_QUEUES,
    Interval,
    QueueKpis,
    Rollup,
    StaffingHour,
    Tally,
    agent_stats_csv,
    kpis_of,
    merge,
    queue_kpis_csv,
    staffing_csv,
    staffing_from_rollup,
)
from appliance.logic.stats.intervals import day_bounds, interval_label, interval_start
from appliance.logic.stats.rollup import FORMAT
from appliance.logic.stats.staffing import WEEKDAYS
from appliance.report_days import DayRollups, Quarters, StoredDay, _days, _runs, as_date, wrap_ups

# Longest span per table: a year of quarter hours would be 35,000 rows per queue.
MAX_DAYS = {Interval.QUARTER_HOUR: 93, Interval.HOUR: 93, Interval.DAY: 3700, Interval.MONTH: 3700}


class Reports(DayRollups):
    """Report tables from the call records and queue log under `data_dir` (see DayRollups)."""


    def rebuild(self, start: date | str, end: date | str) -> int:
        """Recompute and store every finished day in [start, end]; returns how many were stored."""
        start, end = self._span(start, end, None)
        last = min(end, self.today_date() - timedelta(days=1))
        if last < start:
            return 0
        stored = 0
        with self._lock:
            for first, run_end in _runs(_days(start, last)):
                stored += sum(1 for d in self._compute(first, run_end) if self._is_final(d.day))
        return stored

    # -- report tables ----------------------------------------------------------

    def _span(self, start: date | str, end: date | str, interval: Interval | None) -> tuple[date, date]:
        start, end = as_date(start, "from"), as_date(end, "to")
        if end < start:
            raise ValidationError("a report must not end before it starts")
        limit = MAX_DAYS[interval] if interval is not None else MAX_DAYS[Interval.DAY]
        if (end - start).days + 1 > limit:
            raise ValidationError(f"a report by {interval or 'day'} covers at most {limit} days")
        return start, end

    def _header(self, start: date, end: date) -> dict[str, Any]:
        return {"from": start.isoformat(), "to": end.isoformat(), "tz": self.tz_name,
                "as_of": self.now().astimezone(self.tz).isoformat(timespec="seconds")}

    def _merged(self, days: list[StoredDay], start: date, end: date) -> Rollup:
        if days:
            return merge(d.rollup for d in days)
        empty = self._empty(start, end)
        empty.days, empty.weekday_days = 0, [0] * 7
        return empty

    def queue_rows(self, start: date | str, end: date | str, interval: Interval | str = Interval.DAY,
                   queue: str | None = None) -> tuple[list[QueueKpis], list[QueueKpis]]:
        """The rows per interval and the summary rows over the whole span (both as QueueKpis)."""
        try:
            interval = Interval(interval)
        except ValueError as e:
            raise ValidationError(f"interval must be one of {[i.value for i in Interval]}") from e
        start, end = self._span(start, end, interval)
        small = interval in (Interval.QUARTER_HOUR, Interval.HOUR)
        days = self._load(start, end, quarters=small)
        tallies: Quarters = {}
        if small:
            for d in days:
                for (q, at), tally in (d.quarters or {}).items():
                    key = (q, interval_start(at, interval, self.tz).astimezone(timezone.utc)
                           if interval is Interval.HOUR else at)
                    # Quarter tallies are read for this report alone: the first of an hour can take the rest.
                    have = tallies.get(key)
                    if have is None:
                        tallies[key] = tally
                    else:
                        have.merge(tally)
        else:
            for d in days:
                first = d.day if interval is Interval.DAY else d.day.replace(day=1)
                at = day_bounds(first, self.tz)[0].astimezone(timezone.utc)
                for q, tally in d.rollup.queues.items():
                    tallies.setdefault((q, at), Tally()).merge(tally)
        rows = self._rows(tallies, interval, queue)
        merged = self._merged(days, start, end)
        label = start.isoformat() if start == end else f"{start.isoformat()}/{end.isoformat()}"
        summary = [kpis_of(merged.queues[q], q, label, self.settings) for q in sorted(merged.queues)
                   if queue is None or q == queue]
        if queue is None:
            summary.insert(0, kpis_of(merged.total(), ALL_QUEUES, label, self.settings))
        return rows, summary

    def _rows(self, tallies: Quarters, interval: Interval, queue: str | None) -> list[QueueKpis]:
        if queue is not None:
            tallies = {k: t for k, t in tallies.items() if k[0] == queue}
        else:
            totals: Quarters = {}
            for (_, at), tally in tallies.items():
                totals.setdefault((ALL_QUEUES, at), Tally()).merge(tally)
            tallies = {**tallies, **totals}
        # UTC instants order the repeated DST hour correctly; local labels would not.
        keys = sorted(tallies, key=lambda k: (k[1], k[0] != ALL_QUEUES, k[0]))
        return [kpis_of(tallies[k], k[0], interval_label(k[1].astimezone(self.tz), interval), self.settings)
                for k in keys]

    def queue_report(self, start: date | str, end: date | str, interval: Interval | str = Interval.DAY,
                     queue: str | None = None) -> dict[str, Any]:
        """Queue KPIs per interval (queue "*" is all queues) and a summary over the span."""
        rows, summary = self.queue_rows(start, end, interval, queue)
        start, end = as_date(start), as_date(end)
        return {**self._header(start, end), "interval": Interval(interval).value, "queue": queue,
                "target_s": self.settings.target_s,
                "target_service_level": self.settings.target_service_level,
                "short_abandon_s": self.settings.short_abandon_s,
                "rows": [_row_dict(r) for r in rows], "summary": [_row_dict(r) for r in summary]}

    def queue_report_csv(self, start: date | str, end: date | str, interval: Interval | str = Interval.DAY,
                         queue: str | None = None) -> str:
        return queue_kpis_csv(_Row(r) for r in self.queue_rows(start, end, interval, queue)[0])

    def agent_report(self, start: date | str, end: date | str) -> dict[str, Any]:
        """Per agent: calls, talk, wrap-up, logged-in and break time, utilisation, occupancy."""
        start, end = self._span(start, end, None)
        merged = self._merged(self._load(start, end), start, end)
        return {**self._header(start, end), "rows": [r.to_dict() for r in merged.agent_stats()]}

    def agent_report_csv(self, start: date | str, end: date | str) -> str:
        start, end = self._span(start, end, None)
        return agent_stats_csv(self._merged(self._load(start, end), start, end).agent_stats())

    def _staffing_days(self, start: date, end: date) -> list[StoredDay]:
        # Today is only partly over: counted as a whole day it would thin out every hour.
        yesterday = self.today_date() - timedelta(days=1)
        return _from_first_call(self._load(start, min(end, yesterday))) if start <= yesterday else []

    def _staffing(self, start: date | str, end: date | str, target_sl: float, target_s: float,
                  max_occupancy: float | None, queue: str | None) -> tuple[list[StaffingHour], int]:
        start, end = self._span(start, end, None)
        days = self._staffing_days(start, end)
        merged = self._merged(days, start, end)
        return staffing_from_rollup(merged, target_sl, target_s, max_occupancy, queue), len(days)

    def staffing(self, start: date | str, end: date | str, target_sl: float = 0.80,
                 target_s: float = 20.0, max_occupancy: float | None = None,
                 queue: str | None = None) -> dict[str, Any]:
        """Erlang C agents needed per hour of the week, from the finished days of the span."""
        rows, covered = self._staffing(start, end, target_sl, target_s, max_occupancy, queue)
        start, end = as_date(start), as_date(end)
        return {**self._header(start, end), "queue": queue, "target_service_level": target_sl,
                "target_s": target_s, "max_occupancy": max_occupancy, "days": covered,
                "rows": [r.to_dict() for r in rows]}

    def staffing_csv(self, start: date | str, end: date | str, target_sl: float = 0.80,
                     target_s: float = 20.0, max_occupancy: float | None = None,
                     queue: str | None = None) -> str:
        return staffing_csv(self._staffing(start, end, target_sl, target_s, max_occupancy, queue)[0])

    def heatmap(self, start: date | str, end: date | str, queue: str | None = None) -> dict[str, Any]:
        """Calls offered per hour of the week (local time): totals and the average per such day."""
        start, end = self._span(start, end, None)
        merged = self._merged(_from_first_call(self._load(start, end)), start, end)
        calls = [[0] * 24 for _ in WEEKDAYS]
        for q, slots in merged.hours.items():
            if queue is not None and q != queue:
                continue
            for key, values in slots.items():
                weekday, hour = divmod(int(key), 24)
                calls[weekday][hour] += int(values[0])
        days = list(merged.weekday_days)
        average = [[round(n / days[w], 2) if days[w] else None for n in calls[w]] for w in range(7)]
        return {**self._header(start, end), "queue": queue, "weekdays": list(WEEKDAYS),
                "days": days, "calls": calls, "average": average}

    def heatmap_csv(self, start: date | str, end: date | str, queue: str | None = None) -> str:
        data = self.heatmap(start, end, queue)
        out = io.StringIO()
        writer = csv_safe.writer(out, lineterminator="\r\n")
        writer.writerow(["weekday", "days", *(f"{h:02d}" for h in range(24))])
        for w, name in enumerate(data["weekdays"]):
            writer.writerow([name, data["days"][w], *data["calls"][w]])
        return out.getvalue()

    def today_rows(self) -> list[QueueKpis]:
        today = self.today_date()
        return self.rollup(today).queue_kpis()

    def today(self) -> dict[str, Any]:
        """Per queue so far today, for the wallboard (callers waiting now come from the live view)."""
        today = self.today_date()
        rows = self.today_rows()
        return {**self._header(today, today), "day": today.isoformat(),
                "target_s": self.settings.target_s,
                "target_service_level": self.settings.target_service_level,
                "queues": [_row_dict(r) for r in rows]}

    def today_csv(self) -> str:
        return queue_kpis_csv(_Row(r) for r in self.today_rows())


def _from_first_call(days: list[StoredDay]) -> list[StoredDay]:
    """The days from the first with a queue call on: days before the box took calls are no quiet days."""
    for n, d in enumerate(days):
        if d.rollup.queues:
            return days[n:]
    return []


def _row_dict(row: QueueKpis) -> dict[str, Any]:
    # Every field is a number or a string: a shallow copy is the same as asdict,
    # which deep-copies field by field and costs more than the report itself.
    return dict(vars(row))


class _Row:
    """A queue row whose to_dict is the shallow copy (for to_csv over thousands of rows)."""

    __slots__ = ("row",)

    def __init__(self, row: QueueKpis):
        self.row = row

    def to_dict(self) -> dict[str, Any]:
        return _row_dict(self.row)


__all__ = ["FORMAT", "Reports", "StoredDay", "as_date", "wrap_ups"]
