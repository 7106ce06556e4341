"""Simulated agents and callers, the pure half: options, plans, arrivals and
one simulated call as a state machine.

The softphones in appliance.engine.softphones carry out the commands these
functions return; nothing here touches the network, files or the clock.
"""

from __future__ import annotations

import logging
import math
import random
import re
from dataclasses import dataclass
from enum import StrEnum

from appliance.errors import StateMachineError, ValidationError
from appliance.logic.machine import Machine

log = logging.getLogger("callbox.simphones")

MAX_ACCOUNTS = 8         # per process: the wheel's account table
DIAL_TIMEOUT_S = 30.0    # a caller whose call is not answered by then gives up
DIGIT_RE = re.compile(r"[0-9*#A-D]*")
USER_RE = re.compile(r"[A-Za-z0-9_.+-]{1,32}")


# --- options -------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """Seconds between low and high; each draw is uniform."""
    low: float
    high: float

    def draw(self, rng: random.Random) -> float:
        return self.low if self.low == self.high else rng.uniform(self.low, self.high)

    def __str__(self) -> str:
        return f"{self.low:g}-{self.high:g}"


def parse_range(text: str) -> Range:
    """'2-6' or '3' (seconds) -> Range."""
    parts = str(text).strip().split("-")
    try:
        if len(parts) == 1:
            low = high = float(parts[0])
        elif len(parts) == 2:
            low, high = float(parts[0]), float(parts[1])
        else:
            raise ValueError
    except ValueError:
        raise ValidationError(f"{text!r}: expected seconds as LOW-HIGH or N, e.g. 2-6") from None
    if not (math.isfinite(low) and math.isfinite(high)) or low < 0 or high < low:
        raise ValidationError(f"{text!r}: need 0 <= LOW <= HIGH")
    return Range(low, high)


def parse_box(text: str) -> tuple[str, int]:
    """'HOST:PORT' -> (host, port)."""
    host, sep, port = str(text).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValidationError(f"{text!r}: expected HOST:PORT, e.g. 127.0.0.1:5060")
    return host, int(port)


def parse_accounts(text: str, limit: int = MAX_ACCOUNTS) -> list[tuple[str, str]]:
    """'1010:SECRET,1011:SECRET' (or one per line) -> [(user, secret)].

    An '@FILE' argument is read by appliance.engine.simphones.parse_accounts.
    """
    accounts: list[tuple[str, str]] = []
    for item in re.split(r"[,\n]", text):
        item = item.strip()
        if not item:
            continue
        user, sep, secret = item.partition(":")
        if not sep or not USER_RE.fullmatch(user) or not secret:
            raise ValidationError(f"account {user or item!r}: expected NUMBER:SECRET")
        if any(user == u for u, _ in accounts):
            raise ValidationError(f"account {user} is listed twice")
        accounts.append((user, secret))
    if not accounts:
        raise ValidationError("no accounts given")
    if len(accounts) > limit:
        raise ValidationError(f"{len(accounts)} accounts: one process registers at most {limit}; "
                              "start another process for the rest")
    return accounts


def parse_digit_choices(text: str) -> list[str]:
    """'1|2' -> ['1', '2']: each call presses one of the alternatives ('' presses nothing)."""
    choices = [c.strip() for c in str(text).split("|")]
    for c in choices:
        if not DIGIT_RE.fullmatch(c):
            raise ValidationError(f"digits {c!r}: only 0-9 * # A-D")
    return choices


# --- plans and arrivals (pure) -------------------------------------------------------


@dataclass(frozen=True)
class AgentPlan:
    answer_after_s: float
    talk_s: float


@dataclass(frozen=True)
class CallerPlan:
    digits: str
    digits_after_s: float
    hangup_after_s: float  # counted from the moment the box answers
    abandons: bool


@dataclass(frozen=True)
class AgentHabits:
    answer_after: Range
    talk: Range

    def plan(self, rng: random.Random) -> AgentPlan:
        return AgentPlan(self.answer_after.draw(rng), self.talk.draw(rng))


@dataclass(frozen=True)
class CallerHabits:
    digit_choices: list[str]
    digits_after: Range
    hangup_after: Range
    abandon_share: float
    abandon_after: Range

    def plan(self, rng: random.Random) -> CallerPlan:
        abandons = rng.random() < self.abandon_share
        patience = (self.abandon_after if abandons else self.hangup_after).draw(rng)
        return CallerPlan(rng.choice(self.digit_choices), self.digits_after.draw(rng), patience, abandons)


class Arrivals:
    """A Poisson stream of calls: gaps drawn from an exponential distribution."""

    def __init__(self, rate_per_min: float, rng: random.Random, now: float):
        if not rate_per_min > 0:
            raise ValidationError("rate per minute must be above 0")
        self.rate_per_s = rate_per_min / 60.0
        self.rng = rng
        self.next_at = now + rng.expovariate(self.rate_per_s)

    def due(self, now: float) -> int:
        """How many calls should have started by `now` since the last ask."""
        count = 0
        while self.next_at <= now:
            count += 1
            self.next_at += self.rng.expovariate(self.rate_per_s)
        return count


