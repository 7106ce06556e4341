"""Numbers, money and dates in English, Polish and Chinese report pages."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.errors import ValidationError
from appliance.logic.business.localize import (
    NBSP,
    format_date,
    format_money,
    format_month,
    format_number,
    format_percent,
    format_quantity,
    language,
)


@pytest.mark.parametrize("value, lang, decimals, expected", [
    (1234.5, "en", None, "1,234.5"),
    (1234.5, "zh", None, "1,234.5"),
    (1234.5, "pl", None, f"1{NBSP}234,5"),
    (1234567.891, "en", 2, "1,234,567.89"),
    (1234567.891, "pl", 2, f"1{NBSP}234{NBSP}567,89"),
    (12480, "pl", 0, f"12{NBSP}480"),
    (999, "pl", None, "999"),
    (1000, "en", None, "1,000"),
    (0.5, "pl", 2, "0,50"),
    (-1234.5, "en", 1, "-1,234.5"),
    (-0.004, "en", 2, "0.00"),           # no "-0.00"
    (2.675, "en", 2, "2.68"),            # the decimal 2.675, not its binary neighbour 2.67499...
    (0.125, "en", 2, "0.12"),            # half to even, as Babel does
    (1234.50, "en", None, "1,234.5"),    # trailing zeros dropped without a fixed count
    (Decimal("100000"), "zh", None, "100,000"),
])
def test_format_number(value, lang, decimals, expected):
    assert format_number(value, lang, decimals) == expected


def test_polish_groups_with_a_no_break_space_so_a_figure_never_wraps():
    text = format_number(1234.5, "pl")
    assert " " not in text and NBSP in text


@given(st.integers(min_value=-10**12, max_value=10**12), st.sampled_from(["en", "pl", "zh"]))
def test_grouping_round_trips(n, lang):
    group = NBSP if lang == "pl" else ","
    text = format_number(n, lang, 0)
    assert int(text.replace(group, "")) == n
    digits = text.lstrip("-").split(group)
    assert all(len(g) == 3 for g in digits[1:]) and 1 <= len(digits[0]) <= 3


@pytest.mark.parametrize("lang, expected", [("en", "85.3%"), ("pl", "85,3%"), ("zh", "85.3%")])
def test_percent(lang, expected):
    assert format_percent(85.3, lang) == expected
    # 85.25 rounds half to even: 85.2.
    assert format_percent(85.25, lang) == expected.replace("3", "2")
    assert format_percent(None, lang) == ""


@pytest.mark.parametrize("lang, currency, expected", [
    ("pl", "PLN", f"12{NBSP}480,00{NBSP}zł"),
    ("en", "PLN", f"12,480.00{NBSP}PLN"),
    ("zh", "CNY", f"12,480.00{NBSP}元"),
    ("zh", "PLN", f"12,480.00{NBSP}PLN"),
])
def test_money(lang, currency, expected):
    assert format_money(12480, currency, lang) == expected


@pytest.mark.parametrize("value, unit, lang, expected", [
    (12480, "PLN", "pl", f"12{NBSP}480{NBSP}zł"),
    (40, "PLN/h", "pl", f"40{NBSP}zł/h"),
    (5.5, "PLN/call", "en", f"5.5{NBSP}PLN/call"),
    (2310, "calls", "zh", f"2,310{NBSP}通"),
    (30, "%", "pl", "30%"),
])
def test_quantity(value, unit, lang, expected):
    assert format_quantity(value, unit, lang) == expected


@pytest.mark.parametrize("lang, day, month", [
    ("en", "October 31, 2026", "October 2026"),
    ("pl", "31 października 2026", "październik 2026"),
    ("zh", "2026年10月31日", "2026年10月"),
])
def test_dates(lang, day, month):
    assert format_date(date(2026, 10, 31), lang) == day
    assert format_month(2026, 10, lang) == month


def test_polish_months_are_genitive_after_a_day_and_nominative_alone():
    assert format_date(date(2027, 2, 1), "pl") == "1 lutego 2027"
    assert format_month(2027, 2, "pl") == "luty 2027"


def test_language_codes():
    assert language("pl-PL") == "pl" and language("zh_CN") == "zh" and language("EN") == "en"
    with pytest.raises(ValidationError):
        language("de")
    with pytest.raises(ValidationError):
        format_number(float("nan"), "en")
