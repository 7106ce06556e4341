"""Which records a day's roll-up needs, asked of whatever keeps them.

The store is passed in (anything with MonthlyLog.query's signature, such as
`CallRecords`), so this module stays free of I/O of its own.
"""

from __future__ import annotations

from datetime import date, tzinfo
from typing import Any, Protocol

from appliance.logic.stats.intervals import day_bounds, zone
from appliance.logic.stats.schema import Record


class RecordSource(Protocol):
    def query(self, start: Any = None, end: Any = None, predicate: Any = None, offset: int = 0,
              limit: int | None = 100, newest_first: bool = True) -> list[Record]: ...


def records_for_day(source: RecordSource, day: date, tz: str | tzinfo = "UTC") -> list[Record]:
    """Every record that started on the local calendar day `day`, oldest first."""
    start, end = day_bounds(day, zone(tz))
    return source.query(start=start, end=end, limit=None, newest_first=False)
