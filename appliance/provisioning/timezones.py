"""The business's time zone, in the terms each phone maker understands.

One source: the POSIX TZ rule of the IANA zone (`CET-1CEST,M3.5.0,M10.5.0/3`),
the footer of every TZif file. From it come the offset and the summer-time
rules that Poly wants spelled out and Grandstream takes as a string; Yealink
and Snom want names from their own lists, known here for common zones.

Pure, except `load_timezone()`, which reads the zone file when the table
does not know the zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ZONEINFO_DIR = Path("/usr/share/zoneinfo")


@dataclass(frozen=True)
class DstRule:
    """A POSIX `Mm.w.d/time` rule: week 5 means the last one in the month; day 0 is Sunday."""

    month: int
    week: int
    weekday: int
    hour: int


@dataclass(frozen=True)
class TimeZone:
    """A zone: its IANA name, standard offset east of UTC, and summer time if any."""

    name: str
    posix: str
    offset_minutes: int
    dst_start: DstRule | None = None
    dst_end: DstRule | None = None
    dst_offset_minutes: int = 60

    @property
    def has_dst(self) -> bool:
        return self.dst_start is not None

    @property
    def offset_text(self) -> str:
        """'+1', '-5', '+5:30': how Yealink and most screens write an offset."""
        sign = "-" if self.offset_minutes < 0 else "+"
        hours, minutes = divmod(abs(self.offset_minutes), 60)
        return f"{sign}{hours}" + (f":{minutes:02d}" if minutes else "")


# Common zones: the POSIX rule (so no zone file is needed), Yealink's name
# for it (its "local_time.time_zone_name" list) and Snom's code.
KNOWN_ZONES: dict[str, tuple[str, str | None, str | None]] = {
    "UTC": ("UTC0", None, "GBR-0"),
    "Etc/UTC": ("UTC0", None, "GBR-0"),
    "Europe/London": ("GMT0BST,M3.5.0/1,M10.5.0", "United Kingdom(London)", "GBR-0"),
    "Europe/Dublin": ("IST-1GMT0,M10.5.0,M3.5.0/1", "Ireland(Dublin)", "IRL-0"),
    "Europe/Lisbon": ("WET0WEST,M3.5.0/1,M10.5.0", "Portugal(Lisboa)", "PRT-0"),
    "Europe/Warsaw": ("CET-1CEST,M3.5.0,M10.5.0/3", "Poland(Warsaw)", "POL+1"),
    "Europe/Berlin": ("CET-1CEST,M3.5.0,M10.5.0/3", "Germany(Berlin)", "GER+1"),
    "Europe/Vienna": ("CET-1CEST,M3.5.0,M10.5.0/3", "Austria(Vienna)", "AUT+1"),
    "Europe/Zurich": ("CET-1CEST,M3.5.0,M10.5.0/3", "Switzerland(Bern)", "CHE+1"),
    "Europe/Paris": ("CET-1CEST,M3.5.0,M10.5.0/3", "France(Paris)", "FRA+1"),
    "Europe/Madrid": ("CET-1CEST,M3.5.0,M10.5.0/3", "Spain(Madrid)", "ESP+1"),
    "Europe/Rome": ("CET-1CEST,M3.5.0,M10.5.0/3", "Italy(Rome)", "ITA+1"),
    "Europe/Amsterdam": ("CET-1CEST,M3.5.0,M10.5.0/3", "Netherlands(Amsterdam)", "NLD+1"),
    "Europe/Brussels": ("CET-1CEST,M3.5.0,M10.5.0/3", "Belgium(Brussels)", "BEL+1"),
    "Europe/Prague": ("CET-1CEST,M3.5.0,M10.5.0/3", "Czech Republic(Prague)", "CZE+1"),
    "Europe/Stockholm": ("CET-1CEST,M3.5.0,M10.5.0/3", "Sweden(Stockholm)", "SWE+1"),
    "Europe/Helsinki": ("EET-2EEST,M3.5.0/3,M10.5.0/4", "Finland(Helsinki)", "FIN+2"),
    "Europe/Athens": ("EET-2EEST,M3.5.0/3,M10.5.0/4", "Greece(Athens)", "GRC+2"),
    "Europe/Kyiv": ("EET-2EEST,M3.5.0/3,M10.5.0/4", "Ukraine(Kyiv, Odessa)", "UKR+2"),
    "Europe/Moscow": ("MSK-3", "Russia(Moscow)", "RUS+3"),
    "Asia/Shanghai": ("CST-8", "China(Beijing)", "CHN+8"),
    "Asia/Hong_Kong": ("HKT-8", "Hong Kong", "HKG+8"),
    "Asia/Tokyo": ("JST-9", "Japan(Tokyo)", "JPN+9"),
    "Asia/Kolkata": ("IST-5:30", "India(Calcutta)", "IND+5.5"),
    "Australia/Sydney": ("AEST-10AEDT,M10.1.0,M4.1.0/3", "Australia(Sydney)", "AUS+10"),
    "America/New_York": ("EST5EDT,M3.2.0,M11.1.0", "United States-Eastern Time", "USA-5"),
    "America/Chicago": ("CST6CDT,M3.2.0,M11.1.0", "United States-Central Time", "USA-6"),
    "America/Denver": ("MST7MDT,M3.2.0,M11.1.0", "United States-Mountain Time", "USA-7"),
    "America/Los_Angeles": ("PST8PDT,M3.2.0,M11.1.0", "United States-Pacific Time", "USA-8"),
}

_NAME = r"(?:[A-Za-z]{3,}|<[A-Za-z0-9+\-]{3,}>)"
_OFFSET = r"[+-]?\d{1,2}(?::\d{2}){0,2}"
_RULE = r"M\d{1,2}\.\d\.\d(?:/[+-]?\d{1,3}(?::\d{2}){0,2})?"
_POSIX = re.compile(
    rf"^(?P<std>{_NAME})(?P<off>{_OFFSET})"
    rf"(?:(?P<dst>{_NAME})(?P<dstoff>{_OFFSET})?(?:,(?P<start>{_RULE}),(?P<end>{_RULE}))?)?$"
)


def _minutes(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    parts = [int(p) for p in text.lstrip("+-").split(":")] + [0, 0]
    return sign * (parts[0] * 60 + parts[1])


def _rule(text: str) -> DstRule:
    date, _, time = text[1:].partition("/")
    month, week, weekday = (int(p) for p in date.split("."))
    hour = _minutes(time) // 60 if time else 2
    if not (1 <= month <= 12 and 1 <= week <= 5 and 0 <= weekday <= 6):
        raise ValueError(f"bad summer time rule {text!r}")
    return DstRule(month, week, weekday, hour)


def parse_posix_tz(name: str, posix: str) -> TimeZone:
    """A TimeZone from a POSIX TZ string; ValueError when it does not parse.

    Only the `Mm.w.d` rule form is understood (the one tzdata writes for
    every zone with summer time today); a zone with summer time but no such
    rule is treated as having none.
    """
    m = _POSIX.match(posix.strip())
    if m is None:
        raise ValueError(f"not a POSIX time zone rule: {posix!r}")
    # POSIX counts west of UTC as positive; every phone counts east.
    std = -_minutes(m["off"])
    if m["dst"] and m["start"] and m["end"]:
        dst = -_minutes(m["dstoff"]) if m["dstoff"] else std + 60
        return TimeZone(name, posix.strip(), std, _rule(m["start"]), _rule(m["end"]), dst - std)
    return TimeZone(name, posix.strip(), std)


def yealink_zone_name(zone: TimeZone) -> str | None:
    known = KNOWN_ZONES.get(zone.name)
    return known[1] if known else None


def snom_zone_code(zone: TimeZone) -> str | None:
    known = KNOWN_ZONES.get(zone.name)
    return known[2] if known else None


def read_tzif_footer(data: bytes) -> str | None:
    """The POSIX rule at the end of a version 2+ TZif file, or None."""
    if not data.startswith(b"TZif") or data[4:5] not in (b"2", b"3", b"4"):
        return None
    if not data.endswith(b"\n"):
        return None
    footer = data[:-1].rsplit(b"\n", 1)
    if len(footer) != 2:
        return None
    try:
        return footer[1].decode("ascii") or None
    except UnicodeDecodeError:
        return None


_ZONE_NAME = re.compile(r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$")


def load_timezone(name: str, zoneinfo_dir: Path = ZONEINFO_DIR) -> TimeZone:
    """The zone from the table, else from the system's zone file, else UTC.

    Falling back to UTC rather than failing: a phone showing the wrong hour
    is better than a phone that gets no configuration at all.
    """
    known = KNOWN_ZONES.get(name)
    if known is not None:
        return parse_posix_tz(name, known[0])
    if _ZONE_NAME.match(name):
        try:
            footer = read_tzif_footer((zoneinfo_dir / name).read_bytes())
        except OSError:
            footer = None
        if footer:
            try:
                return parse_posix_tz(name, footer)
            except ValueError:
                pass
    return parse_posix_tz("UTC", "UTC0")
