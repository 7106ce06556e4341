"""The set-up wizard's steps and where the admin stands in them, and the hours and staff
forms read into what the core takes.

No I/O but asking the core (through the `api` it is given) for the wizard's progress,
which the core keeps in the `setup.wizard` setting.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from appliance.errors import ApiError
from appliance.logic.flows.schedule import DAYS

PROGRESS_KEY = "setup.wizard"
DAY_NAMES = dict(zip(DAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
                            "Saturday", "Sunday")))
WIZARD_STEPS = (("business", "Business"), ("hours", "Opening hours"), ("staff", "Staff"),
                ("flows", "Menu and queues"), ("voicemail", "Voicemail"),
                ("provider", "SIP provider"), ("lines", "Lines"), ("test", "Test call"))
STEP_NAMES = tuple(s for s, _ in WIZARD_STEPS)
DEFAULT_HOURS = {day: [["09:00", "17:00"]] for day in DAYS[:5]}
TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
STAFF_RE = re.compile(r"^([1-9]\d{1,7})\s+(.+)$")


def next_step(step: str) -> str:
    """The step after `step`; "done" after the last."""
    if step not in STEP_NAMES:
        return STEP_NAMES[0]
    i = STEP_NAMES.index(step)
    return STEP_NAMES[i + 1] if i + 1 < len(STEP_NAMES) else "done"


def parse_hours(form: Mapping[str, str]) -> tuple[dict[str, list[list[str]]], dict[str, str]]:
    """Opening hours per day from the hours form: {day: [[start, end]]}; a day not open is left out."""
    hours: dict[str, list[list[str]]] = {}
    errors: dict[str, str] = {}
    for day in DAYS:
        if form.get(f"{day}-open") is None:
            continue
        start, end = (form.get(f"{day}-start") or "").strip(), (form.get(f"{day}-end") or "").strip()
        if not TIME_RE.match(start) or not TIME_RE.match(end):
            errors[day] = "write the times as HH:MM, e.g. 09:00"
        elif end <= start:
            errors[day] = "closing time must be after opening time"
        else:
            hours[day] = [[start, end]]
    if not hours and not errors:
        errors[""] = "open at least one day"
    return hours, errors


def parse_staff(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """Lines like "1001 Anna" as (number, name) pairs, and a message for each line that is not."""
    staff: list[tuple[str, str]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        match = STAFF_RE.match(line)
        if not match:
            errors.append(f"line {n}: write the extension number, a space and the name "
                          f"(“1001 Anna”), not “{line}”")
        elif match.group(1) in seen:
            errors.append(f"line {n}: {match.group(1)} is listed twice")
        else:
            seen.add(match.group(1))
            staff.append((match.group(1), match.group(2).strip()[:64]))
    if not staff and not errors:
        errors.append("list at least one person")
    return staff, errors


def setting_values(api) -> dict[str, Any]:
    """The core's settings as {key: value}."""
    return {str(d["key"]): d.get("value") for d in api.settings()}


def wizard_never_opened(api) -> bool:
    """True on a box whose admin has not opened the wizard yet: their first login goes there."""
    try:
        values = setting_values(api)
    except ApiError:
        return False
    return PROGRESS_KEY in values and not (values[PROGRESS_KEY] or {}).get("step")


def wizard_unfinished(api) -> bool:
    """True while the core says the wizard was started and not finished."""
    try:
        values = setting_values(api)
    except ApiError:
        return False
    return (values.get(PROGRESS_KEY) or {}).get("step") not in (None, "", "done")
