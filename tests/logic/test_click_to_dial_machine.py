"""Click-to-dial as a table: every (state, event) pair, refused pairs, and the call's stories."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.errors import StateMachineError
from appliance.logic.handlers.click_to_dial import (
    MACHINE, TABLE, ClickToDial, ClickToDialEvent as E, ClickToDialState as S)
from appliance.logic.dial_targets import Target
from appliance.logic.media import Bridge, Dial, Hangup, WriteRecord
from tests.fake_clock import FakeClock
from tests.logic.test_call_machine_support import kinds, table_checks


PHONE = "sip:1001@192.0.2.10:5062"
OUTSIDE = Target("sip:0221234567@provider.example", trunk="provider", auth={"user": "u"}, number="0221234567")
INSIDE = Target("sip:1002@192.0.2.11:5062", "1002", number="1002")


def call(clock: FakeClock | None = None, destination: Target = OUTSIDE) -> ClickToDial:
    return ClickToDial("ctd-1", "1001", destination, "w1", clock or FakeClock())


def reach(state: S, clock: FakeClock | None = None) -> ClickToDial:
    c = call(clock)
    steps: dict[S, list[Callable[[], object]]] = {
        S.NEW: [],
        S.RINGING_OWN: [lambda: c.begin(PHONE)],
        S.DIALING_FAR: [lambda: c.begin(PHONE), lambda: c.leg_answered(c.own_leg)],
        S.TALKING: [lambda: c.begin(PHONE), lambda: c.leg_answered(c.own_leg), lambda: c.leg_answered(c.far_leg)],
        S.ENDED: [lambda: c.begin(PHONE), lambda: c.leg_hung_up(c.own_leg)],
    }
    for step in steps[state]:
        step()
    assert c.state is state
    return c


EVENTS: dict[E, Callable[[ClickToDial], list]] = {
    E.BEGIN: lambda c: c.begin(PHONE),
    E.OWN_ANSWERED: lambda c: c.leg_answered(c.own_leg),
    E.FAR_ANSWERED: lambda c: c.leg_answered(c.far_leg),
    E.OWN_HUNG_UP: lambda c: c.leg_hung_up(c.own_leg),
    E.FAR_HUNG_UP: lambda c: c.leg_hung_up(c.far_leg),
}

EXPECTED: dict[tuple[S, E], list[str]] = {
    (S.NEW, E.BEGIN): ["Dial"],
    (S.RINGING_OWN, E.OWN_ANSWERED): ["Dial"],
    (S.RINGING_OWN, E.OWN_HUNG_UP): ["WriteRecord"],  # nothing else was dialled
    (S.DIALING_FAR, E.FAR_ANSWERED): ["Bridge"],
    (S.DIALING_FAR, E.OWN_HUNG_UP): ["Hangup", "WriteRecord"],
    (S.DIALING_FAR, E.FAR_HUNG_UP): ["Hangup", "WriteRecord"],
    (S.TALKING, E.OWN_HUNG_UP): ["Hangup", "WriteRecord"],
    (S.TALKING, E.FAR_HUNG_UP): ["Hangup", "WriteRecord"],
    (S.ENDED, E.OWN_HUNG_UP): [],
    (S.ENDED, E.FAR_HUNG_UP): [],
}


# A refused pair goes through the handler's own methods, as the box would call them.
TestTheTable = table_checks(TABLE, EXPECTED, reach, EVENTS, refuse=lambda c, event: EVENTS[event](c))


def test_the_machine_refuses_what_the_table_does_not_list():
    c = call()
    assert not MACHINE.allows(S.NEW, E.FAR_ANSWERED)
    with pytest.raises(StateMachineError):
        MACHINE.fire(c, E.FAR_ANSWERED)


def test_the_extensions_phone_rings_first_showing_the_number_it_will_call():
    c = call()
    assert c.begin(PHONE) == [Dial("ctd-1.o", PHONE, {"number": "0221234567", "name": "click-to-dial"}, 30.0)]
    out = c.leg_answered(c.own_leg)
    assert out == [Dial("ctd-1.f", OUTSIDE.uri, {"number": "1001", "name": ""}, 60.0, {"user": "u"})]
    assert out[0].auth == {"user": "u"}


def test_an_answered_call_is_bridged_and_its_record_says_who_hung_up():
    clock = FakeClock(1_000.0)
    c = reach(S.DIALING_FAR, clock)
    clock.advance(4.0)
    assert c.leg_answered(c.far_leg) == [Bridge("ctd-1.o", "ctd-1.f")]
    clock.advance(61.2344)
    out = c.leg_hung_up(c.far_leg)
    assert out[0] == Hangup("ctd-1.o")
    assert isinstance(out[1], WriteRecord)
    assert out[1].record == {
        "call_id": "ctd-1", "start": 1_000.0, "answer": 1_004.0, "end": 1_065.2344, "duration_s": 65.234,
        "talk_s": 61.234, "disposition": "ANSWERED", "direction": "outbound", "caller": "1001",
        "callee": "0221234567", "answered_by": "0221234567", "hangup_by": "callee", "trunk": "provider",
        "worker": "w1", "outcome": "CLICK_TO_DIAL"}


def test_a_call_nobody_answered_is_no_answer_and_internal_between_extensions():
    clock = FakeClock()
    c = call(clock, INSIDE)
    c.begin(PHONE)
    c.leg_answered(c.own_leg)
    clock.advance(10)
    out = c.leg_hung_up(c.own_leg)
    assert out[0] == Hangup("ctd-1.f")
    record = out[1].record
    assert (record["disposition"], record["direction"], record["answered_by"], record["hangup_by"]) == \
        ("NO ANSWER", "internal", None, "caller")
    assert record["talk_s"] == 0.0 and record["trunk"] is None and record["duration_s"] == 10.0


def test_the_record_is_written_once():
    c = reach(S.TALKING)
    assert kinds(c.leg_hung_up(c.own_leg)) == ["Hangup", "WriteRecord"]
    assert c.leg_hung_up(c.far_leg) == []  # the leg the box hung up reports its end too
