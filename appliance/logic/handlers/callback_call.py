"""A callback that kept a caller's place: the box rings an agent first, then the customer.

The ACD (`appliance.logic.acd`) decides who is rung and when, and retries a customer who did
not answer; this handler carries one attempt out in one worker. It takes the ACD's requests
(ring this agent, dial the customer, connect them) and what the engine reported about its
legs, and returns media commands and what the ACD must hear (`AgentAnswered`, ...). Between
attempts the callback waits in the ACD, not in a worker (`Idle`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from appliance.logic.calls import Disposition
from appliance.logic.dial_targets import Target
from appliance.logic.machine import Machine
from appliance.logic.media import Bridge, Dial, Hangup, WriteRecord
from appliance.logic.records import call_record

OUTCOME = "CALLBACK_COMPLETED"
CUSTOMER_RING_S = 40.0
NO_ANSWER_CAUSE = 408  # an agent's phone that rang out, as the engine reports it


class CallbackState(StrEnum):
    WAITING = "WAITING"  # in the ACD, no leg in a worker
    RINGING_AGENT = "RINGING_AGENT"
    AGENT_ON_LINE = "AGENT_ON_LINE"  # the agent answered: the ACD asks for the customer next
    DIALING_CUSTOMER = "DIALING_CUSTOMER"
    CUSTOMER_ON_LINE = "CUSTOMER_ON_LINE"  # the customer answered: the ACD connects them
    TALKING = "TALKING"
    ENDED = "ENDED"


class CallbackEvent(StrEnum):
    RING_AGENT = "ring_agent"  # the ACD offers the callback to an agent whose phone can be rung
    AGENT_UNREACHABLE = "agent_unreachable"  # no phone registered, or no room in the worker
    AGENT_MISSED = "agent_missed"  # an agent's ringing leg ended unanswered
    RINGING_STOPPED = "ringing_stopped"  # the ACD withdrew an agent's offer
    NOBODY_RINGS = "nobody_rings"  # the last ringing leg is gone
    AGENT_ANSWERED = "agent_answered"
    DIAL_CUSTOMER = "dial_customer"
    NO_ROUTE = "no_route"  # the customer's number cannot be dialled
    CUSTOMER_ANSWERED = "customer_answered"
    BRIDGE = "bridge"
    CUSTOMER_HUNG_UP = "customer_hung_up"
    AGENT_HUNG_UP = "agent_hung_up"


S, E = CallbackState, CallbackEvent
_RINGING_CHANGES = {E.RING_AGENT: S.RINGING_AGENT, E.AGENT_UNREACHABLE: S.RINGING_AGENT,
                    E.AGENT_MISSED: S.RINGING_AGENT, E.RINGING_STOPPED: S.RINGING_AGENT}
TABLE: dict[CallbackState, dict[CallbackEvent, CallbackState]] = {
    S.WAITING: {E.RING_AGENT: S.RINGING_AGENT, E.AGENT_UNREACHABLE: S.WAITING, E.RINGING_STOPPED: S.WAITING},
    S.RINGING_AGENT: {**_RINGING_CHANGES, E.NOBODY_RINGS: S.WAITING, E.AGENT_ANSWERED: S.AGENT_ON_LINE},
    S.AGENT_ON_LINE: {E.DIAL_CUSTOMER: S.DIALING_CUSTOMER, E.NO_ROUTE: S.WAITING,
                      E.RINGING_STOPPED: S.AGENT_ON_LINE},
    # The agent who gives up while the customer rings ends that leg; its end ends the attempt.
    S.DIALING_CUSTOMER: {E.CUSTOMER_ANSWERED: S.CUSTOMER_ON_LINE, E.CUSTOMER_HUNG_UP: S.WAITING,
                         E.AGENT_HUNG_UP: S.DIALING_CUSTOMER, E.RINGING_STOPPED: S.DIALING_CUSTOMER},
    S.CUSTOMER_ON_LINE: {E.BRIDGE: S.TALKING, E.CUSTOMER_HUNG_UP: S.WAITING,
                         E.AGENT_HUNG_UP: S.CUSTOMER_ON_LINE},
    S.TALKING: {E.CUSTOMER_HUNG_UP: S.ENDED, E.AGENT_HUNG_UP: S.ENDED},
    # The leg the box hung up reports its end too: nothing is left to do.
    S.ENDED: {E.CUSTOMER_HUNG_UP: S.ENDED, E.AGENT_HUNG_UP: S.ENDED},
}
MACHINE: Machine[CallbackState, CallbackEvent] = Machine(
    "callback", "callback %s", "state", TABLE, "callbox.outbound_calls")


# --- what the ACD must hear (the runtime hands these to the contact center) ---------------------

@dataclass(frozen=True)
class AgentAnswered:
    agent_id: str


@dataclass(frozen=True)
class AgentMissed:
    """The agent's phone rang out (`timed_out`) or was rejected; `soon`: tell the ACD after this turn."""

    agent_id: str
    timed_out: bool = False
    soon: bool = False


@dataclass(frozen=True)
class CustomerAnswered:
    pass


@dataclass(frozen=True)
class CustomerUnreachable:
    reason: str
    soon: bool = False


@dataclass(frozen=True)
class CallbackEnded:
    """The conversation is over: the agent goes to wrap-up."""


@dataclass(frozen=True)
class Idle:
    """No leg is left in the worker: the callback waits in the ACD until its next attempt."""


AcdInput = AgentAnswered | AgentMissed | CustomerAnswered | CustomerUnreachable | CallbackEnded


