"""Each strategy picks the agent a user of app_queue or mod_callcenter would expect."""

from __future__ import annotations

import pytest

from appliance.logic.acd import STRATEGIES, QueueConfig, Ring, StopRinging, Strategy
from tests.logic.test_acd_support import Box, of


def ring_targets(box: Box) -> list[str]:
    return [r.agent_id for r in of(box.last, Ring)]


def box_with(strategy: str, agents=("a1", "a2", "a3"), **cfg) -> Box:
    box = Box(QueueConfig("q", strategy=strategy, wrap_up_s=0, **cfg))
    box.agents(*agents)
    return box


def serve(box: Box, call_id: str, talk_s: float = 10) -> str:
    """One caller joins, is answered by whoever rings, talks and hangs up."""
    box.caller_joins("q", call_id, "+48601")
    (agent,) = ring_targets(box)
    box.offer_answered(call_id, agent)
    box.advance(talk_s)
    box.call_ended(call_id)
    return agent


def test_every_strategy_has_a_scoring_function():
    assert set(STRATEGIES) == set(Strategy)


def test_ringall_rings_every_free_agent_and_the_first_to_answer_wins():
    box = box_with("ringall")
    box.caller_joins("q", "c1", "+48601")
    assert sorted(ring_targets(box)) == ["a1", "a2", "a3"]
    box.offer_answered("c1", "a2")
    stopped = {(s.agent_id, s.call_id) for s in of(box.last, StopRinging)}
    assert stopped == {("a1", "c1"), ("a3", "c1")}
    assert box.center.agent("a1").state == "IDLE"
    assert box.center.agent("a2").state == "TALKING"


def test_ringall_rings_only_the_lowest_level():
    box = Box(QueueConfig("q", strategy="ringall"))
    box.agents("a1", "a2", queues={"q": 2})
    box.agents("a3", queues={"q": 1})
    box.caller_joins("q", "c1", "+48601")
    assert ring_targets(box) == ["a3"]


def test_linear_always_starts_from_the_top():
    box = box_with("linear")
    assert [serve(box, f"c{n}") for n in range(3)] == ["a1", "a1", "a1"]
    box.agent_go_on_break("a1", "lunch")
    assert serve(box, "c9") == "a2"


def test_rrmemory_goes_round_from_the_last_one_rung():
    box = box_with("rrmemory")
    assert [serve(box, f"c{n}") for n in range(4)] == ["a1", "a2", "a3", "a1"]


def test_leastrecent_picks_the_longest_idle():
    box = box_with("leastrecent")
    first = serve(box, "c1")
    box.advance(5)
    second = serve(box, "c2")
    box.advance(5)
    third = serve(box, "c3")
    assert (first, second, third) == ("a1", "a2", "a3")
    assert serve(box, "c4") == "a1"  # a1 ended longest ago


def test_fewestcalls_picks_who_took_fewest_today():
    box = box_with("fewestcalls", agents=("a1", "a2"))
    box.center.agent("a1").calls_today = 5
    box.center.agent("a2").calls_today = 2
    assert serve(box, "c1") == "a2"
    box.center.reset_daily_counters()
    box.center.agent("a2").calls_today = 1
    assert serve(box, "c2") == "a1"


def test_leasttalktime_picks_who_talked_least_today():
    box = box_with("leasttalktime", agents=("a1", "a2"))
    assert serve(box, "c1", talk_s=300) == "a1"
    assert serve(box, "c2", talk_s=10) == "a2"
    assert serve(box, "c3", talk_s=10) == "a2"  # 20 s against 300 s
    assert box.center.agent("a2").talk_time_today == 20


def test_random_follows_the_injected_generator():
    def first_pick(seed: int) -> str:
        box = Box(QueueConfig("q", strategy="random"), seed=seed)
        box.agents("a1", "a2", "a3", "a4")
        box.caller_joins("q", "c1", "+48601")
        return ring_targets(box)[0]

    picks = [first_pick(seed) for seed in range(8)]
    assert picks == [first_pick(seed) for seed in range(8)]  # same seed, same choice
    assert len(set(picks)) > 1


def test_skills_picks_the_most_skilled_then_the_longest_idle():
    box = Box(QueueConfig("q", strategy="skills", wrap_up_s=0,
                          skills_required={"polish": 2, "billing": 1}))
    box.agents("novice", skills={"polish": 1, "billing": 5})  # below the minimum: never
    box.agents("good", skills={"polish": 3, "billing": 1})
    box.agents("best", skills={"polish": 5, "billing": 4})
    box.agents("twin", skills={"polish": 5, "billing": 4})
    assert serve(box, "c1") == "best"
    assert serve(box, "c2") == "twin"  # equal skill, idle longer
    box.agent_logout("best")
    box.agent_logout("twin")
    assert serve(box, "c3") == "good"
    box.agent_logout("good")
    box.caller_joins("q", "c4", "+48601")
    assert ring_targets(box) == []  # the novice lacks the skill level


@pytest.mark.parametrize("strategy", [s for s in Strategy if s not in ("ringall", "skills")])
def test_levels_come_before_the_strategy(strategy):
    box = Box(QueueConfig("q", strategy=strategy, wrap_up_s=0))
    box.agents("low1", "low2", queues={"q": 1})
    box.agents("high", queues={"q": 0})
    assert serve(box, "c1") == "high"
    box.agent_go_on_break("high", "coffee")
    assert serve(box, "c2") in {"low1", "low2"}
