"""What a handled call costs in house, next to what outsourcers would charge for the same month.

Every figure is traceable: it carries `explain`, the terms it is made of,
each (label, value, unit, op). The figure's value is computed by folding its
own terms left to right, starting from 0 — so the terms reproduce it exactly,
by construction, and the page can print the sum behind every number:

    cost per handled call = (12 480 zł wages + 1 300 zł hiring + 0 zł overhead) / 2 310 calls

`op` is how a term joins what comes before it: "+", "-", "×" or "/"; the
first term's op is "+". A term in % counts as its hundredth when it
multiplies or divides (30 % × 4 agents = 1.2). Arithmetic is done on exact
fractions of the decimal values shown, so 4 × 30 % / 12 × 13 000 is 1 300,
not 1 299.9999999999998; the result is a float again.

Figures (docs/business.md has the same list):

- staffed hours = Σ agents' logged-in time of the month;
- wages = staffed hours × wage per hour (the employer's full cost of an hour);
- hires per month = agents × annual turnover % / 12 months;
- hiring = (recruiting per hire + training per hire) × hires per month;
- in-house cost = wages + hiring + overhead;
- cost per handled call = (wages + hiring + overhead) / handled calls;
- an offer: per_hour = billed hours × price per hour (staffed or talk hours,
  at least the offer's minimum hours); per_handled_call = billed calls ×
  price per call (at least the minimum calls); base_plus_commission = calls
  × commission per call + base per month; then at least the monthly minimum;
- an offer per handled call = offer cost / handled calls;
- difference = offer cost - in-house cost (positive: the offer costs more).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from html import escape
from typing import TYPE_CHECKING, NamedTuple

from appliance.errors import ValidationError
from appliance.logic import csv_safe
from appliance.logic.business.localize import (
    Language,
    format_month,
    format_number,
    format_quantity,
    language,
)
from appliance.logic.business.page import html_page, table
from appliance.logic.stats.rollup import Rollup

if TYPE_CHECKING:
    from fractions import Fraction

# decimal and fractions (with the C decimal library, some 0.6 MB resident) are imported where the
# figures are folded: the core imports this package at every start and makes a cost report rarely.

OPS = ("+", "-", "×", "/")


class Term(NamedTuple):
    """One part of a figure: its label, value and unit, and how it joins the terms before it."""

    label: str
    value: float
    unit: str
    op: str = "+"


def _exact(value: float) -> Fraction:
    # The decimal a person reads (repr of the float), not the binary neighbour.
    from decimal import Decimal
    from fractions import Fraction
    return Fraction(Decimal(repr(float(value))))


def evaluate(terms: Iterable[Term]) -> float:
    """The value the terms fold to, left to right from 0."""
    from fractions import Fraction
    total = Fraction(0)
    for term in terms:
        if term.op not in OPS:
            raise ValidationError(f"term {term.label!r}: unknown operation {term.op!r}")
        value = _exact(term.value)
        if term.unit == "%" and term.op in ("×", "/"):
            value /= 100
        if term.op == "+":
            total += value
        elif term.op == "-":
            total -= value
        elif term.op == "×":
            total *= value
        else:
            if value == 0:
                raise ValidationError(f"term {term.label!r}: division by zero")
            total /= value
    return float(total)


@dataclass(frozen=True)
class Figure:
    """A number of the report with the terms it is made of."""

    name: str
    value: float
    unit: str
    explain: tuple[Term, ...]

    @classmethod
    def of(cls, name: str, unit: str, *terms: Term) -> Figure:
        return cls(name, evaluate(terms), unit, tuple(terms))

    def term(self, label: str | None = None, op: str = "+") -> Term:
        """This figure as a term of another one."""
        return Term(label or self.name, self.value, self.unit, op)


class PricingModel(StrEnum):
    PER_HOUR = "per_hour"
    PER_HANDLED_CALL = "per_handled_call"
    BASE_PLUS_COMMISSION = "base_plus_commission"


class HoursBasis(StrEnum):
    """Which hours a per-hour offer bills: agent seat hours, or talk time only."""

    STAFFED = "staffed"
    TALK = "talk"


@dataclass(frozen=True)
class StaffCosts:
    """The in-house team. Money in `currency`; wage = the employer's full cost of one paid hour."""

    wage_per_hour: float
    recruiting_per_hire: float
    training_per_hire: float
    annual_turnover_pct: float
    agents: int
    overhead_per_month: float = 0.0
    currency: str = "PLN"

    def __post_init__(self) -> None:
        for name in ("wage_per_hour", "recruiting_per_hire", "training_per_hire",
                     "annual_turnover_pct", "agents", "overhead_per_month"):
            if getattr(self, name) < 0:
                raise ValidationError(f"{name}: must not be negative")


