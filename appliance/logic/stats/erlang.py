"""Erlang C: how many agents a queue needs for a service level.

The model (M/M/N): calls arrive at random (Poisson) at a steady rate, handle
times are exponential, nobody abandons, every waiting call is eventually
answered, and N identical agents take calls first come first served. Real
callers abandon, so Erlang C overstates waits a little and errs on the side
of more staff.

Pw = C(N, A) is computed from Erlang B through its recursion
B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1)), then
C = N B / (N - A (1 - B)). Every step stays between 0 and 1, so it is
stable for thousands of Erlangs, where A^N / N! overflows.
"""

from __future__ import annotations

import math

from appliance.errors import ValidationError

# Beyond this many agents, a search for the staff of one queue has gone wrong.
MAX_AGENTS = 100_000


def _check(traffic: float, agents: int) -> None:
    if traffic < 0 or not math.isfinite(traffic):
        raise ValidationError(f"traffic must be a finite number of Erlangs >= 0, not {traffic!r}")
    if agents < 0 or int(agents) != agents:
        raise ValidationError(f"agents must be a whole number >= 0, not {agents!r}")


def erlang_b(traffic_erlangs: float, agents: int) -> float:
    """Blocking probability of `agents` lines offered `traffic_erlangs` (Erlang B)."""
    _check(traffic_erlangs, agents)
    b = 1.0
    for n in range(1, int(agents) + 1):
        b = traffic_erlangs * b / (n + traffic_erlangs * b)
    return b


def _c_from_b(b: float, traffic: float, agents: int) -> float:
    if agents <= traffic:
        return 1.0
    return agents * b / (agents - traffic * (1.0 - b))


def erlang_c(traffic_erlangs: float, agents: int) -> float:
    """Probability that a call has to wait (Pw); 1.0 when agents <= traffic (queue grows without end)."""
    _check(traffic_erlangs, agents)
    if traffic_erlangs == 0:
        return 0.0
    return _c_from_b(erlang_b(traffic_erlangs, agents), traffic_erlangs, int(agents))


def traffic(arrival_rate_per_hour: float, aht_s: float) -> float:
    """Offered traffic in Erlangs: calls per hour times hours per call."""
    if arrival_rate_per_hour < 0 or aht_s < 0:
        raise ValidationError("arrival rate and handle time must not be negative")
    return arrival_rate_per_hour * aht_s / 3600.0


def _service_level(pw: float, a: float, agents: int, aht_s: float, target_s: float) -> float:
    if agents <= a:
        return 0.0
    if aht_s == 0:
        return 1.0
    return max(0.0, 1.0 - pw * math.exp(-(agents - a) * target_s / aht_s))


def service_level(agents: int, arrival_rate: float, aht_s: float, target_s: float) -> float:
    """Fraction of calls answered within `target_s`; arrival_rate in calls per hour.

    SL = 1 - Pw e^(-(N - A) T / AHT).
    """
    a = traffic(arrival_rate, aht_s)
    return _service_level(erlang_c(a, agents), a, int(agents), aht_s, target_s)


def asa(agents: int, arrival_rate: float, aht_s: float) -> float:
    """Average speed of answer in seconds, Pw AHT / (N - A); infinite when agents <= traffic."""
    a = traffic(arrival_rate, aht_s)
    if agents <= a:
        return math.inf
    return erlang_c(a, agents) * aht_s / (agents - a)


def occupancy(agents: int, arrival_rate: float, aht_s: float) -> float:
    """Share of agent time spent handling calls, A / N."""
    if agents <= 0:
        raise ValidationError("occupancy needs at least one agent")
    return min(1.0, traffic(arrival_rate, aht_s) / agents)


def agents_needed(
    arrival_rate_per_hour: float,
    aht_s: float,
    target_sl: float,
    target_s: float,
    max_occupancy: float | None = None,
) -> int:
    """The fewest agents that answer `target_sl` of calls within `target_s`.

    With `max_occupancy`, also enough that A / N stays at or below it (agents
    kept busy all the time burn out). No calls need no agents.
    """
    if not 0 < target_sl < 1:
        raise ValidationError("target service level must be a fraction strictly between 0 and 1")
    if target_s < 0:
        raise ValidationError("target answer time must not be negative")
    if max_occupancy is not None and not 0 < max_occupancy <= 1:
        raise ValidationError("maximum occupancy must be a fraction in (0, 1]")
    a = traffic(arrival_rate_per_hour, aht_s)
    if a == 0:
        return 0
    # Walk N upward carrying Erlang B along, so the search costs O(N) in all.
    b, n = 1.0, 0
    while n < MAX_AGENTS:
        n += 1
        b = a * b / (n + a * b)
        if n <= a:
            continue
        if max_occupancy is not None and a / n > max_occupancy:
            continue
        if _service_level(_c_from_b(b, a, n), a, n, aht_s, target_s) >= target_sl:
            return n
    raise ValidationError(f"{a:.0f} Erlangs need more than {MAX_AGENTS} agents")
