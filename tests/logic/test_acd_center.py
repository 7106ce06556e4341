"""The contact centre's rules, told as stories with a fake clock."""

from __future__ import annotations

import logging

import pytest

from appliance.errors import Conflict, NotAllowed, NotFound, StateMachineError
from appliance.logic.acd import (
    MISSED_CALLS, Bridge, Hangup, Monitor, Overflow, Play, QueueConfig, Ring,
    StopRinging)
from tests.logic.test_acd_support import Box, of


def rung(box: Box) -> list[str]:
    return [r.agent_id for r in of(box.last, Ring)]


def test_a_call_is_rung_answered_bridged_and_wrapped_up(caplog):
    box = Box(QueueConfig("sales", wrap_up_s=30, ring_timeout_s=15, auto_answer=True))
    box.agents("1001")
    with caplog.at_level(logging.INFO, logger="callbox.acd"):
        box.caller_joins("sales", "c1", "+48601000001")
    assert of(box.last, Ring) == [Ring("1001", "c1", "sales", 15, True, whisper="sales")]
    assert "agent 1001: IDLE -> OFFERED" in caplog.text
    box.advance(4)
    box.offer_answered("c1", "1001")
    assert of(box.last, Bridge) == [Bridge("c1", "1001")]
    assert box.entries("ANSWERED")[0].wait_s == 4
    box.advance(60)
    box.call_ended("c1")
    agent = box.center.agent("1001")
    assert agent.state == "WRAP_UP" and agent.talk_time_today == 60 and agent.calls_today == 1
    box.caller_joins("sales", "c2", "+48601000002")
    assert rung(box) == []  # no call during wrap-up
    box.advance(29)
    assert agent.state == "WRAP_UP"
    box.advance(1)
    assert agent.state == "OFFERED" and agent.call_id == "c2"
    assert box.entries("WRAP_UP_END")[0].time == 1000 + 4 + 60 + 30
    assert box.results() == {"c1": ["ANSWERED"]}


def test_ring_timeout_counts_a_miss_backs_off_and_tries_again():
    box = Box(QueueConfig("sales", ring_timeout_s=10, no_answer_backoff_s=5, max_no_answer=0))
    box.agents("1001")
    box.caller_joins("sales", "c1", "+48601")
    box.advance(10)
    assert of(box.last, StopRinging) == [StopRinging("1001", "c1")]
    agent = box.center.agent("1001")
    assert agent.state == "NO_ANSWER_BACKOFF" and agent.missed_in_row == 1
    assert box.center.caller("c1").state == "WAITING"
    assert box.entries("MISSED_OFFER")[0].reason == "no answer"
    box.advance(5)
    assert agent.state == "OFFERED"


def test_a_rejected_offer_goes_to_the_next_agent():
    box = Box(QueueConfig("sales", strategy="linear"))
    box.agents("1001", "1002")
    box.caller_joins("sales", "c1", "+48601")
    box.offer_rejected("1001")
    assert rung(box) == ["1002"]
    assert box.entries("MISSED_OFFER")[0].reason == "rejected"


def test_n_missed_offers_put_the_agent_on_break():
    box = Box(QueueConfig("sales", ring_timeout_s=10, no_answer_backoff_s=1, max_no_answer=2,
                          leave_when_empty="never"))
    box.agents("1001")
    box.caller_joins("sales", "c1", "+48601")
    box.advance(10)
    assert box.center.agent("1001").status == "AVAILABLE"
    box.advance(1 + 10)
    agent = box.center.agent("1001")
    assert (agent.status, agent.break_reason) == ("ON_BREAK", MISSED_CALLS)
    assert box.entries("AGENT_BREAK")[-1].reason == "missed calls"
    box.advance(60)
    assert agent.state == "IDLE" and box.center.caller("c1").state == "WAITING"
    box.agent_available("1001")
    assert agent.state == "OFFERED" and agent.missed_in_row == 0


def test_answering_resets_the_missed_count():
    box = Box(QueueConfig("sales", ring_timeout_s=10, no_answer_backoff_s=0, max_no_answer=2))
    box.agents("1001")
    box.caller_joins("sales", "c1", "+48601")
    box.advance(10)
    box.offer_answered("c1", "1001")
    assert box.center.agent("1001").missed_in_row == 0