def admit(calls_now: int, max_calls: int, agent_busy: bool, stopping: bool) -> int | None:
    """None to take an incoming call, else the SIP status to refuse it with."""
    if stopping:
        return 503
    if calls_now >= max_calls or agent_busy:
        return 486
    return None


# --- one simulated call (pure state machine) ------------------------------------------


class CallState(StrEnum):
    RINGING = "RINGING"          # an agent's phone rings
    ANSWERING = "ANSWERING"      # the agent picked up; waiting for the ACK
    DIALING = "DIALING"          # a caller's INVITE is out
    TALKING = "TALKING"
    HANGING_UP = "HANGING_UP"
    ENDED = "ENDED"


class CallEvent(StrEnum):
    ANSWER_DUE = "ANSWER_DUE"
    CONNECTED = "CONNECTED"
    DIGITS_DUE = "DIGITS_DUE"
    HANGUP_DUE = "HANGUP_DUE"
    DISCONNECTED = "DISCONNECTED"
    SHUTDOWN = "SHUTDOWN"


S, E = CallState, CallEvent
TRANSITIONS: dict[CallState, dict[CallEvent, CallState]] = {
    S.RINGING: {E.ANSWER_DUE: S.ANSWERING, E.DISCONNECTED: S.ENDED, E.SHUTDOWN: S.HANGING_UP},
    S.ANSWERING: {E.CONNECTED: S.TALKING, E.DISCONNECTED: S.ENDED, E.SHUTDOWN: S.HANGING_UP},
    S.DIALING: {E.CONNECTED: S.TALKING, E.HANGUP_DUE: S.HANGING_UP, E.DISCONNECTED: S.ENDED,
                E.SHUTDOWN: S.HANGING_UP},
    S.TALKING: {E.DIGITS_DUE: S.TALKING, E.HANGUP_DUE: S.HANGING_UP, E.DISCONNECTED: S.ENDED,
                E.SHUTDOWN: S.HANGING_UP},
    # A 200 OK can cross our CANCEL; pjsua then confirms and sends BYE itself.
    S.HANGING_UP: {E.CONNECTED: S.HANGING_UP, E.DISCONNECTED: S.ENDED, E.SHUTDOWN: S.HANGING_UP},
    S.ENDED: {},
}
del S, E


@dataclass(frozen=True)
class Ring:
    """Send 180 Ringing."""


@dataclass(frozen=True)
class Answer:
    """Send 200 OK."""


@dataclass(frozen=True)
class HangUp:
    """BYE, CANCEL or a refusal, whichever fits the call's SIP state."""


@dataclass(frozen=True)
class SendDigits:
    digits: str


@dataclass(frozen=True)
class StartTimer:
    """Feed `event` back after `seconds`; replaces the call's timer for the same event."""
    event: CallEvent
    seconds: float


@dataclass(frozen=True)
class CancelTimers:
    """Forget every timer of the call."""


Command = Ring | Answer | HangUp | SendDigits | StartTimer | CancelTimers


@dataclass(eq=False)
class SimCall:
    id: str
    account: str
    plan: AgentPlan | CallerPlan
    state: CallState
    started_at: float
    connected_at: float | None = None

    @property
    def is_agent(self) -> bool:
        return isinstance(self.plan, AgentPlan)


SIM_CALL: Machine[CallState, CallEvent] = Machine("simulated call", "simulated call %s", "state", TRANSITIONS,
                                                  "callbox.simphones")


def incoming_call(call_id: str, account: str, plan: AgentPlan, now: float) -> tuple[SimCall, list[Command]]:
    """An agent's phone starts ringing."""
    call = SimCall(call_id, account, plan, CallState.RINGING, now)
    return call, [Ring(), StartTimer(CallEvent.ANSWER_DUE, plan.answer_after_s)]


def outgoing_call(call_id: str, account: str, plan: CallerPlan, now: float) -> tuple[SimCall, list[Command]]:
    """A caller has dialled."""
    call = SimCall(call_id, account, plan, CallState.DIALING, now)
    return call, [StartTimer(CallEvent.HANGUP_DUE, DIAL_TIMEOUT_S)]


def step(call: SimCall, event: CallEvent, now: float) -> list[Command]:
    """The one place a call changes state; returns what the phone must do."""
    old = call.state
    new = SIM_CALL.fire(call, event)
    if new == CallState.HANGING_UP:
        return [] if old == CallState.HANGING_UP else [CancelTimers(), HangUp()]
    if new == CallState.ENDED:
        return [CancelTimers()]
    if event == CallEvent.ANSWER_DUE:
        return [Answer()]
    if event == CallEvent.CONNECTED:
        call.connected_at = now
        plan = call.plan
        if isinstance(plan, AgentPlan):
            return [StartTimer(CallEvent.HANGUP_DUE, plan.talk_s)]
        commands: list[Command] = [StartTimer(CallEvent.HANGUP_DUE, plan.hangup_after_s)]
        if plan.digits:
            commands.append(StartTimer(CallEvent.DIGITS_DUE, plan.digits_after_s))
        return commands
    if event == CallEvent.DIGITS_DUE:
        if not isinstance(call.plan, CallerPlan):  # agents never press digits
            raise StateMachineError("simulated call", call.id, str(old), str(event))
        return [SendDigits(call.plan.digits)]
    return []
