"""A callback keeps the caller's place: the box rings the agent first, then dials out."""

from __future__ import annotations

import pytest

from appliance.errors import Conflict
from appliance.logic.acd import (
    Bridge, CallAgentForCallback, DialCustomer, Hangup, Play, QueueConfig, Ring, StopRinging)
from tests.logic.test_acd_support import Box, of


def busy_box(**cfg) -> Box:
    """One agent, busy on a call, and three callers waiting behind."""
    settings = {"callback_enabled": True, "wrap_up_s": 0, "callback_retries": 2,
                "callback_retry_delay_s": 120, "ring_timeout_s": 20, **cfg}
    box = Box(QueueConfig("sales", **settings))
    box.agents("1001")
    box.caller_joins("sales", "busy", "+48600")
    box.offer_answered("busy", "1001")
    for n in (1, 2, 3):
        box.advance(10)
        box.caller_joins("sales", f"c{n}", f"+4860{n}")
    return box


def test_the_callback_stays_at_the_callers_place():
    box = busy_box()
    box.request_callback("c2", "+48609999")
    assert of(box.last, Play) == [Play("c2", "callback_confirmed", {"number": "+48609999"})]
    assert of(box.last, Hangup) == [Hangup("c2", "callback requested")]
    assert box.results() == {"busy": ["ANSWERED"], "c2": ["CALLBACK_REQUESTED"]}
    assert [c.id for c in box.center.waiting("sales")] == ["c1", "c2/callback", "c3"]
    box.caller_hangs_up("c2")  # the live leg going away changes nothing
    assert box.center.position("c2/callback") == 2


def test_when_its_turn_comes_the_agent_is_rung_first_then_the_customer_dialled():
    box = busy_box()
    box.request_callback("c1")
    box.call_ended("busy")
    assert of(box.last, CallAgentForCallback) == [
        CallAgentForCallback("1001", "c1/callback", "sales", "+48601", 20, False)]
    assert not of(box.last, Ring)
    box.offer_answered("c1/callback", "1001")
    assert of(box.last, DialCustomer) == [DialCustomer("c1/callback", "1001", "+48601")]
    assert box.center.agent("1001").state == "TALKING"
    box.advance(7)
    box.customer_answered("c1/callback")
    assert of(box.last, Bridge) == [Bridge("c1/callback", "1001")]
    assert box.results()["c1/callback"] == ["CALLBACK_COMPLETED"]
    box.advance(100)
    box.call_ended("c1/callback")
    busy_talk = box.entries("CALL_ENDED", "busy")[0].talk_s
    assert box.entries("CALL_ENDED", "c1/callback")[0].talk_s == 100  # from the customer's answer
    assert box.center.agent("1001").talk_time_today == busy_talk + 100
    assert of(box.last, Ring)[0].call_id == "c2"  # the next in line


def test_an_unreachable_customer_is_retried_at_the_same_place_then_failed():
    box = busy_box(callback_retries=1)
    box.request_callback("c1")
    box.call_ended("busy")
    box.offer_answered("c1/callback", "1001")
    box.customer_unreachable("c1/callback", "busy")
    assert box.entries("CALLBACK_RETRY")[0].reason == "busy"
    assert box.center.caller("c1/callback").state == "RETRY_WAIT"
    # Meanwhile the agent is free and takes the next caller.
    assert of(box.last, Ring)[0].call_id == "c2"
    box.offer_answered("c2", "1001")
    box.advance(120)
    assert box.center.caller("c1/callback").state == "WAITING"
    assert [c.id for c in box.center.waiting("sales")] == ["c1/callback", "c3"]
    box.call_ended("c2")
    assert of(box.last, CallAgentForCallback)[0].callback_id == "c1/callback"
    box.offer_answered("c1/callback", "1001")
    box.customer_unreachable("c1/callback", "no answer")
    assert box.results()["c1/callback"] == ["CALLBACK_FAILED"]
    assert box.center.caller("c1/callback") is None
    assert box.entries("CALLBACK_FAILED")[0].reason == "no answer"
    assert of(box.last, Ring)[0].call_id == "c3"


def test_retries_without_delay_go_straight_back_in_line():
    box = busy_box(callback_retries=3, callback_retry_delay_s=0)
    box.request_callback("c1")
    box.call_ended("busy")
    box.offer_answered("c1/callback", "1001")
    box.customer_unreachable("c1/callback")
    # Straight back at the head: the same agent is rung for it again.
    assert of(box.last, CallAgentForCallback)[0].callback_id == "c1/callback"


def test_an_agent_missing_the_callback_ring_leaves_it_waiting():
    box = busy_box(no_answer_backoff_s=0, max_no_answer=0)
    box.request_callback("c1")
    box.call_ended("busy")
    box.advance(20)
    assert box.entries("MISSED_OFFER")[-1].call_id == "c1/callback"
    assert of(box.last, CallAgentForCallback)[0].callback_id == "c1/callback"


def test_a_request_while_ringing_stops_the_ring_and_rings_again_for_the_callback():
    box = Box(QueueConfig("sales", callback_enabled=True))
    box.agents("1001")
    box.caller_joins("sales", "c1", "+1")
    box.request_callback("c1")
    assert of(box.last, StopRinging) == [StopRinging("1001", "c1")]
    assert of(box.last, CallAgentForCallback)[0].callback_id == "c1/callback"


def test_callbacks_do_not_time_out_or_leave_when_empty():
    box = busy_box(max_wait_s=60, overflow_to="vm")
    box.request_callback("c3")
    box.advance(600)
    assert box.center.caller("c3/callback").state == "WAITING"
    assert "TIMEOUT" in box.results()["c1"]
    box.agent_logout("1001")
    assert box.center.caller("c3/callback").state == "WAITING"


def test_only_a_waiting_caller_can_ask():
    box = busy_box()
    with pytest.raises(Conflict):
        box.request_callback("busy")
