"""How long the ACD takes to route after an event, in a busy contact centre.

50 agents in 10 queues (each agent in 3 queues at mixed levels, queues with
every strategy), all 50 on calls, 200 callers waiting. Each sample ends one
call, then times the event that frees the agent (the end of wrap-up) with the
routing step it triggers; the agent answers and a new caller joins, so the
centre stays as busy for the next sample.
"""

from __future__ import annotations

import random
import statistics
import time

from appliance.logic.acd import ContactCenter, QueueConfig, Ring, Strategy

AGENTS = 50
QUEUES = 10
WAITING = 200
SAMPLES = 2000


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _build(rng: random.Random) -> tuple[ContactCenter, _Clock, list[str]]:
    clock = _Clock()
    center = ContactCenter(clock, random.Random(1))
    strategies = list(Strategy)
    names = [f"q{n}" for n in range(QUEUES)]
    for n, name in enumerate(names):
        strategy = strategies[n % len(strategies)]
        center.add_queue(QueueConfig(
            name, strategy=strategy, wrap_up_s=5, max_wait_s=600, announce_position_every_s=30,
            announce_wait=True, skills_required={"english": 1} if strategy is Strategy.SKILLS
            else {}))
    for n in range(AGENTS):
        queues = {q: rng.randint(0, 2) for q in rng.sample(names, 3)}
        center.add_agent(f"a{n}", f"Agent {n}", {"english": rng.randint(1, 5)}, queues)
        center.agent_login(f"a{n}")
    return center, clock, names


def _answer_rings(center: ContactCenter, commands: list, talking: list[str]) -> None:
    """Every agent rung answers at once (the first answer of a ringall wins)."""
    for ring in [c for c in commands if isinstance(c, Ring)]:
        caller = center.caller(ring.call_id)
        if caller is not None and caller.state == "OFFERING":
            center.offer_answered(ring.call_id, ring.agent_id)
            talking.append(ring.call_id)


def run() -> dict:
    """Time the routing decision; print p50/p95/p99 in µs; return the p95."""
    rng = random.Random(7)
    center, clock, names = _build(rng)
    talking: list[str] = []
    calls = 0

    def join() -> list:
        nonlocal calls
        calls += 1
        return center.caller_joins(rng.choice(names), f"c{calls}", f"+48600{calls:06d}")

    while len(talking) < AGENTS:
        _answer_rings(center, join(), talking)
    while sum(len(center.waiting(q)) for q in names) < WAITING:
        join()
    samples = []
    routed = 0
    for _ in range(SAMPLES):
        clock.now += 1
        call_id = talking.pop(0)
        agent_id = center.caller(call_id).agent_id
        center.call_ended(call_id)
        clock.now += 5
        began = time.perf_counter()
        commands = center.timer_fired(f"wrap-up:{agent_id}")
        samples.append((time.perf_counter() - began) * 1e6)
        routed += any(isinstance(c, Ring) for c in commands)
        _answer_rings(center, commands, talking)
        while sum(len(center.waiting(q)) for q in names) < WAITING:
            join()
    p50, p95, p99 = (statistics.median(samples), _percentile(samples, 95),
                     _percentile(samples, 99))
    print(f"ACD routing after an event: {AGENTS} agents, {QUEUES} queues, "
          f"{WAITING} callers waiting, {SAMPLES} samples ({routed} routed a caller)")
    print(f"{'p50 µs':>9} {'p95 µs':>9} {'p99 µs':>9}")
    print(f"{p50:>9.1f} {p95:>9.1f} {p99:>9.1f}")
    return {"acd_decision_p95_us": round(p95, 1)}


if __name__ == "__main__":
    print(run())