def test_vip_and_priority_are_served_before_earlier_callers():
    box = Box(QueueConfig("line", vip_numbers={"+48600VIP"}, join_empty="never",
                          leave_when_empty="never"))
    box.agents("1001", login=False)
    box.caller_joins("line", "early", "+48601")
    box.advance(1)
    box.caller_joins("line", "vip", "+48600VIP")
    box.advance(1)
    box.caller_joins("line", "urgent", "+48602", priority=20)
    box.caller_joins("line", "later", "+48603")
    assert [c.id for c in box.center.waiting("line")] == ["urgent", "vip", "early", "later"]
    assert box.center.position("early") == 3
    box.agent_login("1001")
    assert of(box.last, Ring)[0].call_id == "urgent"


def test_full_queue_turns_callers_away_to_the_overflow():
    box = Box(QueueConfig("sales", max_callers=2, overflow_to="voicemail:sales"))
    box.agents("1001")
    box.agent_go_on_break("1001", "lunch")
    box.caller_joins("sales", "c1", "+1")
    box.caller_joins("sales", "c2", "+2")
    box.caller_joins("sales", "c3", "+3")
    assert of(box.last, Overflow) == [Overflow("c3", "voicemail:sales")]
    assert box.results()["c3"] == ["FULL"]
    assert box.center.caller("c3") is None
    assert [c.id for c in box.center.waiting("sales")] == ["c1", "c2"]
    assert not box.entries("ENTERED", "c3")


def test_join_empty_refuses_when_nobody_is_logged_in_and_hangs_up_without_overflow():
    box = Box(QueueConfig("sales"))
    box.agents("1001", login=False)
    box.caller_joins("sales", "c1", "+1")
    assert of(box.last, Hangup) == [Hangup("c1", "joinempty")]
    assert box.results() == {"c1": ["JOINEMPTY"]}


def test_join_empty_nobody_available_counts_breaks_as_absent():
    box = Box(QueueConfig("sales", join_empty="nobody_available", leave_when_empty="never"))
    box.agents("1001")
    box.agent_go_on_break("1001", "lunch")
    box.caller_joins("sales", "c1", "+1")
    assert box.results() == {"c1": ["JOINEMPTY"]}
    never = Box(QueueConfig("sales", join_empty="never", leave_when_empty="never"))
    never.caller_joins("sales", "c1", "+1")
    assert never.center.caller("c1").state == "WAITING"


def test_leave_when_empty_sends_waiting_callers_on_when_the_last_agent_logs_out():
    box = Box(QueueConfig("sales", overflow_to="ivr:closed"))
    box.agents("1001", "1002")
    box.agent_go_on_break("1002", "lunch")
    box.caller_joins("sales", "c1", "+1")  # rings 1001
    box.caller_joins("sales", "c2", "+2")
    box.agent_logout("1001")
    assert of(box.last, StopRinging) == [StopRinging("1001", "c1")]
    assert box.center.caller("c1").state == "WAITING"  # 1002 is still logged in (on break)
    box.agent_logout("1002")
    assert sorted(o.call_id for o in of(box.last, Overflow)) == ["c1", "c2"]
    assert box.results() == {"c1": ["LEAVEEMPTY"], "c2": ["LEAVEEMPTY"]}
    assert [e.position for e in box.entries("LEAVEEMPTY")] == [1, 1]


def test_max_wait_times_out_to_the_overflow_even_while_ringing():
    box = Box(QueueConfig("sales", max_wait_s=90, ring_timeout_s=120, overflow_to="ext:200"))
    box.agents("1001")
    box.caller_joins("sales", "c1", "+1")
    box.advance(89)
    assert box.center.caller("c1") is not None
    box.advance(1)
    assert of(box.last, StopRinging) == [StopRinging("1001", "c1")]
    assert of(box.last, Overflow) == [Overflow("c1", "ext:200")]
    assert box.entries("TIMEOUT")[0].wait_s == 90
    assert box.entries("OVERFLOWED")[0].reason == "ext:200"
    assert box.center.agent("1001").state == "IDLE"
    assert "ring:1001" not in box.timers