@dataclass(eq=False)
class CallbackCall:
    """One callback in one worker: the agent's and the customer's legs, and its state."""

    id: str  # the callback's id in the ACD
    queue: str
    number: str  # the customer's
    worker: str
    clock: Callable[[], float]
    leg_prefix: str  # names this callback's legs in its worker
    state: CallbackState = S.WAITING
    start: float = 0.0
    answer_time: float | None = None
    agent: str | None = None
    agent_leg: str | None = None
    customer_leg: str | None = None
    ringing: dict[str, str] = field(default_factory=dict)  # leg -> agent

    def __post_init__(self) -> None:
        self.start = self.clock()
        self._seq = 0

    def _leg(self, kind: str) -> str:
        self._seq += 1
        return f"{self.leg_prefix}.{kind}{self._seq}"

    # --- what the ACD asks ---------------------------------------------------------------

    def ring_agent(self, agent_id: str, contact: str | None, timeout_s: float) -> list[Any]:
        """Ring the agent's phone at `contact` (None: it cannot be rung now)."""
        if contact is None:
            MACHINE.fire(self, E.AGENT_UNREACHABLE)
            return [AgentMissed(agent_id, soon=True)]
        MACHINE.fire(self, E.RING_AGENT)
        leg = self._leg("a")
        self.ringing[leg] = agent_id
        return [Dial(leg, contact, {"number": self.number, "name": f"callback {self.queue}: {self.number}"},
                     timeout_s)]

    def stop_ringing(self, agent_id: str) -> list[Any]:
        MACHINE.fire(self, E.RINGING_STOPPED)
        legs = [leg for leg, agent in self.ringing.items() if agent == agent_id]
        for leg in legs:
            del self.ringing[leg]
        return [Hangup(leg) for leg in legs] + self._nobody_rings()

    def dial_customer(self, agent_id: str, target: Target | None) -> list[Any]:
        """The agent is on the line: now the customer, at an extension's phone or through a trunk
        (`target` None: the number cannot be dialled)."""
        if target is None:
            MACHINE.fire(self, E.NO_ROUTE)
            out: list[Any] = [CustomerUnreachable("no route", soon=True)]
            return out + self._drop_agent() + [Idle()]
        MACHINE.fire(self, E.DIAL_CUSTOMER)
        self.customer_leg = self._leg("c")
        name = "" if target.trunk else self.queue
        return [Dial(self.customer_leg, target.uri, {"number": agent_id, "name": name}, CUSTOMER_RING_S,
                     target.auth or None)]

    def bridge(self) -> list[Any]:
        """The ACD connects the customer who answered with the agent waiting on the line."""
        MACHINE.fire(self, E.BRIDGE)
        self.answer_time = self.clock()
        assert self.customer_leg and self.agent_leg, "both parties are on the line in CUSTOMER_ON_LINE"
        return [Bridge(self.customer_leg, self.agent_leg)]

    # --- what the engine reports -----------------------------------------------------------

    def owns(self, leg: str | None) -> bool:
        return leg is not None and (leg in self.ringing or leg in (self.agent_leg, self.customer_leg))

    def leg_answered(self, leg: str) -> list[Any]:
        if leg in self.ringing:
            MACHINE.fire(self, E.AGENT_ANSWERED)
            self.agent, self.agent_leg = self.ringing.pop(leg), leg
            return [AgentAnswered(self.agent)]
        if leg == self.customer_leg:
            MACHINE.fire(self, E.CUSTOMER_ANSWERED)
            return [CustomerAnswered()]
        return []

    def leg_hung_up(self, leg: str, cause: int = 0) -> list[Any]:
        if leg in self.ringing:
            MACHINE.fire(self, E.AGENT_MISSED)
            agent = self.ringing.pop(leg)
            return [AgentMissed(agent, timed_out=cause == NO_ANSWER_CAUSE)] + self._nobody_rings()
        if leg == self.customer_leg:
            return self._customer_gone(cause)
        if leg == self.agent_leg:
            return self._agent_gone()
        return []

    def _customer_gone(self, cause: int) -> list[Any]:
        was = self.state
        MACHINE.fire(self, E.CUSTOMER_HUNG_UP)
        if was is S.ENDED:
            return []
        if self.state is S.ENDED:
            return self._end()
        self.customer_leg = None
        return [CustomerUnreachable(str(cause))] + self._drop_agent() + [Idle()]

    def _agent_gone(self) -> list[Any]:
        was = self.state
        MACHINE.fire(self, E.AGENT_HUNG_UP)
        if was is S.ENDED:
            return []
        if self.state is S.ENDED:
            return self._end()
        self.agent_leg = None
        return [Hangup(self.customer_leg)] if self.customer_leg else []

    def _drop_agent(self) -> list[Any]:
        leg, self.agent_leg = self.agent_leg, None
        return [Hangup(leg)] if leg else []

    def _nobody_rings(self) -> list[Any]:
        if self.state is S.RINGING_AGENT and not self.ringing:
            MACHINE.fire(self, E.NOBODY_RINGS)
            return [Idle()]
        return []

    def _end(self) -> list[Any]:
        out: list[Any] = [Hangup(leg) for leg in (self.agent_leg, self.customer_leg) if leg]
        return out + [CallbackEnded(), WriteRecord(self.record(by="box"))]

    def record(self, by: str) -> dict[str, Any]:
        answered = self.answer_time is not None
        return call_record(
            call_id=self.id, start=self.start, answer=self.answer_time, end=self.clock(),
            talk_from=self.answer_time,
            disposition=Disposition.ANSWERED if answered else Disposition.NO_ANSWER, direction="outbound",
            caller=self.agent or "", callee=self.number, answered_by=self.agent, hangup_by=by,
            trunk=None, worker=self.worker, queue=self.queue, agent=self.agent, outcome=OUTCOME)
