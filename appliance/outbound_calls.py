"""Calls the box places itself, at run time: click-to-dial and the callback that kept a caller's place.

The handlers (`appliance.logic.handlers.click_to_dial`, `...callback_call`) decide; this module
feeds them what the engine and the ACD report, gives their media commands to a `MediaExecutor`
in the call's worker, and carries out their other effects through the ports it was given
(`OutboundPorts`): the ACD's inputs, the call record, forgetting a callback between attempts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from appliance.errors import StateMachineError
from appliance.logic.acd import commands as acd
from appliance.logic.handlers import callback_call as cb
from appliance.logic.dial_targets import Target, Unreachable, where_to_ring
from appliance.logic.handlers.click_to_dial import ClickToDial
from appliance.logic.media import WriteRecord
from appliance.media_executor import MediaExecutor

log = logging.getLogger("callbox.outbound_calls")


class CallbackDesk(Protocol):
    """The ACD's inputs about a callback (`appliance.logic.acd`'s contact center)."""

    def offer_answered(self, call_id: str, agent_id: str) -> list[acd.Command]: ...
    def offer_rejected(self, agent_id: str) -> list[acd.Command]: ...
    def offer_timeout(self, agent_id: str) -> list[acd.Command]: ...
    def customer_answered(self, callback_id: str) -> list[acd.Command]: ...
    def customer_unreachable(self, callback_id: str, reason: str = ...) -> list[acd.Command]: ...
    def call_ended(self, call_id: str) -> list[acd.Command]: ...


@dataclass(frozen=True)
class OutboundPorts:
    """What the box's own calls in one worker need from the rest of the box."""

    send: Callable[[str, dict[str, Any]], None]  # an engine command to the worker, not awaited
    own_leg: Callable[[str, Any], None]  # events of this leg go to this owner
    finish: Callable[[Any, dict[str, Any]], None]  # the call is over: forget it, file its record
    forget: Callable[[str], None]  # a callback between attempts waits in the ACD, not in a worker
    desk: CallbackDesk
    run_acd: Callable[[list[acd.Command]], None]
    phone_of: Callable[[str], str | None]  # an extension's registered contact, None when not registered
    plan_callback: Callable[[str], tuple[Any, list[dict[str, Any]]]]  # trunks' (decision, attempts)
    room: Callable[[], int]  # legs the worker can still take
    clock: Callable[[], float] = time.time


class _Runtime:
    """The shared part: an executor in the worker, and the legs it places announced to the switchboard."""

    def __init__(self, w: Any, ports: OutboundPorts):
        self.w, self.ports = w, ports
        self.recording: str | None = None
        self.ended = False
        self.media = MediaExecutor(self._send, prompt_file=lambda path: path, on_timer=lambda name: None,
                                   other=self._effect)

    def _send(self, name: str, fields: dict[str, Any]) -> None:
        if name == "call":
            self.ports.own_leg(fields["leg"], self)
        self.ports.send(name, fields)

    def _run(self, step: Callable[[], list[Any]]) -> None:
        try:
            commands = step()
        except StateMachineError as e:  # an engine report that does not fit the call now
            log.warning("%s", e)
            return
        self.media(commands)

    def _effect(self, effect: Any) -> None:
        if isinstance(effect, WriteRecord):
            self.ended = True
            self.ports.finish(self, effect.record)
        else:
            log.info("%s is not carried out here", type(effect).__name__)


class OriginateCall(_Runtime):
    """Click-to-dial: the box rings the extension's phone first, then dials the number it asked for."""

    def __init__(self, w: Any, call_id: str, ext: str, target: Target, ports: OutboundPorts):
        super().__init__(w, ports)
        self.call = ClickToDial(call_id, ext, target, w.id, ports.clock)

    call_id = property(lambda self: self.call.id)
    ext = property(lambda self: self.call.ext)
    callee = property(lambda self: self.call.destination.number)
    start = property(lambda self: self.call.start)
    answer_time = property(lambda self: self.call.answer_time)

    def begin(self, contact: str) -> None:
        self._run(lambda: self.call.begin(contact))

    def on_event(self, kind: str, event: dict[str, Any]) -> None:
        leg = str(event.get("leg"))
        if kind == "answered":
            self._run(lambda: self.call.leg_answered(leg))
        elif kind == "hangup":
            self._run(lambda: self.call.leg_hung_up(leg))