def test_abandoned_callers_are_logged_with_position_and_wait():
    box = Box(QueueConfig("sales", join_empty="never", leave_when_empty="never"))
    box.caller_joins("sales", "c1", "+1")
    box.caller_joins("sales", "c2", "+2")
    box.advance(42)
    box.caller_hangs_up("c2")
    (entry,) = box.entries("ABANDONED")
    assert (entry.position, entry.wait_s, entry.result) == (2, 42, "ABANDONED")
    assert box.caller_hangs_up("c2") == []  # a second report of the same hangup is harmless


def test_announcements_come_due_at_the_set_interval_with_the_estimated_wait():
    box = Box(QueueConfig("sales", announce_position_every_s=60, announce_wait=True,
                          default_handle_time_s=300, leave_when_empty="never"))
    box.agents("1001", "1002")
    box.caller_joins("sales", "busy1", "+1")
    box.caller_joins("sales", "busy2", "+2")
    box.offer_answered("busy1", "1001")
    box.offer_answered("busy2", "1002")
    box.caller_joins("sales", "c1", "+3")
    box.caller_joins("sales", "c2", "+4")
    plays = [p for p in of(box.last, Play) if p.prompt != "music_on_hold"]
    # position 2, 2 agents logged in, 300 s handle time: 300 s -> 5 minutes
    assert plays == [Play("c2", "queue_position", {"position": 2}),
                     Play("c2", "estimated_wait", {"minutes": 5})]
    box.advance(59)
    assert not of(box.last, Play)
    box.advance(1)
    assert {(p.call_id, p.prompt) for p in of(box.last, Play)} == {
        ("c1", "queue_position"), ("c1", "estimated_wait"),
        ("c2", "queue_position"), ("c2", "estimated_wait")}
    box.caller_hangs_up("c1")
    box.advance(60)
    assert of(box.last, Play) == [Play("c2", "queue_position", {"position": 1}),
                                  Play("c2", "estimated_wait", {"minutes": 3})]


def test_no_announcement_for_a_caller_rung_at_once_and_agent_number_on_connect():
    box = Box(QueueConfig("sales", announce_position_every_s=30, announce_agent=True))
    box.agents("1001")
    box.caller_joins("sales", "c1", "+1")
    assert [p.prompt for p in of(box.last, Play)] == ["music_on_hold"]
    box.offer_answered("c1", "1001")
    assert of(box.last, Play) == [Play("c1", "agent_number", {"agent": "1001"})]
    assert box.last.index(of(box.last, Play)[0]) < box.last.index(of(box.last, Bridge)[0])
    box.advance(30)
    assert not of(box.last, Play)
    assert "announce:c1" not in box.timers


def test_estimated_wait_follows_the_moving_average_of_handle_time():
    box = Box(QueueConfig("sales", wrap_up_s=20, default_handle_time_s=100))
    box.agents("1001", "1002")
    assert box.center.estimated_wait_s("sales", 4) == 4 * 100 / 2
    box.caller_joins("sales", "c1", "+1")
    box.offer_answered("c1", rung(box)[0])
    box.advance(180)
    box.call_ended("c1")
    assert box.center.handle_time_s("sales") == 200  # first sample: 180 talk + 20 wrap-up
    box.advance(20)
    box.caller_joins("sales", "c2", "+2")
    box.offer_answered("c2", rung(box)[0])
    box.advance(80)
    box.call_ended("c2")
    assert box.center.handle_time_s("sales") == pytest.approx(0.8 * 200 + 0.2 * 100)
    box.agent_logout("1001")
    assert box.center.estimated_wait_s("sales", 1) == pytest.approx(180)
    box.agent_logout("1002")
    assert box.center.estimated_wait_s("sales", 1) is None


def test_a_late_answer_after_another_agent_won_is_dropped():
    box = Box(QueueConfig("sales", strategy="ringall"))
    box.agents("1001", "1002")
    box.caller_joins("sales", "c1", "+1")
    box.offer_answered("c1", "1001")
    assert box.offer_answered("c1", "1002") == [StopRinging("1002", "c1")]
    assert box.center.agent("1002").state == "IDLE"


