"""The three machines of the ACD, each one table {State: {Event: NewState}}.

An agent has a *status* that a person sets (logged out, available, on break)
and a *state* that the box observes (idle, ringing, talking, wrap-up, resting
after a missed offer). Whether an agent can take a call is a pure function of
the two, so neither a click on "break" nor a missed ring can lose the other.
A caller (a queue entry, live or a callback that keeps the place) has its own
machine. Nothing outside `Machine.fire` assigns a state.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from appliance.logic.machine import Machine

log = logging.getLogger("callbox.acd")


class AgentStatus(StrEnum):
    """What the agent chose."""

    LOGGED_OUT = "LOGGED_OUT"
    AVAILABLE = "AVAILABLE"
    ON_BREAK = "ON_BREAK"


class StatusEvent(StrEnum):
    LOG_IN = "LOG_IN"
    LOG_OUT = "LOG_OUT"
    TAKE_BREAK = "TAKE_BREAK"
    BECOME_AVAILABLE = "BECOME_AVAILABLE"


class AgentState(StrEnum):
    """What the box sees the agent's phone doing."""

    IDLE = "IDLE"
    OFFERED = "OFFERED"
    TALKING = "TALKING"
    WRAP_UP = "WRAP_UP"
    NO_ANSWER_BACKOFF = "NO_ANSWER_BACKOFF"
    NO_PHONE = "NO_PHONE"  # the agent's phone is not registered: no call can reach them


class StateEvent(StrEnum):
    OFFER = "OFFER"
    ANSWER = "ANSWER"
    MISS = "MISS"  # rejected or rang out
    WITHDRAW = "WITHDRAW"  # someone else answered, the caller left, the agent left
    CALL_END = "CALL_END"
    WRAP_UP_DONE = "WRAP_UP_DONE"
    BACKOFF_DONE = "BACKOFF_DONE"
    PHONE_GONE = "PHONE_GONE"  # the last registration of the agent's extension ended
    PHONE_BACK = "PHONE_BACK"


class CallerState(StrEnum):
    WAITING = "WAITING"
    OFFERING = "OFFERING"
    DIALING_CUSTOMER = "DIALING_CUSTOMER"  # a callback: the agent answered, the customer rings
    RETRY_WAIT = "RETRY_WAIT"  # a callback: the customer did not answer, try again later
    CONNECTED = "CONNECTED"
    DONE = "DONE"


class CallerEvent(StrEnum):
    OFFER = "OFFER"
    NO_ANSWER = "NO_ANSWER"  # every agent rung for this caller missed or was withdrawn
    AGENT_ANSWERED = "AGENT_ANSWERED"
    AGENT_READY = "AGENT_READY"  # an agent answered a callback: now dial the customer
    CUSTOMER_ANSWERED = "CUSTOMER_ANSWERED"
    CUSTOMER_UNREACHABLE = "CUSTOMER_UNREACHABLE"
    RETRY_DUE = "RETRY_DUE"
    GIVE_UP = "GIVE_UP"
    HANG_UP = "HANG_UP"
    QUEUE_FULL = "QUEUE_FULL"
    JOIN_EMPTY = "JOIN_EMPTY"
    LEAVE_EMPTY = "LEAVE_EMPTY"
    MAX_WAIT = "MAX_WAIT"
    REQUEST_CALLBACK = "REQUEST_CALLBACK"
    TRANSFER = "TRANSFER"
    CALL_ENDED = "CALL_ENDED"


class QueueResult(StrEnum):
    """How a caller left the queue; written into every call record."""

    ANSWERED = "ANSWERED"
    ABANDONED = "ABANDONED"
    TIMEOUT = "TIMEOUT"
    FULL = "FULL"
    JOINEMPTY = "JOINEMPTY"
    LEAVEEMPTY = "LEAVEEMPTY"
    CALLBACK_REQUESTED = "CALLBACK_REQUESTED"
    CALLBACK_COMPLETED = "CALLBACK_COMPLETED"
    CALLBACK_FAILED = "CALLBACK_FAILED"
    TRANSFERRED = "TRANSFERRED"


