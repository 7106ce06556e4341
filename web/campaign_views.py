"""Shaping campaigns for their pages, the agent's card and the wallboard (docs/campaigns.md).

No I/O here: every function takes what the control API answered (or what a form sent) and
returns what a template shows or what the API is sent. The campaign form is read here with the
page's own checks (a number that is not a number, a malformed hours line); what the values
mean (a queue that does not exist, a time zone) is for the core, whose refusal the page shows.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Mapping
from zoneinfo import ZoneInfo

from web.i18n import current
from web.timezones import country_of

MODES = ("preview", "progressive", "message")
STATES = ("draft", "running", "paused", "finished", "stopped")
ENTRY_STATES = ("waiting", "offered", "dialling", "connected", "done", "do_not_call")
# What the admin may do in each state (appliance/logic/campaigns/model.py's table, as buttons).
CAMPAIGN_BUTTONS: dict[str, tuple[str, ...]] = {
    "draft": ("start", "stop"), "running": ("pause", "stop"), "paused": ("resume", "stop"),
    "finished": ("stop",), "stopped": (),
}
BUTTON_LABELS = {"start": "Start", "pause": "Pause", "resume": "Resume", "stop": "Stop"}
RETRY_RESULTS = ("BUSY", "NO ANSWER", "FAILED", "MACHINE", "ABANDONED")
COUNTRIES = ("PL", "EU", "CN")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NUMBER_FIELDS = {"priority": (1, 9), "max_lines": (1, 64), "ring_timeout_s": (5, 120),
                 "max_attempts": (1, 20)}
TEXT_FIELDS = ("id", "name", "mode", "queue", "caller_id", "route", "country", "zone", "script", "message")
_HOURS_LINE = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)((?:\s+\d{1,2}:\d{2}-\d{1,2}:\d{2})+)$")
_FIELD = re.compile(r"\{([^{}]+)\}")
# Words of the core's refusals, and the field each belongs next to.
_ERROR_FIELDS = (("the id", "id"), ("a campaign needs a name", "name"), ("mode", "mode"),
                 ("queue", "queue"), ("caller id", "caller_id"), ("prompt", "message"),
                 ("results agents", "dispositions"), ("retries", "retries"), ("zone", "zone"),
                 ("calling hours", "hours"), ("interval", "hours"), ("day", "hours"),
                 ("priority", "priority"), ("max_lines", "max_lines"),
                 ("ring_timeout_s", "ring_timeout_s"), ("max_attempts", "max_attempts"))


# -- the list --------------------------------------------------------------------------------

def campaign_row(c: Mapping[str, Any]) -> dict[str, Any]:
    progress = c.get("progress") or {}
    states = progress.get("states") or {}
    state = str(c.get("state") or "draft")
    return {"id": str(c.get("id") or ""), "name": str(c.get("name") or ""),
            "mode": str(c.get("mode") or ""), "state": state, "queue": str(c.get("queue") or ""),
            "priority": int(c.get("priority") or 5), "total": int(progress.get("total") or 0),
            "done": int(states.get("done", 0)) + int(states.get("do_not_call", 0)),
            "waiting": int(states.get("waiting", 0)),
            "done_pct": float(progress.get("done_pct") or 0.0), "buttons": CAMPAIGN_BUTTONS.get(state, ()),
            "states": {s: int(states.get(s, 0)) for s in ENTRY_STATES}}


# -- the editor ------------------------------------------------------------------------------

def hours_text(hours: Mapping[str, Any] | None) -> str:
    """{"mon": [{"start", "end"}]} as lines "mon 09:00-12:00 13:00-17:00"."""
    if not hours:
        return ""
    return "\n".join(f"{day} " + " ".join(f"{s['start']}-{s['end']}" for s in hours[day])
                     for day in DAYS if hours.get(day))


def campaign_form(c: Mapping[str, Any] | None) -> dict[str, Any]:
    """The editor's values for a campaign the core described (None: a new one, the defaults)."""
    c = c or {}
    retries = c.get("retries") or {"BUSY": {"delay_s": 600, "times": 3}, "NO ANSWER": {"delay_s": 3600, "times": 2},
                                   "FAILED": {"delay_s": 3600, "times": 1}, "MACHINE": {"delay_s": 14400, "times": 1},
                                   "ABANDONED": {"delay_s": 300, "times": 1}}
    form = {k: str(c.get(k) or "") for k in TEXT_FIELDS}
    form.update({"mode": str(c.get("mode") or "preview"), "country": str(c.get("country") or "PL"),
                 "zone": str(c.get("zone") or "Europe/Warsaw"),
                 "priority": str(c.get("priority") or 5), "max_lines": str(c.get("max_lines") or 2),
                 "ring_timeout_s": str(int(float(c.get("ring_timeout_s") or 25))),
                 "max_attempts": str(c.get("max_attempts") or 4), "hours": hours_text(c.get("hours")),
                 "dispositions": "\n".join(c.get("dispositions") or ("Done", "Interested", "Not interested",
                                                                      "Wrong number", "Call back later")),
                 "collect_digit": bool(c.get("collect_digit")), "survey": bool(c.get("survey"))})
    for result in RETRY_RESULTS:
        rule = retries.get(result) or {"delay_s": 0, "times": 0}
        form[f"retry-{result}-delay"] = _minutes(rule.get("delay_s"))
        form[f"retry-{result}-times"] = str(rule.get("times", 0))
    return form


