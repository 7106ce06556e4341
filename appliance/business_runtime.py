"""The owner's contract questions answered from the box's own month: SLA and cost per call.

The rules are pure (`appliance.logic.business`); this module gathers the
month's roll-ups from the reports and turns what a client sent into targets,
costs and offers, each refused with a clear reason when it does not fit.
"""

from __future__ import annotations

import calendar as cal
import dataclasses
from datetime import date
from typing import Any

from appliance.errors import ValidationError
from appliance.logic import business as biz
from appliance.logic.stats import merge
from appliance.ports import DayRollup, RecordLog, Setting


def _month(text: Any) -> tuple[str, list[date]]:
    try:
        year, month = (int(p) for p in str(text).split("-"))
        days = cal.monthrange(year, month)[1]
    except (ValueError, cal.IllegalMonthError):
        raise ValidationError("month: YYYY-MM, e.g. 2026-11") from None
    return f"{year:04d}-{month:02d}", [date(year, month, d) for d in range(1, days + 1)]


def _build(cls, data: Any, what: str):
    if not isinstance(data, dict):
        raise ValidationError(f"{what}: must be an object")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValidationError(f"{what}: unknown field {sorted(unknown)[0]}")
    try:
        return cls(**data)
    except TypeError as e:
        raise ValidationError(f"{what}: {e}") from None


class Business:
    def __init__(self, *, rollup: DayRollup, queue_log: RecordLog, setting: Setting):
        self.rollup = rollup
        self.queue_log = queue_log
        self.setting = setting

    def month_rollup(self, month: str):
        key, days = _month(month)
        today = date.today()
        return key, merge(self.rollup(d) for d in days if d <= today)

    def sla(self, data: Any) -> tuple[Any, str]:
        if not isinstance(data, dict):
            raise ValidationError("body: {month, targets: [...], language?}")
        key, rollup = self.month_rollup(data.get("month", ""))
        targets = [_build(biz.SlaTargets, {k: v for k, v in t.items() if k != "hours_covered"}, "targets")
                   for t in (data.get("targets") or [{}])]
        calendar = biz.SlaCalendar(key, tz=self.setting("box.timezone"))
        events = self.queue_log.query(None, None, limit=None, newest_first=False)
        return biz.sla_report(rollup, targets, calendar, events=events), str(data.get("language", "en"))

    def cost(self, data: Any) -> tuple[Any, str]:
        if not isinstance(data, dict) or not isinstance(data.get("costs"), dict):
            raise ValidationError("body: {month, costs: {...}, offers: [...], language?}")
        key, rollup = self.month_rollup(data.get("month", ""))
        costs = _build(biz.StaffCosts, data["costs"], "costs")
        offers = [_build(biz.OutsourcingOffer, o, "offers") for o in data.get("offers") or []]
        traffic = dataclasses.replace(biz.month_traffic(rollup), month=key)
        return biz.cost_report(traffic, costs, offers), str(data.get("language", "en"))
