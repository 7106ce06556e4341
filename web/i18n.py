"""The page's languages: English (the source), Polish and Simplified Chinese.

Templates and handlers write English and pass it through `_()` or
`ngettext()`; the catalogues are gettext files, web/locale/<lang>.po (msgid,
msgid_plural, msgstr[n]), read once with babel.messages.pofile, so
translators work in any gettext tool (docs/web.md). Which plural form a
count takes is CLDR's rule for the language, through Babel: a message's
forms are listed in CLDR's category order (one, few, many for Polish; one,
other for English; other for Chinese). Numbers, dates and times are CLDR's
too (babel.numbers and babel.dates, through localize.py for the figures the
reports share), on the box's clock.

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

from babel import Locale
from babel import dates as cldr_dates
from babel.messages.pofile import read_po

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


Key = str | tuple[str, str]  # a message, or a plural message as (singular, plural)
CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[Key, str | tuple[str, ...]]:
    """The messages of one language: {english: translation, (one, other): (forms...)}.

    Read from web/locale/<lang>.po; an entry without a translation (empty or fuzzy)
    is left out, so it shows in English and the completeness test names it.
    """
    if lang == DEFAULT:
        return {}
    with open(LOCALE_DIR / f"{lang}.po", "rb") as f:
        found = read_po(f, locale=lang)
    table: dict[Key, str | tuple[str, ...]] = {}
    for message in found:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, (tuple, list)):
            forms = tuple(message.string)
            if forms and all(forms):
                table[(message.id[0], message.id[1])] = forms
        elif message.string:
            table[message.id] = message.string
    return table


@lru_cache(maxsize=None)
def plural_categories(lang: str) -> tuple[str, ...]:
    """CLDR's plural categories of a language, in CLDR's order: the order of its .po forms."""
    tags = Locale.parse(lang).plural_form.tags | {"other"}
    return tuple(c for c in CLDR_ORDER if c in tags)


def plural_form(lang: str, n: int, forms: int | None = None) -> int:
    """Which of a message's forms a count takes, by CLDR's rule (Babel): Polish 1 / 2–4 / 5+,
    Chinese one form, English two. `forms` is how many the catalogue has; CLDR's "other"
    that gettext does not count (Polish fractions) takes the last."""
    lang = lang if lang in LANGUAGES else DEFAULT
    category = Locale.parse(lang).plural_form(abs(int(n)))
    index = plural_categories(lang).index(category)
    return min(index, (forms or len(plural_categories(lang))) - 1)


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


def _locale(lang: str) -> str:
    return lang if lang in LANGUAGES else DEFAULT


def format_clock(moment: datetime, lang: str, seconds: bool = True) -> str:
    """A wall-clock time, 24-hour in every language (CLDR's Hms / Hm skeletons): 14:05:09."""
    return cldr_dates.format_skeleton("Hms" if seconds else "Hm", moment, locale=_locale(lang))


def format_moment(moment: datetime, lang: str, short: bool = False) -> str:
    """A date and a 24-hour time joined as CLDR joins them in `lang` (the moment is already on
    the box's clock): long date and minutes, or (`short`) the medium date and seconds.
    Marked like a translation (set_marking): its month names are the language's words."""
    lang = _locale(lang)
    style = "medium" if short else "long"
    day = cldr_dates.format_date(moment.date(), style, locale=lang)
    glue = cldr_dates.get_datetime_format(style, locale=lang)
    text = glue.replace("{1}", day).replace("{0}", format_clock(moment, lang, seconds=short))
    return f"{MARK_OPEN}{text}{MARK_CLOSE}" if _marking else text


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
            return self._mark(_fill((one, other)[plural_form(DEFAULT, n, 2)], values))
        if _seen is not None:
            _seen.add(f"{one}|{other}")
        forms = catalogue(self.lang).get((one, other))
        if _pseudo and not isinstance(forms, tuple):
            forms = (one if n == 1 else other,)
        if not isinstance(forms, tuple) or not forms:
            return _fill(one if n == 1 else other, values)
        return self._mark(_fill(forms[plural_form(self.lang, n, len(forms))], values))

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

    def datetime(self, value: datetime | float | str | None, short: bool = False) -> str:
        """A moment on the box's clock (`tz`) as CLDR joins a date and a 24-hour time: "November 10,
        2026, 14:05", "10 listopada 2026 14:05", "2026年11月10日 14:05"; `short` for tables, with
        seconds: "Nov 10, 2026, 14:05:09", "10 lis 2026, 14:05:09", "2026年11月10日 14:05:09"."""
        if value in (None, ""):
            return ""
        moment = in_zone(value, self.tz)
        if moment is None:
            return str(value)
        return format_moment(moment, self.lang, short)

    def time(self, value: datetime | float | str | None, seconds: bool = True) -> str:
        """The 24-hour time on the box's clock (14:05:09, CLDR's Hms) in every language: no AM/PM."""
        moment = in_zone(value, self.tz)
        if moment is None:
            return "" if value in (None, "") else str(value)
        return format_clock(moment, self.lang, seconds)

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
    (re.compile(r"^Engine worker (.+) is down \(restarted (\d+) times?\)\.$"),
     ("Engine worker {worker} is down (restarted {n} time).",
      "Engine worker {worker} is down (restarted {n} times)."), ("worker", "n")),
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
            values = dict(zip(names, match.groups()))
            if isinstance(message, tuple):
                return t.ngettext(*message, int(values.pop("n")), **values)
            return t.gettext(message, **values)
    return text


@lru_cache(maxsize=None)
def _counted(lang: str) -> dict[str, tuple[str, str]]:
    """Each form of the plural messages, to the message: for text made with its count in it."""
    return {form: key for key in catalogue(lang) if isinstance(key, tuple) for form in key}


def reload_catalogues() -> None:
    """Read the .po files again on next use (after they were written, or moved in a test)."""
    catalogue.cache_clear()
    _counted.cache_clear()


def translate_message(text: str, t: Translator | None = None) -> str:
    """A message made by the page's own checks ("the password must have at least 10
    characters"): found whole, or with its one number as {n} — a counted message then takes
    the plural form the number needs ("co najmniej 10 znaków", "… 2 znaki"); anything else
    (the core's own words) is shown as it is."""
    t = t or current()
    table = catalogue(t.lang) if t.lang != DEFAULT else None
    if table is None or text in table:
        return t.gettext(text)
    numbers = re.findall(r"\d+", text)
    if len(numbers) == 1:
        key = re.sub(r"\d+", "{n}", text)
        if key in _counted(t.lang):
            return t.ngettext(*_counted(t.lang)[key], int(numbers[0]))
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
