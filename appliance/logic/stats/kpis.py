"""Queue KPIs per interval: service level, abandon rate, ASA, AHT and the rest.

The formulas (docs/statistics.md says the same):

- offered: every inbound call that reached the queue, whatever became of it;
- service level = answered within target / (offered - short abandons);
- abandon rate = (abandoned - short abandons) / (offered - short abandons);
- ASA = wait of answered calls / answered;
- AHT = (talk + wrap-up of answered calls) / answered;
- CSAT: surveys offered and answered, the average score and the share of 4s and 5s in per cent
  (stats/satisfaction.py).

Short abandons (caller hung up within `short_abandon_s`) are mostly
misdials and impatient redials, not failures of service, so they leave both
denominators. A ratio with an empty denominator is None, not 0: no calls is
not a bad service level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any

from appliance.logic.stats import satisfaction
from appliance.logic.stats.intervals import Interval, interval_label, interval_start, zone
from appliance.logic.stats.schema import Direction, KpiSettings, Record, parse_time
from appliance.logic.stats.tally import Tally

ALL_QUEUES = "*"


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


@dataclass(frozen=True)
class QueueKpis:
    """One row of the queue report: one queue over one interval."""

    queue: str
    interval: str
    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    timeout: int
    refused: int
    callbacks_requested: int
    callbacks_completed: int
    callbacks_failed: int
    answered_within_target: int
    service_level: float | None
    abandon_rate: float | None
    asa_s: float | None
    aht_s: float | None
    avg_talk_s: float | None
    avg_wrap_up_s: float | None
    avg_abandon_wait_s: float | None
    longest_wait_s: float
    csat_offered: int = 0
    csat_answered: int = 0
    csat_average: float | None = None
    csat_pct: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def kpis_of(tally: Tally, queue: str, interval: str, settings: KpiSettings | None = None,
            target_s: float | None = None) -> QueueKpis:
    """The KPIs of a tally.

    With `target_s` other than the tally's own target, answered-within comes
    from the wait histogram (see Tally.answered_within).
    """
    settings = settings or KpiSettings()
    if target_s is None or target_s == settings.target_s:
        within: float = tally.answered_within_target
    else:
        within = tally.answered_within(target_s)
    counted = tally.offered - tally.short_abandoned
    return QueueKpis(
        queue=queue,
        interval=interval,
        offered=tally.offered,
        answered=tally.answered,
        abandoned=tally.abandoned,
        short_abandoned=tally.short_abandoned,
        timeout=tally.timeout,
        refused=tally.refused,
        callbacks_requested=tally.callbacks_requested,
        callbacks_completed=tally.callbacks_completed,
        callbacks_failed=tally.callbacks_failed,
        answered_within_target=round(within),
        service_level=_ratio(within, counted),
        abandon_rate=_ratio(tally.abandoned - tally.short_abandoned, counted),
        asa_s=_ratio(tally.wait_answered_s, tally.answered),
        aht_s=_ratio(tally.talk_s + tally.wrap_up_s, tally.answered),
        avg_talk_s=_ratio(tally.talk_s, tally.answered),
        avg_wrap_up_s=_ratio(tally.wrap_up_s, tally.answered),
        avg_abandon_wait_s=_ratio(tally.wait_abandoned_s, tally.abandoned),
        longest_wait_s=tally.longest_wait_s,
        **satisfaction.figures(tally),
    )


def is_queue_call(record: Record) -> bool:
    """Whether a record counts for queue KPIs: an inbound call that reached a queue."""
    return bool(record.get("queue")) and record.get("direction", Direction.INBOUND) == Direction.INBOUND


def tally_by_interval(
    records: Iterable[Record],
    interval: Interval,
    tz: str | tzinfo = "UTC",
    settings: KpiSettings | None = None,
) -> dict[tuple[str, datetime], Tally]:
    """Tallies keyed by (queue, interval start as a UTC instant); a call counts where it started.

    UTC keys, because two local times of the repeated DST hour compare and
    hash equal in Python (same zone: fold is ignored).
    """
    tz = zone(tz)
    settings = settings or KpiSettings()
    tallies: dict[tuple[str, datetime], Tally] = {}
    for record in records:
        if not is_queue_call(record):
            continue
        start = interval_start(parse_time(record.get("start"), tz), interval, tz)
        key = (str(record["queue"]), start.astimezone(timezone.utc))
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = Tally()
        tally.add(record, settings)
    return tallies


def queue_kpis(
    records: Iterable[Record],
    interval: Interval = Interval.DAY,
    tz: str | tzinfo = "UTC",
    settings: KpiSettings | None = None,
    all_queues: bool = True,
) -> list[QueueKpis]:
    """KPI rows per queue and interval, in time order then queue order.

    With `all_queues`, each interval also gets a row for queue "*" over all
    queues together.
    """
    settings = settings or KpiSettings()
    interval = Interval(interval)
    tallies = tally_by_interval(records, interval, tz, settings)
    if all_queues:
        totals: dict[tuple[str, datetime], Tally] = {}
        for (_, start), tally in tallies.items():
            total = totals.setdefault((ALL_QUEUES, start), Tally())
            total.merge(tally)
        tallies.update(totals)
    # Instants order the repeated DST hour correctly; labels alone would not.
    keys = sorted(tallies, key=lambda k: (k[1], k[0] != ALL_QUEUES, k[0]))
    tz = zone(tz)
    return [kpis_of(tallies[k], k[0], interval_label(k[1].astimezone(tz), interval), settings)
            for k in keys]
