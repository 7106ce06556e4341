"""The contact centre: queues, agents and callers, and the routing step.

Every method that reports something that happened returns the commands the
core must carry out, in order, ending with a routing step (`dispatch`) that
gives free agents to the callers who have waited longest at the highest
priority. Nothing here does I/O or reads the wall clock: time comes from the
injected clock and timeouts come back through `timer_fired`.

The handlers live by who acts: agent_side.py (logging in, breaks, answering
or missing an offer, wrap-up), caller_side.py (joining, waiting, leaving),
callbacks.py (keeping the caller's place), all on the records and
bookkeeping of center_state.py. This module adds the timers and the routing
step.
"""

from __future__ import annotations

import heapq

from appliance.logic.acd.agent_side import AgentSide
from appliance.logic.acd.callbacks import Callbacks
from appliance.logic.acd.campaign_side import CampaignSide
from appliance.logic.acd.caller_side import CallerSide
from appliance.logic.acd.center_state import IN_LINE, SERVING_ORDER
from appliance.logic.acd.commands import CallAgentForCallback, Command, Ring
from appliance.logic.acd.machines import (
    AGENT_STATE, CALLER, CallerEvent, CallerState, StateEvent, can_take_call)
from appliance.logic.acd.models import Agent, Caller, CallerKind, Member
from appliance.logic.acd.queue_log import QueueLogKind
from appliance.logic.acd.strategies import choose


class ContactCenter(AgentSide, CallerSide, Callbacks, CampaignSide):
    """Queues, agents and the callers waiting for them."""

    # --- time -------------------------------------------------------------------------

    def timer_fired(self, name: str) -> list[Command]:
        """A StartTimer came due. Timers cancelled or replaced meanwhile are ignored."""
        entry = self._timers.pop(name, None)
        if entry is None:
            return []
        kind, subject = entry
        if kind == "ring":
            return self._missed(self._agents[subject], "no answer") + self.dispatch()
        if kind == "wrap-up":
            return self._end_wrap_up(self._agents[subject]) + self.dispatch()
        if kind == "backoff":
            agent = self._agents[subject]
            AGENT_STATE.fire(agent, StateEvent.BACKOFF_DONE)
            return self._phone_gone_if_idle(agent) + self.dispatch()
        if kind == "max-wait":
            caller = self._callers.get(subject)
            if caller is None or caller.state not in IN_LINE:
                return []
            return self._leave_unanswered(caller, CallerEvent.MAX_WAIT) + self.dispatch()
        if kind == "announce":
            caller = self._callers.get(subject)
            if caller is None or caller.state not in IN_LINE:
                return []
            every = self._queues[caller.queue].config.announce_position_every_s
            return self._announce(caller) + [
                self._start_timer(name, every, "announce", subject)]
        if kind == "callback-retry":
            return self._retry_callback(subject) + self.dispatch()
        raise AssertionError(f"unknown timer kind {kind}")

    # --- the routing step -------------------------------------------------------------

    def dispatch(self) -> list[Command]:
        """Give every free agent to the best waiting caller they are eligible for."""
        free = {a.id: a for a in self._agents.values() if can_take_call(a.status, a.state)}
        if not free:
            return []
        eligible: dict[str, list[tuple[Member, Agent]]] = {}
        for q in self._queues.values():
            if not q.line:
                continue
            required = q.config.skills_required
            found = [(m, free[m.agent_id]) for m in q.members.values()
                     if m.agent_id in free and q.name in free[m.agent_id].queues
                     and free[m.agent_id].has_skills(required)]
            if found:
                eligible[q.name] = found
        if not eligible:
            return []
        lines = [self._queues[name].line for name in eligible]
        cmds: list[Command] = []
        for caller in (heapq.merge(*lines, key=SERVING_ORDER) if len(lines) > 1 else lines[0]):
            if caller.state is not CallerState.WAITING:
                continue
            candidates = [(m, a) for m, a in eligible[caller.queue] if a.id in free]
            if not candidates:
                continue
            chosen = choose(self._queues[caller.queue], candidates, self._rng)
            for _, agent in chosen:
                del free[agent.id]
            cmds += self._offer(caller, chosen)
            if not free:
                break
        return cmds

    def _offer(self, caller: Caller, chosen: list[tuple[Member, Agent]]) -> list[Command]:
        q = self._queues[caller.queue]
        cfg = q.config
        CALLER.fire(caller, CallerEvent.OFFER)
        cmds: list[Command] = []
        for member, agent in chosen:
            AGENT_STATE.fire(agent, StateEvent.OFFER)
            agent.call_id = caller.id
            caller.offered_to.add(agent.id)
            q.last_order = member.order
            if caller.kind is CallerKind.CALL:
                cmds.append(Ring(agent.id, caller.id, q.name, cfg.ring_timeout_s,
                                 cfg.auto_answer, whisper=q.name))
            else:
                cmds.append(CallAgentForCallback(agent.id, caller.id, q.name, caller.number,
                                                 cfg.ring_timeout_s, cfg.auto_answer))
            cmds.append(self._start_timer(f"ring:{agent.id}", cfg.ring_timeout_s, "ring",
                                          agent.id))
            cmds.append(self._log(QueueLogKind.OFFERED, caller, agent_id=agent.id,
                                  wait_s=self._clock() - caller.joined_at))
        return cmds
