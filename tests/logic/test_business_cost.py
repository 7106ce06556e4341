"""Cost per handled call and outsourcing offers against a hand-computed month."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.errors import ValidationError
from appliance.logic.business import (
    MonthTraffic,
    OutsourcingOffer,
    StaffCosts,
    Term,
    cost_report,
    cost_to_csv,
    cost_to_html,
    evaluate,
    explain_text,
    month_traffic,
)
from appliance.logic.business.cost import COST_CSV_COLUMNS
from appliance.logic.business.localize import NBSP
from appliance.logic.stats import merge, rollup_days

COSTS = StaffCosts(wage_per_hour=40, recruiting_per_hire=3000, training_per_hire=10000,
                   annual_turnover_pct=30, agents=4, overhead_per_month=600)
TRAFFIC = MonthTraffic("2026-10", handled_calls=2310, staffed_h=312, talk_h=120)
OFFERS = [
    OutsourcingOffer("Acme", "per_handled_call", price_per_call=5.5),
    OutsourcingOffer("Beta", "per_hour", price_per_hour=38, minimum_per_month=15000),
    OutsourcingOffer("Gamma", "base_plus_commission", base_per_month=4000, commission_per_call=4),
    OutsourcingOffer("Delta", "per_hour", price_per_hour=90, hours_basis="talk", minimum_hours=150),
    OutsourcingOffer("Echo", "per_handled_call", price_per_call=5, minimum_calls=3000),
]


@pytest.fixture(scope="module")
def report():
    return cost_report(TRAFFIC, COSTS, OFFERS)


def test_in_house_figures(report):
    f = {name: fig.value for name, fig in report.figures.items()}
    assert f["staffed hours"] == 312
    assert f["wages"] == 12480                   # 312 h x 40 PLN/h
    assert f["hires per month"] == 0.1           # 4 agents x 30 % / 12 months
    assert f["hiring"] == 1300                   # (3 000 + 10 000) x 0.1
    assert f["overhead"] == 600
    assert f["in-house cost"] == 14380           # 12 480 + 1 300 + 600
    assert f["cost per handled call"] == 14380 / 2310   # 6.2251...


def _offer(report, name):
    return next(o for o in report.offers if o.offer.name == name)


@pytest.mark.parametrize("name, total, difference, made_of", [
    ("Acme", 12705, -1675, ["handled calls", "price per call"]),       # 2 310 x 5.50
    ("Beta", 15000, 620, ["monthly minimum"]),                          # 312 x 38 = 11 856 < 15 000
    ("Gamma", 13240, -1140, ["handled calls", "commission per call", "base per month"]),  # 2 310 x 4 + 4 000
    ("Delta", 13500, -880, ["minimum hours", "price per hour"]),        # talk 120 h < 150 h; 150 x 90
    ("Echo", 15000, 620, ["minimum calls", "price per call"]),          # 2 310 < 3 000 calls; 3 000 x 5
])
def test_offers_priced_on_the_same_month(report, name, total, difference, made_of):
    o = _offer(report, name)
    assert o.total.value == total
    assert o.difference.value == difference                 # offer - 14 380 in house
    assert o.per_call.value == total / 2310
    assert [t.label for t in o.total.explain] == made_of


def test_a_per_hour_offer_on_staffed_hours_above_its_minimum():
    offer = OutsourcingOffer("Zeta", "per_hour", price_per_hour=45, minimum_per_month=10000)
    o = cost_report(TRAFFIC, COSTS, [offer]).offers[0]
    assert o.total.value == 14040                            # 312 h x 45 > 10 000
    assert [(t.label, t.value) for t in o.total.explain] == [("staffed hours", 312), ("price per hour", 45)]


def test_every_figure_is_reproduced_by_its_terms(report):
    figures = list(report.figures.values())
    for o in report.offers:
        figures += [o.total, o.per_call, o.difference]
    for fig in figures:
        assert fig.explain, fig.name
        assert evaluate(fig.explain) == fig.value, fig.name


def test_terms_are_the_figures_they_name(report):
    f = report.figures
    per_call = f["cost per handled call"]
    assert [(t.label, t.value, t.unit, t.op) for t in per_call.explain] == [
        ("wages", 12480, "PLN", "+"), ("hiring", 1300, "PLN", "+"), ("overhead", 600, "PLN", "+"),
        ("handled calls", 2310, "calls", "/"),
    ]
    assert [t.value for t in f["in-house cost"].explain] == [
        f["wages"].value, f["hiring"].value, f["overhead"].value]


@given(st.lists(st.tuples(st.sampled_from(["+", "-", "×", "/"]),
                          st.decimals(min_value=1, max_value=10**6, places=2)), min_size=1, max_size=6))
def test_evaluate_folds_left_to_right_exactly(steps):
    from fractions import Fraction
    terms = [Term(f"t{n}", float(v), "PLN", op if n else "+") for n, (op, v) in enumerate(steps)]
    expected = Fraction(0)
    for n, (op, v) in enumerate(steps):
        v = Fraction(v)
        op = op if n else "+"
        expected = {"+": expected + v, "-": expected - v, "×": expected * v, "/": expected / v}[op]
    assert evaluate(terms) == float(expected)


def test_percent_terms_count_as_hundredths():
    assert evaluate([Term("agents", 4, "agents"), Term("turnover", 30, "%", "×")]) == 1.2


@pytest.mark.parametrize("lang, expected", [
    ("en", "(12,480 PLN wages + 1,300 PLN hiring + 600 PLN overhead) / 2,310 handled calls"),
    ("pl", "(12 480 zł wynagrodzenia + 1 300 zł rekrutacja i szkolenie + 600 zł koszty stałe) "
           "/ 2 310 obsłużone połączenia"),
])
def test_explain_text_reads_like_the_sum(report, lang, expected):
    text = explain_text(report.figures["cost per handled call"], lang).replace(NBSP, " ")
    assert text == expected


def test_explain_text_brackets_only_where_precedence_needs_it(report):
    gamma = explain_text(_offer(report, "Gamma").total).replace(NBSP, " ")
    assert gamma == "2,310 handled calls × 4 PLN/call commission per call + 4,000 PLN base per month"
    hires = explain_text(report.figures["hires per month"]).replace(NBSP, " ")
    assert hires == "4 agents × 30% annual turnover / 12 months a year"


def test_no_calls_no_cost_per_call():
    r = cost_report(MonthTraffic("2026-10", 0, 10, 0), COSTS, OFFERS[:1])
    assert r.per_call is None and r.offers[0].per_call is None
    assert r.in_house.value == 10 * 40 + 1300 + 600


def test_traffic_from_a_month_rollup():
    records = [
        {"id": str(n), "start": f"2026-10-0{n + 1}T10:00:00+00:00", "direction": "inbound",
         "queue": "sales", "agent": "a1", "outcome": "ANSWERED", "wait_s": 5, "talk_s": 1800}
        for n in range(3)
    ] + [{"id": "x", "start": "2026-10-04T10:00:00+00:00", "direction": "inbound",
          "queue": "sales", "outcome": "ABANDONED", "wait_s": 40}]
    events = [
        {"time": "2026-10-01T08:00:00+00:00", "agent": "a1", "event": "AGENT_LOGIN"},
        {"time": "2026-10-01T16:00:00+00:00", "agent": "a1", "event": "AGENT_LOGOUT"},
        {"time": "2026-10-02T09:00:00+00:00", "agent": "a2", "event": "AGENT_LOGIN"},
        {"time": "2026-10-02T13:30:00+00:00", "agent": "a2", "event": "AGENT_LOGOUT"},
    ]
    t = month_traffic(merge(rollup_days(records, events, "UTC").values()))
    # 3 answered; 8 h + 4.5 h logged in; 3 x 30 min talk.
    assert (t.month, t.handled_calls, t.staffed_h, t.talk_h) == ("2026-10", 3, 12.5, 1.5)


def test_csv(report):
    text = cost_to_csv(report)
    assert tuple(next(csv.reader(io.StringIO(text)))) == COST_CSV_COLUMNS
    rows = {r["option"]: r for r in csv.DictReader(io.StringIO(text))}
    assert list(rows) == ["in-house", "Acme", "Beta", "Gamma", "Delta", "Echo"]
    assert rows["in-house"]["month_cost"] == "14380.00"
    assert rows["in-house"]["per_handled_call"] == f"{14380 / 2310:.4f}"
    assert rows["Beta"]["difference"] == "620.00" and rows["Acme"]["difference"] == "-1675.00"
    assert rows["Gamma"]["model"] == "base_plus_commission"


@pytest.mark.parametrize("lang, money", [("en", "14,380.00"), ("pl", "14 380,00"), ("zh", "14,380.00")])
def test_html(report, lang, money):
    page = cost_to_html(report, lang)
    assert "@media print" in page and "<script" not in page.lower()
    assert money.replace(" ", NBSP) in page
    assert "Acme" in page and "Gamma" in page
    assert f"+620{',' if lang == 'pl' else '.'}00" in page      # Beta costs 620 more


def test_bad_input():
    with pytest.raises(ValidationError):
        StaffCosts(wage_per_hour=-1, recruiting_per_hire=0, training_per_hire=0,
                   annual_turnover_pct=0, agents=1)
    with pytest.raises(ValidationError):
        OutsourcingOffer("X", "per_minute")
    with pytest.raises(ValidationError):
        cost_report(TRAFFIC, COSTS, [OutsourcingOffer("Y", "per_hour", price_per_hour=1, currency="EUR")])


def test_offer_figures_are_named_in_the_language(report):
    page = cost_to_html(report, "pl")
    assert "Acme: koszt" in page and "Beta: różnica" in page
    assert "Acme: cost" in cost_to_html(report, "en")