St, Se = AgentStatus, StatusEvent
STATUS_TRANSITIONS: dict[AgentStatus, dict[StatusEvent, AgentStatus]] = {
    St.LOGGED_OUT: {Se.LOG_IN: St.AVAILABLE},
    St.AVAILABLE: {Se.LOG_OUT: St.LOGGED_OUT, Se.TAKE_BREAK: St.ON_BREAK,
                   Se.BECOME_AVAILABLE: St.AVAILABLE},
    # Taking a break while on one changes only the reason (lunch after a meeting).
    St.ON_BREAK: {Se.LOG_OUT: St.LOGGED_OUT, Se.TAKE_BREAK: St.ON_BREAK,
                  Se.BECOME_AVAILABLE: St.AVAILABLE},
}

A, Ae = AgentState, StateEvent
STATE_TRANSITIONS: dict[AgentState, dict[StateEvent, AgentState]] = {
    A.IDLE: {Ae.OFFER: A.OFFERED, Ae.PHONE_GONE: A.NO_PHONE},
    A.NO_PHONE: {Ae.PHONE_BACK: A.IDLE},
    A.OFFERED: {Ae.ANSWER: A.TALKING, Ae.MISS: A.NO_ANSWER_BACKOFF, Ae.WITHDRAW: A.IDLE},
    A.TALKING: {Ae.CALL_END: A.WRAP_UP},
    A.WRAP_UP: {Ae.WRAP_UP_DONE: A.IDLE},
    A.NO_ANSWER_BACKOFF: {Ae.BACKOFF_DONE: A.IDLE},
}

C, Ce = CallerState, CallerEvent
CALLER_TRANSITIONS: dict[CallerState, dict[CallerEvent, CallerState]] = {
    C.WAITING: {Ce.OFFER: C.OFFERING, Ce.HANG_UP: C.DONE, Ce.QUEUE_FULL: C.DONE,
                Ce.JOIN_EMPTY: C.DONE, Ce.LEAVE_EMPTY: C.DONE, Ce.MAX_WAIT: C.DONE,
                Ce.REQUEST_CALLBACK: C.DONE, Ce.TRANSFER: C.DONE},
    C.OFFERING: {Ce.AGENT_ANSWERED: C.CONNECTED, Ce.AGENT_READY: C.DIALING_CUSTOMER,
                 Ce.NO_ANSWER: C.WAITING, Ce.HANG_UP: C.DONE, Ce.MAX_WAIT: C.DONE,
                 Ce.REQUEST_CALLBACK: C.DONE, Ce.TRANSFER: C.DONE},
    C.DIALING_CUSTOMER: {Ce.CUSTOMER_ANSWERED: C.CONNECTED,
                         Ce.CUSTOMER_UNREACHABLE: C.RETRY_WAIT, Ce.GIVE_UP: C.DONE},
    C.RETRY_WAIT: {Ce.RETRY_DUE: C.WAITING},
    C.CONNECTED: {Ce.CALL_ENDED: C.DONE},
    C.DONE: {},
}

# The result a caller gets when it leaves by each event; ANSWERED and the
# callback results are decided by the centre because they depend on the kind.
RESULT_OF_EVENT: dict[CallerEvent, QueueResult] = {
    Ce.HANG_UP: QueueResult.ABANDONED,
    Ce.QUEUE_FULL: QueueResult.FULL,
    Ce.JOIN_EMPTY: QueueResult.JOINEMPTY,
    Ce.LEAVE_EMPTY: QueueResult.LEAVEEMPTY,
    Ce.MAX_WAIT: QueueResult.TIMEOUT,
    Ce.REQUEST_CALLBACK: QueueResult.CALLBACK_REQUESTED,
    Ce.TRANSFER: QueueResult.TRANSFERRED,
    Ce.GIVE_UP: QueueResult.CALLBACK_FAILED,
}


def can_take_call(status: AgentStatus, state: AgentState) -> bool:
    """An agent may be offered a call only when they chose to and their phone is free."""
    return status is AgentStatus.AVAILABLE and state is AgentState.IDLE


AGENT_STATUS: Machine[AgentStatus, StatusEvent] = Machine("agent status", "agent %s status",
                                                         "status", STATUS_TRANSITIONS, "callbox.acd")
AGENT_STATE: Machine[AgentState, StateEvent] = Machine("agent", "agent %s", "state",
                                                       STATE_TRANSITIONS, "callbox.acd")
CALLER: Machine[CallerState, CallerEvent] = Machine("caller", "caller %s", "state",
                                                       CALLER_TRANSITIONS, "callbox.acd")
MACHINES = (AGENT_STATUS, AGENT_STATE, CALLER)
