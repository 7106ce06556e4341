"""Time conditions: wall-time schedules across DST, midnight, holidays, overrides, night mode."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from appliance.errors import ValidationError
from appliance.logic.flows import HolidayCalendar, Override, is_open, load_flows
from appliance.logic.flows.schedule import DateRange, parse_date

UTC = timezone.utc
WARSAW = ZoneInfo("Europe/Warsaw")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def condition(week, tz="Europe/Warsaw", **extra):
    data = {"schema": 1, "version": 1,
            "routes": [{"destination": "tc"}],
            "nodes": {"tc": {"kind": "time_condition", "timezone": tz, "week": week,
                             "open": "o", "closed": "c", **extra},
                      "o": {"kind": "hangup"}, "c": {"kind": "hangup"}}}
    return load_flows(data).nodes["tc"]


WEEKDAYS_9_17 = {d: [{"start": "09:00", "end": "17:00"}] for d in ("mon", "tue", "wed", "thu",
                                                                      "fri", "sat", "sun")}


@pytest.mark.parametrize("utc, expected", [
    # Saturday 30 March 2024, CET (UTC+1): 08:30 UTC is 09:30 local.
    (datetime(2024, 3, 30, 8, 30, tzinfo=UTC), True),
    (datetime(2024, 3, 30, 7, 30, tzinfo=UTC), False),
    # Sunday 31 March, after the spring change to CEST (UTC+2): 07:30 UTC is 09:30 local.
    (datetime(2024, 3, 31, 7, 30, tzinfo=UTC), True),
    (datetime(2024, 3, 31, 15, 30, tzinfo=UTC), False),   # 17:30 local
    # Sunday 27 October, back to CET: 15:30 UTC is 16:30 local, still open.
    (datetime(2024, 10, 27, 15, 30, tzinfo=UTC), True),
    (datetime(2024, 10, 27, 7, 30, tzinfo=UTC), False),   # 08:30 local
])
def test_warsaw_hours_follow_local_time_across_dst(utc, expected):
    assert is_open(condition(WEEKDAYS_9_17), utc) is expected


def test_spring_gap_and_autumn_repeat_in_warsaw():
    tc = condition({"sun": [{"start": "02:00", "end": "03:00"}]})
    # 31 March 2024: 02:00-03:00 does not exist; no UTC minute of that night is open.
    night = datetime(2024, 3, 30, 23, 0, tzinfo=UTC)
    assert not any(is_open(tc, night + timedelta(minutes=m)) for m in range(0, 240, 5))
    # 27 October 2024: 02:00-03:00 happens twice (00:00-01:00 and 01:00-02:00 UTC).
    assert is_open(tc, datetime(2024, 10, 27, 0, 30, tzinfo=UTC))
    assert is_open(tc, datetime(2024, 10, 27, 1, 30, tzinfo=UTC))
    assert not is_open(tc, datetime(2024, 10, 27, 2, 30, tzinfo=UTC))


def test_shanghai_time_and_its_old_summer_time():
    tc = condition(WEEKDAYS_9_17, tz="Asia/Shanghai")
    assert is_open(tc, datetime(2024, 7, 1, 1, 30, tzinfo=UTC))       # 09:30 CST
    assert not is_open(tc, datetime(2024, 7, 1, 0, 30, tzinfo=UTC))   # 08:30 CST
    # China kept summer time 1986-1991: on 1 June 1990 local time was UTC+9.
    assert is_open(tc, datetime(1990, 6, 1, 0, 30, tzinfo=UTC))       # 09:30 CDT
    assert not is_open(tc, datetime(1990, 12, 1, 0, 30, tzinfo=UTC))  # 08:30 CST
    # The same instant in Warsaw's zone is the same answer: only the instant matters.
    instant = datetime(2024, 7, 1, 1, 30, tzinfo=UTC)
    assert is_open(tc, instant.astimezone(WARSAW)) is is_open(tc, instant)


def test_interval_crossing_midnight_belongs_to_its_start_day():
    tc = condition({"fri": [{"start": "22:00", "end": "06:00", "overnight": True}]})
    fri = datetime(2024, 6, 7, tzinfo=WARSAW)    # a Friday
    assert not is_open(tc, fri.replace(hour=21, minute=59))
    assert is_open(tc, fri.replace(hour=22))
    assert is_open(tc, fri.replace(hour=23, minute=59))
    assert is_open(tc, (fri + timedelta(days=1)).replace(hour=5, minute=59))   # Saturday
    assert not is_open(tc, (fri + timedelta(days=1)).replace(hour=6))
    assert not is_open(tc, (fri - timedelta(days=1)).replace(hour=23))       # Thursday


def test_sunday_night_interval_wraps_into_monday():
    tc = condition({"sun": [{"start": "20:00", "end": "02:00", "overnight": True}]})
    assert is_open(tc, datetime(2024, 6, 10, 1, 0, tzinfo=WARSAW))            # Monday 01:00
    assert not is_open(tc, datetime(2024, 6, 10, 2, 0, tzinfo=WARSAW))


def test_end_of_day_24_00():
    tc = condition({"mon": [{"start": "18:00", "end": "24:00"}]})
    assert is_open(tc, datetime(2024, 6, 10, 23, 59, tzinfo=WARSAW))
    assert not is_open(tc, datetime(2024, 6, 11, 0, 0, tzinfo=WARSAW))


def test_holidays_dated_yearly_ranges_and_shared():
    tc = condition(WEEKDAYS_9_17, holidays=["2024-11-11", "12-25"],
                   holiday_ranges=[{"from": "2024-12-30", "to": "2025-01-02"}])
    noon = lambda y, m, d: datetime(y, m, d, 12, tzinfo=WARSAW)  # noqa: E731
    assert not is_open(tc, noon(2024, 11, 11))
    assert not is_open(tc, noon(2031, 12, 25))          # every year
    assert not is_open(tc, noon(2024, 12, 30))
    assert not is_open(tc, noon(2025, 1, 2))            # last day included
    assert is_open(tc, noon(2025, 1, 3))
    shared = HolidayCalendar.build([parse_date("2024-05-03")])
    assert not is_open(tc, noon(2024, 5, 3), shared)
    own_only = condition(WEEKDAYS_9_17, shared_holidays=False)
    assert is_open(own_only, noon(2024, 5, 3), shared)


def test_holiday_is_the_local_calendar_day():
    tc = condition({"tue": [{"start": "00:00", "end": "24:00"}]},
                   holiday_ranges=[{"from": "2024-12-24", "to": "2024-12-24"}])
    # 23:30 UTC on Monday 23 December is already Tuesday the 24th in Warsaw.
    assert not is_open(tc, datetime(2024, 12, 23, 23, 30, tzinfo=UTC))
    assert is_open(tc, datetime(2024, 12, 31, 12, tzinfo=WARSAW))
    assert HolidayCalendar(ranges=(DateRange(parse_date("2024-12-24"),
                                             parse_date("2024-12-24")),)).closes(
        parse_date("2024-12-24"))


def test_overrides_and_night_mode():
    open_now = datetime(2024, 6, 10, 10, tzinfo=WARSAW)     # Monday 10:00
    closed_now = datetime(2024, 6, 10, 20, tzinfo=WARSAW)
    tc = condition(WEEKDAYS_9_17)
    assert is_open(tc, open_now) and not is_open(tc, closed_now)
    assert not is_open(tc, open_now, night_mode=True)
    assert is_open(tc, closed_now, override=Override.FORCE_OPEN)
    assert is_open(tc, open_now, override="force_open", night_mode=True)   # override wins
    assert not is_open(tc, open_now, override=Override.FORCE_CLOSED)
    stored = condition(WEEKDAYS_9_17, override="force_closed")
    assert not is_open(stored, open_now)
    assert is_open(stored, open_now, override=Override.AUTO)     # runtime choice beats stored
    deaf = condition(WEEKDAYS_9_17, follows_night_mode=False)
    assert is_open(deaf, open_now, night_mode=True)


def test_naive_time_is_refused():
    with pytest.raises(ValidationError):
        is_open(condition(WEEKDAYS_9_17), datetime(2024, 6, 10, 10))