def test_break_while_ringing_withdraws_without_counting_a_miss():
    box = Box(QueueConfig("sales", leave_when_empty="never"))
    box.agents("1001")
    box.caller_joins("sales", "c1", "+1")
    box.agent_go_on_break("1001", "toilet")
    agent = box.center.agent("1001")
    assert (agent.status, agent.state, agent.missed_in_row) == ("ON_BREAK", "IDLE", 0)
    assert not box.entries("MISSED_OFFER")
    assert box.center.caller("c1").state == "WAITING"


def test_logout_during_a_call_keeps_the_call_and_takes_no_more():
    box = Box(QueueConfig("sales", wrap_up_s=0, join_empty="never", leave_when_empty="never"))
    box.agents("1001")
    box.caller_joins("sales", "c1", "+1")
    box.offer_answered("c1", "1001")
    box.agent_logout("1001")
    agent = box.center.agent("1001")
    assert (agent.status, agent.state) == ("LOGGED_OUT", "TALKING")
    box.caller_joins("sales", "c2", "+2")
    box.call_ended("c1")
    assert agent.state == "IDLE" and box.center.caller("c2").state == "WAITING"


def test_agents_serve_several_queues_longest_waiting_first():
    box = Box(QueueConfig("sales", leave_when_empty="never", join_empty="never"),
              QueueConfig("support", leave_when_empty="never", join_empty="never"))
    box.caller_joins("support", "s1", "+1")
    box.advance(5)
    box.caller_joins("sales", "x1", "+2")
    box.agents("1001")
    assert of(box.last, Ring)[0].call_id == "s1"
    box.agents("1002", queues=["sales"])
    assert of(box.last, Ring)[0].call_id == "x1"


def test_login_to_chosen_queues_only():
    box = Box(QueueConfig("sales", join_empty="never", leave_when_empty="never"),
              QueueConfig("support", join_empty="never", leave_when_empty="never"))
    box.agents("1001", login=False)
    box.caller_joins("support", "s1", "+1")
    box.agent_login("1001", ["sales"])
    assert rung(box) == []
    box.agent_logout("1001")
    box.agent_login("1001")
    assert rung(box) == ["1001"]


def test_transfer_out_of_the_queue():
    box = Box(QueueConfig("sales", join_empty="never", leave_when_empty="never"))
    box.caller_joins("sales", "c1", "+1")
    box.caller_transferred("c1", "voicemail:sales")
    assert box.results() == {"c1": ["TRANSFERRED"]}
    assert box.entries("TRANSFERRED")[0].reason == "voicemail:sales"
    assert not of(box.last, Overflow) and not of(box.last, Hangup)


@pytest.mark.parametrize(("roles", "mode", "allowed"), [
    ({"supervisor"}, "barge", True), ({"team_lead"}, "whisper", True),
    ({"team_lead"}, "barge", False), ({"agent"}, "listen", False),
    ({"agent", "admin"}, "listen", True), (set(), "listen", False),
])
def test_supervision_depends_on_roles(roles, mode, allowed):
    box = Box(QueueConfig("sales"))
    box.agents("1001")
    box.caller_joins("sales", "c1", "+1")
    box.offer_answered("c1", "1001")
    if allowed:
        assert box.supervise("boss", "1001", mode, roles) == [Monitor("boss", "1001", "c1", mode)]
    else:
        with pytest.raises(NotAllowed):
            box.supervise("boss", "1001", mode, roles)


def test_supervising_an_agent_not_on_a_call_is_refused():
    box = Box(QueueConfig("sales"))
    box.agents("1001")
    with pytest.raises(Conflict):
        box.supervise("boss", "1001", "listen", {"admin"})


