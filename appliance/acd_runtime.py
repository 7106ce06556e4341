"""The switchboard's contact-center side: carrying out the ACD's commands.

The pure ACD (`appliance.logic.acd`) decides; this mixin of `Switchboard`
turns its commands into queue-log entries, live events, timers, rings,
bridges, announcements, overflows, callbacks and click-to-dial calls.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from appliance.errors import Conflict, NotAllowed, NotFound
from appliance.flowcalls import FlowCall
from appliance.outbound_calls import CallbackCall, OriginateCall, OutboundPorts
from appliance.logic.acd import commands as acd

log = logging.getLogger("callbox.switchboard")


class AcdRuntime:
    """Mixed into Switchboard: `self` is the switchboard (workers, flow calls, core)."""

    def announcement(self, cmd: acd.Play) -> list[str]:
        """Prompt names that say an ACD announcement (position, wait, agent number)."""
        try:
            from appliance import prompts
        except ImportError:
            return [cmd.prompt]
        language = "en"
        if "position" in cmd.args:
            return prompts.announce_position(int(cmd.args["position"]), language)
        if "minutes" in cmd.args:
            return prompts.announce_wait(int(cmd.args["minutes"]), language)
        if "agent" in cmd.args:
            return prompts.announce_agent(str(cmd.args["agent"]), language)
        return [cmd.prompt]

    def run_acd(self, commands: list[acd.Command], answered_leg: str | None = None) -> None:
        loop = asyncio.get_running_loop()
        for cmd in commands:
            fc = self.flow_calls.get(getattr(cmd, "call_id", "") or "")
            if isinstance(cmd, acd.LogEvent):
                entry = cmd.entry.to_dict()
                self.core.queue_log.append(entry)
                self.core.events.publish("queue", **entry)
                target = self.flow_calls.get(cmd.entry.call_id)
                if isinstance(target, FlowCall) and cmd.entry.result:
                    target.queue_result(cmd.entry.result)
                elif target is not None and cmd.entry.result:
                    target.outcome = cmd.entry.result
                if cmd.entry.agent_id:
                    # The wallboard and the agent's own panel follow agents' states as they change.
                    try:
                        agent = self.center.agent(cmd.entry.agent_id)
                    except Exception:
                        agent = None
                    if agent is not None:
                        self.core.events.publish("agent", extension=agent.id, status=str(agent.status),
                                                 state=str(agent.state), call_id=cmd.entry.call_id,
                                                 number=cmd.entry.number, queue=cmd.entry.queue)
            elif isinstance(cmd, acd.StartTimer):
                old = self._acd_timers.pop(cmd.name, None)
                if old:
                    old.cancel()
                self._acd_timers[cmd.name] = loop.call_later(
                    max(0.0, cmd.at - time.time()), self._acd_timer, cmd.name)
            elif isinstance(cmd, acd.CancelTimer):
                old = self._acd_timers.pop(cmd.name, None)
                if old:
                    old.cancel()
            elif isinstance(cmd, acd.CallAgentForCallback):
                self._callback(cmd)
            elif isinstance(cmd, acd.DialCustomer):
                cb = self.flow_calls.get(cmd.callback_id)
                if isinstance(cb, CallbackCall):
                    cb.dial_customer(cmd)
            elif fc is None:
                log.debug("ACD command for a call that is gone: %s", cmd)
            elif isinstance(fc, FlowCall):
                fc.on_acd(cmd, answered_leg)
            elif isinstance(cmd, acd.StopRinging):
                fc.stop_ringing(cmd.agent_id)
            elif isinstance(cmd, acd.Bridge):
                fc.bridge_agent(cmd.agent_id, answered_leg)
            else:
                log.info("ACD command not carried out for %s: %s", type(fc).__name__, cmd)

    def originate(self, ext: str, number: str) -> dict[str, Any]:
        """Click-to-dial: ring `ext`'s phone, then dial `number` (class of service applies)."""
        from appliance.errors import ValidationError
        contacts = self.core.registrar.lookup(ext)
        if self.core.extension_or_none(ext) is None or not contacts:
            raise NotFound(f"extension {ext} has no registered phone")
        bindings = self.core.registrar.lookup(number)
        if self.core.extension_or_none(number) is not None:
            if not bindings:
                raise Conflict(f"extension {number} has no registered phone")
            target = {"number": number, "uri": bindings[0].contact}
        else:
            try:
                decision, attempts = self.core.trunks.plan(ext, number)
            except ValidationError:
                raise ValidationError(f"to: {number!r} is not a number the box can dial") from None
            if not decision.allowed:
                raise NotAllowed(f"{ext} may not call {number}: {decision.verdict}")
            if not attempts:
                raise Conflict("no trunk can take the call now")
            target = {"number": number, "uri": attempts[0]["uri"], "auth": attempts[0].get("auth"),
                      "trunk": attempts[0]["trunk"]}
        best = max(self.workers.values(), key=lambda w: w.room, default=None)
        if best is None or best.room < 2:
            raise Conflict("the box is full: try again in a moment")
        call_id = f"ctd-{int(time.time() * 1000)}-{ext}"
        oc = OriginateCall(best, call_id, ext, target, self._outbound_ports(best))
        self.flow_calls[call_id] = oc  # type: ignore[assignment]
        oc.begin(contacts[0].contact)
        return {"call_id": call_id}

    def _callback(self, cmd: acd.CallAgentForCallback) -> None:
        """Start (or retry) a callback in the worker with the most room."""
        cb = self.flow_calls.get(cmd.callback_id)
        if not isinstance(cb, CallbackCall):
            best = max(self.workers.values(), key=lambda w: w.room, default=None)
            if best is None or best.room < 2:
                asyncio.get_running_loop().call_soon(lambda: self.run_acd(self.center.offer_rejected(cmd.agent_id)))
                return
            cb = CallbackCall(best, cmd.callback_id, cmd.queue, cmd.number, self._outbound_ports(best))
            self.flow_calls[cmd.callback_id] = cb  # type: ignore[assignment]
        cb.call_agent(cmd)

    def _outbound_ports(self, w: Any) -> OutboundPorts:
        """What click-to-dial and callbacks placed in worker `w` may use of the box."""
        def phone_of(extension: str) -> str | None:
            bindings = self.core.registrar.lookup(extension)
            return bindings[0].contact if bindings else None
        return OutboundPorts(
            send=lambda name, fields: asyncio.ensure_future(self.send(w, name, **fields)),
            own_leg=lambda leg, owner: self.own_leg(w, leg, owner), finish=self.finish_flow_call,
            forget=lambda call_id: self.flow_calls.pop(call_id, None), desk=self.center, run_acd=self.run_acd,
            phone_of=phone_of, plan_callback=lambda number: self.core.trunks.plan_callback(number),
            room=lambda: w.room)

    def _acd_timer(self, name: str) -> None:
        self._acd_timers.pop(name, None)
        self.run_acd(self.center.timer_fired(name))
