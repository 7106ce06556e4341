"""Every (state, event) pair of the three ACD machines, the valid and the invalid."""

from __future__ import annotations

import itertools
import logging
from types import SimpleNamespace

import pytest

from appliance.errors import StateMachineError
from appliance.logic.acd import (
    AGENT_STATE, AGENT_STATUS, CALLER, AgentState, AgentStatus, CallerEvent, CallerState,
    StateEvent, StatusEvent, can_take_call)

St, Se = AgentStatus, StatusEvent
A, Ae = AgentState, StateEvent
C, Ce = CallerState, CallerEvent

# Written out by hand, apart from the code: a change to a table must change this too.
EXPECTED = {
    AGENT_STATUS: {
        (St.LOGGED_OUT, Se.LOG_IN): St.AVAILABLE,
        (St.AVAILABLE, Se.LOG_OUT): St.LOGGED_OUT,
        (St.AVAILABLE, Se.TAKE_BREAK): St.ON_BREAK,
        (St.AVAILABLE, Se.BECOME_AVAILABLE): St.AVAILABLE,
        (St.ON_BREAK, Se.LOG_OUT): St.LOGGED_OUT,
        (St.ON_BREAK, Se.TAKE_BREAK): St.ON_BREAK,
        (St.ON_BREAK, Se.BECOME_AVAILABLE): St.AVAILABLE,
    },
    AGENT_STATE: {
        (A.IDLE, Ae.OFFER): A.OFFERED,
        (A.OFFERED, Ae.ANSWER): A.TALKING,
        (A.OFFERED, Ae.MISS): A.NO_ANSWER_BACKOFF,
        (A.OFFERED, Ae.WITHDRAW): A.IDLE,
        (A.TALKING, Ae.CALL_END): A.WRAP_UP,
        (A.WRAP_UP, Ae.WRAP_UP_DONE): A.IDLE,
        (A.NO_ANSWER_BACKOFF, Ae.BACKOFF_DONE): A.IDLE,
        (A.IDLE, Ae.PHONE_GONE): A.NO_PHONE,
        (A.NO_PHONE, Ae.PHONE_BACK): A.IDLE,
    },
    CALLER: {
        (C.WAITING, Ce.OFFER): C.OFFERING,
        (C.WAITING, Ce.HANG_UP): C.DONE,
        (C.WAITING, Ce.QUEUE_FULL): C.DONE,
        (C.WAITING, Ce.JOIN_EMPTY): C.DONE,
        (C.WAITING, Ce.LEAVE_EMPTY): C.DONE,
        (C.WAITING, Ce.MAX_WAIT): C.DONE,
        (C.WAITING, Ce.REQUEST_CALLBACK): C.DONE,
        (C.WAITING, Ce.TRANSFER): C.DONE,
        (C.OFFERING, Ce.AGENT_ANSWERED): C.CONNECTED,
        (C.OFFERING, Ce.AGENT_READY): C.DIALING_CUSTOMER,
        (C.OFFERING, Ce.NO_ANSWER): C.WAITING,
        (C.OFFERING, Ce.HANG_UP): C.DONE,
        (C.OFFERING, Ce.MAX_WAIT): C.DONE,
        (C.OFFERING, Ce.REQUEST_CALLBACK): C.DONE,
        (C.OFFERING, Ce.TRANSFER): C.DONE,
        (C.DIALING_CUSTOMER, Ce.CUSTOMER_ANSWERED): C.CONNECTED,
        (C.DIALING_CUSTOMER, Ce.CUSTOMER_UNREACHABLE): C.RETRY_WAIT,
        (C.DIALING_CUSTOMER, Ce.GIVE_UP): C.DONE,
        (C.RETRY_WAIT, Ce.RETRY_DUE): C.WAITING,
        (C.CONNECTED, Ce.CALL_ENDED): C.DONE,
    },
}
EVENTS = {AGENT_STATUS: StatusEvent, AGENT_STATE: StateEvent, CALLER: CallerEvent}
STATES = {AGENT_STATUS: AgentStatus, AGENT_STATE: AgentState, CALLER: CallerState}


def _all_pairs():
    for machine in EXPECTED:
        for state, event in itertools.product(STATES[machine], EVENTS[machine]):
            yield pytest.param(machine, state, event, id=f"{machine.name}-{state}-{event}")


def _table_pairs(machine) -> set:
    return {(s, e) for s, row in machine.table.items() for e in row}


@pytest.mark.parametrize("machine", list(EXPECTED), ids=lambda m: m.name)
def test_every_pair_in_the_table_has_an_expected_outcome(machine):
    assert _table_pairs(machine) == set(EXPECTED[machine])


@pytest.mark.parametrize("machine", list(EXPECTED), ids=lambda m: m.name)
def test_every_state_has_a_row(machine):
    assert set(machine.table) >= set(STATES[machine]) - {C.DONE}


@pytest.mark.parametrize(("machine", "state", "event"), list(_all_pairs()))
def test_pair(machine, state, event, caplog):
    thing = SimpleNamespace(id="1001", **{machine.attr: state})
    expected = EXPECTED[machine].get((state, event))
    if expected is None:
        with pytest.raises(StateMachineError) as err:
            machine.fire(thing, event)
        assert state.value in str(err.value) and event.value in str(err.value)
        assert (err.value.state, err.value.event) == (state.value, event.value)
        assert getattr(thing, machine.attr) is state  # a refused event changes nothing
    else:
        with caplog.at_level(logging.INFO, logger="callbox.acd"):
            assert machine.fire(thing, event) is expected
        assert getattr(thing, machine.attr) is expected
        assert f"{machine.label % '1001'}: {state.value} -> {expected.value}" in caplog.text


def test_log_line_names_the_agent():
    thing = SimpleNamespace(id="1001", state=A.IDLE)
    message = "agent 1001: event ANSWER is not allowed in state IDLE"
    with pytest.raises(StateMachineError, match=message):
        AGENT_STATE.fire(thing, Ae.ANSWER)


@pytest.mark.parametrize(("status", "state"), list(itertools.product(AgentStatus, AgentState)))
def test_only_an_available_idle_agent_can_take_a_call(status, state):
    assert can_take_call(status, state) == (status == "AVAILABLE" and state == "IDLE")
