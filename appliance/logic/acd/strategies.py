"""Strategies: a table of names to pure scoring functions (lower score rings first).

Levels come before any strategy: only the free agents at the lowest level a
caller's queue has free are scored, as Asterisk's penalties. Ties go to the
member added to the queue first, so every choice is reproducible.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from appliance.logic.acd.config import Strategy
from appliance.logic.acd.models import Agent, Member, Queue

Score = Callable[[Agent, Member, Queue, random.Random], tuple]


def _ringall(agent: Agent, member: Member, queue: Queue, rng: random.Random) -> tuple:
    return (member.order,)


def _rrmemory(agent: Agent, member: Member, queue: Queue, rng: random.Random) -> tuple:
    # The member after the one rung last, wrapping around to the top.
    return (member.order <= queue.last_order, member.order)


def _leastrecent(agent: Agent, member: Member, queue: Queue, rng: random.Random) -> tuple:
    return (agent.last_call_end, member.order)


def _fewestcalls(agent: Agent, member: Member, queue: Queue, rng: random.Random) -> tuple:
    return (agent.calls_today, member.order)


def _leasttalktime(agent: Agent, member: Member, queue: Queue, rng: random.Random) -> tuple:
    return (agent.talk_time_today, member.order)


def _random(agent: Agent, member: Member, queue: Queue, rng: random.Random) -> tuple:
    return (rng.random(), member.order)


def _linear(agent: Agent, member: Member, queue: Queue, rng: random.Random) -> tuple:
    return (member.order,)


def _skills(agent: Agent, member: Member, queue: Queue, rng: random.Random) -> tuple:
    # The most proficient on what the queue needs; among equals, the longest idle.
    proficiency = sum(agent.skills.get(s, 0) for s in queue.config.skills_required)
    return (-proficiency, agent.last_call_end, member.order)


STRATEGIES: dict[Strategy, Score] = {
    Strategy.RINGALL: _ringall,
    Strategy.RRMEMORY: _rrmemory,
    Strategy.LEASTRECENT: _leastrecent,
    Strategy.FEWESTCALLS: _fewestcalls,
    Strategy.LEASTTALKTIME: _leasttalktime,
    Strategy.RANDOM: _random,
    Strategy.LINEAR: _linear,
    Strategy.SKILLS: _skills,
}


def choose(queue: Queue, candidates: list[tuple[Member, Agent]],
           rng: random.Random) -> list[tuple[Member, Agent]]:
    """The agents to ring for the queue's next caller: one, or all at the best level."""
    best_level = min(member.level for member, _ in candidates)
    pool = [(m, a) for m, a in candidates if m.level == best_level]
    strategy = queue.config.strategy
    score = STRATEGIES[strategy]
    if strategy is Strategy.RINGALL:
        return sorted(pool, key=lambda ma: score(ma[1], ma[0], queue, rng))
    return [min(pool, key=lambda ma: score(ma[1], ma[0], queue, rng))]
