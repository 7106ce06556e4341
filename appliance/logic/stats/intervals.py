"""Report intervals, cut at the business's local wall clock.

A 15-minute or hourly interval starts at a local wall-clock boundary and
carries its UTC offset, so the hour a DST change repeats (02:00-03:00 twice
in Europe/Warsaw each October) gives two intervals, and the hour a DST change
skips gives none. A day is a local calendar day (23 or 25 hours on change
days), a month a local calendar month.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appliance.errors import ValidationError


class Interval(StrEnum):
    QUARTER_HOUR = "15min"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"


def zone(name: str | tzinfo) -> tzinfo:
    """The box's time zone from its IANA name (the `box.timezone` setting)."""
    if not isinstance(name, str):
        return name
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValidationError(f"{name!r} is not a known time zone") from e


def interval_start(when: datetime, interval: Interval, tz: tzinfo) -> datetime:
    """The local start of the interval holding the instant `when` (aware, in tz)."""
    local = when.astimezone(tz)
    if interval is Interval.QUARTER_HOUR:
        start = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    elif interval is Interval.HOUR:
        start = local.replace(minute=0, second=0, microsecond=0)
    elif interval is Interval.DAY:
        return day_start(local.date(), tz)
    elif interval is Interval.MONTH:
        return day_start(local.date().replace(day=1), tz)
    else:
        raise ValidationError(f"unknown interval {interval!r}")
    # replace() keeps `fold`, so the repeated hour keeps its own offset; going
    # through UTC makes the offset attribute match it.
    return start.astimezone(tz)


def day_start(day: date, tz: tzinfo) -> datetime:
    """Local midnight of `day` (the first instant of it where midnight is skipped)."""
    naive = datetime.combine(day, time())
    aware = naive.replace(tzinfo=tz)
    # A zone that skips midnight maps it past the gap; normalise through UTC.
    return aware.astimezone(tz) if aware.utcoffset() is not None else aware


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """The instants [start, end) of a local calendar day."""
    return day_start(day, tz), day_start(day + timedelta(days=1), tz)


def interval_label(start: datetime, interval: Interval) -> str:
    """How an interval is named in tables: 2026-10-25T02:00+02:00, 2026-10-25, 2026-10."""
    if interval is Interval.DAY:
        return start.date().isoformat()
    if interval is Interval.MONTH:
        return start.strftime("%Y-%m")
    return start.isoformat(timespec="minutes")