@dataclass(frozen=True)
class OutsourcingOffer:
    """One outsourcer's price list; the fields its model does not use stay 0."""

    name: str
    model: PricingModel
    price_per_hour: float = 0.0
    price_per_call: float = 0.0
    base_per_month: float = 0.0
    commission_per_call: float = 0.0
    minimum_per_month: float = 0.0
    minimum_calls: int = 0
    minimum_hours: float = 0.0
    hours_basis: HoursBasis = HoursBasis.STAFFED
    currency: str = "PLN"

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "model", PricingModel(self.model))
            object.__setattr__(self, "hours_basis", HoursBasis(self.hours_basis))
        except ValueError as e:
            raise ValidationError(f"offer {self.name}: {e}") from None
        for name in ("price_per_hour", "price_per_call", "base_per_month", "commission_per_call",
                     "minimum_per_month", "minimum_calls", "minimum_hours"):
            if getattr(self, name) < 0:
                raise ValidationError(f"offer {self.name}: {name} must not be negative")
        if not self.name:
            raise ValidationError("an offer needs a name")


@dataclass(frozen=True)
class MonthTraffic:
    """What the month asked of the team: calls handled, hours staffed, hours talked."""

    month: str
    handled_calls: int
    staffed_h: float
    talk_h: float

    def __post_init__(self) -> None:
        if self.handled_calls < 0 or self.staffed_h < 0 or self.talk_h < 0:
            raise ValidationError("calls and hours of a month must not be negative")


def month_traffic(month: Rollup, label: str | None = None) -> MonthTraffic:
    """The traffic of a merged month roll-up.

    Handled calls are the queues' answered calls (what outsourcers bill per
    call, and what the KPIs count); talk is theirs too. Staffed hours are
    the agents' logged-in time, breaks included, as that is paid time.
    """
    total = month.total()
    return MonthTraffic(
        month=label or month.first_day[:7],
        handled_calls=total.answered,
        staffed_h=sum(a.logged_in_s for a in month.agents.values()) / 3600,
        talk_h=total.talk_s / 3600,
    )


@dataclass(frozen=True)
class OfferCost:
    """One offer priced on the month's traffic, next to the in-house cost."""

    offer: OutsourcingOffer
    total: Figure
    per_call: Figure | None
    difference: Figure


@dataclass(frozen=True)
class CostReport:
    traffic: MonthTraffic
    currency: str
    figures: dict[str, Figure]
    offers: tuple[OfferCost, ...] = field(default_factory=tuple)

    @property
    def in_house(self) -> Figure:
        return self.figures["in-house cost"]

    @property
    def per_call(self) -> Figure | None:
        return self.figures.get("cost per handled call")


