"""Time zones by country, for the set-up wizard: Poland → Europe/Warsaw, China → Asia/Shanghai.

Read from the system's tz database (zone.tab, or zone1970.tab, and iso3166.tab in
the directories zoneinfo searches), never from a hand-written list. Country names
come in the reader's language from the iso-codes catalogues when the box has them
(Debian's iso-codes package), in English otherwise.
"""

from __future__ import annotations

import gettext
import zoneinfo
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

LOCALE_DIRS = {"pl": ["pl"], "zh": ["zh_CN", "zh_Hans", "zh"]}


@dataclass(frozen=True)
class Choice:
    """One entry of the wizard's list: a country and one of its zones."""

    country: str   # ISO 3166 code
    zone: str      # IANA name
    comment: str   # the part of the country, for countries with several zones ("Xinjiang Time")


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
def choices() -> tuple[Choice, ...]:
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
    known = zoneinfo.available_timezones()
    return tuple(c for c in found if c.zone in known)


@lru_cache(maxsize=1)
def english_names() -> dict[str, str]:
    path = _tab("iso3166.tab")
    return {row[0]: row[1] for row in _rows(path) if len(row) >= 2} if path else {}


@lru_cache(maxsize=8)
def country_names(lang: str) -> dict[str, str]:
    """Country names in `lang` where the box has a catalogue for them, else in English."""
    names = english_names()
    if lang in LOCALE_DIRS:
        try:
            table = gettext.translation("iso_3166-1", languages=LOCALE_DIRS[lang])
        except OSError:
            return names
        return {code: table.gettext(name) for code, name in names.items()}
    return names


def country_of(zone: str) -> str | None:
    """The country a zone belongs to (the first the database lists), None for UTC and the like."""
    return next((c.country for c in choices() if c.zone == zone), None)


def options(lang: str) -> list[tuple[str, str]]:
    """(zone, label) for the wizard's list, sorted by country name: "Poland", "China — Xinjiang Time
    (Asia/Urumqi)". A country with one zone is just its name; typing it finds it in the list."""
    names = country_names(lang)
    per_country: dict[str, int] = {}
    for c in choices():
        per_country[c.country] = per_country.get(c.country, 0) + 1
    out = []
    for c in choices():
        name = names.get(c.country, c.country)
        if per_country[c.country] == 1:
            label = name
        else:
            label = f"{name} — {c.comment or c.zone} ({c.zone})" if c.comment else f"{name} — {c.zone}"
        out.append((c.zone, label))
    return sorted(out, key=lambda o: o[1].casefold())