def default_place(box_zone: str) -> tuple[str, str]:
    """(country, zone) a new campaign starts with: the box's own zone, and the calling hours of
    its country (PL, CN, the EU's for another member; the EU's, the strictest, for anywhere else)."""
    if not box_zone or country_of(box_zone) is None:
        return "PL", "Europe/Warsaw"
    country = country_of(box_zone) or ""
    return (country if country in ("PL", "CN") else "EU"), box_zone


def _minutes(seconds: Any) -> str:
    try:
        value = float(seconds) / 60
    except (TypeError, ValueError):
        return ""
    return str(int(value)) if value == int(value) else str(round(value, 1))


def parse_campaign_form(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, tuple[str, dict[str, Any]]]]:
    """(body for POST /api/campaigns, errors by field as (message, its fields) for `_()`): the
    shape is checked here, the rest by the core."""
    body: dict[str, Any] = {k: (form.get(k) or "").strip() for k in TEXT_FIELDS}
    body["script"] = (form.get("script") or "").strip()
    errors: dict[str, tuple[str, dict[str, Any]]] = {}
    for key, (low, high) in NUMBER_FIELDS.items():
        raw = (form.get(key) or "").strip()
        if not raw.isdigit() or not low <= int(raw) <= high:
            errors[key] = ("a whole number from {low} to {high}", {"low": low, "high": high})
        else:
            body[key] = int(raw)
    retries = {}
    for result in RETRY_RESULTS:
        delay, times = (form.get(f"retry-{result}-delay") or "").strip(), (form.get(f"retry-{result}-times") or "").strip()
        if not delay and not times:
            continue
        try:
            retries[result] = {"delay_s": round(float(delay.replace(",", ".")) * 60), "times": int(times)}
        except ValueError:
            errors["retries"] = ("write minutes and a number of times for each result", {})
    body["retries"] = retries
    hours, problem = parse_hours_text(form.get("hours") or "")
    if problem:
        errors["hours"] = (problem, {})
    body["hours"] = hours
    body["dispositions"] = [line.strip() for line in (form.get("dispositions") or "").splitlines() if line.strip()]
    body["collect_digit"] = form.get("collect_digit") is not None
    body["survey"] = form.get("survey") is not None
    return body, errors


def parse_hours_text(text: str) -> tuple[dict[str, list[dict[str, str]]] | None, str]:
    """Lines "mon 09:00-13:00 14:00-20:00" as the core's hours; empty text: the country's defaults."""
    hours: dict[str, list[dict[str, str]]] = {}
    for line in text.splitlines():
        line = " ".join(line.lower().split())
        if not line:
            continue
        match = _HOURS_LINE.match(line)
        if not match:
            return None, "write one day a line, e.g. mon 09:00-13:00 14:00-20:00"
        hours.setdefault(match.group(1), []).extend(
            {"start": a, "end": b} for a, b in (span.split("-") for span in match.group(2).split()))
    return (hours or None), ""


def error_field_of(message: str) -> str:
    """The form field a refusal of the core speaks of ("" when it names none)."""
    lower = message.lower()
    for words, key in _ERROR_FIELDS:
        if words in lower:
            return key
    return ""


# -- the call list and the report ------------------------------------------------------------

def entry_row(e: Mapping[str, Any]) -> dict[str, Any]:
    fields = e.get("fields") or {}
    return {"id": str(e.get("id") or ""), "number": str(e.get("number") or ""), "name": str(e.get("name") or ""),
            "state": str(e.get("state") or ""), "attempts": int(e.get("attempts") or 0),
            "result": str(e.get("result") or ""), "agent": str(e.get("agent") or ""),
            "notes": str(e.get("notes") or ""), "due": float(e.get("due") or 0.0),
            "fields": ", ".join(f"{k}: {v}" for k, v in fields.items())}


def _pct(value: Any) -> str:
    """A percentage the core gives (85.3) in the reader's style ("85,3%"); "–" for none."""
    return "–" if value is None else current().percent(float(value) / 100)


def _num(value: Any, decimals: int | None = None) -> str:
    return "–" if value is None else current().number(value, decimals)