def _in_house(traffic: MonthTraffic, costs: StaffCosts) -> dict[str, Figure]:
    cur = costs.currency
    staffed = Figure.of("staffed hours", "h", Term("agents' logged-in time", traffic.staffed_h, "h"))
    wages = Figure.of("wages", cur, staffed.term(),
                      Term("wage per hour", costs.wage_per_hour, f"{cur}/h", "×"))
    hires = Figure.of("hires per month", "hires",
                      Term("agents", costs.agents, "agents"),
                      Term("annual turnover", costs.annual_turnover_pct, "%", "×"),
                      Term("months a year", 12, "months", "/"))
    hiring = Figure.of("hiring", cur,
                       Term("recruiting per hire", costs.recruiting_per_hire, f"{cur}/hire"),
                       Term("training per hire", costs.training_per_hire, f"{cur}/hire"),
                       hires.term(op="×"))
    overhead = Figure.of("overhead", cur, Term("overhead per month", costs.overhead_per_month, cur))
    total = Figure.of("in-house cost", cur, wages.term(), hiring.term(), overhead.term())
    figures = {f.name: f for f in (staffed, wages, hires, hiring, overhead, total)}
    if traffic.handled_calls > 0:
        figures["cost per handled call"] = Figure.of(
            "cost per handled call", f"{cur}/call", wages.term(), hiring.term(), overhead.term(),
            Term("handled calls", traffic.handled_calls, "calls", "/"))
    return figures


def _offer_total(offer: OutsourcingOffer, traffic: MonthTraffic) -> Figure:
    cur = offer.currency
    name = f"{offer.name}: cost"
    if offer.model is PricingModel.PER_HOUR:
        hours = traffic.staffed_h if offer.hours_basis is HoursBasis.STAFFED else traffic.talk_h
        label = "staffed hours" if offer.hours_basis is HoursBasis.STAFFED else "talk hours"
        if hours < offer.minimum_hours:
            hours, label = offer.minimum_hours, "minimum hours"
        computed = Figure.of(name, cur, Term(label, hours, "h"),
                             Term("price per hour", offer.price_per_hour, f"{cur}/h", "×"))
    elif offer.model is PricingModel.PER_HANDLED_CALL:
        calls, label = traffic.handled_calls, "handled calls"
        if calls < offer.minimum_calls:
            calls, label = offer.minimum_calls, "minimum calls"
        computed = Figure.of(name, cur, Term(label, calls, "calls"),
                             Term("price per call", offer.price_per_call, f"{cur}/call", "×"))
    else:
        calls, label = traffic.handled_calls, "handled calls"
        if calls < offer.minimum_calls:
            calls, label = offer.minimum_calls, "minimum calls"
        computed = Figure.of(name, cur, Term(label, calls, "calls"),
                             Term("commission per call", offer.commission_per_call, f"{cur}/call", "×"),
                             Term("base per month", offer.base_per_month, cur, "+"))
    if computed.value < offer.minimum_per_month:
        return Figure.of(name, cur, Term("monthly minimum", offer.minimum_per_month, cur))
    return computed


def cost_report(traffic: MonthTraffic | Rollup, costs: StaffCosts,
                offers: Iterable[OutsourcingOffer] = ()) -> CostReport:
    """The in-house cost of the month and each offer priced on the same traffic."""
    if isinstance(traffic, Rollup):
        traffic = month_traffic(traffic)
    figures = _in_house(traffic, costs)
    in_house = figures["in-house cost"]
    priced = []
    for offer in offers:
        if offer.currency != costs.currency:
            raise ValidationError(
                f"offer {offer.name} is in {offer.currency}, the team's costs in {costs.currency}")
        total = _offer_total(offer, traffic)
        per_call = None
        if traffic.handled_calls > 0:
            per_call = Figure.of(f"{offer.name}: per handled call", f"{offer.currency}/call",
                                 total.term(f"{offer.name}"),
                                 Term("handled calls", traffic.handled_calls, "calls", "/"))
        difference = Figure.of(f"{offer.name}: difference", offer.currency,
                               total.term(f"{offer.name}"), in_house.term(op="-"))
        priced.append(OfferCost(offer, total, per_call, difference))
    return CostReport(traffic, costs.currency, figures, tuple(priced))


# --------------------------------------------------------------------------
# Showing the sums

