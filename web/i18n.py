"""The page's languages: English (the source), Polish and Simplified Chinese.

Templates and handlers write English and pass it through `_()`; the
catalogues in web/locale/<lang>.json map each English string to its
translation (plural entries map "one|other" to the language's forms).
Numbers and dates are formatted by appliance/logic/business/localize.py,
the same rules the reports use.

For the test that catches untranslated text, `set_marking(True)` wraps each
translated string in two private-use characters; whatever text on a page is
outside such a pair did not go through the catalogue.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from appliance.logic.business import localize

LANGUAGES = {"en": "English", "pl": "Polski", "zh": "简体中文"}
DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
_marking = False
_pseudo = False
_seen: set[str] | None = None
_FIELD = re.compile(r"\{(\w+)\}")


def set_marking(on: bool, pseudo: bool = False, seen: set[str] | None = None) -> None:
    """Mark every translated string (tests only), so text that skipped `_()` stands out.

    With `pseudo`, strings missing from the catalogue are marked too (to find text that
    skips `_()` before it is translated); `seen` collects every message asked for.
    """
    global _marking, _pseudo, _seen
    _marking, _pseudo, _seen = on, pseudo, seen


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, Any]:
    """The messages of one language: {english: translation or [plural forms]}."""
    if lang == DEFAULT:
        return {}
    return json.loads((LOCALE_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def plural_form(lang: str, n: int) -> int:
    """Which form a count takes: Polish has three (1 / 2–4 / 5+), Chinese one, English two."""
    n = abs(int(n))
    if lang == "zh":
        return 0
    if lang == "pl":
        if n == 1:
            return 0
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return 1
        return 2
    return 0 if n == 1 else 1


def negotiate(accept_language: str | None) -> str:
    """The first supported language of an Accept-Language header, by its q weights."""
    choices = []
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        code = tag.strip().split("-")[0].lower()
        if code in LANGUAGES and q > 0:
            choices.append((-q, i, code))
    return min(choices)[2] if choices else DEFAULT


def _fill(text: str, values: dict[str, Any]) -> str:
    # Only {name} fields are filled, so a stray brace in a message never raises.
    return _FIELD.sub(lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0),
                      text)


@lru_cache(maxsize=64)
def zone(name: str | None) -> tzinfo:
    """The time zone of an IANA name (box.timezone); UTC for a name this machine does not know."""
    try:
        return zoneinfo.ZoneInfo(str(name or "UTC"))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def in_zone(value: datetime | float | str | None, tz: str | None) -> datetime | None:
    """A moment on the box's wall clock: epoch seconds and times with an offset are moved into `tz`.

    A time without an offset is taken as the box's wall clock already; with `tz`
    None a time keeps the offset it came with (epoch seconds are then UTC).
    """
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        try:
            return datetime.fromtimestamp(value, zone(tz))
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.astimezone(zone(tz)) if value.tzinfo is not None and tz is not None else value


@dataclass(frozen=True)
class Translator:
    """One language's `_`, plurals and number/date formats, and the box's time zone for times."""

    lang: str = DEFAULT
    tz: str = "UTC"

    def _mark(self, text: str) -> str:
        return f"{MARK_OPEN}{text}{MARK_CLOSE}" if _marking else text

    def gettext(self, text: str, **values: Any) -> str:
        if _seen is not None:
            _seen.add(text)
        found = catalogue(self.lang).get(text) if self.lang != DEFAULT else text
        if _pseudo and not isinstance(found, str):
            found = text
        if not isinstance(found, str):
            # Left unmarked on purpose: a missing translation shows up in the check.
            return _fill(text, values)
        return self._mark(_fill(found, values))

    __call__ = gettext

    def ngettext(self, one: str, other: str, n: int, **values: Any) -> str:
        values = {"n": self.number(n), **values}
        if self.lang == DEFAULT:
            return self._mark(_fill(one if n == 1 else other, values))
        if _seen is not None:
            _seen.add(f"{one}|{other}")
        forms = catalogue(self.lang).get(f"{one}|{other}")
        if _pseudo and not isinstance(forms, list):
            forms = [one if n == 1 else other]
        if not isinstance(forms, list) or not forms:
            return _fill(one if n == 1 else other, values)
        return self._mark(_fill(forms[min(plural_form(self.lang, n), len(forms) - 1)], values))

    def number(self, value: float | int | None, decimals: int | None = None) -> str:
        if value is None:
            return "–"
        return localize.format_number(value, self.lang, decimals)

    def percent(self, value: float | None, decimals: int = 1) -> str:
        """A fraction (0.853) as a percentage in the language's style ("85,3%")."""
        if value is None:
            return "–"
        return localize.format_percent(value * 100, self.lang, decimals)

    def date(self, value: date | str | None) -> str:
        if not value:
            return ""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return value
        return self._mark(localize.format_date(value, self.lang))

    def month(self, year: int, month: int) -> str:
        return self._mark(localize.format_month(year, month, self.lang))

    def datetime(self, value: datetime | float | str | None) -> str:
        """A moment on the box's clock (`tz`) as the language writes a date, then the 24-hour time."""
        if value in (None, ""):
            return ""
        moment = in_zone(value, self.tz)
        if moment is None:
            return str(value)
        return f"{self.date(moment.date())} {moment:%H:%M}"

    def time(self, value: datetime | float | str | None, seconds: bool = True) -> str:
        """The 24-hour time on the box's clock (14:05:09), in every language: no AM/PM."""
        moment = in_zone(value, self.tz)
        if moment is None:
            return "" if value in (None, "") else str(value)
        return f"{moment:%H:%M:%S}" if seconds else f"{moment:%H:%M}"

    def uptime(self, seconds: float | None) -> str:
        """How long something has run: "3 d 4 h", "2 h 5 min", "7 min" in the reader's units."""
        if seconds is None:
            return self.gettext("unknown")
        minutes = int(float(seconds) // 60)
        days, minutes = divmod(minutes, 24 * 60)
        hours, minutes = divmod(minutes, 60)
        if days:
            return self.gettext("{d} d {h} h", d=days, h=hours)
        if hours:
            return self.gettext("{h} h {m} min", h=hours, m=minutes)
        return self.gettext("{m} min", m=minutes)

    def duration(self, seconds: float | None) -> str:
        """Seconds as m:ss or h:mm:ss, the same in every language."""
        if seconds is None:
            return "–"
        s = int(round(float(seconds)))
        h, rest = divmod(s, 3600)
        return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def translator(lang: str | None, tz: str | None = None) -> Translator:
    return Translator(lang if lang in LANGUAGES else DEFAULT, str(tz or "UTC"))


def current() -> Translator:
    """The translator of the request being served (English and UTC outside a request).

    Times are on the box's clock: `callbox.tz` (box.timezone) is set for a
    logged-in user's request by the app.
    """
    from bottle import request
    try:
        return translator(request.environ.get("callbox.lang"), request.environ.get("callbox.tz"))
    except RuntimeError:
        return Translator()


def _(text: str, **values: Any) -> str:
    """Translate for the request being served: `_("Extension {number} was deleted.", number=n)`."""
    return current().gettext(text, **values)


def ngettext(one: str, other: str, n: int, **values: Any) -> str:
    return current().ngettext(one, other, n, **values)


# What static/app.js writes by itself; the page hands it these in its own language.
SCRIPT_MESSAGES = (
    "Connected: new events appear below.", "Disconnected; retrying…", "Live: updated {time}.",
    "Not updated: {reason}", "Live: connected.", "Call ended: {caller} to {callee}, {disposition}.",
    "on", "off", "Call from {number}", "Talking to {number}", "unknown",
    "Your session has ended: reload the page to log in.", "Ringing", "On a call",
    "logged out", "ringing", "talking", "wrap-up", "missed a call", "no phone", "on break", "available",
)


def script_messages(t: Translator) -> str:
    """The script's messages as JSON for a <script type="application/json"> block."""
    return json.dumps({m: t.gettext(m) for m in SCRIPT_MESSAGES},
                      ensure_ascii=False).replace("</", "<\\/")


# Words of the live boards' rows (views.py and center_views.py write them in English, with no
# request at hand); the page and its JSON pass them through here so both speak the reader's language.
_ROW_WORDS = ("status", "state", "says", "disposition", "direction", "alive", "strategy")
_OF = re.compile(r"^(\d+) of (\d+)$")
_BREAK = re.compile(r"^on break \((.+)\)$")
_CODE = re.compile(r"^flashing code (\d+)$")
_ALARMS = (
    (re.compile(r"^Engine worker (.+) is down \(restarted (\d+) times\)\.$"),
     "Engine worker {worker} is down (restarted {n} times).", ("worker", "n")),
    (re.compile(r"^The core does not report its engine workers\.$"),
     "The core does not report its engine workers.", ()),
    (re.compile(r"^(.+) is banned: (.+)\.$"), "{ip} is banned: {reason}.", ("ip", "reason")),
)


def translate_word(t: Translator, word: str) -> str:
    """A row's word ("running", "ANSWERED", "on break (lunch)") in the reader's language."""
    if not word:
        return word
    match = _BREAK.match(word)
    if match:
        return t.gettext("on break ({reason})", reason=t.gettext(match.group(1)))
    match = _CODE.match(word)
    if match:
        return t.gettext("flashing code {n}", n=match.group(1))
    match = _OF.match(word)
    if match:
        return t.gettext("{busy} of {total}", busy=match.group(1), total=match.group(2))
    return t.gettext(word)


def translate_blocks(blocks: dict[str, Any], t: Translator | None = None) -> dict[str, Any]:
    """The Now page's or the wallboard's blocks with their words translated (in place)."""
    t = t or current()
    for rows in blocks.values():
        if isinstance(rows, list):
            for row in rows:
                if isinstance(row, dict):
                    for key in _ROW_WORDS + ("busy",):
                        if isinstance(row.get(key), str):
                            row[key] = translate_word(t, row[key])
    alarms = blocks.get("alarms")
    if isinstance(alarms, list):
        blocks["alarms"] = [translate_alarm(t, a) for a in alarms]
    summary = blocks.get("summary")  # the tiles: "3 of 3" engine workers up
    if isinstance(summary, dict):
        for key, value in summary.items():
            if isinstance(value, str) and _OF.match(value):
                summary[key] = translate_word(t, value)
    return blocks


def translate_alarm(t: Translator, text: str) -> str:
    for pattern, message, names in _ALARMS:
        match = pattern.match(text)
        if match:
            return t.gettext(message, **dict(zip(names, match.groups())))
    return text


def translate_message(text: str, t: Translator | None = None) -> str:
    """A message made by the page's own checks ("the password must have at least 10
    characters"): found whole, or with its one number as {n}; anything else (the core's
    own words) is shown as it is."""
    t = t or current()
    table = catalogue(t.lang) if t.lang != DEFAULT else None
    if table is None or text in table:
        return t.gettext(text)
    numbers = re.findall(r"\d+", text)
    if len(numbers) == 1:
        key = re.sub(r"\d+", "{n}", text)
        if key in table:
            return t.gettext(key, n=numbers[0])
    return text


_SUMMARY = re.compile(r"^(press|queue|rings|voicemail box|ring group|prompt|language) (.+)$")
_DAY = re.compile(r"\b(mon|tue|wed|thu|fri|sat|sun|closed)\b")


def flow_words(text: str, t: Translator | None = None) -> str:
    """The IVR tree's edge labels and node summaries ("press 1", "queue sales",
    "mon 09:00-17:00") in the reader's language; names inside stay as they are."""
    t = t or current()
    match = _SUMMARY.match(text)
    if match:
        return t.gettext(match.group(1) + " {name}", name=match.group(2))
    if _DAY.search(text):
        return _DAY.sub(lambda m: t.gettext(m.group(1)), text)
    return t.gettext(text) if text else text