def report_blocks(report: Mapping[str, Any], campaign: Mapping[str, Any], now: float) -> dict[str, Any]:
    """The report view's figures, as the page renders them and its JSON redraws them."""
    row = campaign_row(campaign)
    csat = report.get("csat") or {}
    summary = {"contacts": _num(report.get("contacts", 0)), "attempted": _num(report.get("attempted", 0)),
               "reached": _num(report.get("reached", 0)), "attempts": _num(report.get("attempts", 0)),
               "attempts_per_contact": _num(report.get("attempts_per_contact", 0), 2),
               "talk": _clock(report.get("talk_s")), "talk_avg": _clock(report.get("talk_avg_s")),
               "abandoned_pct": _pct(report.get("abandoned_pct", 0)),
               "do_not_call": _num(report.get("do_not_call", 0)), "waiting": _num(report.get("waiting", 0)),
               "done_pct": _pct(row["done_pct"]), "state": row["state"],
               "csat_offered": _num(csat.get("offered", 0)), "csat_answered": _num(csat.get("answered", 0)),
               "csat_average": _num(csat.get("average"), 2), "csat_pct": _pct(csat.get("csat_pct"))}
    return {"now": now, "summary": summary, "done_pct": row["done_pct"],
            "results": [{"what": k, "count": str(v)} for k, v in (report.get("results") or {}).items() if k],
            "dispositions": [{"what": k, "count": str(v)} for k, v in (report.get("dispositions") or {}).items()],
            "attempts_distribution": [{"what": k, "count": str(v)}
                                      for k, v in (report.get("attempts_distribution") or {}).items()]}


def _clock(seconds: Any) -> str:
    s = int(round(float(seconds or 0)))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# -- the agent's card ------------------------------------------------------------------------

def fill_script(script: str, entry: Mapping[str, Any]) -> str:
    """The campaign's script with {name}, {number} and the list's columns filled in; an unknown
    {field} stays as written, so the agent sees what is missing."""
    values = {str(k): str(v) for k, v in (entry.get("fields") or {}).items()}
    values.update(name=str(entry.get("name") or ""), number=str(entry.get("number") or ""))
    return _FIELD.sub(lambda m: values.get(m.group(1).strip(), m.group(0)), script or "")


def pick_card(cards: list[tuple[Mapping[str, Any], Mapping[str, Any]]]) -> tuple[Mapping, Mapping] | None:
    """Of (campaign, card) pairs, highest priority first: a call first, then a result to give,
    then the next person to preview."""
    for step in ("call", "result", "preview"):
        for campaign, card in cards:
            if card.get("step") == step and card.get("entry"):
                return campaign, card
    return None


def card_view(campaign: Mapping[str, Any], card: Mapping[str, Any], tz: str, now: float) -> dict[str, Any]:
    entry = card.get("entry") or {}
    step = str(card.get("step") or "")
    local_now = datetime.fromtimestamp(now, ZoneInfo(tz or "UTC"))
    return {"campaign": str(campaign.get("id") or ""), "campaign_name": str(campaign.get("name") or ""),
            "mode": str(campaign.get("mode") or ""), "step": step, "call_id": str(card.get("call_id") or ""),
            "entry": entry_row(entry), "field_pairs": [(str(k), str(v)) for k, v in (entry.get("fields") or {}).items()],
            "script": fill_script(str(campaign.get("script") or ""), entry),
            # Past results: how earlier attempts ended ({"BUSY": 2}), for the agent to see before dialling.
            "tries": sorted((str(k), int(v)) for k, v in (entry.get("tries") or {}).items() if v),
            "dispositions": list(campaign.get("dispositions") or ()),
            "can_dial": step == "preview" and campaign.get("mode") == "preview",
            # Before the call a result only books a callback: the person has not been reached.
            "callback_required": step == "preview",
            "callback_min": local_now.strftime("%Y-%m-%dT%H:%M"),
            "key": f"{campaign.get('id')}/{entry.get('id')}/{step}"}


def parse_callback(text: str, tz: str) -> float | None:
    """A datetime-local value ("2026-12-08T10:30") on the box's clock as epoch seconds; None if empty.
    ValueError for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(tz or "UTC"))
    return moment.timestamp()


# -- the wallboard ---------------------------------------------------------------------------

def campaign_progress_rows(campaigns: list[Mapping[str, Any]], reports: Mapping[str, Mapping[str, Any]]
                           ) -> list[dict[str, str]]:
    """One line per running campaign: done %, people reached, abandoned share."""
    rows = []
    for c in campaigns:
        if c.get("state") != "running":
            continue
        row, report = campaign_row(c), reports.get(str(c.get("id"))) or {}
        rows.append({"name": row["name"], "done": _pct(row["done_pct"]), "progress": f"{row['done']}/{row['total']}",
                     "reached": _num(report.get("reached")), "abandoned": _pct(report.get("abandoned_pct"))})
    return rows


def csat_rows(csat: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """Satisfaction per queue: the average score and the share of 4s and 5s among answers."""
    rows = []
    for queue, s in sorted(((csat or {}).get("groups") or {}).items()):
        rows.append({"queue": str(queue), "average": _num(s.get("average"), 2), "csat": _pct(s.get("csat_pct")),
                     "answered": f"{s.get('answered', 0)}/{s.get('offered', 0)}"})
    return rows
