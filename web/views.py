"""Shaping the core's answers for the calls, Now and system pages.

No I/O here: every function takes what the control API (or the machine)
answered and returns what a template or the browser's script shows, so the
server-rendered page and the live updates draw the same rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

from appliance.errors import ValidationError
from web.i18n import format_moment, in_zone

PAGE_SIZE = 50
MAX_PAGE = 100_000
# The core's CSV export answers at most this many records per request.
CSV_LIMIT = 10_000
NUMBER_RE = re.compile(r"^[\w+*#.@-]{1,64}$")


# -- call records ------------------------------------------------------------

@dataclass(frozen=True)
class CallFilter:
    """What the calls page was asked to show: a range of days, a number, a page."""

    day_from: date | None = None
    day_to: date | None = None
    number: str = ""
    page: int = 1

    def api_range(self, tz: tzinfo | None = None) -> tuple[str | None, str | None]:
        """The range as the API's ISO times: from midnight of day_from up to the midnight
        after day_to (the API's end is exclusive), in the box's zone unless tz is given."""
        return (midnight(self.day_from, tz) if self.day_from else None,
                midnight(self.day_to + timedelta(days=1), tz) if self.day_to else None)

    @property
    def offset(self) -> int:
        return (self.page - 1) * PAGE_SIZE

    def query(self, page: int | None = None) -> str:
        """The query string of a link to this filter (on another page when given)."""
        params = {"from": self.day_from.isoformat() if self.day_from else "",
                  "to": self.day_to.isoformat() if self.day_to else "",
                  "number": self.number}
        params = {k: v for k, v in params.items() if v}
        if page is not None and page > 1:
            params["page"] = str(page)
        return urlencode(params)

    def describe(self, gettext: Callable[..., str] | None = None) -> str:
        """The filter in words; `gettext` translates them (the audit log keeps English)."""
        say = gettext or (lambda text, **values: text.format(**values))
        parts = []
        if self.day_from:
            parts.append(say("from {day}", day=self.day_from.isoformat()))
        if self.day_to:
            parts.append(say("to {day}", day=self.day_to.isoformat()))
        if self.number:
            parts.append(say("number {number}", number=self.number))
        return ", ".join(parts) or say("all calls")


def midnight(day: date, tz: tzinfo | None) -> str:
    """The start of `day` as the API's ISO time: in `tz`, or on this machine's clock when None."""
    if tz is None:
        return datetime.combine(day, time()).astimezone().isoformat()
    return datetime.combine(day, time(), tzinfo=tz).isoformat()


def parse_call_filter(query: Mapping[str, str]) -> CallFilter:
    """The filter from a query string; ValidationError naming the field when malformed."""
    day_from = _day(query.get("from", ""), "from")
    day_to = _day(query.get("to", ""), "to")
    if day_from and day_to and day_from > day_to:
        raise ValidationError("to: must not be before from")
    number = (query.get("number") or "").strip()
    if number and not NUMBER_RE.match(number):
        raise ValidationError("number: use digits, letters, + * # . @ - only, at most 64")
    raw_page = (query.get("page") or "1").strip()
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise ValidationError(f"page: must be a number from 1 to {MAX_PAGE}")
    return CallFilter(day_from, day_to, number, int(raw_page))


def _day(text: str, name: str) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{name}: must be a date like 2026-11-01") from None


def fmt_duration(seconds: Any) -> str:
    """0:07, 12:34, 1:02:03; an empty string for no value."""
    try:
        total = max(0, int(round(float(seconds))))
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def fmt_time(value: Any, tz: str | None = None, lang: str | None = None) -> str:
    """A record's time (ISO with its offset, or epoch seconds) on the box's wall clock in `tz`:
    in `lang` as CLDR writes a medium date and a 24-hour time ("10 lis 2026, 14:05:09"), or
    without a language as 2026-11-10 14:05:09; a value that is no time as given."""
    if value in (None, ""):
        return ""
    moment = in_zone(value, tz)
    if moment is None:
        return str(value)
    return format_moment(moment, lang, short=True) if lang else moment.strftime("%Y-%m-%d %H:%M:%S")


def disposition_class(disposition: Any) -> str:
    """A CSS class for a disposition word: answered, no-answer, busy, failed, cancelled."""
    word = str(disposition or "").strip().lower().replace(" ", "-")
    return "disp-" + (word if re.fullmatch(r"[a-z-]{1,20}", word) else "other")


def record_row(rec: Mapping[str, Any], tz: str | None = None,
               lang: str | None = None) -> dict[str, str]:
    """One call record as the calls page and the Now page's recent list show it, times in `tz`
    written in `lang`."""
    caller = str(rec.get("caller") or "")
    name = str(rec.get("caller_name") or "")
    return {
        "id": str(rec.get("id") or rec.get("call_id") or ""),
        "start": fmt_time(rec.get("start"), tz, lang),
        "caller": f"{name} <{caller}>" if name and name != caller else caller,
        "callee": str(rec.get("callee") or ""),
        "answered_by": str(rec.get("answered_by") or ""),
        "disposition": str(rec.get("disposition") or ""),
        "disposition_class": disposition_class(rec.get("disposition")),
        "talk": fmt_duration(rec.get("talk_s")),
        "duration": fmt_duration(rec.get("duration_s")),
        "direction": str(rec.get("direction") or ""),
        "trunk": str(rec.get("trunk") or ""),
        "hangup_by": str(rec.get("hangup_by") or ""),
    }


# -- the Now page (the wallboard's first blocks) ---------------------------------

# Each block is one table on the Now page; the script fills a table from the
# block of the same name in /now.json using these columns, so a new block
# (queues, agents, service level) needs a key here, a table, and nothing else.
NOW_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "calls": [("caller", "From"), ("callee", "To"), ("state", "State"),
              ("since", "For"), ("worker", "Worker")],
    "workers": [("id", "Worker"), ("status", "Status"), ("busy", "Calls"),
                ("sip_port", "SIP port"), ("restarts", "Restarts")],
    "recent": [("start", "Started"), ("caller", "From"), ("callee", "To"),
               ("disposition", "Result"), ("duration", "Length")],
}


def call_row(call: Mapping[str, Any], now: float) -> dict[str, Any]:
    """A call in progress; `since` is the epoch its current state began, for ticking clocks."""
    state = str(call.get("state") or "")
    began = call.get("answer") if state == "ANSWERED" and call.get("answer") else call.get("start")
    try:
        since = float(began)
    except (TypeError, ValueError):
        since = now
    return {"call_id": str(call.get("call_id") or ""), "caller": str(call.get("caller") or ""),
            "callee": str(call.get("callee") or ""), "state": state,
            "worker": str(call.get("worker") or ""), "since": since,
            "since_text": fmt_duration(now - since)}


def worker_row(worker: Mapping[str, Any]) -> dict[str, str]:
    alive = bool(worker.get("alive"))
    max_calls, free = worker.get("max_calls"), worker.get("free")
    try:
        busy = f"{int(max_calls) - int(free)} of {int(max_calls)}"
    except (TypeError, ValueError):
        busy = ""
    return {"id": str(worker.get("id") or ""), "status": "running" if alive else "down",
            "alive": "yes" if alive else "no", "busy": busy,
            "sip_port": str(worker.get("sip_port") or ""),
            "restarts": str(worker.get("restarts") or 0), "pid": str(worker.get("pid") or "")}


def now_blocks(engine: Mapping[str, Any] | None, records: list[Mapping[str, Any]] | None,
               now: float, tz: str | None = None, lang: str | None = None) -> dict[str, Any]:
    """Everything the Now page shows, as /now.json serves it and the template renders it.

    engine or records is None when the core does not offer it (yet); the
    page then says so instead of showing an empty table that would look like
    a quiet floor.
    """
    calls = [call_row(c, now) for c in (engine or {}).get("calls", [])]
    workers = [worker_row(w) for w in (engine or {}).get("workers", [])]
    recent = [record_row(r, tz, lang) for r in (records or [])]
    up = sum(1 for w in workers if w["status"] == "running")
    return {
        "now": now,
        "available": {"engine": engine is not None, "records": records is not None},
        "summary": {"active": str(len(calls)),
                    "talking": str(sum(1 for c in calls if c["state"] == "ANSWERED")),
                    "waiting": str(sum(1 for c in calls if c["state"] in ("ROUTING", "RINGING", "QUEUED"))),
                    "workers": f"{up} of {len(workers)}"},
        "calls": calls, "workers": workers, "recent": recent,
    }


# -- the virtual front panel ---------------------------------------------------------

LED_COLOURS = {"ready": "green", "line": "green", "waiting": "yellow", "voicemail": "yellow",
               "fault": "red"}
LED_MEANING = {
    "ready": "on: taking calls; blinking: starting or stopping",
    "line": "on: every line and trunk is up",
    "waiting": "on: callers waiting; fast: more than 3",
    "voicemail": "blinking: new voicemail",
    "fault": "flashes a fault code (see the faults listed)",
}
# The buttons the virtual panel offers, with what each form may ask for.
# "click" is the web page's own: a press and a release, like a finger on a button.
BUTTON_ACTIONS: dict[str, tuple[str, ...]] = {
    "status": ("click",), "reset": ("press", "release"), "night": ("toggle",)}
MAX_CODE_CSS = 4  # the stylesheet has flash codes 1 to 4, the codes the panel uses


@dataclass(frozen=True)
class LedView:
    name: str
    colour: str
    lit: bool
    css: str
    says: str
    meaning: str


@dataclass(frozen=True)
class ButtonView:
    name: str
    pressed: bool
    actions: list[tuple[str, str]]
    help: str


@dataclass
class PanelView:
    backend: str
    reason: str
    simulated: bool
    night_mode: bool
    leds: list[LedView] = field(default_factory=list)
    buttons: list[ButtonView] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)


def led_view(name: str, led: Any) -> LedView:
    """One LED: its colour and a CSS class that blinks like the real one."""
    if not isinstance(led, Mapping):
        led = {"lit": bool(led)}
    pattern = led.get("pattern")
    lit = bool(led.get("lit"))
    mode = str(led.get("mode") or ("blink" if pattern else "on" if lit else "off"))
    css, says = ("led-on", "on") if mode == "on" else ("led-off", "off")
    if mode == "blink" and isinstance(pattern, Mapping):
        count = int(pattern.get("count") or 0)
        if count > 0:
            css, says = f"led-code-{min(count, MAX_CODE_CSS)}", f"flashing code {count}"
        elif float(pattern.get("on") or 1.0) < 0.5:
            css, says = "led-fast", "blinking fast"
        else:
            css, says = "led-slow", "blinking slowly"
    elif mode == "blink":
        fast = "fast" in str(pattern or "").lower()
        css, says = ("led-fast", "blinking fast") if fast else ("led-slow", "blinking")
    return LedView(name, LED_COLOURS.get(name, "white"), lit, css, says, LED_MEANING.get(name, ""))


def _button_view(name: str, pressed: bool, night: bool) -> ButtonView:
    if name == "night":
        label = "Turn night mode off" if night else "Turn night mode on"
        return ButtonView(name, night, [("toggle", label)],
                          "The night switch: on sends calls to the closed flow.")
    if name == "reset":
        action = ("release", "Let go of reset") if pressed else ("press", "Hold reset down")
        return ButtonView(name, pressed, [action],
                          "Held for 10 seconds, reset returns the box to factory settings.")
    if name == "status":
        return ButtonView(name, pressed, [("click", "Press status")],
                          "The box announces its status.")
    return ButtonView(name, pressed, [], "")


def panel_view(snapshot: Mapping[str, Any]) -> PanelView:
    """The core's panel snapshot as the page draws it.

    Accepts the backend as a name or as {name, reason}, and each button as
    a bool or as {pressed, pin}, so the page keeps working whichever the core sends.
    """
    backend = snapshot.get("backend")
    if isinstance(backend, Mapping):
        name, reason = str(backend.get("name") or ""), str(backend.get("reason") or "")
    else:
        name, reason = str(backend or ""), ""
    simulated = bool(snapshot.get("simulated", name == "simulated"))
    night = bool(snapshot.get("night_mode"))
    leds = [led_view(str(k), v) for k, v in (snapshot.get("leds") or {}).items()]
    buttons = []
    for key, value in (snapshot.get("buttons") or {}).items():
        pressed = bool(value.get("pressed")) if isinstance(value, Mapping) else bool(value)
        buttons.append(_button_view(str(key), pressed, night))
    faults = []
    for f in snapshot.get("faults") or []:
        if isinstance(f, Mapping):
            faults.append(f"{f.get('fault')} (code {f.get('code')})" if f.get("code")
                          else str(f.get("fault")))
        else:
            faults.append(str(f))
    return PanelView(name, reason, simulated, night, leds, buttons, faults)


def panel_json(view: PanelView) -> dict[str, Any]:
    """What the system page's script needs to redraw the LEDs."""
    return {"night_mode": view.night_mode,
            "leds": {led.name: {"css": led.css, "says": led.says, "lit": led.lit}
                     for led in view.leds},
            "buttons": {b.name: b.pressed for b in view.buttons},
            "faults": view.faults}
