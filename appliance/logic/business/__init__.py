"""The business side of the box: SLA reports, cost per handled call, privacy rules.

Pure: input is statistics (roll-ups, KPI rows, the queue log) and plain
dicts, output is dataclasses, CSV and printable HTML text. docs/business.md
gives every formula.
"""

from appliance.logic.business.cost import (
    CostReport,
    Figure,
    HoursBasis,
    MonthTraffic,
    OfferCost,
    OutsourcingOffer,
    PricingModel,
    StaffCosts,
    Term,
    cost_report,
    evaluate,
    explain_text,
    month_traffic,
)
from appliance.logic.business.cost import to_csv as cost_to_csv
from appliance.logic.business.cost import to_html as cost_to_html
from appliance.logic.business.coverage import contracted_spans, logged_in_spans, staffed_spans
from appliance.logic.business.localize import (
    Language,
    format_date,
    format_money,
    format_month,
    format_number,
    format_percent,
    format_quantity,
)
from appliance.logic.business.privacy import (
    DataKind,
    RecordingMode,
    RetentionPolicy,
    RoutePolicy,
    due_for_deletion,
    matches_number,
    number_forms,
    recording_allowed,
    recording_notice,
)
from appliance.logic.business.sla import (
    Clause,
    ClauseStatus,
    SlaCalendar,
    SlaReport,
    SlaRow,
    SlaTargets,
    sla_report,
    to_csv,
    to_html,
)

__all__ = [
    "Clause", "ClauseStatus", "CostReport", "DataKind", "Figure", "HoursBasis", "Language",
    "MonthTraffic", "OfferCost", "OutsourcingOffer", "PricingModel", "RecordingMode",
    "RetentionPolicy", "RoutePolicy", "SlaCalendar", "SlaReport", "SlaRow", "SlaTargets",
    "StaffCosts", "Term", "contracted_spans", "cost_report", "cost_to_csv", "cost_to_html",
    "due_for_deletion", "evaluate", "explain_text", "format_date", "format_money", "format_month",
    "format_number", "format_percent", "format_quantity", "logged_in_spans", "matches_number",
    "month_traffic", "number_forms", "recording_allowed", "recording_notice", "sla_report",
    "staffed_spans", "to_csv", "to_html",
]