LABELS: dict[Language, dict[str, str]] = {
    Language.ENGLISH: {},
    Language.POLISH: {
        "agents' logged-in time": "czas zalogowania konsultantów", "staffed hours": "godziny obsady",
        "wage per hour": "koszt godziny pracy", "wages": "wynagrodzenia", "agents": "konsultanci",
        "annual turnover": "roczna rotacja", "months a year": "miesięcy w roku",
        "hires per month": "zatrudnienia na miesiąc", "recruiting per hire": "rekrutacja na osobę",
        "training per hire": "szkolenie na osobę", "hiring": "rekrutacja i szkolenie",
        "overhead per month": "koszty stałe na miesiąc", "overhead": "koszty stałe",
        "in-house cost": "koszt własny", "cost per handled call": "koszt obsłużonego połączenia",
        "handled calls": "obsłużone połączenia", "talk hours": "godziny rozmów",
        "minimum hours": "minimum godzin", "minimum calls": "minimum połączeń",
        "price per hour": "cena za godzinę", "price per call": "cena za połączenie",
        "commission per call": "prowizja za połączenie", "base per month": "opłata stała",
        "monthly minimum": "minimum miesięczne", "cost": "koszt",
        "per handled call": "na obsłużone połączenie", "difference": "różnica",
    },
    Language.CHINESE: {
        "agents' logged-in time": "坐席登录时长", "staffed hours": "值守工时", "wage per hour": "每小时人工成本",
        "wages": "工资", "agents": "坐席人数", "annual turnover": "年流失率", "months a year": "每年月数",
        "hires per month": "每月招聘人数", "recruiting per hire": "每人招聘费用",
        "training per hire": "每人培训费用", "hiring": "招聘与培训", "overhead per month": "每月固定开支",
        "overhead": "固定开支", "in-house cost": "自营成本", "cost per handled call": "每通已处理来电成本",
        "handled calls": "已处理来电", "talk hours": "通话工时", "minimum hours": "最低工时",
        "minimum calls": "最低来电数", "price per hour": "每小时价格", "price per call": "每通价格",
        "commission per call": "每通佣金", "base per month": "每月基本费", "monthly minimum": "每月最低消费",
        "cost": "成本", "per handled call": "每通已处理来电", "difference": "差额",
    },
}

TEXTS: dict[Language, dict[str, str]] = {
    Language.ENGLISH: {"title": "Cost per handled call", "figure": "Figure", "value": "Value",
                       "made_of": "Made of", "compare": "In house and outsourcing offers",
                       "option": "Option", "month_cost": "Cost of the month",
                       "per_call": "Per handled call", "difference": "Compared with in house",
                       "in_house": "In house", "details": "How each figure is made"},
    Language.POLISH: {"title": "Koszt obsłużonego połączenia", "figure": "Wielkość", "value": "Wartość",
                      "made_of": "Skład", "compare": "Zespół własny i oferty outsourcingu",
                      "option": "Wariant", "month_cost": "Koszt miesiąca",
                      "per_call": "Na obsłużone połączenie", "difference": "Różnica wobec zespołu własnego",
                      "in_house": "Zespół własny", "details": "Z czego składa się każda liczba"},
    Language.CHINESE: {"title": "每通来电成本", "figure": "项目", "value": "数值", "made_of": "构成",
                       "compare": "自营与外包报价对比", "option": "方案", "month_cost": "当月成本",
                       "per_call": "每通已处理来电", "difference": "与自营相比", "in_house": "自营",
                       "details": "各项数字的构成"},
}

COUNT_UNITS = frozenset({"calls", "agents", "hires", "months"})
_PRECEDENCE = {"+": 1, "-": 1, "×": 2, "/": 2}


def label_text(label: str, lang: Language | str) -> str:
    """A term's label in the language; offer names and unknown labels stay as they are."""
    lang = language(lang)
    prefix, sep, rest = label.partition(": ")
    if sep and rest in LABELS[lang]:
        return f"{prefix}: {LABELS[lang][rest]}"
    return LABELS[lang].get(label, label)