def test_mistakes_get_clear_errors():
    box = Box(QueueConfig("sales"))
    box.agents("1001")
    with pytest.raises(StateMachineError, match="LOG_IN.*AVAILABLE"):
        box.agent_login("1001")
    with pytest.raises(NotFound):
        box.caller_joins("nosuch", "c1", "+1")
    with pytest.raises(NotFound):
        box.agent_login("9999")
    with pytest.raises(Conflict):
        box.center.add_queue(QueueConfig("sales"))
    box.caller_joins("sales", "c1", "+1")
    with pytest.raises(Conflict):
        box.caller_joins("sales", "c1", "+1")
    with pytest.raises(NotAllowed):
        box.request_callback("c1")
    with pytest.raises(StateMachineError, match="caller c1: event CUSTOMER_ANSWERED .* OFFERING"):
        box.center.customer_answered("c1")  # a live call is no callback


def test_agents_freed_together_go_to_the_callers_waiting_together():
    rules = {"join_empty": "never", "leave_when_empty": "never"}
    box = Box(QueueConfig("a", strategy="ringall", **rules),
              QueueConfig("b", strategy="linear", **rules))
    box.agents("1001", "1002")
    box.caller_joins("a", "c1", "+1")
    assert sorted(rung(box)) == ["1001", "1002"]
    box.caller_joins("b", "b1", "+2")
    box.caller_joins("b", "b2", "+3")
    box.caller_hangs_up("c1")
    assert [(r.agent_id, r.call_id) for r in of(box.last, Ring)] == [
        ("1001", "b1"), ("1002", "b2")]


def test_an_agent_whose_phone_went_away_is_offered_nothing_until_it_is_back():
    box = Box(QueueConfig("sales", ring_timeout_s=15))
    box.agents("1001", "1002")
    box.phone_changed("1001", False)           # 1001 unplugged the phone: at once, not at expiry
    assert box.center.agent("1001").state == "NO_PHONE"
    assert box.center.agent("1001").status == "AVAILABLE"   # what they chose is kept
    box.caller_joins("sales", "c1", "+48601000001")
    assert rung(box) == ["1002"]
    box.offer_answered("c1", "1002")
    box.phone_changed("1001", True)
    assert box.center.agent("1001").state == "IDLE"
    box.caller_joins("sales", "c2", "+48601000002")
    assert rung(box) == ["1001"]


def test_a_phone_gone_during_a_call_takes_effect_when_the_call_and_wrap_up_end():
    box = Box(QueueConfig("sales", wrap_up_s=10))
    box.agents("1001")
    box.caller_joins("sales", "c1", "+48601000001")
    box.offer_answered("c1", "1001")
    box.phone_changed("1001", False)
    assert box.center.agent("1001").state == "TALKING"
    box.call_ended("c1")
    box.advance(10)
    assert box.center.agent("1001").state == "NO_PHONE"



def test_an_agent_kept_for_a_campaign_call_is_offered_nothing_else_and_wraps_up_after():
    box = Box(QueueConfig("support", wrap_up_s=5))
    box.agents("1001", "1002")
    assert box.center.free_agents("support") == ["1001", "1002"]
    box.campaign_offer("1001", "k1")
    assert box.center.free_agents("support") == ["1002"] and box.center.agent("1001").state == "OFFERED"
    box.caller_joins("support", "c1", "+48601000001")
    assert rung(box) == ["1002"]  # not the agent kept for the campaign
    box.campaign_talking("1001")
    box.advance(60)
    box.campaign_done("1001", "support")
    agent = box.center.agent("1001")
    assert agent.state == "WRAP_UP" and agent.talk_time_today == 60 and agent.calls_today == 1
    with pytest.raises(Conflict):
        box.campaign_offer("1001", "k2")  # in wrap-up: not free
    box.advance(5)
    assert agent.state == "IDLE" and box.center.free_agents("support") == ["1001"]


def test_a_campaign_call_that_never_reached_the_agent_frees_them_and_logout_is_safe():
    box = Box(QueueConfig("support"))
    box.agents("1003")
    box.campaign_offer("1003", "k9")
    box.campaign_done("1003", "support")
    assert box.center.agent("1003").state == "IDLE"
    box.campaign_offer("1003", "k10")
    box.agent_logout("1003")  # with a campaign call ringing: no crash, the call ends by itself
    box.campaign_done("1003", "support")
    assert box.center.agent("1003").state == "IDLE" and box.center.free_agents("support") == []
