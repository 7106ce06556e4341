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
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from appliance.logic.business import localize

LANGUAGES = {"en": "English", "pl": "Polski", "zh": "简体中文"}
DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
_marking = False
_FIELD = re.compile(r"\{(\w+)\}")


def set_marking(on: bool) -> None:
    """Mark every translated string (tests only), so text that skipped `_()` stands out."""
    global _marking
    _marking = on


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


@dataclass(frozen=True)
class Translator:
    """One language's `_`, plurals and number/date formats."""

    lang: str = DEFAULT

    def _mark(self, text: str) -> str:
        return f"{MARK_OPEN}{text}{MARK_CLOSE}" if _marking else text

    def gettext(self, text: str, **values: Any) -> str:
        found = catalogue(self.lang).get(text) if self.lang != DEFAULT else text
        if not isinstance(found, str):
            # Left unmarked on purpose: a missing translation shows up in the check.
            return _fill(text, values)
        return self._mark(_fill(found, values))

    __call__ = gettext

    def ngettext(self, one: str, other: str, n: int, **values: Any) -> str:
        values = {"n": self.number(n), **values}
        if self.lang == DEFAULT:
            return self._mark(_fill(one if n == 1 else other, values))
        forms = catalogue(self.lang).get(f"{one}|{other}")
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
        return localize.format_percent(value, self.lang, decimals)

    def date(self, value: date | str | None) -> str:
        if not value:
            return ""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return value
        return localize.format_date(value, self.lang)

    def month(self, year: int, month: int) -> str:
        return localize.format_month(year, month, self.lang)

    def datetime(self, value: datetime | float | str | None) -> str:
        """A moment as the language writes a date, then the 24-hour time."""
        if value in (None, ""):
            return ""
        if isinstance(value, (int, float)):
            value = datetime.fromtimestamp(value)
        elif isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                return value
        return f"{self.date(value.date())} {value:%H:%M}"

    def duration(self, seconds: float | None) -> str:
        """Seconds as m:ss or h:mm:ss, the same in every language."""
        if seconds is None:
            return "–"
        s = int(round(float(seconds)))
        h, rest = divmod(s, 3600)
        return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def translator(lang: str | None) -> Translator:
    return Translator(lang if lang in LANGUAGES else DEFAULT)


def current() -> Translator:
    """The translator of the request being served (English outside a request)."""
    from bottle import request
    try:
        return translator(request.environ.get("callbox.lang"))
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
    "logged out", "ringing", "talking", "wrap-up", "missed a call", "on break", "available",
)


def script_messages(t: Translator) -> str:
    """The script's messages as JSON for a <script type="application/json"> block."""
    return json.dumps({m: t.gettext(m) for m in SCRIPT_MESSAGES},
                      ensure_ascii=False).replace("</", "<\\/")
