"""CSV of the report tables: a header row, then one row per line, columns in a fixed order.

Ratios are written as fractions with 4 decimals, times in whole-ish seconds
with 1 decimal, and an empty cell where a ratio has no calls to stand on.
Spreadsheets read the result as is; the column order never changes, new
columns are only ever added at the end.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from appliance.logic import csv_safe
from appliance.logic.stats.agents import AgentStats
from appliance.logic.stats import satisfaction
from appliance.logic.stats.kpis import QueueKpis
from appliance.logic.stats.staffing import StaffingHour

QUEUE_COLUMNS: tuple[str, ...] = (
    "interval", "queue", "offered", "answered", "abandoned", "short_abandoned", "timeout",
    "refused", "callbacks_requested", "callbacks_completed", "callbacks_failed",
    "answered_within_target", "service_level", "abandon_rate", "asa_s", "aht_s",
    "avg_talk_s", "avg_wrap_up_s", "avg_abandon_wait_s", "longest_wait_s", *satisfaction.COLUMNS,
)
AGENT_COLUMNS: tuple[str, ...] = (
    "agent", "calls", "talk_s", "wrap_up_s", "logged_in_s", "break_s", "breaks_by_reason",
    "missed_offers", "utilisation", "occupancy", "avg_handle_s", *satisfaction.COLUMNS,
)
STAFFING_COLUMNS: tuple[str, ...] = (
    "label", "weekday", "hour", "calls_per_hour", "aht_s", "agents", "service_level", "asa_s",
)
_RATIOS = {"service_level", "abandon_rate", "utilisation", "occupancy"}
_TWO_PLACES = {"csat_average"}  # a score 1-5: one decimal would hide most of a difference


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        # One cell for the breaks: "lunch=1800.0;training=600.0".
        return ";".join(f"{k}={v:.1f}" for k, v in value.items())
    if isinstance(value, float):
        if name in _TWO_PLACES:
            return f"{value:.2f}"
        return f"{value:.4f}" if name in _RATIOS else f"{value:.1f}"
    return str(value)


def to_csv(rows: Iterable[Any], columns: Sequence[str]) -> str:
    """Any report rows (dataclasses with to_dict) as CSV text with a header row."""
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        data = row.to_dict()
        data.setdefault("breaks_by_reason", data.get("break_s_by_reason"))
        writer.writerow([_cell(c, data.get(c)) for c in columns])
    return out.getvalue()


def queue_kpis_csv(rows: Iterable[QueueKpis]) -> str:
    return to_csv(rows, QUEUE_COLUMNS)


def agent_stats_csv(rows: Iterable[AgentStats]) -> str:
    return to_csv(rows, AGENT_COLUMNS)


def staffing_csv(rows: Iterable[StaffingHour]) -> str:
    return to_csv(rows, STAFFING_COLUMNS)
