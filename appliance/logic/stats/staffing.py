"""Staffing advice per hour of the week, from the box's own calls.

For each hour of the week (Monday 00:00 ... Sunday 23:00, local time) the
arrival rate is the calls offered in that hour over the data divided by how
many such hours the data covers; the handle time is the AHT of that hour
(the AHT of the whole data where an hour had no answered call). Erlang C then
gives the agents needed for the target. Hours without calls need nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta, tzinfo
from typing import Any

from appliance.logic.stats.erlang import agents_needed, asa, service_level
from appliance.logic.stats.rollup import ANSWERED, HANDLE_S, OFFERED, Rollup, merge, rollup_days
from appliance.logic.stats.schema import KpiSettings, Record

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class StaffingHour:
    """Advice for one hour of the week."""

    weekday: int  # 0 = Monday
    hour: int
    calls_per_hour: float
    aht_s: float | None
    agents: int
    service_level: float | None
    asa_s: float | None

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.hour:02d}:00"

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, **asdict(self)}


def staffing_from_rollup(
    rollup: Rollup,
    target_sl: float = 0.80,
    target_s: float = 20.0,
    max_occupancy: float | None = None,
    queue: str | None = None,
) -> list[StaffingHour]:
    """168 hours of advice from a merged roll-up (for one queue, or all with None)."""
    slots: dict[int, list[float]] = {}
    for q, hours in rollup.hours.items():
        if queue is not None and q != queue:
            continue
        for key, (offered, answered, handle_s) in hours.items():
            slot = slots.setdefault(int(key), [0.0, 0.0, 0.0])
            slot[OFFERED] += offered
            slot[ANSWERED] += answered
            slot[HANDLE_S] += handle_s
    answered_all = sum(s[ANSWERED] for s in slots.values())
    overall_aht = sum(s[HANDLE_S] for s in slots.values()) / answered_all if answered_all else None
    advice = []
    for index in range(7 * 24):
        weekday, hour = divmod(index, 24)
        offered, answered, handle_s = slots.get(index, (0.0, 0.0, 0.0))
        covered = rollup.weekday_days[weekday]
        rate = offered / covered if covered else 0.0
        aht = handle_s / answered if answered else overall_aht
        if rate == 0 or not aht:
            advice.append(StaffingHour(weekday, hour, rate, aht, 0, None, None))
            continue
        n = agents_needed(rate, aht, target_sl, target_s, max_occupancy)
        advice.append(StaffingHour(
            weekday, hour, rate, aht, n,
            service_level(n, rate, aht, target_s), asa(n, rate, aht),
        ))
    return advice


def staffing_advice(
    records: Iterable[Record],
    tz: str | tzinfo = "UTC",
    target_sl: float = 0.80,
    target_s: float = 20.0,
    max_occupancy: float | None = None,
    queue: str | None = None,
) -> list[StaffingHour]:
    """168 hours of advice straight from call records.

    The data covers every day from its first call to its last; a day in
    between without calls counts as a day of zero calls.
    """
    days = rollup_days(records, [], tz, KpiSettings(target_s=target_s))
    if not days:
        return staffing_from_rollup(_empty(tz, target_s), target_sl, target_s, max_occupancy, queue)
    merged = merge(days.values())
    # Days inside the span without a single call still count as covered hours.
    first, last = min(days), max(days)
    covered = [0] * 7
    day = first
    while day <= last:
        covered[day.weekday()] += 1
        day += timedelta(days=1)
    merged.weekday_days = covered
    return staffing_from_rollup(merged, target_sl, target_s, max_occupancy, queue)


def _empty(tz: str | tzinfo, target_s: float) -> Rollup:
    return Rollup(first_day="", last_day="", days=0, tz=str(tz), target_s=target_s, short_abandon_s=5.0)
