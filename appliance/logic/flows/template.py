"""The flows the set-up wizard starts a new box with.

Business hours → a menu (1 sales, 2 support, 0 operator); after hours a
closed greeting, then voicemail. The admin changes it in the editor later;
it is an ordinary flow set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from appliance.logic.flows.model import SCHEMA_VERSION, FlowSet
from appliance.logic.flows.validate import load_flows

MENU_PROMPT = "main-menu"
INVALID_PROMPT = "invalid-option"
CLOSED_PROMPT = "closed-greeting"


def default_flows(business_hours: Mapping[str, Iterable], queue_name: str, closed_box: str, *,
                  support_queue: str | None = "support", operator: str | None = "100",
                  timezone: str = "Europe/Warsaw", language: str = "en",
                  holidays: Iterable[str] = ()) -> FlowSet:
    """A validated flow set for a new box.

    `business_hours` maps days ("mon" ... "sun") to intervals, each either
    ("09:00", "17:00") or the stored form {"start": ..., "end": ..., "overnight": ...}.
    `queue_name` takes option 1 (sales); `support_queue` option 2 and
    `operator` (an extension) option 0, each left out when None. A caller who
    presses nothing valid goes to the operator, or else to `queue_name`.
    """
    week = {day: [_interval(i) for i in intervals] for day, intervals in business_hours.items()}
    nodes: dict = {
        "business_hours": {"kind": "time_condition", "label": "Business hours",
                           "timezone": timezone, "week": week, "open": "main_menu",
                           "closed": "closed_greeting"},
        "main_menu": {"kind": "ivr_menu", "label": "Main menu", "prompt": MENU_PROMPT,
                      "choices": {"1": "sales"}, "timeout_s": 5, "retries": 2,
                      "invalid_prompt": INVALID_PROMPT,
                      "invalid_destination": "operator" if operator else "sales"},
        "sales": {"kind": "queue", "label": "Sales", "queue": queue_name},
        "closed_greeting": {"kind": "play", "label": "Closed greeting", "prompt": CLOSED_PROMPT,
                            "next": "closed_voicemail"},
        "closed_voicemail": {"kind": "voicemail", "label": "After-hours voicemail",
                             "box": closed_box},
    }
    if support_queue:
        nodes["main_menu"]["choices"]["2"] = "support"
        nodes["support"] = {"kind": "queue", "label": "Support", "queue": support_queue}
    if operator:
        nodes["main_menu"]["choices"]["0"] = "operator"
        nodes["operator"] = {"kind": "extension", "label": "Operator", "number": operator}
    return load_flows({
        "schema": SCHEMA_VERSION, "version": 1, "language": language,
        "holidays": list(holidays), "holiday_ranges": [],
        "routes": [{"name": "All calls", "did": "", "caller": "", "priority": 10,
                    "destination": "business_hours"}],
        "nodes": nodes,
    })


def _interval(item) -> dict:
    if isinstance(item, Mapping):
        return dict(item)
    start, end = item
    return {"start": start, "end": end}
