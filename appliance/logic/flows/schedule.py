"""Opening hours: weekly intervals, holidays and overrides, read in local wall time.

A schedule is written in the wall time of its own time zone, as people read
opening hours on a shop door. The moment of a call is converted to that zone
before it is compared, so "09:00-17:00" stays 09:00-17:00 on both sides of a
DST change, an interval that falls into the spring-forward gap simply never
happens that night, and one that falls into the repeated autumn hour is open
both times round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Iterable
from zoneinfo import ZoneInfo

from appliance.errors import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_MINUTES = 24 * 60
WEEK_MINUTES = 7 * DAY_MINUTES

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEARLY = re.compile(r"^(\d{2})-(\d{2})$")


class Override(StrEnum):
    """What the admin chose for one time condition, whatever the clock says."""
    AUTO = "auto"
    FORCE_OPEN = "force_open"
    FORCE_CLOSED = "force_closed"


def parse_clock_time(text: str, *, allow_24: bool = False) -> int:
    """"HH:MM" as minutes after midnight; "24:00" only where an interval may end."""
    m = _TIME.match(text) if isinstance(text, str) else None
    if not m:
        raise ValidationError(f"{text!r} is not a time of day like 09:30")
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        raise ValidationError(f"{text!r} is not a time of day like 09:30")
    return hours * 60 + minutes


def format_clock_time(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_date(text: str) -> date:
    m = _DATE.match(text) if isinstance(text, str) else None
    if not m:
        raise ValidationError(f"{text!r} is not a date like 2025-12-24")
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise ValidationError(f"{text!r} is not a date in the calendar") from None


def parse_holiday(text: str) -> date | tuple[int, int]:
    """A dated holiday ("2025-11-11") or one that comes back every year ("12-25")."""
    m = _YEARLY.match(text) if isinstance(text, str) else None
    if not m:
        return parse_date(text)
    month, day = int(m.group(1)), int(m.group(2))
    try:
        date(2000, month, day)   # a leap year, so that 02-29 is allowed
    except ValueError:
        raise ValidationError(f"{text!r} is not a day of the year like 12-25") from None
    return month, day


def load_zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{name!r} is not a time zone name like Europe/Warsaw")
    try:
        return ZoneInfo(name)
    # zoneinfo raises KeyError, ValueError or OSError kinds for odd names; all mean "unknown".
    except Exception:
        raise ValidationError(f"{name!r} is not a known time zone") from None


@dataclass(frozen=True)
class Interval:
    """Open from `start` to `end` (minutes after midnight, end excluded).

    An overnight interval starts on its day and ends on the next one
    (22:00-06:00); it must be marked so, which keeps a swapped 17:00-09:00
    from silently meaning "all night".
    """
    start: int
    end: int
    overnight: bool = False

    def to_dict(self) -> dict:
        d = {"start": format_clock_time(self.start), "end": format_clock_time(self.end)}
        if self.overnight:
            d["overnight"] = True
        return d

    def week_spans(self, day_index: int) -> list[tuple[int, int]]:
        """Minutes of the week this interval covers, split where the week wraps."""
        begin = day_index * DAY_MINUTES + self.start
        finish = day_index * DAY_MINUTES + self.end + (DAY_MINUTES if self.overnight else 0)
        if finish <= WEEK_MINUTES:
            return [(begin, finish)]
        return [(begin, WEEK_MINUTES), (0, finish - WEEK_MINUTES)]


@dataclass(frozen=True)
class DateRange:
    """Closed from `first` to `last`, both days included."""
    first: date
    last: date

    def to_dict(self) -> dict:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


@dataclass(frozen=True)
class HolidayCalendar:
    """Days on which a time condition is closed all day, 00:00-24:00 local time."""
    dates: frozenset[date] = frozenset()
    yearly: frozenset[tuple[int, int]] = frozenset()
    ranges: tuple[DateRange, ...] = ()

    def closes(self, day: date) -> bool:
        return (day in self.dates or (day.month, day.day) in self.yearly
                or any(r.first <= day <= r.last for r in self.ranges))

    def holiday_strings(self) -> list[str]:
        return ([d.isoformat() for d in sorted(self.dates)]
                + [f"{m:02d}-{d:02d}" for m, d in sorted(self.yearly)])

    @classmethod
    def build(cls, holidays: Iterable[date | tuple[int, int]] = (),
              ranges: Iterable[DateRange] = ()) -> HolidayCalendar:
        dated = [h for h in holidays if isinstance(h, date)]
        yearly = [h for h in holidays if not isinstance(h, date)]
        return cls(frozenset(dated), frozenset(yearly), tuple(ranges))


@dataclass(frozen=True)
class WeekSchedule:
    """Open intervals for each day of the week ("mon" ... "sun"); a day not listed is closed."""
    days: dict[str, tuple[Interval, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {day: [i.to_dict() for i in self.days[day]] for day in DAYS if day in self.days}

    def is_open_at(self, weekday: int, minute: int) -> bool:
        today = self.days.get(DAYS[weekday], ())
        yesterday = self.days.get(DAYS[(weekday - 1) % 7], ())
        for i in today:
            if i.overnight and minute >= i.start:
                return True
            if not i.overnight and i.start <= minute < i.end:
                return True
        return any(i.overnight and minute < i.end for i in yesterday)


def is_open(node, now: datetime, holidays: HolidayCalendar | None = None,
            override: Override | str | None = None, night_mode: bool = False) -> bool:
    """Whether the time condition `node` sends a call at `now` to its open destination.

    The order, strongest first: a manual override on the node (the admin
    chose it for this node only); the front panel's night-mode switch, if the
    node follows it; holidays (the node's own, plus the shared calendar
    `holidays` unless the node opts out); then the weekly schedule.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError("the time of a call must carry its time zone")
    chosen = Override(override) if override is not None else node.override
    if chosen is Override.FORCE_OPEN:
        return True
    if chosen is Override.FORCE_CLOSED:
        return False
    if night_mode and node.follows_night_mode:
        return False
    local = now.astimezone(load_zone(node.timezone))
    today = local.date()
    if node.calendar.closes(today):
        return False
    if holidays is not None and node.shared_holidays and holidays.closes(today):
        return False
    return node.week.is_open_at(local.weekday(), local.hour * 60 + local.minute)


def schedule_overlaps(week: WeekSchedule) -> list[tuple[str, int, str, int]]:
    """Pairs of intervals that overlap, as (day, index, earlier_day, earlier_index)."""
    spans = []
    for d, day in enumerate(DAYS):
        for n, interval in enumerate(week.days.get(day, ())):
            for begin, finish in interval.week_spans(d):
                spans.append((begin, finish, day, n))
    spans.sort()
    found = []
    reported = set()
    for a, (begin, finish, day, n) in enumerate(spans):
        for b_begin, b_finish, b_day, b_n in spans[a + 1:]:
            if b_begin >= finish:
                break
            if (b_day, b_n) != (day, n) and (b_day, b_n, day, n) not in reported:
                reported.add((b_day, b_n, day, n))
                found.append((b_day, b_n, day, n))
    return found

