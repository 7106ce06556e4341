"""What the admin sets for a campaign, checked once when it is saved (clear errors, nothing lost)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from appliance.errors import ValidationError
from appliance.logic.campaigns.hours import CallingHours, defaults_for, week_from_dict, week_to_dict
from appliance.logic.campaigns.model import CampaignState, Mode, Result
from appliance.logic.flows.schedule import load_zone

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
_NUMBER = re.compile(r"^\+?[0-9]{2,20}$")


@dataclass(frozen=True)
class Retry:
    """After an attempt ends so: wait `delay_s`, and try at most `times` more times."""

    delay_s: float
    times: int

    def to_dict(self) -> dict[str, Any]:
        return {"delay_s": self.delay_s, "times": self.times}


# What a contact center usually does: busy soon again, no answer later, a failure or a machine
# much later, an abandoned call (our fault) once more soon.
DEFAULT_RETRIES: dict[Result, Retry] = {
    Result.BUSY: Retry(600.0, 3), Result.NO_ANSWER: Retry(3600.0, 2), Result.FAILED: Retry(3600.0, 1),
    Result.MACHINE: Retry(4 * 3600.0, 1), Result.ABANDONED: Retry(300.0, 1),
}
DEFAULT_DISPOSITIONS = ("Done", "Interested", "Not interested", "Wrong number", "Call back later")


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    mode: Mode
    queue: str = ""              # whose agents work it (preview, progressive)
    caller_id: str = ""          # the number callees see; "" = the trunk's own
    route: str = ""              # "" = the numbering plan; else a trunk or line name to force
    priority: int = 5            # 1..9: a higher one gets free agents and lines first
    max_lines: int = 2           # message mode: calls at once
    ring_timeout_s: float = 25.0
    max_attempts: int = 4        # in all, whatever the results
    retries: dict[Result, Retry] = field(default_factory=lambda: dict(DEFAULT_RETRIES))
    country: str = "PL"          # whose default calling hours apply
    zone: str = "Europe/Warsaw"  # callees' time zone when their entry names none
    hours: CallingHours | None = None  # None: the country's defaults
    dispositions: tuple[str, ...] = DEFAULT_DISPOSITIONS
    script: str = ""             # what the agent reads; {name} and the list's fields fill in
    message: str = ""            # message mode: the prompt's name
    collect_digit: bool = False  # message mode: ask for one digit (a survey, a confirmation)
    survey: bool = False         # after the agent hangs up, the callee rates the call 1-5
    state: CampaignState = CampaignState.DRAFT

    @property
    def calling_hours(self) -> CallingHours:
        return self.hours or CallingHours(defaults_for(self.country))

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "mode": self.mode.value, "queue": self.queue,
                "caller_id": self.caller_id, "route": self.route, "priority": self.priority,
                "max_lines": self.max_lines, "ring_timeout_s": self.ring_timeout_s,
                "max_attempts": self.max_attempts, "retries": {r.value: x.to_dict() for r, x in self.retries.items()},
                "country": self.country, "zone": self.zone,
                "hours": week_to_dict(self.hours.week) if self.hours else None,
                "dispositions": list(self.dispositions), "script": self.script, "message": self.message,
                "collect_digit": self.collect_digit, "survey": self.survey, "state": self.state.value}


def campaign_from_dict(d: Any, *, queues: tuple[str, ...] = ()) -> Campaign:
    """A campaign as the admin or the API sent it; ValidationError names the first thing wrong."""
    if not isinstance(d, dict):
        raise ValidationError("a campaign is an object with an id, a name and a mode")
    cid = str(d.get("id", ""))
    if not _ID.match(cid):
        raise ValidationError("the id is 1-32 lower-case letters, digits, - or _, starting with a letter or digit")
    name = str(d.get("name", "")).strip()
    if not name or len(name) > 80:
        raise ValidationError("a campaign needs a name (at most 80 characters)")
    try:
        mode = Mode(d.get("mode", ""))
    except ValueError:
        raise ValidationError(f"mode must be one of {', '.join(m.value for m in Mode)}") from None
    queue = str(d.get("queue", "") or "")
    if mode is not Mode.MESSAGE and not queue:
        raise ValidationError(f"a {mode.value} campaign needs the queue whose agents work it")
    if queue and queues and queue not in queues:
        raise ValidationError(f"there is no queue {queue!r}")
    caller_id = str(d.get("caller_id", "") or "")
    if caller_id and not _NUMBER.match(caller_id):
        raise ValidationError("the caller ID is a phone number: digits, optionally with a leading +")
    message = str(d.get("message", "") or "")
    if mode is Mode.MESSAGE and not message:
        raise ValidationError("a message campaign needs the prompt it plays")
    dispositions = tuple(str(x).strip() for x in d.get("dispositions", DEFAULT_DISPOSITIONS) if str(x).strip())
    if not dispositions or len(set(dispositions)) != len(dispositions):
        raise ValidationError("the results agents choose from must be a list of different words")
    return Campaign(
        id=cid, name=name, mode=mode, queue=queue, caller_id=caller_id, route=str(d.get("route", "") or ""),
        priority=_int(d, "priority", 5, 1, 9), max_lines=_int(d, "max_lines", 2, 1, 64),
        ring_timeout_s=float(_int(d, "ring_timeout_s", 25, 5, 120)), max_attempts=_int(d, "max_attempts", 4, 1, 20),
        retries=_retries(d.get("retries")), country=str(d.get("country", "PL") or "PL").upper(),
        zone=_zone(d.get("zone", "Europe/Warsaw")),
        hours=CallingHours(week_from_dict(d["hours"])) if d.get("hours") else None,
        dispositions=dispositions, script=str(d.get("script", "") or "")[:4000], message=message,
        collect_digit=bool(d.get("collect_digit", False)), survey=bool(d.get("survey", False)),
        state=CampaignState(d.get("state", "draft")) if d.get("state") in set(CampaignState) else CampaignState.DRAFT)


def _int(d: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = d.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ValidationError(f"{key} must be a number from {low} to {high}")
    return int(value)


def _retries(data: Any) -> dict[Result, Retry]:
    if data is None:
        return dict(DEFAULT_RETRIES)
    if not isinstance(data, dict):
        raise ValidationError("retries is a table {result: {delay_s, times}}")
    out = {}
    for key, rule in data.items():
        try:
            result = Result(key)
        except ValueError:
            raise ValidationError(f"{key!r} is not a result that can be retried") from None
        if not isinstance(rule, dict):
            raise ValidationError(f"retries for {key}: {{delay_s, times}}")
        delay, times = rule.get("delay_s", 0), rule.get("times", 0)
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 60 <= delay <= 7 * 86400:
            raise ValidationError(f"retries for {key}: the delay is from 60 s to a week")
        if isinstance(times, bool) or not isinstance(times, int) or not 0 <= times <= 10:
            raise ValidationError(f"retries for {key}: from 0 to 10 times")
        out[result] = Retry(float(delay), times)
    return out


def _zone(name: Any) -> str:
    load_zone(name)
    return str(name)
