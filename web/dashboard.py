"""What the dashboard answers an owner first: how did today go, whom to call back, what waits.

Pure functions over what the core returns (call records, voicemail boxes,
agents); the page handler in web/pages.py asks the core and renders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any, Iterable, Mapping

from web.center_views import agent_says

# How many of today's call records the dashboard reads; a busier day says "at least".
DAY_LIMIT = 2000
ANONYMOUS = {"", "anonymous", "unknown", "restricted", "private"}


@dataclass
class Missed:
    """A customer who called, got nobody, and has not been called back or got through since."""

    number: str
    name: str
    last: datetime | None
    tries: int


@dataclass
class Today:
    answered: int = 0
    missed: int = 0
    internal: int = 0
    more: bool = False          # the day had more records than the dashboard read
    call_back: list[Missed] = field(default_factory=list)


def day_bounds(now: float, zone: tzinfo) -> tuple[datetime, datetime]:
    """Midnight to midnight of the box's day at `now`, in the box's time zone."""
    local = datetime.fromtimestamp(now, zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, (start + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


def _when(record: Mapping[str, Any]) -> datetime | None:
    value = record.get("start")
    try:
        if isinstance(value, (int, float)):
            return datetime.fromtimestamp(value).astimezone()
        return datetime.fromisoformat(str(value))
    except (TypeError, ValueError, OverflowError):
        return None


def from_customer(record: Mapping[str, Any]) -> bool:
    """A call from outside, or one that went through the menu or a queue (a customer's call)."""
    return record.get("direction") == "inbound" or bool(record.get("queue")) or bool(record.get("flow"))


def calls_today(records: Iterable[Mapping[str, Any]], limit: int = DAY_LIMIT) -> Today:
    """Answered and missed customer calls, and the missed callers still waiting for a call back.

    A missed caller drops off the list once a later call from them was answered or someone
    called their number back, whatever the outcome.
    """
    rows = sorted(records, key=lambda r: _when(r) or datetime.min.astimezone(), reverse=False)
    day = Today(more=len(rows) >= limit)
    waiting: dict[str, Missed] = {}
    for record in rows:
        answered = record.get("disposition") == "ANSWERED"
        if record.get("direction") == "outbound" or (record.get("direction") == "internal"
                                                    and not from_customer(record)):
            day.internal += record.get("direction") == "internal"
            waiting.pop(str(record.get("callee") or ""), None)  # called back
            continue
        number = str(record.get("caller") or "")
        if answered:
            day.answered += 1
            waiting.pop(number, None)
            continue
        day.missed += 1
        if number.lower() in ANONYMOUS:
            continue
        seen = waiting.get(number)
        waiting[number] = Missed(number, str(record.get("caller_name") or (seen.name if seen else "")),
                                 _when(record), (seen.tries if seen else 0) + 1)
    day.call_back = sorted(waiting.values(), key=lambda m: m.last or datetime.min.astimezone(),
                           reverse=True)
    return day


def voicemail_waiting(boxes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Boxes with new messages, most first: [{number, new}]."""
    found = [{"number": str(b.get("number") or ""), "new": int(b.get("new") or 0)} for b in boxes]
    return sorted((b for b in found if b["new"]), key=lambda b: (-b["new"], b["number"]))


WHO_IS_ON = ("available", "talking", "on break", "no phone")


def who_is_on(agents: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """Agents by what they are doing now: available, talking (ringing and wrap-up count as
    busy with a call), on break, no phone; logged-out agents are not on."""
    groups: dict[str, list[str]] = {k: [] for k in WHO_IS_ON}
    for agent in agents:
        says = agent_says(agent)
        key = {"ringing": "talking", "wrap-up": "talking", "missed a call": "available"}.get(says, says)
        if key.startswith("on break"):
            key = "on break"
        if key in groups:
            label = str(agent.get("extension") or "")
            name = str(agent.get("name") or "")
            groups[key].append(f"{label} {name}".strip())
    return groups
