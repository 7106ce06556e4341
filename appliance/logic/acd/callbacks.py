"""Callbacks that keep the caller's place: the caller hangs up, a callback
waits in the line in their stead, and when its turn comes an agent is called
first, then the customer; a customer who does not answer is tried again a few
times.
"""

from __future__ import annotations

from appliance.errors import Conflict, NotAllowed
from appliance.logic.acd.center_state import IN_LINE, CenterState
from appliance.logic.acd.commands import Bridge, Command, Hangup, Play
from appliance.logic.acd.machines import (
    AGENT_STATE, CALLER, CallerEvent, CallerState, QueueResult, StateEvent)
from appliance.logic.acd.models import Caller, CallerKind
from appliance.logic.acd.queue_log import QueueLogKind


class Callbacks(CenterState):
    """Asking for a callback, and the two legs of calling back."""

    def request_callback(self, call_id: str, number: str | None = None) -> list[Command]:
        """The caller hangs up and keeps their place: the box calls back when it's their turn."""
        caller = self._caller(call_id)
        cfg = self._queues[caller.queue].config
        if not cfg.callback_enabled:
            raise NotAllowed(f"queue {cfg.name} does not offer callbacks")
        if caller.kind is not CallerKind.CALL or caller.state not in IN_LINE:
            raise Conflict(f"caller {call_id} is not waiting in a queue")
        number = number or caller.number
        callback = Caller(f"{call_id}/callback", caller.queue, number, caller.priority,
                          caller.joined_at, caller.seq, kind=CallerKind.CALLBACK,
                          origin_call_id=call_id)
        cmds: list[Command] = [Play(call_id, "callback_confirmed", {"number": number})]
        cmds += self._leave_unanswered(caller, CallerEvent.REQUEST_CALLBACK, number=number)
        cmds.append(Hangup(call_id, "callback requested"))
        self._callers[callback.id] = callback
        self._join_line(callback)
        return cmds + self.dispatch()

    def customer_answered(self, callback_id: str) -> list[Command]:
        """The callback's customer picked up: connect them with the agent waiting on the line."""
        caller = self._caller(callback_id)
        CALLER.fire(caller, CallerEvent.CUSTOMER_ANSWERED)
        agent = self._agents[caller.agent_id]  # set whenever a customer is being dialled
        now = self._clock()
        self._settle(caller, QueueResult.CALLBACK_COMPLETED)
        self._start_talking(agent, caller, now)
        return [self._log(QueueLogKind.CALLBACK_COMPLETED, caller, agent_id=agent.id,
                          number=caller.number, wait_s=now - caller.joined_at,
                          result=QueueResult.CALLBACK_COMPLETED),
                Bridge(callback_id, agent.id)] + self.dispatch()

    def customer_unreachable(self, callback_id: str, reason: str = "no answer") -> list[Command]:
        """The callback's customer did not answer: try again later, or give up."""
        caller = self._caller(callback_id)
        cfg = self._queues[caller.queue].config
        next_event = (CallerEvent.GIVE_UP if caller.failed_attempts + 1 > cfg.callback_retries
                      else CallerEvent.CUSTOMER_UNREACHABLE)
        CALLER.next_state(caller.id, caller.state, next_event)
        caller.failed_attempts += 1
        agent = self._agents[caller.agent_id] if caller.agent_id else None
        caller.agent_id = None
        cmds: list[Command] = []
        if agent is not None:
            agent.call_id = None
            AGENT_STATE.fire(agent, StateEvent.CALL_END)
            # A failed attempt was no conversation: no wrap-up needed.
            cmds += self._begin_wrap_up(agent, 0.0)
        CALLER.fire(caller, next_event)
        if next_event is CallerEvent.GIVE_UP:
            self._settle(caller, QueueResult.CALLBACK_FAILED)
            cmds += self._forget(caller)
            cmds.append(self._log(QueueLogKind.CALLBACK_FAILED, caller, number=caller.number,
                                  reason=reason, result=QueueResult.CALLBACK_FAILED))
        else:
            cmds.append(self._log(QueueLogKind.CALLBACK_RETRY, caller, number=caller.number,
                                  reason=reason))
            if cfg.callback_retry_delay_s:
                cmds.append(self._start_timer(f"callback-retry:{caller.id}",
                                              cfg.callback_retry_delay_s, "callback-retry",
                                              caller.id))
            else:
                cmds += self._retry_callback(caller.id)
        return cmds + self.dispatch()

    def _retry_callback(self, callback_id: str) -> list[Command]:
        caller = self._callers.get(callback_id)
        if caller is None or caller.state is not CallerState.RETRY_WAIT:
            return []
        CALLER.fire(caller, CallerEvent.RETRY_DUE)
        # Back at the place first taken: the original join time and sequence.
        self._join_line(caller)
        return []
