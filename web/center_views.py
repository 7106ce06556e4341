"""Shaping the contact center for the queues, wallboard and agent pages.

No I/O here: every function takes what the control API answered (or what a
form sent) and returns what a template or the browser's script shows. The
queue form follows QueueConfig, so a queue setting declared in the core
appears here with no change. The wizard's steps are in web/wizard_views.py,
the IVR editor's tree and node form in web/ivr_views.py.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from enum import Enum
from typing import Any, Mapping

from appliance.logic.acd.config import QueueConfig

from web.views import fmt_duration

# An answer within this many seconds counts towards the service level (the usual 80/20 rule).
SERVICE_LEVEL_S = 20
AGENT_STATES = ("IDLE", "OFFERED", "TALKING", "WRAP_UP", "NO_ANSWER_BACKOFF")
BREAK_REASONS = ("break", "lunch", "meeting", "training", "admin")
ACTIONS = {"login": "Log in", "available": "Available", "break": "Break", "logout": "Log out"}


# -- the queue form, from QueueConfig -------------------------------------------------------

QUEUE_HELP = {
    "name": "Letters, digits, '_', '.' or '-'; flows name the queue by it.",
    "strategy": "How the queue picks among free agents.",
    "ring_timeout_s": "Seconds an agent's phone rings before the next try.",
    "wrap_up_s": "Seconds after a call before the agent gets the next one.",
    "max_callers": "Callers allowed to wait at once; 0 for no limit.",
    "max_wait_s": "Longest wait before the caller goes to the overflow; 0 for no limit.",
    "overflow_to": "Where callers go on timeout, full or empty queue (a queue or extension).",
    "announce_position_every_s": "Tell callers their place in line this often; 0 for never.",
    "vip_numbers": "Numbers served first, separated by commas.",
    "skills_required": "skill:level pairs separated by commas, for the skills strategy.",
    "survey": "After the agent hangs up, the caller is asked to rate the call from 1 to 5.",
}
# Shown on the page; the rest keep their defaults unless the admin opens "More settings".
QUEUE_MAIN = ("name", "strategy", "ring_timeout_s", "wrap_up_s", "max_callers", "max_wait_s",
              "overflow_to", "announce_position_every_s")


@dataclass(frozen=True)
class FormField:
    """One input of a generated form."""

    name: str
    kind: str           # an <input type>, "select" or "textarea"
    label: str
    help: str
    value: str | bool
    choices: list[str] | None = None
    required: bool = False
    main: bool = True


def queue_fields(submitted: Mapping[str, Any] | None = None) -> list[FormField]:
    """The fields of the add-queue form, in QueueConfig's order."""
    out = []
    for f in fields(QueueConfig):
        default = None if f.default is MISSING else f.default
        if f.default_factory is not MISSING:  # type: ignore[misc]
            default = f.default_factory()  # type: ignore[misc]
        if isinstance(default, Enum):
            kind, choices = "select", [e.value for e in type(default)]
        elif isinstance(default, bool):
            kind, choices = "checkbox", None
        elif isinstance(default, (int, float)):
            kind, choices = "number", None
        else:
            kind, choices = "text", None
        shown: Any = (submitted or {}).get(f.name, _text_of(default))
        out.append(FormField(f.name, kind, f.name.replace("_", " ").replace(" s", " (s)"),
                             QUEUE_HELP.get(f.name, ""), shown, choices,
                             required=default is None, main=f.name in QUEUE_MAIN))
    return out


def _text_of(value: Any) -> str | bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (frozenset, set, list, tuple)):
        return ", ".join(sorted(map(str, value)))
    if isinstance(value, Mapping):
        return ", ".join(f"{k}:{v}" for k, v in value.items())
    return "" if value is None else str(value)


def parse_queue_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """(config, errors): only values that differ from QueueConfig's defaults go into config."""
    config: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in queue_fields():
        raw = form.get(f.name)
        if f.kind == "checkbox":
            value: Any = raw is not None
        elif raw is None or (raw.strip() == "" and not f.required):
            continue
        else:
            raw = raw.strip()
            try:
                value = _parse_queue_value(f.name, raw, f.value)
            except ValueError as exc:
                errors[f.name] = str(exc)
                continue
        if f.required or value != _parse_default(f):
            config[f.name] = value
    return config, errors


