"""The ACD's commands carried out.

The pure ACD (`appliance.logic.acd`) decides; `AcdRuntime` turns its commands into queue-log
entries, live events (the wallboard, the agent's panel), timers on the loop, and orders to the
call each is about: ring an agent, bridge, announce, overflow, hang up (a menu's caller), or
start and continue a callback (the box's own placed calls).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from appliance.flowcalls import FlowCall
from appliance.logic.acd import ContactCenter
from appliance.logic.acd import commands as acd
from appliance.ports import Publish, RecordLog

log = logging.getLogger("callbox.switchboard")


def announcement(cmd: acd.Play) -> list[str]:
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


class AcdRuntime:
    def __init__(self, *, center: ContactCenter, queue_log: RecordLog, publish: Publish,
                 call_of: Callable[[str], Any], call_agent_for_callback: Callable[[acd.CallAgentForCallback], None],
                 dial_customer: Callable[[acd.DialCustomer], None], clock: Callable[[], float] = time.time):
        self.center, self.queue_log, self.publish = center, queue_log, publish
        self.call_of = call_of  # the box's call (a menu's caller, a callback) by its Call-ID
        self.call_agent_for_callback, self.dial_customer = call_agent_for_callback, dial_customer
        self.clock = clock
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def run(self, commands: list[acd.Command], answered_leg: str | None = None) -> None:
        loop = asyncio.get_running_loop()
        for cmd in commands:
            fc = self.call_of(getattr(cmd, "call_id", "") or "")
            if isinstance(cmd, acd.LogEvent):
                self._log(cmd)
            elif isinstance(cmd, acd.StartTimer):
                old = self._timers.pop(cmd.name, None)
                if old:
                    old.cancel()
                self._timers[cmd.name] = loop.call_later(max(0.0, cmd.at - self.clock()), self._timer, cmd.name)
            elif isinstance(cmd, acd.CancelTimer):
                old = self._timers.pop(cmd.name, None)
                if old:
                    old.cancel()
            elif isinstance(cmd, acd.CallAgentForCallback):
                self.call_agent_for_callback(cmd)
            elif isinstance(cmd, acd.DialCustomer):
                self.dial_customer(cmd)
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

    def _log(self, cmd: acd.LogEvent) -> None:
        entry = cmd.entry.to_dict()
        self.queue_log.append(entry)
        self.publish("queue", **entry)
        target = self.call_of(cmd.entry.call_id)
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
                self.publish("agent", extension=agent.id, status=str(agent.status), state=str(agent.state),
                             call_id=cmd.entry.call_id, number=cmd.entry.number, queue=cmd.entry.queue)

    def _timer(self, name: str) -> None:
        self._timers.pop(name, None)
        self.run(self.center.timer_fired(name))
