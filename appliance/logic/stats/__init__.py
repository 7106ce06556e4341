"""Contact-center statistics: queue KPIs, agent figures, Erlang C staffing, daily roll-ups.

Pure: input is call records and queue-log events as plain dicts, output is
dataclasses and dicts. docs/statistics.md gives every formula.
"""

from appliance.logic.stats.agents import AgentStats, AgentTally, agent_stats, agent_tallies
from appliance.logic.stats.erlang import (
    agents_needed,
    asa,
    erlang_b,
    erlang_c,
    occupancy,
    service_level,
    traffic,
)
from appliance.logic.stats.export import agent_stats_csv, queue_kpis_csv, staffing_csv, to_csv
from appliance.logic.stats.intervals import Interval, interval_start, zone
from appliance.logic.stats.kpis import ALL_QUEUES, QueueKpis, kpis_of, queue_kpis, tally_by_interval
from appliance.logic.stats.rollup import Rollup, merge, rollup_day, rollup_days
from appliance.logic.stats.schema import Direction, KpiSettings
from appliance.logic.stats.source import records_for_day
from appliance.logic.stats.staffing import StaffingHour, staffing_advice, staffing_from_rollup
from appliance.logic.stats.tally import WAIT_EDGES, Tally

DayRollup = Rollup

__all__ = [
    "ALL_QUEUES", "AgentStats", "AgentTally", "DayRollup", "Direction", "Interval",
    "KpiSettings", "QueueKpis", "Rollup", "StaffingHour", "Tally",
    "WAIT_EDGES", "agent_stats", "agent_stats_csv", "agent_tallies", "agents_needed", "asa",
    "erlang_b", "erlang_c", "interval_start", "kpis_of", "merge", "occupancy", "queue_kpis",
    "queue_kpis_csv", "records_for_day", "rollup_day", "rollup_days", "service_level",
    "staffing_advice", "staffing_csv", "staffing_from_rollup", "tally_by_interval", "to_csv",
    "traffic", "zone",
]