def _parse_default(f: FormField) -> Any:
    try:
        return f.value if f.kind == "checkbox" else _parse_queue_value(f.name, str(f.value), f.value)
    except ValueError:
        return None


def _parse_queue_value(name: str, raw: str, default: Any) -> Any:
    if name == "vip_numbers":
        return sorted({n.strip() for n in raw.split(",") if n.strip()})
    if name == "skills_required":
        skills = {}
        for pair in filter(None, (p.strip() for p in raw.split(","))):
            skill, sep, level = pair.partition(":")
            if not sep or not level.strip().isdigit():
                raise ValueError(f"write skill:level, e.g. polish:2 (got {pair!r})")
            skills[skill.strip()] = int(level)
        return skills
    text = str(default)
    if re.fullmatch(r"-?\d+", text) and name not in ("overflow_to", "name", "music_on_hold"):
        try:
            return int(raw)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if re.fullmatch(r"-?\d+\.\d*", text):
        try:
            return float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
    return raw


# -- the wallboard ----------------------------------------------------------------------------

WALLBOARD_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "queues": [("name", "Queue"), ("waiting", "Waiting"), ("since", "Longest wait"),
               ("ready", "Agents free"), ("members", "Agents")],
    "agents": [("extension", "Ext."), ("name", "Name"), ("says", "Now"), ("queues", "Queues")],
    # Outbound campaigns running now, and satisfaction per queue (web/campaign_views.py makes the rows).
    "campaigns": [("name", "Campaign"), ("done", "Done"), ("progress", "People done"),
                  ("reached", "Reached"), ("abandoned", "Abandoned")],
    "csat": [("queue", "Queue"), ("average", "Average score"), ("csat", "Satisfied (4–5)"),
             ("answered", "Answered surveys")],
}


def agent_says(agent: Mapping[str, Any]) -> str:
    """What an agent is doing, in a word or two: what they chose, then what the box saw."""
    status, state = str(agent.get("status") or ""), str(agent.get("state") or "")
    if status == "LOGGED_OUT":
        return "logged out"
    if state == "OFFERED":
        return "ringing"
    if state == "TALKING":
        return "talking"
    if state == "WRAP_UP":
        return "wrap-up"
    if state == "NO_ANSWER_BACKOFF":
        return "missed a call"
    if state == "NO_PHONE":
        return "no phone"
    if status == "ON_BREAK":
        reason = str(agent.get("break_reason") or "")
        return f"on break ({reason})" if reason and reason != "break" else "on break"
    return "available"


def agent_row(agent: Mapping[str, Any]) -> dict[str, str]:
    says = agent_says(agent)
    return {"extension": str(agent.get("extension") or ""), "name": str(agent.get("name") or ""),
            "status": str(agent.get("status") or ""), "state": str(agent.get("state") or ""),
            "says": says, "says_class": "agent-" + says.split(" ")[0].replace("-", ""),
            "break_reason": str(agent.get("break_reason") or ""),
            "queues": ", ".join(agent.get("queues") or [])}


def queue_row(queue: Mapping[str, Any], agents: list[Mapping[str, Any]], now: float) -> dict:
    name = str(queue.get("name") or "")
    waiting = int(queue.get("waiting") or 0)
    longest = float(queue.get("longest_wait_s") or 0)
    members = [a for a in agents if name in (a.get("queues") or [])]
    ready = sum(1 for a in members if agent_says(a) == "available")
    return {"name": name, "strategy": str(queue.get("strategy") or ""), "waiting": str(waiting),
            # The page ticks a clock from `since`; an empty queue has nothing to tick.
            "since": now - longest if waiting else None,
            "since_text": fmt_duration(longest) if waiting else "–",
            "ready": str(ready), "members": str(len(queue.get("members") or members)),
            "waiting_class": "waiting-some" if waiting else "waiting-none"}


def service_level(records: list[Mapping[str, Any]], within_s: float = SERVICE_LEVEL_S
                  ) -> dict[str, Any]:
    """Today's service level from call records: calls answered within `within_s` of arriving
    out of the calls that came in.

    Provisional: the reports API will compute it from the queue log (time in queue, not time
    since the call began, and abandoned-in-the-first-seconds rules). Until then the web
    process works it out from the call records of today; outbound calls do not count.
    """
    offered = in_time = 0
    for rec in records:
        if str(rec.get("direction") or "") == "outbound":
            continue
        offered += 1
        start, answer = _instant(rec.get("start")), _instant(rec.get("answer"))
        if start is not None and answer is not None and answer - start <= within_s:
            in_time += 1
    percent = round(100 * in_time / offered) if offered else None
    return {"offered": offered, "in_time": in_time, "percent": percent, "within_s": within_s,
            "text": f"{percent} %" if percent is not None else "–"}


