"""The caller side of the contact centre: joining a queue or being turned
away, hearing the position and the wait, hanging up, being moved elsewhere,
and the conversation ending.
"""

from __future__ import annotations

import math

from appliance.errors import Conflict
from appliance.logic.acd.center_state import IN_LINE, CenterState
from appliance.logic.acd.commands import Command, Hangup, Overflow, Play
from appliance.logic.acd.machines import (
    AGENT_STATE, CALLER, RESULT_OF_EVENT, CallerEvent, CallerState, QueueResult, StateEvent)
from appliance.logic.acd.models import Caller, CallerKind, Queue
from appliance.logic.acd.queue_log import QueueLogKind

# Leaving a queue unanswered for these reasons sends the caller on to the
# queue's overflow destination (or hangs up when it has none).
_OVERFLOWING = {QueueResult.TIMEOUT, QueueResult.FULL, QueueResult.JOINEMPTY,
                QueueResult.LEAVEEMPTY}


class CallerSide(CenterState):
    """What callers do while they wait, and how they leave."""

    def caller_joins(self, queue: str, call_id: str, number: str,
                     priority: int = 0) -> list[Command]:
        """A caller enters the queue, or is turned away (FULL, JOINEMPTY, LEAVEEMPTY)."""
        q = self._queue(queue)
        if call_id in self._callers:
            raise Conflict(f"call {call_id} is in a queue already")
        cfg = q.config
        now = self._clock()
        caller = Caller(call_id, queue, number, cfg.priority_of(number, priority), now,
                        next(self._seq))
        self._callers[call_id] = caller
        if cfg.max_callers and len(q.line) >= cfg.max_callers:
            return self._leave_unanswered(caller, CallerEvent.QUEUE_FULL)
        if self._is_empty(q, cfg.join_empty):
            return self._leave_unanswered(caller, CallerEvent.JOIN_EMPTY)
        if self._is_empty(q, cfg.leave_when_empty):
            return self._leave_unanswered(caller, CallerEvent.LEAVE_EMPTY)
        self._join_line(caller)
        cmds: list[Command] = [self._log(QueueLogKind.ENTERED, caller, number=number,
                                         position=self._position(caller))]
        if cfg.music_on_hold:
            cmds.append(Play(call_id, "music_on_hold", {"music": cfg.music_on_hold}))
        if cfg.max_wait_s:
            cmds.append(self._start_timer(f"max-wait:{call_id}", cfg.max_wait_s, "max-wait",
                                          call_id))
        cmds += self.dispatch()
        if caller.state is CallerState.WAITING:
            cmds += self._announce(caller)
        if cfg.announce_position_every_s:
            cmds.append(self._start_timer(f"announce:{call_id}", cfg.announce_position_every_s,
                                          "announce", call_id))
        return cmds

    def caller_hangs_up(self, call_id: str) -> list[Command]:
        caller = self._callers.get(call_id)
        if caller is None:
            return []
        if caller.state is CallerState.CONNECTED:
            return self._end_call(caller) + self.dispatch()
        if caller.state is CallerState.DIALING_CUSTOMER:
            return self.customer_unreachable(call_id, "hung up")
        if caller.kind is CallerKind.CALLBACK:
            return []  # a callback waiting its turn has no line to hang up
        return self._leave_unanswered(caller, CallerEvent.HANG_UP) + self.dispatch()

    def caller_transferred(self, call_id: str, destination: str) -> list[Command]:
        """The caller left the queue elsewhere (a key to voicemail, an operator move)."""
        caller = self._caller(call_id)
        if caller.state is CallerState.CONNECTED:
            return self._end_call(caller) + self.dispatch()
        if caller.kind is not CallerKind.CALL or caller.state not in IN_LINE:
            raise Conflict(f"caller {call_id} is not waiting in a queue")
        return self._leave_unanswered(caller, CallerEvent.TRANSFER, reason=destination) \
            + self.dispatch()

    def call_ended(self, call_id: str) -> list[Command]:
        """The conversation is over; the agent goes to wrap-up."""
        caller = self._callers.get(call_id)
        if caller is None:
            return []
        if caller.state is not CallerState.CONNECTED:
            return self.caller_hangs_up(call_id)
        return self._end_call(caller) + self.dispatch()

    # --- leaving and announcements ----------------------------------------------------

    def _leave_unanswered(self, caller: Caller, event: CallerEvent, reason: str = "",
                          number: str = "") -> list[Command]:
        """The caller leaves without an agent; they get the event's result, and overflow."""
        result = RESULT_OF_EVENT[event]
        position = self._position(caller) if caller in self._queues[caller.queue].line else None
        cmds = self._withdraw_offers(caller)
        CALLER.fire(caller, event)
        self._settle(caller, result)
        cmds += self._forget(caller)
        cfg = self._queues[caller.queue].config
        cmds.append(self._log(QueueLogKind(result.value), caller, position=position,
                              wait_s=self._clock() - caller.joined_at, reason=reason,
                              number=number, result=result))
        if result in _OVERFLOWING:
            if cfg.overflow_to:
                cmds.append(self._log(QueueLogKind.OVERFLOWED, caller, reason=cfg.overflow_to))
                cmds.append(Overflow(caller.id, cfg.overflow_to))
            else:
                cmds.append(Hangup(caller.id, result.value.lower()))
        return cmds

    def _leave_if_empty(self, q: Queue) -> list[Command]:
        if not self._is_empty(q, q.config.leave_when_empty):
            return []
        cmds: list[Command] = []
        for caller in list(q.line):
            if caller.kind is CallerKind.CALL and caller.state is CallerState.WAITING:
                cmds += self._leave_unanswered(caller, CallerEvent.LEAVE_EMPTY)
        return cmds

    def _end_call(self, caller: Caller) -> list[Command]:
        now = self._clock()
        agent = self._agents[caller.agent_id] if caller.agent_id else None
        CALLER.fire(caller, CallerEvent.CALL_ENDED)
        cmds = self._forget(caller)
        q = self._queues[caller.queue]
        talk = now - (caller.answered_at if caller.answered_at is not None else now)
        cmds.append(self._log(QueueLogKind.CALL_ENDED, caller, agent_id=caller.agent_id or "",
                              talk_s=talk))
        sample = talk + q.config.wrap_up_s
        q.handle_time_s = sample if q.handle_time_s is None else (
            (1 - self._weight) * q.handle_time_s + self._weight * sample)
        if agent is not None:
            agent.talk_time_today += talk
            agent.last_call_end = now
            agent.call_id = None
            AGENT_STATE.fire(agent, StateEvent.CALL_END)
            cmds += self._begin_wrap_up(agent, q.config.wrap_up_s)
        return cmds

    def _announce(self, caller: Caller) -> list[Command]:
        cfg = self._queues[caller.queue].config
        cmds: list[Command] = []
        position = self._position(caller)
        if cfg.announce_position_every_s:
            cmds.append(Play(caller.id, "queue_position", {"position": position}))
        if cfg.announce_wait:
            wait = self.estimated_wait_s(caller.queue, position)
            if wait is not None:
                cmds.append(Play(caller.id, "estimated_wait",
                                 {"minutes": max(1, math.ceil(wait / 60))}))
        return cmds