def explain_text(figure: Figure, lang: Language | str = Language.ENGLISH) -> str:
    """The sum behind a figure, e.g. "(12 480 zł wages + 1 300 zł hiring) / 2 310 calls".

    Parentheses wrap what came before a × or / that follows a + or -, so
    the text reads with the usual precedence and still means the left fold.
    """
    lang = language(lang)
    text, loosest = "", 0
    for n, term in enumerate(figure.explain):
        if term.unit in COUNT_UNITS:
            # "2 310 handled calls", not "2 310 calls handled calls": the label names the count.
            shown = f"{format_number(term.value, lang)} {label_text(term.label, lang)}"
        else:
            shown = f"{format_quantity(term.value, term.unit, lang)} {label_text(term.label, lang)}"
        if n == 0:
            text, loosest = (shown if term.op == "+" else f"{term.op} {shown}"), 3
            continue
        if _PRECEDENCE[term.op] > loosest:
            text = f"({text})"
        text = f"{text} {term.op} {shown}"
        loosest = min(loosest, _PRECEDENCE[term.op])
    return text


def _money(figure: Figure | None, lang: Language) -> str:
    return "" if figure is None else format_quantity(figure.value, figure.unit, lang, 2)


def to_csv(report: CostReport) -> str:
    """One line per option (in house first): month, option, model, cost, per call, difference."""
    out = io.StringIO()
    writer = csv_safe.writer(out, lineterminator="\r\n")
    writer.writerow(COST_CSV_COLUMNS)
    t = report.traffic
    per_call = report.per_call
    writer.writerow([t.month, "in-house", "staff", f"{report.in_house.value:.2f}",
                     "" if per_call is None else f"{per_call.value:.4f}", "0.00",
                     t.handled_calls, f"{t.staffed_h:.2f}", f"{t.talk_h:.2f}", report.currency])
    for o in report.offers:
        writer.writerow([t.month, o.offer.name, o.offer.model.value, f"{o.total.value:.2f}",
                         "" if o.per_call is None else f"{o.per_call.value:.4f}",
                         f"{o.difference.value:.2f}", t.handled_calls, f"{t.staffed_h:.2f}",
                         f"{t.talk_h:.2f}", report.currency])
    return out.getvalue()


COST_CSV_COLUMNS: tuple[str, ...] = (
    "month", "option", "model", "month_cost", "per_handled_call", "difference",
    "handled_calls", "staffed_h", "talk_h", "currency",
)


def to_html(report: CostReport, lang: Language | str = Language.ENGLISH) -> str:
    """The comparison and every figure with its sum, as a printable page."""
    lang = language(lang)
    texts = TEXTS[lang]
    year, month = (int(p) for p in report.traffic.month.split("-"))
    compare = [[(texts["in_house"], ""), (_money(report.in_house, lang), "num"),
                (_money(report.per_call, lang), "num"), ("", "num")]]
    for o in report.offers:
        diff = o.difference.value
        shown = _money(o.difference, lang)
        compare.append([(o.offer.name, ""), (_money(o.total, lang), "num"),
                        (_money(o.per_call, lang), "num"),
                        (("+" + shown) if diff > 0 else shown, "num")])
    figures = list(report.figures.values())
    for o in report.offers:
        figures += [o.total] + ([o.per_call] if o.per_call else []) + [o.difference]
    detail = [[(label_text(f.name, lang), ""), (format_quantity(f.value, f.unit, lang, 2), "num"),
               (explain_text(f, lang), "explain")] for f in figures]
    body = (f"<h2>{escape(texts['compare'])}</h2>\n"
            + table([(texts["option"], False), (texts["month_cost"], True), (texts["per_call"], True),
                     (texts["difference"], True)], compare)
            + f"<h2>{escape(texts['details'])}</h2>\n"
            + table([(texts["figure"], False), (texts["value"], True), (texts["made_of"], False)], detail))
    return html_page(texts["title"], format_month(year, month, lang), body, lang)
