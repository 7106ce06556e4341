"""Numbers, money, percentages and dates as readers in English, Polish and Chinese expect them.

Only three languages, so a table is enough; the output follows the CLDR
conventions that Babel also gives for them (checked against Babel 2.18):

- English and Chinese: 1,234.5 — comma groups, point decimals;
- Polish: 1 234,5 — a no-break space (U+00A0) groups, so a figure never
  wraps across lines, and a comma decimals; 85,3% — no space before the
  percent sign.

Money is the amount, then the currency's name in the language or its code
("12 480,00 zł", "12,480.00 PLN"), in every language; Babel's English puts
the code first, which reads badly in a column of figures.

Dates use the long forms: "October 31, 2026", "31 października 2026"
(the genitive month after a day), "2026年10月31日"; a month on its own is
"October 2026", "październik 2026", "2026年10月".
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from appliance.errors import ValidationError

NBSP = "\u00a0"


class Language(StrEnum):
    ENGLISH = "en"
    POLISH = "pl"
    CHINESE = "zh"


# language -> (group separator, decimal separator)
_SEPARATORS = {
    Language.ENGLISH: (",", "."),
    Language.POLISH: (NBSP, ","),
    Language.CHINESE: (",", "."),
}

_EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
# Polish names a month alone in the nominative and after a day number in the genitive.
_PL_MONTHS = ("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec",
              "sierpień", "wrzesień", "październik", "listopad", "grudzień")
_PL_MONTHS_OF = ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca",
                 "sierpnia", "września", "października", "listopada", "grudnia")

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
    """A number with the language's separators.

    With `decimals`, exactly that many places; without, at most 2 places and
    no trailing zeros (1234.5, not 1234.50). Rounding is half to even on the
    decimal value, so 0.125 shows as 0.12 the way Babel shows it.
    """
    lang = language(lang)
    group, point = _SEPARATORS[lang]
    places = 2 if decimals is None else decimals
    if places < 0:
        raise ValidationError("decimals must not be negative")
    # Through str so that 0.1 is the decimal 0.1 people typed, not its binary neighbour.
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    if not exact.is_finite():
        raise ValidationError(f"{value!r} is not a finite number")
    rounded = exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    text = f"{abs(rounded):f}"
    whole, _, fraction = text.partition(".")
    if decimals is None:
        fraction = fraction.rstrip("0")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    out = group.join(groups) + (point + fraction if fraction else "")
    return ("-" + out) if rounded < 0 else out


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
    lang = language(lang)
    if lang is Language.POLISH:
        return f"{day.day} {_PL_MONTHS_OF[day.month - 1]} {day.year}"
    if lang is Language.CHINESE:
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{_EN_MONTHS[day.month - 1]} {day.day}, {day.year}"


def format_month(year: int, month: int, lang: Language | str) -> str:
    lang = language(lang)
    if lang is Language.POLISH:
        return f"{_PL_MONTHS[month - 1]} {year}"
    if lang is Language.CHINESE:
        return f"{year}年{month}月"
    return f"{_EN_MONTHS[month - 1]} {year}"
