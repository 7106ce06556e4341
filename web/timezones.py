"""Time zones by country, for the set-up wizard: Poland → Europe/Warsaw, China → Asia/Shanghai.

Which zones a country has is read from the system's tz database (zone.tab, or
zone1970.tab, in the directories zoneinfo searches; CLDR's own zone-to-country
table through Babel where neither is there), never from a hand-written list.
The words come from CLDR through Babel, in the reader's language: country names
from its territories ("Polska", "中国"), and for a country with several zones
the zone's city (babel.dates.get_timezone_location: "Szanghaj", "乌鲁木齐"), so
the box needs no iso-codes package.
"""

from __future__ import annotations

import unicodedata
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location

LANGUAGES = ("en", "pl", "zh")


@dataclass(frozen=True)
class Choice:
    """One entry of the wizard's list: a country and one of its zones."""

    country: str   # ISO 3166 code
    zone: str      # IANA name
    comment: str   # zone.tab's English note on the part of the country ("Xinjiang Time"), if any


def _tab(name: str) -> Path | None:
    for root in zoneinfo.TZPATH:
        path = Path(root) / name
        if path.is_file():
            return path
    return None


def _rows(path: Path) -> list[list[str]]:
    return [line.rstrip("\n").split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def zone_choices() -> tuple[Choice, ...]:
    """Every (country, zone) the tz database knows, as the database lists them."""
    found: list[Choice] = []
    path = _tab("zone.tab")
    if path is not None:
        for row in _rows(path):
            if len(row) >= 3:
                found.append(Choice(row[0], row[2], row[3] if len(row) > 3 else ""))
    elif (path := _tab("zone1970.tab")) is not None:
        for row in _rows(path):
            if len(row) >= 3:
                for code in row[0].split(","):
                    found.append(Choice(code, row[2], row[3] if len(row) > 3 else ""))
    else:  # no tz database tables: CLDR's own idea of which country a zone belongs to
        found = [Choice(country, zone, "") for zone, country in
                 sorted(get_global("zone_territories").items()) if country != "001"]
    known = zoneinfo.available_timezones()
    return tuple(c for c in found if c.zone in known)


@lru_cache(maxsize=8)
def country_names(lang: str) -> dict[str, str]:
    """Country names (ISO 3166 code → name) in `lang`, from CLDR's territories: "PL" → "Polska"."""
    territories = Locale.parse(lang if lang in LANGUAGES else "en").territories
    return {code: name for code, name in territories.items() if code.isalpha()}


@lru_cache(maxsize=2048)
def city(zone: str, lang: str) -> str:
    """The zone's city as CLDR names it in `lang` ("Szanghaj" for Asia/Shanghai)."""
    try:
        return get_timezone_location(zone, locale=lang if lang in LANGUAGES else "en",
                                     return_city=True)
    except (LookupError, ValueError):
        return zone.rsplit("/", 1)[-1].replace("_", " ")


def country_of(zone: str) -> str | None:
    """The country a zone belongs to (the first the database lists), None for UTC and the like."""
    return next((c.country for c in zone_choices() if c.zone == zone), None)


def zone_options(lang: str) -> list[tuple[str, str]]:
    """(zone, label) for the wizard's list, sorted by country name in `lang`: "Poland", "China —
    Ürümqi (Asia/Urumqi)", "Chiny — Urumczi (Asia/Urumqi)". A country with one zone is just its
    name; typing it finds it in the list."""
    names = country_names(lang)
    per_country: dict[str, int] = {}
    for c in zone_choices():
        per_country[c.country] = per_country.get(c.country, 0) + 1
    out = []
    for c in zone_choices():
        name = names.get(c.country, c.country)
        label = name if per_country[c.country] == 1 else f"{name} — {city(c.zone, lang)} ({c.zone})"
        out.append((c.zone, label))
    return sorted(out, key=lambda o: _sort_key(o[1]))


def _sort_key(label: str) -> tuple[str, str]:
    # Letters with marks next to their base letter ("Łotwa" among the L's, not after "Z").
    base = unicodedata.normalize("NFKD", label.translate(_STROKES))
    return "".join(ch for ch in base if not unicodedata.combining(ch)).casefold(), label


_STROKES = str.maketrans("łŁøØđĐ", "lLoOdD")
