"""Numbers, money, percentages and dates as readers in English, Polish and Chinese expect them.

The conventions come from CLDR through Babel (babel.numbers, babel.dates), not
from tables of our own:

- English and Chinese: 1,234.5 — comma groups, point decimals;
- Polish: 1 234,5 — a no-break space (U+00A0) groups, so a figure never
  wraps across lines, and a comma decimals; 85,3% — no space before the
  percent sign.

Dates use CLDR's long forms: "October 31, 2026", "31 października 2026"
(the genitive month after a day), "2026年10月31日"; a month on its own is
CLDR's year-and-month skeleton: "October 2026", "październik 2026",
"2026年10月".

Money is the amount, then the currency's short name in the language or its
code ("12 480,00 zł", "12,480.00 PLN"), in every language: CLDR's English
puts the code first and its Chinese writes CNY as "¥", which read badly in a
column of figures, so that one choice (and the units' words) stays a table
here.

Babel is pure (CLDR's tables and functions over them, no I/O beyond reading
its own data), so the domain may use it; see tests/test_architecture.py.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from appliance.errors import ValidationError

if TYPE_CHECKING:
    from decimal import Decimal

# Babel (CLDR's tables, some 1.5 MB resident) and decimal are imported by the functions that write a
# figure or a date, when one is first written: the core that only answers phones never needs them;
# reports, mails and the web page do.

NBSP = "\u00a0"


class Language(StrEnum):
    ENGLISH = "en"
    POLISH = "pl"
    CHINESE = "zh"


# How a currency is named after an amount; the code where a language has no own word.
_CURRENCY = {
    Language.ENGLISH: {},
    Language.POLISH: {"PLN": "zł"},
    Language.CHINESE: {"CNY": "元"},
}

# Units of the explain terms and reports, as readers say them.
_UNITS = {
    Language.ENGLISH: {"h": "h", "s": "s", "calls": "calls", "agents": "agents", "%": "%",
                       "months": "months", "hires": "hires", "/h": "/h", "/call": "/call",
                       "/hire": "/hire", "/month": "/month"},
    Language.POLISH: {"h": "h", "s": "s", "calls": "połączeń", "agents": "konsultantów",
                      "%": "%", "months": "mies.", "hires": "zatrudnień", "/h": "/h",
                      "/call": "/poł.", "/hire": "/zatrudnienie", "/month": "/mies."},
    Language.CHINESE: {"h": "小时", "s": "秒", "calls": "通", "agents": "名坐席", "%": "%",
                       "months": "个月", "hires": "人次", "/h": "/小时", "/call": "/通",
                       "/hire": "/人次", "/month": "/月"},
}


def language(value: Language | str) -> Language:
    """A supported language from its code ("en", "pl", "zh"); regional tags like "pl-PL" too."""
    code = str(value).replace("_", "-").split("-")[0].lower()
    try:
        return Language(code)
    except ValueError:
        raise ValidationError(f"{value!r} is not a report language (en, pl or zh)") from None


def format_number(value: float | int | Decimal, lang: Language | str, decimals: int | None = None) -> str:
    """A number with the language's separators (CLDR's decimal pattern).

    With `decimals`, exactly that many places; without, at most 2 places and
    no trailing zeros (1234.5, not 1234.50). Rounding is half to even on the
    decimal value, so 0.125 shows as 0.12.
    """
    from decimal import ROUND_HALF_EVEN, Decimal
    lang = language(lang)
    places = 2 if decimals is None else decimals
    if places < 0:
        raise ValidationError("decimals must not be negative")
    # Through str so that 0.1 is the decimal 0.1 people typed, not its binary neighbour.
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    if not exact.is_finite():
        raise ValidationError(f"{value!r} is not a finite number")
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00"
    fraction = ("0" if decimals is not None else "#") * places
    pattern = "#,##0" + ("." + fraction if fraction else "")
    from babel import numbers as cldr_numbers
    return cldr_numbers.format_decimal(rounded, pattern, locale=lang.value)


def format_percent(value: float | None, lang: Language | str, decimals: int = 1) -> str:
    """A percentage given in percent (85.3 -> "85.3%"); empty text for no value."""
    if value is None:
        return ""
    return format_number(value, lang, decimals) + "%"


def currency_name(currency: str, lang: Language | str) -> str:
    return _CURRENCY[language(lang)].get(currency, currency)


def format_money(value: float, currency: str, lang: Language | str, decimals: int = 2) -> str:
    """An amount followed by its currency: "12 480,00 zł", "12,480.00 PLN", "12,480.00 元"."""
    return format_number(value, lang, decimals) + NBSP + currency_name(currency, lang)


def unit_name(unit: str, lang: Language | str) -> str:
    """A unit as the language writes it; money units (PLN, PLN/h) keep the currency's name."""
    lang = language(lang)
    names = _UNITS[lang]
    if unit in names:
        return names[unit]
    code, slash, per = unit.partition("/")
    if slash and ("/" + per) in names:
        return currency_name(code, lang) + names["/" + per]
    return currency_name(unit, lang)


def format_quantity(value: float, unit: str, lang: Language | str, decimals: int | None = None) -> str:
    """A value with its unit: "2 310 połączeń", "12 480 zł", "58.5%"."""
    if unit == "%":
        return format_number(value, lang, decimals) + "%"
    return format_number(value, lang, decimals) + NBSP + unit_name(unit, lang)


def format_date(day: date, lang: Language | str) -> str:
    """CLDR's long date: "October 31, 2026", "31 października 2026", "2026年10月31日"."""
    from babel import dates as cldr_dates
    return cldr_dates.format_date(day, "long", locale=language(lang).value)


def format_month(year: int, month: int, lang: Language | str) -> str:
    """A month on its own (CLDR's yMMMM): "October 2026", "październik 2026", "2026年10月"."""
    from babel import dates as cldr_dates
    return cldr_dates.format_skeleton("yMMMM", date(year, month, 1), locale=language(lang).value)
