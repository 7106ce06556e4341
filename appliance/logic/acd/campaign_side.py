"""Agents on outbound campaigns: kept free for a campaign call, talking on it, wrapping it up.

A progressive or preview campaign takes one free agent of its queue per call (`free_agents`,
the longest idle first). From the moment the box dials for them until the call ends, the agent
is offered nothing else (their state leaves IDLE through the same table as an inbound offer),
and afterwards they get the queue's wrap-up time like after any call. Their talk time counts
in agent statistics through the call record, which names them as the agent.
"""

from __future__ import annotations

from appliance.errors import Conflict
from appliance.logic.acd.center_state import CenterState
from appliance.logic.acd.commands import Command
from appliance.logic.acd.machines import AGENT_STATE, AgentState, StateEvent, can_take_call


class CampaignSide(CenterState):
    """What campaigns ask of the agents of a queue."""

    def free_agents(self, queue: str) -> list[str]:
        """Agents logged in to `queue` who could take a call now, the longest idle first."""
        self._queue(queue)
        ready = [a for a in self._agents.values()
                 if queue in a.queues and a.id not in self._no_phone and can_take_call(a.status, a.state)]
        return [a.id for a in sorted(ready, key=lambda a: (a.last_call_end, a.id))]

    def campaign_offer(self, agent_id: str, call_id: str) -> list[Command]:
        """Keep the agent for a campaign call the box is placing for them."""
        agent = self._agent(agent_id)
        if not can_take_call(agent.status, agent.state):
            raise Conflict(f"agent {agent_id} is not free")
        AGENT_STATE.fire(agent, StateEvent.OFFER)
        agent.call_id = call_id
        return []

    def campaign_talking(self, agent_id: str) -> list[Command]:
        agent = self._agent(agent_id)
        if agent.state is not AgentState.OFFERED:
            return []
        AGENT_STATE.fire(agent, StateEvent.ANSWER)
        agent.talk_started = self._clock()
        agent.calls_today += 1
        agent.missed_in_row = 0
        return []

    def campaign_done(self, agent_id: str, queue: str) -> list[Command]:
        """The campaign call is over: after a talk, wrap-up; if it never reached them, free again."""
        agent = self._agents.get(agent_id)
        if agent is None or agent.call_id is None:
            return []
        agent.call_id = None
        if agent.state is AgentState.OFFERED:
            AGENT_STATE.fire(agent, StateEvent.WITHDRAW)
            return self.dispatch()
        if agent.state is not AgentState.TALKING:
            return []
        now = self._clock()
        agent.talk_time_today += now - agent.talk_started
        agent.last_call_end = now
        AGENT_STATE.fire(agent, StateEvent.CALL_END)
        return self._begin_wrap_up(agent, self._queues[queue].config.wrap_up_s) + self.dispatch()
