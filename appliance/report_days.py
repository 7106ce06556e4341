"""Daily roll-ups of the box's own data, kept on disk: what every report is added up from.

Call records (`cdr/`) and the queue log (`queue_log/`) only grow; reading a
year of them back for every report would take seconds on a Pi. So each past
local day is rolled up once (appliance.logic.stats.rollup) and kept as
`stats/YYYY-MM-DD.json`; longer reports merge those small files. Beside it,
`stats/YYYY-MM-DD.intervals.json` keeps the day's quarter-hour tallies per
queue, from which 15-minute and hourly tables are added up, so no report
ever reads calls of a finished day twice.

When a stored day is trusted:

- it was made with the same time zone, service-level target and short-abandon
  time as the reports ask for now (changing them recomputes the days from the
  records still kept);
- it was made at least SETTLE after the day ended: a call is written when it
  ends, so a call that began at 23:58 appears after midnight. Days younger
  than that are computed but not stored.

Today is always computed afresh from its records (up to now) and never stored.

Agent sessions run over midnight: each stored day keeps, as `carry`, every
agent's last status event (login, break, available) that was still open at
its end, and the next day starts from it. Where the day before has no stored
roll-up, the queue log of the CARRY_LOOKBACK before is searched instead.

Call records carry no wrap-up time; it is read from the queue log
(CALL_ENDED of a call until the agent's next WRAP_UP_END).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from appliance.errors import StoreError, ValidationError
from appliance.logic.acd.queue_log import QueueLogKind
from appliance.logic.stats import Interval, KpiSettings, Rollup, Tally, rollup_day, tally_by_interval, zone
from appliance.logic.stats.intervals import day_bounds
from appliance.logic.stats.schema import parse_time
from appliance.store.atomic import atomic_write_bytes, encode_json
from appliance.store.records import CallRecords, MonthlyLog

log = logging.getLogger(__name__)

STATS_DIR = "stats"
INTERVALS_SUFFIX = ".intervals.json"
# Calls are written when they end: a day is final once its longest calls have surely ended.
SETTLE = timedelta(hours=2)
# How far back the queue log is searched for agents logged in before a day.
CARRY_LOOKBACK = timedelta(days=31)
# A call ending just before midnight finishes its wrap-up after it.
WRAP_UP_SLACK = timedelta(hours=1)
# Parsed roll-ups kept in memory (a year of them is a few MB): a repeated year
# report then costs a stat per day instead of reading and parsing 365 files.
CACHED_DAYS = 800

_STATUS_EVENTS = frozenset({
    QueueLogKind.AGENT_LOGIN, QueueLogKind.AGENT_LOGOUT,
    QueueLogKind.AGENT_BREAK, QueueLogKind.AGENT_AVAILABLE,
})
_DEFAULT_TALLY = Tally().to_dict()

Quarters = dict[tuple[str, datetime], Tally]


def as_date(value: date | str, what: str = "day") -> date:
    """A date from a date or an ISO string (as query parameters bring it)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as e:
        raise ValidationError(f"{what} {value!r} is not a date like 2026-11-22") from e


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _compact(tally: Tally) -> dict[str, Any]:
    # Most quarter hours see a few calls: store only what differs from zero.
    return {k: v for k, v in tally.to_dict().items() if v != _DEFAULT_TALLY[k]}


def wrap_ups(events: Iterable[dict[str, Any]]) -> dict[str, float]:
    """Wrap-up seconds per call id: from a call's CALL_ENDED to its agent's next WRAP_UP_END."""
    ended: dict[str, tuple[str, datetime]] = {}  # agent -> (call id, end of the call)
    out: dict[str, float] = {}
    for event in events:
        agent = event.get("agent")
        if not agent:
            continue
        kind = event.get("event")
        if kind == "CALL_ENDED" and event.get("call_id"):
            ended[agent] = (str(event["call_id"]), parse_time(event.get("time"), timezone.utc))
        elif kind == QueueLogKind.WRAP_UP_END and agent in ended:
            call_id, at = ended.pop(agent)
            out[call_id] = max(0.0, (parse_time(event.get("time"), timezone.utc) - at).total_seconds())
    return out


@dataclass
class StoredDay:
    """One day's roll-up and, when asked for, its quarter-hour tallies."""

    day: date
    rollup: Rollup
    quarters: Quarters | None = None
    carry: dict[str, dict[str, Any]] | None = None