def _instant(value: Any) -> float | None:
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        return None


def alarms(engine: Mapping[str, Any] | None, bans: list[Mapping[str, Any]] | None,
           box_alarms: list[Mapping[str, Any]] | None = None) -> list[str]:
    """What needs someone's attention: the box's alarms (with what to do), dead engine workers,
    banned addresses."""
    out = [f"{a.get('text', '')} {a.get('action', '')}".strip() + (f" (×{a['count']})" if a.get("count", 1) > 1 else "")
           for a in box_alarms or []]
    for worker in (engine or {}).get("workers", []):
        if not worker.get("alive"):
            restarts = int(worker.get("restarts") or 0)
            out.append(f"Engine worker {worker.get('id')} is down "
                       f"(restarted {restarts} time{'' if restarts == 1 else 's'}).")
    if engine is None:
        out.append("The core does not report its engine workers.")
    for ban in bans or []:
        out.append(f"{ban.get('ip')} is banned: {ban.get('reason') or 'failed logins'}.")
    return out


def wallboard_blocks(queues: list[Mapping[str, Any]], agents: list[Mapping[str, Any]],
                     engine: Mapping[str, Any] | None, bans: list[Mapping[str, Any]] | None,
                     records_today: list[Mapping[str, Any]] | None, now: float,
                     box_name: str = "", box_alarms: list[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Everything the wallboard shows, as /wallboard.json serves it and the template renders it."""
    agent_rows = [agent_row(a) for a in agents]
    counts = Counter(r["says"].split(" (")[0] for r in agent_rows)
    level = service_level(records_today or [])
    waiting = sum(int(q.get("waiting") or 0) for q in queues)
    longest = max((float(q.get("longest_wait_s") or 0) for q in queues
                   if int(q.get("waiting") or 0)), default=None)
    return {
        "now": now, "box_name": box_name,
        "summary": {"waiting": str(waiting),
                    "longest": fmt_duration(longest) if longest is not None else "–",
                    "available": str(counts["available"]), "talking": str(counts["talking"]),
                    "ringing": str(counts["ringing"]), "wrap_up": str(counts["wrap-up"]),
                    "on_break": str(counts["on break"]),
                    "logged_out": str(counts["logged out"]),
                    "service_level": level["text"],
                    "offered": str(level["offered"])},
        "longest_since": (now - longest) if longest is not None else None,
        "queues": [queue_row(q, agents, now) for q in queues],
        "agents": agent_rows,
        "alarms": alarms(engine, bans, box_alarms),
        "service_level": level,
    }


# -- the agent panel --------------------------------------------------------------------------

def current_call(extension: str, agent: Mapping[str, Any] | None,
                 queue_log: list[Mapping[str, Any]]) -> dict[str, str] | None:
    """The call an agent is being offered or talking on, from the newest queue-log line naming
    them; None when the agent is not on a call."""
    if not agent or str(agent.get("state")) not in ("OFFERED", "TALKING"):
        return None
    for line in queue_log:  # newest first
        if str(line.get("agent") or "") == extension and line.get("event") in (
                "OFFERED", "ANSWERED", "CONNECTED"):
            return {"call_id": str(line.get("call_id") or ""),
                    "number": str(line.get("number") or "unknown"),
                    "queue": str(line.get("queue") or ""), "state": str(agent.get("state"))}
    return {"call_id": "", "number": "unknown", "queue": "", "state": str(agent.get("state"))}


def event_is_for_agent(name: str, data: Any, extension: str) -> bool:
    """Whether a core event belongs on this agent's panel: their own status, calls and campaign
    results, and the campaigns' changes of state (which name nobody)."""
    if not isinstance(data, Mapping):
        return False
    if name == "agent":
        return str(data.get("extension") or "") == extension
    if name == "queue":
        return str(data.get("agent") or "") == extension
    if name in ("campaign_attempt", "campaign_result"):
        return str(data.get("agent") or "") == extension
    # A campaign starting or pausing may change the card; the event names no person.
    return name == "campaign"
