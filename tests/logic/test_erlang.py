"""Erlang C against published values and an independent exact computation.

Published values: the worked example of Call Centre Helper, "Erlang C
Formula - Made Simple With an Easy Worked Example": 100 calls per 30 minutes,
AHT 180 s (so A = 10 Erlangs), target 80 % in 20 s. Its table of the
probability of waiting for N = 11..15 agents reads 0.6821, 0.4494, 0.2853,
0.1741, 0.1020, and 14 agents are needed (service level 88.8 %, ASA 7.8 s).
Textbook check: A = 2 Erlangs, N = 3 gives Pw = 4/9.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.errors import ValidationError
from appliance.logic.stats import agents_needed, asa, erlang_b, erlang_c, service_level


def exact_erlang_c(a: Fraction, n: int) -> Fraction:
    """The textbook formula with factorials, in exact rationals: slow but unarguable."""
    top = a**n / math.factorial(n) * n / (n - a)
    return top / (sum(a**k / math.factorial(k) for k in range(n)) + top)


def test_textbook_two_erlangs_three_agents():
    # Pw = (8/6 * 3) / (1 + 2 + 2 + 8/6 * 3) = 4 / 9
    assert erlang_c(2, 3) == pytest.approx(4 / 9, rel=1e-12)
    assert exact_erlang_c(Fraction(2), 3) == Fraction(4, 9)


@pytest.mark.parametrize("agents, published", [
    (11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741), (15, 0.1020),
])
def test_published_table_ten_erlangs(agents, published):
    assert erlang_c(10, agents) == pytest.approx(published, abs=5e-5)
    assert erlang_c(10, agents) == pytest.approx(float(exact_erlang_c(Fraction(10), agents)), rel=1e-12)


def test_published_worked_example_staffing():
    # 100 calls per half hour = 200 per hour.
    assert agents_needed(200, 180, 0.80, 20) == 14
    # 13 agents fall just short: 1 - 0.2853 e^(-3 * 20 / 180) = 0.7956.
    assert service_level(13, 200, 180, 20) == pytest.approx(0.7956, abs=5e-4)
    assert service_level(14, 200, 180, 20) == pytest.approx(0.8884, abs=5e-4)
    # ASA = Pw AHT / (N - A) = 0.1741 * 180 / 4
    assert asa(14, 200, 180) == pytest.approx(7.83, abs=0.01)


def test_max_occupancy_can_ask_for_more_agents():
    # 20 calls/h of 180 s = 1 Erlang. Service level alone: 2 agents give
    # 1 - Pw(1,2) e^(-20/180) = 1 - (1/3)(0.8948) = 0.70, 3 agents 0.93.
    assert agents_needed(20, 180, 0.80, 20) == 3
    # Occupancy at most 25 %: A / N <= 0.25 needs N >= 4.
    assert agents_needed(20, 180, 0.80, 20, max_occupancy=0.25) == 4


@given(st.integers(1, 40), st.integers(1, 60))
def test_matches_exact_formula(a10, n):
    a = Fraction(a10, 4)
    if n <= a:
        assert erlang_c(float(a), n) == 1.0
    else:
        assert erlang_c(float(a), n) == pytest.approx(float(exact_erlang_c(a, n)), rel=1e-9)


@given(st.floats(0.5, 40), st.floats(30, 600), st.sampled_from([0.7, 0.8, 0.9]), st.sampled_from([10, 20, 30]))
def test_agents_needed_is_the_fewest_that_meet_the_target(rate_per_min, aht, sl, target):
    rate = rate_per_min * 60
    n = agents_needed(rate, aht, sl, target)
    assert service_level(n, rate, aht, target) >= sl
    assert n == 1 or service_level(n - 1, rate, aht, target) < sl


def test_large_traffic_is_stable():
    # A^N / N! overflows a float long before 5000 Erlangs; the recursion must not.
    pw = erlang_c(5000, 5100)
    assert 0 < pw < 1
    # log-space factorial formula as the independent check
    a, n = 5000.0, 5100
    log_top = n * math.log(a) - math.lgamma(n + 1) + math.log(n / (n - a))
    log_terms = [k * math.log(a) - math.lgamma(k + 1) for k in range(n)]
    peak = max(log_terms + [log_top])
    denom = sum(math.exp(t - peak) for t in log_terms) + math.exp(log_top - peak)
    assert pw == pytest.approx(math.exp(log_top - peak) / denom, rel=1e-9)
    assert 5000 < agents_needed(5000 * 3600 / 180, 180, 0.8, 20) < 5200
    assert erlang_b(5000, 0) == 1.0


def test_overloaded_queue_always_waits():
    assert erlang_c(10, 10) == 1.0
    assert service_level(10, 200, 180, 20) == 0.0
    assert asa(9, 200, 180) == math.inf
    assert agents_needed(0, 180, 0.8, 20) == 0


def test_bad_input_is_refused():
    for bad in [lambda: erlang_c(-1, 3), lambda: erlang_c(2, -1), lambda: erlang_c(2, 2.5),
                lambda: agents_needed(100, 180, 1.5, 20), lambda: agents_needed(100, 180, 0.8, 20, 0)]:
        with pytest.raises(ValidationError):
            bad()