class DayRollups:
    """Daily roll-ups of the call records and queue log under `data_dir`.

    `tz` is the box's time zone (IANA name), `clock` returns seconds since
    the epoch. Pass the core's own CallRecords and queue-log MonthlyLog to
    share them; otherwise read-only ones are opened.
    """

    def __init__(
        self,
        data_dir: Path,
        tz: str = "UTC",
        clock: Callable[[], float] = time.time,
        settings: KpiSettings | None = None,
        records: MonthlyLog | None = None,
        queue_log: MonthlyLog | None = None,
    ):
        self.data_dir = Path(data_dir)
        self.tz_name = tz
        self.tz = zone(tz)
        self.clock = clock
        self.settings = settings or KpiSettings()
        self.records = records if records is not None else CallRecords(self.data_dir, read_only=True)
        self.queue_log = queue_log if queue_log is not None else MonthlyLog(
            self.data_dir / "queue_log", time_key="time", read_only=True)
        self.directory = self.data_dir / STATS_DIR
        # Report requests may come from several threads; one computes a day at a time.
        self._lock = threading.Lock()
        self._cache: OrderedDict[date, tuple[tuple[int, int, int], StoredDay]] = OrderedDict()
        self._cache_lock = threading.Lock()

    # -- time -----------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    def today_date(self) -> date:
        return self.now().astimezone(self.tz).date()

    # -- roll-ups -------------------------------------------------------------

    def rollup(self, day: date | str) -> Rollup:
        """The roll-up of one local day: stored for past days, fresh for today, empty ahead."""
        day = as_date(day)
        # A copy: the stored one is shared by every report that reads the day.
        return Rollup.from_dict(self._load(day, day)[0].rollup.to_dict())

    def _load(self, start: date, end: date, quarters: bool = False) -> list[StoredDay]:
        """Every day of [start, end] up to today, read where stored, computed where not."""
        today = self.today_date()
        wanted = [d for d in _days(start, end) if d <= today]
        found: dict[date, StoredDay] = {}
        missing: list[date] = []
        for day in wanted:
            stored = self._read(day, quarters) if day < today else None
            if stored is None:
                missing.append(day)
            else:
                found[day] = stored
        earliest = self._earliest_data()
        for day in [d for d in missing if earliest is None or d < earliest]:
            # Before the first month of records there is nothing to roll up, and nothing to store.
            found[day] = StoredDay(day, self._empty(day, day))
        missing = [d for d in missing if d not in found]
        if missing:
            with self._lock:
                for first, last in _runs(missing):
                    for computed in self._compute(first, last):
                        found[computed.day] = computed
        return [found[d] for d in wanted]

    def _earliest_data(self) -> date | None:
        """The first day that may hold a record or queue-log line (a day early, for UTC offsets)."""
        months = self.records.months() + self.queue_log.months()
        if not months:
            return None
        return date.fromisoformat(f"{min(months)}-01") - timedelta(days=1)

    def _empty(self, start: date, end: date) -> Rollup:
        s = self.settings
        rollup = Rollup(first_day=start.isoformat(), last_day=end.isoformat(), days=0, tz=self.tz_name,
                        target_s=s.target_s, short_abandon_s=s.short_abandon_s)
        if start == end:
            rollup.days = 1
            rollup.weekday_days[start.weekday()] = 1
        return rollup

    def _path(self, day: date) -> Path:
        return self.directory / f"{day.isoformat()}.json"

    def _intervals_path(self, day: date) -> Path:
        return self.directory / f"{day.isoformat()}{INTERVALS_SUFFIX}"

    def _is_final(self, day: date, made_at: datetime | None = None) -> bool:
        made_at = made_at or self.now()
        return made_at >= day_bounds(day, self.tz)[1] + SETTLE

    def _read_json(self, path: Path) -> dict[str, Any] | None:
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as e:
            log.warning("%s: unreadable roll-up, computing the day again: %s", path, e)
            return None
        return data if isinstance(data, dict) else None

    def _read(self, day: date, quarters: bool) -> StoredDay | None:
        try:
            st = os.stat(self._path(day))
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if not quarters:
            with self._cache_lock:
                hit = self._cache.get(day)
                if hit is not None and hit[0] == stamp:
                    self._cache.move_to_end(day)
                    return hit[1]
        stored = self._parse(day, quarters)
        if stored is not None:
            with self._cache_lock:
                self._cache[day] = (stamp, StoredDay(day, stored.rollup, carry=stored.carry))
                self._cache.move_to_end(day)
                while len(self._cache) > CACHED_DAYS:
                    self._cache.popitem(last=False)
        return stored

    def _parse(self, day: date, quarters: bool) -> StoredDay | None:
        data = self._read_json(self._path(day))
        if data is None:
            return None
        try:
            rollup = Rollup.from_dict(data)
            made_at = parse_time(data["made_at"], timezone.utc) if "made_at" in data else None
        except (ValidationError, KeyError) as e:
            log.warning("%s: bad roll-up, computing the day again: %s", self._path(day), e)
            return None
        s = self.settings
        if (rollup.tz, rollup.target_s, rollup.short_abandon_s) != (self.tz_name, s.target_s, s.short_abandon_s):
            return None
        if made_at is not None and not self._is_final(day, made_at):
            return None
        stored = StoredDay(day, rollup, carry=data.get("carry") if isinstance(data.get("carry"), dict) else None)
        if quarters:
            extra = self._read_json(self._intervals_path(day))
            if extra is None or extra.get("made_at") != data.get("made_at"):
                return None
            try:
                stored.quarters = {
                    (q, parse_time(at, timezone.utc)): Tally.from_dict(t)
                    for q, slots in extra["quarters"].items() for at, t in slots.items()
                }
            except (ValidationError, KeyError, AttributeError, TypeError) as e:
                log.warning("%s: bad interval tallies, computing the day again: %s",
                            self._intervals_path(day), e)
                return None
        return stored

    def _write(self, stored: StoredDay, made_at: datetime) -> None:
        stamp = made_at.isoformat()
        quarters: dict[str, dict[str, Any]] = {}
        for (q, at), tally in sorted((stored.quarters or {}).items(), key=lambda kv: (kv[0][1], kv[0][0])):
            quarters.setdefault(q, {})[at.isoformat()] = _compact(tally)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # The day file last: a day counts as stored only once both are there and agree.
            atomic_write_bytes(self._intervals_path(stored.day),
                               encode_json({"made_at": stamp, "quarters": quarters}))
            atomic_write_bytes(self._path(stored.day), encode_json(
                {**stored.rollup.to_dict(), "made_at": stamp, "carry": stored.carry or {}}))
        except (OSError, StoreError) as e:
            # A report still works without the stored copy; the next one tries again.
            log.warning("cannot store the roll-up of %s: %s", stored.day, e)

    def _carry_into(self, day: date) -> dict[str, dict[str, Any]]:
        """Each agent's open status event (login, break, available) as `day` begins."""
        before = day - timedelta(days=1)
        data = self._read_json(self._path(before))
        if data is not None and isinstance(data.get("carry"), dict):
            return dict(data["carry"])
        start = day_bounds(day, self.tz)[0]
        carry: dict[str, dict[str, Any]] = {}
        for event in self.queue_log.query(start=start - CARRY_LOOKBACK, end=start, limit=None,
                                          newest_first=False):
            _carry_on(carry, event)
        return carry

    def _compute(self, first: date, last: date) -> list[StoredDay]:
        """Roll up the days [first, last] in one read of their records and queue log."""
        now = self.now()
        today = now.astimezone(self.tz).date()
        lo, hi = day_bounds(first, self.tz)[0], day_bounds(last, self.tz)[1]
        records = self.records.query(start=lo, end=hi, limit=None, newest_first=False)
        events = self.queue_log.query(start=lo, end=hi + WRAP_UP_SLACK, limit=None, newest_first=False)
        wraps = wrap_ups(events)
        calls_by_day: dict[date, list[dict[str, Any]]] = {}
        for record in records:
            if "wrap_up_s" not in record and record.get("agent"):
                wrap = wraps.get(str(record.get("call_id") or record.get("id")))
                if wrap is not None:
                    record["wrap_up_s"] = wrap
            local = parse_time(record.get("start"), self.tz).astimezone(self.tz).date()
            calls_by_day.setdefault(local, []).append(record)
        events_by_day: dict[date, list[dict[str, Any]]] = {}
        for event in events:
            at = parse_time(event.get("time"), self.tz)
            if at < hi:
                events_by_day.setdefault(at.astimezone(self.tz).date(), []).append(event)
        carry = self._carry_into(first)
        out = []
        for day in _days(first, last):
            todays_events = events_by_day.get(day, [])
            calls = calls_by_day.get(day, [])
            rollup = rollup_day(calls, [*carry.values(), *todays_events], day, self.tz_name, self.settings,
                                until=now if day == today else None)
            for event in todays_events:
                _carry_on(carry, event)
            stored = StoredDay(day, rollup, tally_by_interval(calls, Interval.QUARTER_HOUR, self.tz, self.settings),
                               dict(carry))
            if day < today and self._is_final(day, now):
                self._write(stored, now)
            out.append(stored)
        return out


def _carry_on(carry: dict[str, dict[str, Any]], event: dict[str, Any]) -> None:
    """Keep an agent's last status event; a logout closes everything, so nothing is carried."""
    agent = event.get("agent")
    kind = event.get("event")
    if not agent or kind not in _STATUS_EVENTS:
        return
    if kind == QueueLogKind.AGENT_LOGOUT:
        carry.pop(str(agent), None)
    else:
        carry[str(agent)] = {k: event.get(k) for k in ("time", "agent", "event", "reason")}


def _runs(days: list[date]) -> list[tuple[date, date]]:
    """Consecutive days of one month grouped into (first, last) runs.

    Each run reads the logs once; a month at most, so that a year computed
    cold never holds more than a month of calls in memory.
    """
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and runs[-1][1] + timedelta(days=1) == day and runs[-1][0].month == day.month:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs
