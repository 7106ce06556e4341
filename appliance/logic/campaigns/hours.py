"""Calling hours: when a campaign may ring someone, in the callee's own local time.

A business may call a person only at hours a careful business would: these are the box's
defaults per country, which the admin can change per campaign. They are a sensible starting
point, not legal advice (docs/campaigns.md says where each comes from):

- EU: Monday to Friday 10:00-13:00 and 14:00-20:00, never at weekends: the strictest rule we
  know in the Union (France's decree on telephone canvassing), so it is safe everywhere there.
- PL: Monday to Friday 08:00-20:00, Saturday 10:00-14:00.
- CN: every day 09:00-12:00 and 14:00-20:00 (no calls at lunch or at night).

Hours are read like a shop's opening hours (`appliance.logic.flows.schedule`): the moment is
turned into the callee's zone first, so they hold across DST changes and time zones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from appliance.errors import ValidationError
from appliance.logic.flows.schedule import (DAYS, Interval, WeekSchedule, format_clock_time, load_zone,
                                            parse_clock_time)


def _week(spec: dict[str, list[tuple[str, str]]]) -> WeekSchedule:
    return WeekSchedule({day: tuple(Interval(parse_clock_time(a), parse_clock_time(b, allow_24=True))
                                    for a, b in spans) for day, spans in spec.items()})


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
DEFAULT_HOURS: dict[str, WeekSchedule] = {
    "EU": _week({d: [("10:00", "13:00"), ("14:00", "20:00")] for d in _WEEKDAYS}),
    "PL": _week({**{d: [("08:00", "20:00")] for d in _WEEKDAYS}, "sat": [("10:00", "14:00")]}),
    "CN": _week({d: [("09:00", "12:00"), ("14:00", "20:00")] for d in DAYS}),
}
# Countries of the Union take the EU's hours unless they have their own above.
EU_COUNTRIES = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PT RO SK SI ES SE".split())


def defaults_for(country: str) -> WeekSchedule:
    """The default hours for an ISO country code (PL, CN, an EU member, else the EU's, the strictest)."""
    code = (country or "").upper()
    if code in DEFAULT_HOURS:
        return DEFAULT_HOURS[code]
    return DEFAULT_HOURS["EU"]


def week_from_dict(data: Any) -> WeekSchedule:
    """{"mon": [{"start": "09:00", "end": "17:00"}, ...], ...} as the admin writes it; clear errors."""
    if not isinstance(data, dict):
        raise ValidationError("calling hours must be a table of days, like {\"mon\": [{\"start\": \"09:00\", "
                              "\"end\": \"17:00\"}]}")
    days = {}
    for day, spans in data.items():
        if day not in DAYS:
            raise ValidationError(f"{day!r} is not a day; use {', '.join(DAYS)}")
        if not isinstance(spans, list):
            raise ValidationError(f"{day}: a list of {{start, end}} intervals")
        out = []
        for span in spans:
            if not isinstance(span, dict) or "start" not in span or "end" not in span:
                raise ValidationError(f"{day}: each interval needs a start and an end")
            start, end = parse_clock_time(span["start"]), parse_clock_time(span["end"], allow_24=True)
            if end <= start:
                raise ValidationError(f"{day}: {span['start']}-{span['end']} ends before it starts")
            out.append(Interval(start, end))
        days[day] = tuple(out)
    return WeekSchedule(days)


def week_to_dict(week: WeekSchedule) -> dict[str, list[dict[str, str]]]:
    return {day: [{"start": format_clock_time(i.start), "end": format_clock_time(i.end)} for i in week.days[day]]
            for day in DAYS if day in week.days}


@dataclass(frozen=True)
class CallingHours:
    """When a campaign may ring: a weekly schedule read in each callee's own time zone."""

    week: WeekSchedule

    def may_call(self, now: datetime, zone: str) -> bool:
        local = _local(now, zone)
        return self.week.is_open_at(local.weekday(), local.hour * 60 + local.minute)

    def next_opening(self, now: datetime, zone: str) -> datetime | None:
        """The first moment from `now` on (UTC) at which the callee may be rung; None if never."""
        if not any(self.week.days.values()):
            return None
        local = _local(now, zone)
        if self.may_call(now, zone):
            return now
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        for offset in range(8):
            day = day_start + timedelta(days=offset)
            for interval in sorted(self.week.days.get(DAYS[day.weekday()], ()), key=lambda i: i.start):
                opening = (day + timedelta(minutes=interval.start)).replace(tzinfo=local.tzinfo)
                # Wall time to an instant: a DST gap moves the opening forward to the first real minute.
                instant = opening.astimezone(now.tzinfo)
                if instant > now and self.may_call(instant, zone):
                    return instant
        return None


def _local(now: datetime, zone: str) -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError("the time must carry its time zone")
    return now.astimezone(load_zone(zone))
