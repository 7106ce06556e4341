"""A callback as a table: every (state, event) pair, refused pairs, and the stories of one attempt."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.errors import StateMachineError
from appliance.logic.handlers.callback_call import (
    MACHINE, TABLE, AgentAnswered, AgentMissed, CallbackCall, CallbackEnded, CallbackEvent as E,
    CallbackState as S, CustomerAnswered, CustomerUnreachable, Idle)
from appliance.logic.dial_targets import Target
from appliance.logic.media import Bridge, Dial, Hangup, WriteRecord
from tests.fake_clock import FakeClock
from tests.logic.test_call_machine_support import kinds, table_checks


PHONES = {"201": "sip:201@192.0.2.21:5062", "202": "sip:202@192.0.2.22:5062", "203": "sip:203@192.0.2.23:5062"}
ROUTE = Target("sip:0221234567@provider.example", trunk="provider", auth={"user": "u"}, number="0221234567")


def callback(clock: FakeClock | None = None) -> CallbackCall:
    return CallbackCall("c9/callback", "sales", "0221234567", "w1", clock or FakeClock(), "cb1")


def first_ringing(c: CallbackCall) -> str:
    return next(iter(c.ringing))


def hang_up_every_ringing_leg(c: CallbackCall) -> list:
    out: list = []
    for leg in list(c.ringing):
        out = c.leg_hung_up(leg, 486)
    return out


def reach(state: S, clock: FakeClock | None = None) -> CallbackCall:
    c = callback(clock)
    path: list[Callable[[], object]] = [
        lambda: c.ring_agent("201", PHONES["201"], 20), lambda: c.ring_agent("202", PHONES["202"], 20),
        lambda: c.leg_answered(first_ringing(c)), lambda: c.stop_ringing("202"),
        lambda: c.dial_customer("201", ROUTE), lambda: c.leg_answered(c.customer_leg or ""), c.bridge,
        lambda: c.leg_hung_up(c.customer_leg or "", 16)]
    steps = {S.WAITING: 0, S.RINGING_AGENT: 2, S.AGENT_ON_LINE: 4, S.DIALING_CUSTOMER: 5, S.CUSTOMER_ON_LINE: 6,
             S.TALKING: 7, S.ENDED: 8}[state]
    for step in path[:steps]:
        step()
    assert c.state is state
    return c


EVENTS: dict[E, Callable[[CallbackCall], list]] = {
    E.RING_AGENT: lambda c: c.ring_agent("203", PHONES["203"], 20),
    E.AGENT_UNREACHABLE: lambda c: c.ring_agent("203", None, 20),
    E.AGENT_MISSED: lambda c: c.leg_hung_up(first_ringing(c), 408),
    E.RINGING_STOPPED: lambda c: c.stop_ringing("202"),
    E.NOBODY_RINGS: hang_up_every_ringing_leg,
    E.AGENT_ANSWERED: lambda c: c.leg_answered(first_ringing(c)),
    E.DIAL_CUSTOMER: lambda c: c.dial_customer("201", ROUTE),
    E.NO_ROUTE: lambda c: c.dial_customer("201", None),
    E.CUSTOMER_ANSWERED: lambda c: c.leg_answered(c.customer_leg or ""),
    E.BRIDGE: lambda c: c.bridge(),
    E.CUSTOMER_HUNG_UP: lambda c: c.leg_hung_up(c.customer_leg or "", 486),
    E.AGENT_HUNG_UP: lambda c: c.leg_hung_up(c.agent_leg or "", 16),
}

GONE = ["CustomerUnreachable", "Hangup", "Idle"]  # the attempt failed: the agent's leg ends, the ACD retries
EXPECTED: dict[tuple[S, E], list[str]] = {
    (S.WAITING, E.RING_AGENT): ["Dial"],
    (S.WAITING, E.AGENT_UNREACHABLE): ["AgentMissed"],
    (S.WAITING, E.RINGING_STOPPED): [],
    (S.RINGING_AGENT, E.RING_AGENT): ["Dial"],
    (S.RINGING_AGENT, E.AGENT_UNREACHABLE): ["AgentMissed"],
    (S.RINGING_AGENT, E.AGENT_MISSED): ["AgentMissed"],  # another agent still rings
    (S.RINGING_AGENT, E.RINGING_STOPPED): ["Hangup"],
    (S.RINGING_AGENT, E.NOBODY_RINGS): ["AgentMissed", "Idle"],
    (S.RINGING_AGENT, E.AGENT_ANSWERED): ["AgentAnswered"],
    (S.AGENT_ON_LINE, E.DIAL_CUSTOMER): ["Dial"],
    (S.AGENT_ON_LINE, E.NO_ROUTE): GONE,
    (S.AGENT_ON_LINE, E.RINGING_STOPPED): [],
    (S.DIALING_CUSTOMER, E.CUSTOMER_ANSWERED): ["CustomerAnswered"],
    (S.DIALING_CUSTOMER, E.CUSTOMER_HUNG_UP): GONE,
    (S.DIALING_CUSTOMER, E.AGENT_HUNG_UP): ["Hangup"],
    (S.DIALING_CUSTOMER, E.RINGING_STOPPED): [],
    (S.CUSTOMER_ON_LINE, E.BRIDGE): ["Bridge"],
    (S.CUSTOMER_ON_LINE, E.CUSTOMER_HUNG_UP): GONE,
    (S.CUSTOMER_ON_LINE, E.AGENT_HUNG_UP): ["Hangup"],
    (S.TALKING, E.CUSTOMER_HUNG_UP): ["Hangup", "Hangup", "CallbackEnded", "WriteRecord"],
    (S.TALKING, E.AGENT_HUNG_UP): ["Hangup", "Hangup", "CallbackEnded", "WriteRecord"],
    (S.ENDED, E.CUSTOMER_HUNG_UP): [],
    (S.ENDED, E.AGENT_HUNG_UP): [],
}


TestTheTable = table_checks(TABLE, EXPECTED, reach, EVENTS, refuse=MACHINE.fire)


@pytest.mark.parametrize("state", [S.WAITING, S.RINGING_AGENT, S.DIALING_CUSTOMER, S.TALKING])
def test_the_handler_refuses_a_bridge_before_the_customer_answered(state):
    c = reach(state)
    with pytest.raises(StateMachineError):
        c.bridge()
    assert c.state is state


def test_the_agent_is_rung_with_the_customers_number_then_the_customer_with_the_agents():
    c = callback()
    assert c.ring_agent("201", PHONES["201"], 25) == [
        Dial("cb1.a1", PHONES["201"], {"number": "0221234567", "name": "callback sales: 0221234567"}, 25)]
    assert c.leg_answered("cb1.a1") == [AgentAnswered("201")]
    out = c.dial_customer("201", ROUTE)
    assert out == [Dial("cb1.c2", ROUTE.uri, {"number": "201", "name": ""}, 40.0, {"user": "u"})]
    assert out[0].auth == {"user": "u"}
    assert c.leg_answered("cb1.c2") == [CustomerAnswered()]
    assert c.bridge() == [Bridge("cb1.c2", "cb1.a1")]


def test_a_customer_at_an_extension_sees_the_queue_as_the_callers_name():
    c = reach(S.AGENT_ON_LINE)
    at_extension = Target("sip:1002@192.0.2.12", "1002", number="1002")
    assert c.dial_customer("201", at_extension)[0].caller_id == {"number": "201", "name": "sales"}


def test_a_phone_that_rang_out_is_a_timeout_for_the_acd_and_a_rejection_is_not():
    c = reach(S.RINGING_AGENT)
    assert c.leg_hung_up("cb1.a1", 408) == [AgentMissed("201", timed_out=True)]
    assert c.leg_hung_up("cb1.a2", 603) == [AgentMissed("202", timed_out=False), Idle()]
    assert c.state is S.WAITING


def test_an_agent_who_cannot_be_rung_is_reported_after_this_turn():
    c = callback()
    assert c.ring_agent("201", None, 20) == [AgentMissed("201", soon=True)]
    assert c.state is S.WAITING and not c.ringing


def test_a_number_that_cannot_be_dialled_ends_the_attempt_and_frees_the_agent():
    c = reach(S.AGENT_ON_LINE)
    assert c.dial_customer("201", None) == [CustomerUnreachable("no route", soon=True), Hangup("cb1.a1"), Idle()]
    assert c.state is S.WAITING and c.agent_leg is None


def test_a_customer_who_does_not_answer_is_reported_with_the_cause():
    c = reach(S.DIALING_CUSTOMER)
    assert c.leg_hung_up("cb1.c3", 480) == [CustomerUnreachable("480"), Hangup("cb1.a1"), Idle()]
    assert c.customer_leg is None


def test_an_agent_who_gives_up_while_the_customer_rings_ends_the_attempt():
    c = reach(S.DIALING_CUSTOMER)
    assert c.leg_hung_up("cb1.a1", 16) == [Hangup("cb1.c3")]
    assert c.leg_hung_up("cb1.c3", 487) == [CustomerUnreachable("487"), Idle()]
    assert c.state is S.WAITING


def test_a_retry_rings_an_agent_again_with_new_legs():
    c = reach(S.DIALING_CUSTOMER)
    c.leg_hung_up("cb1.c3", 480)
    assert kinds(c.ring_agent("202", PHONES["202"], 20)) == ["Dial"] and c.state is S.RINGING_AGENT
    assert "cb1.a4" in c.ringing


def test_the_conversation_ends_with_the_acd_told_and_one_record():
    clock = FakeClock(500.0)
    c = reach(S.CUSTOMER_ON_LINE, clock)
    clock.advance(2.0)
    c.bridge()
    clock.advance(90.5)
    out = c.leg_hung_up("cb1.a1", 16)
    assert out[:3] == [Hangup("cb1.a1"), Hangup("cb1.c3"), CallbackEnded()]
    assert isinstance(out[3], WriteRecord)
    assert out[3].record == {
        "call_id": "c9/callback", "start": 500.0, "answer": 502.0, "end": 592.5, "duration_s": 92.5,
        "talk_s": 90.5, "disposition": "ANSWERED", "direction": "outbound", "caller": "201",
        "callee": "0221234567", "answered_by": "201", "hangup_by": "box", "queue": "sales", "agent": "201",
        "outcome": "CALLBACK_COMPLETED", "worker": "w1", "trunk": None}
    assert c.leg_hung_up("cb1.c3", 16) == []


def test_legs_it_does_not_own_are_ignored():
    c = reach(S.TALKING)
    assert not c.owns("elsewhere") and c.owns("cb1.a1")
    assert c.leg_answered("elsewhere") == [] and c.leg_hung_up("elsewhere") == []
