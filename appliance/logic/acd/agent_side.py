"""The agent side of the contact centre: logging in and out, breaks, the phone
coming and going, answering or missing an offer, wrap-up, supervision.

An agent's *status* (what they chose) and *state* (what the box sees) change
only through the machines in machines.py; every handler returns the commands
for the core and ends with the routing step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from appliance.errors import Conflict, NotAllowed, ValidationError
from appliance.logic.acd.center_state import CenterState
from appliance.logic.acd.commands import (
    Bridge, Command, DialCustomer, LogEvent, Monitor, MonitorMode, Play, StopRinging)
from appliance.logic.acd.machines import (
    AGENT_STATE, AGENT_STATUS, CALLER, AgentState, AgentStatus, CallerEvent, QueueResult, StateEvent,
    StatusEvent)
from appliance.logic.acd.models import Agent, Caller, CallerKind
from appliance.logic.acd.queue_log import QueueLogEntry, QueueLogKind
from appliance.logic.acd.supervision import may_supervise

log = logging.getLogger("callbox.acd")

# The break reason of an agent put on break for missing too many offers in a row.
MISSED_CALLS = "missed calls"


class AgentSide(CenterState):
    """What agents do, and what the box sees their phones do."""

    def agent_login(self, agent_id: str,
                    queues: Mapping[str, int] | Iterable[str] | None = None) -> list[Command]:
        """Log in to the given queues (joining them if need be), or to all the agent's queues."""
        agent = self._agent(agent_id)
        AGENT_STATUS.next_state(agent_id, agent.status, StatusEvent.LOG_IN)
        if queues is None:
            names = {q.name for q in self._queues.values() if agent_id in q.members}
        else:
            levels = self._levels(queues)
            for name, level in levels.items():
                if agent_id not in self._queues[name].members or isinstance(queues, Mapping):
                    self.add_member(name, agent_id, level)
            names = set(levels)
        cmds = self._set_status(agent, StatusEvent.LOG_IN)
        agent.queues = names
        agent.missed_in_row = 0
        return cmds + self.dispatch()

    def agent_logout(self, agent_id: str) -> list[Command]:
        agent = self._agent(agent_id)
        return self._set_status(agent, StatusEvent.LOG_OUT) + self.dispatch()

    def agent_go_on_break(self, agent_id: str, reason: str = "break") -> list[Command]:
        agent = self._agent(agent_id)
        return self._set_status(agent, StatusEvent.TAKE_BREAK, reason or "break") + self.dispatch()

    def phone_changed(self, agent_id: str, registered: bool) -> list[Command]:
        """The agent's phone registered or went away: an agent with no phone is offered nothing
        (and says so), whatever they chose; a call in hand finishes first."""
        agent = self._agents.get(agent_id)
        if agent is None:
            return []
        if registered:
            self._no_phone.discard(agent_id)
            if agent.state is AgentState.NO_PHONE:
                AGENT_STATE.fire(agent, StateEvent.PHONE_BACK)
                return self.dispatch()
            return []
        self._no_phone.add(agent_id)
        return self._phone_gone_if_idle(agent)

    def _phone_gone_if_idle(self, agent: Agent) -> list[Command]:
        if agent.id in self._no_phone and agent.state is AgentState.IDLE:
            AGENT_STATE.fire(agent, StateEvent.PHONE_GONE)
        return []

    def agent_available(self, agent_id: str) -> list[Command]:
        agent = self._agent(agent_id)
        cmds = self._set_status(agent, StatusEvent.BECOME_AVAILABLE)
        agent.missed_in_row = 0
        return cmds + self.dispatch()

    def offer_answered(self, call_id: str, agent_id: str) -> list[Command]:
        """The agent picked up the ringing call (or the callback's first leg)."""
        agent = self._agent(agent_id)
        caller = self._callers.get(call_id)
        if caller is None or agent.call_id != call_id or agent.state is not AgentState.OFFERED:
            # Two phones of a ringall answered together, or the caller just left:
            # the late leg is dropped rather than bridged to nobody.
            log.warning("agent %s answered %s which is no longer offered to them",
                        agent_id, call_id)
            return [StopRinging(agent_id, call_id)]
        now = self._clock()
        cmds = self._cancel_timer(f"ring:{agent_id}")
        AGENT_STATE.fire(agent, StateEvent.ANSWER)
        agent.missed_in_row = 0
        caller.offered_to.discard(agent_id)
        cmds += self._withdraw_offers(caller)
        caller.agent_id = agent_id
        self._leave_line(caller)
        cmds += self._cancel_timer(f"max-wait:{call_id}")
        cmds += self._cancel_timer(f"announce:{call_id}")
        cfg = self._queues[caller.queue].config
        if caller.kind is CallerKind.CALL:
            CALLER.fire(caller, CallerEvent.AGENT_ANSWERED)
            self._settle(caller, QueueResult.ANSWERED)
            self._start_talking(agent, caller, now)
            cmds.append(self._log(QueueLogKind.ANSWERED, caller, agent_id=agent_id,
                                  wait_s=now - caller.joined_at, result=QueueResult.ANSWERED))
            if cfg.announce_agent:
                cmds.append(Play(call_id, "agent_number", {"agent": agent_id}))
            cmds.append(Bridge(call_id, agent_id))
        else:
            CALLER.fire(caller, CallerEvent.AGENT_READY)
            cmds.append(DialCustomer(call_id, agent_id, caller.number))
        return cmds + self.dispatch()

    def offer_rejected(self, agent_id: str) -> list[Command]:
        return self._missed(self._agent(agent_id), "rejected") + self.dispatch()

    def offer_timeout(self, agent_id: str) -> list[Command]:
        return self._missed(self._agent(agent_id), "no answer") + self.dispatch()

    def supervise(self, supervisor_id: str, agent_id: str, mode: MonitorMode | str,
                  roles: Iterable[str]) -> list[Command]:
        """Listen to, whisper to or barge into an agent's call, if the roles allow it."""
        try:
            mode = MonitorMode(mode)
        except ValueError:
            raise ValidationError(f"unknown monitor mode {mode!r}") from None
        if not may_supervise(roles, mode):
            raise NotAllowed(f"{supervisor_id} may not {mode.value} agents")
        agent = self._agent(agent_id)
        if agent.state is not AgentState.TALKING or agent.call_id is None:
            raise Conflict(f"agent {agent_id} is not on a call")
        return [Monitor(supervisor_id, agent_id, agent.call_id, mode)]

    # --- offers, status and wrap-up ---------------------------------------------------

    def _missed(self, agent: Agent, why: str) -> list[Command]:
        if agent.state is not AgentState.OFFERED or agent.call_id is None:
            return []  # the ring ended some other way first
        caller = self._callers.get(agent.call_id)
        if caller is None:  # a campaign call (campaign_side.py): it ends by itself
            return []
        cfg = self._queues[caller.queue].config
        cmds = self._cancel_timer(f"ring:{agent.id}")
        cmds.append(StopRinging(agent.id, caller.id))
        AGENT_STATE.fire(agent, StateEvent.MISS)
        agent.call_id = None
        agent.missed_in_row += 1
        caller.offered_to.discard(agent.id)
        cmds.append(self._log(QueueLogKind.MISSED_OFFER, caller, agent_id=agent.id, reason=why))
        if not caller.offered_to:
            CALLER.fire(caller, CallerEvent.NO_ANSWER)
        if (cfg.max_no_answer and agent.missed_in_row >= cfg.max_no_answer
                and agent.status is AgentStatus.AVAILABLE):
            cmds += self._set_status(agent, StatusEvent.TAKE_BREAK, MISSED_CALLS)
        if cfg.no_answer_backoff_s:
            cmds.append(self._start_timer(f"backoff:{agent.id}", cfg.no_answer_backoff_s,
                                          "backoff", agent.id))
        else:
            AGENT_STATE.fire(agent, StateEvent.BACKOFF_DONE)
        return cmds

    def _set_status(self, agent: Agent, event: StatusEvent, reason: str = "") -> list[Command]:
        new = AGENT_STATUS.next_state(agent.id, agent.status, event)
        cmds: list[Command] = []
        if new is not AgentStatus.AVAILABLE:
            cmds += self._withdraw_agent(agent)
        AGENT_STATUS.fire(agent, event)
        agent.break_reason = reason if new is AgentStatus.ON_BREAK else ""
        served = set(agent.queues)
        if new is AgentStatus.LOGGED_OUT:
            agent.queues = set()
        kind = {StatusEvent.LOG_IN: QueueLogKind.AGENT_LOGIN,
                StatusEvent.LOG_OUT: QueueLogKind.AGENT_LOGOUT,
                StatusEvent.TAKE_BREAK: QueueLogKind.AGENT_BREAK,
                StatusEvent.BECOME_AVAILABLE: QueueLogKind.AGENT_AVAILABLE}[event]
        cmds.append(LogEvent(QueueLogEntry(self._clock(), kind, agent_id=agent.id,
                                           reason=agent.break_reason)))
        if new is not AgentStatus.AVAILABLE:
            for name in sorted(served):
                cmds += self._leave_if_empty(self._queues[name])
        return cmds

    def _withdraw_agent(self, agent: Agent) -> list[Command]:
        """An agent leaving stops ringing; their caller waits on, not counted as missed."""
        if agent.state is not AgentState.OFFERED or agent.call_id is None:
            return []
        caller = self._callers.get(agent.call_id)
        if caller is None:  # a campaign call (campaign_side.py): it ends by itself
            return []
        cmds = self._stop_offer(agent, caller)
        if not caller.offered_to:
            CALLER.fire(caller, CallerEvent.NO_ANSWER)
        return cmds

    def _withdraw_offers(self, caller: Caller) -> list[Command]:
        cmds: list[Command] = []
        for agent_id in sorted(caller.offered_to):
            cmds += self._stop_offer(self._agents[agent_id], caller)
        return cmds

    def _stop_offer(self, agent: Agent, caller: Caller) -> list[Command]:
        cmds = self._cancel_timer(f"ring:{agent.id}")
        cmds.append(StopRinging(agent.id, caller.id))
        AGENT_STATE.fire(agent, StateEvent.WITHDRAW)
        agent.call_id = None
        caller.offered_to.discard(agent.id)
        return cmds

    def _begin_wrap_up(self, agent: Agent, seconds: float) -> list[Command]:
        if seconds:
            return [self._start_timer(f"wrap-up:{agent.id}", seconds, "wrap-up", agent.id)]
        return self._end_wrap_up(agent)

    def _end_wrap_up(self, agent: Agent) -> list[Command]:
        AGENT_STATE.fire(agent, StateEvent.WRAP_UP_DONE)
        self._phone_gone_if_idle(agent)
        return [LogEvent(QueueLogEntry(self._clock(), QueueLogKind.WRAP_UP_END,
                                       agent_id=agent.id))]