class CallbackCall(_Runtime):
    """The box calls back a caller who kept their place: the agent first, then the customer."""

    def __init__(self, w: Any, callback_id: str, queue: str, number: str, ports: OutboundPorts):
        super().__init__(w, ports)
        self.call = cb.CallbackCall(callback_id, queue, number, w.id, ports.clock, f"cb{id(self) % 100000}")

    call_id = property(lambda self: self.call.id)
    queue = property(lambda self: self.call.queue)
    number = property(lambda self: self.call.number)
    agent = property(lambda self: self.call.agent)
    start = property(lambda self: self.call.start)
    answer_time = property(lambda self: self.call.answer_time)

    # --- what the ACD asks ---------------------------------------------------------------

    def call_agent(self, cmd: acd.CallAgentForCallback) -> None:
        contact = self.ports.phone_of(cmd.agent_id) if self.ports.room() >= 2 else None
        self._run(lambda: self.call.ring_agent(cmd.agent_id, contact, cmd.timeout_s))

    def dial_customer(self, cmd: acd.DialCustomer) -> None:
        """The agent is on the line: now the customer, at an extension or through a trunk."""
        target = self._customer(cmd.number)
        self._run(lambda: self.call.dial_customer(cmd.agent_id, target))

    def stop_ringing(self, agent_id: str, keep: str | None = None) -> None:
        self._run(lambda: self.call.stop_ringing(agent_id))

    def bridge_agent(self, agent_id: str, leg: str | None) -> None:
        self._run(self.call.bridge)

    def _customer(self, number: str) -> Target | None:
        """Where the customer rings: a number with a registered phone rings it, any other goes
        through the trunks the callbacks' class of service allows; None: the callback gives up."""
        phone_of = self.ports.phone_of
        try:
            reach = where_to_ring(number, is_extension=lambda n: phone_of(n) is not None, phone_of=phone_of,
                                  plan=self.ports.plan_callback)
        except Exception:  # a plan that cannot be made now (its settings): this attempt cannot reach them
            log.exception("callback %s to %s", self.call_id, number)
            return None
        if reach.why_not is Unreachable.REFUSED:
            log.warning("callback %s to %s refused: %s (callbacks.class_of_service)", self.call_id, number,
                        reach.verdict)
        return reach.first if reach.targets else None

    # --- what the engine reports -----------------------------------------------------------

    def on_event(self, kind: str, event: dict[str, Any]) -> None:
        leg = str(event.get("leg"))
        if kind == "answered":
            self._run(lambda: self.call.leg_answered(leg))
        elif kind == "hangup":
            self._run(lambda: self.call.leg_hung_up(leg, int(event.get("cause") or 0)))

    def _effect(self, effect: Any) -> None:
        desk, run, call_id = self.ports.desk, self.ports.run_acd, self.call.id
        if isinstance(effect, cb.AgentAnswered):
            run(desk.offer_answered(call_id, effect.agent_id))
        elif isinstance(effect, cb.AgentMissed) and effect.soon:
            agent = effect.agent_id
            asyncio.get_running_loop().call_soon(lambda: run(desk.offer_rejected(agent)))
        elif isinstance(effect, cb.AgentMissed):
            run(desk.offer_timeout(effect.agent_id) if effect.timed_out else desk.offer_rejected(effect.agent_id))
        elif isinstance(effect, cb.CustomerAnswered):
            run(desk.customer_answered(call_id))
        elif isinstance(effect, cb.CustomerUnreachable) and effect.soon:
            reason = effect.reason
            asyncio.get_running_loop().call_soon(lambda: run(desk.customer_unreachable(call_id, reason)))
        elif isinstance(effect, cb.CustomerUnreachable):
            run(desk.customer_unreachable(call_id, effect.reason))
        elif isinstance(effect, cb.CallbackEnded):
            run(desk.call_ended(call_id))
        elif isinstance(effect, cb.Idle):
            self.ports.forget(call_id)
        else:
            super()._effect(effect)
