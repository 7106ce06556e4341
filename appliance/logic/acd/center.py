"""The contact centre: queues, agents and callers, and the routing step.

Every method that reports something that happened returns the commands the
core must carry out, in order, ending with a routing step (`dispatch`) that
gives free agents to the callers who have waited longest at the highest
priority. Nothing here does I/O or reads the wall clock: time comes from the
injected clock and timeouts come back through `timer_fired`.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import logging
import math
import random
from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter

from appliance.errors import Conflict, NotAllowed, NotFound, ValidationError
from appliance.logic.acd.commands import (
    Bridge, CallAgentForCallback, CancelTimer, Command, DialCustomer, Hangup, LogEvent, Monitor,
    MonitorMode, Overflow, Play, Ring, StartTimer, StopRinging)
from appliance.logic.acd.config import EmptyRule, QueueConfig
from appliance.logic.acd.machines import (
    AGENT_STATE, AGENT_STATUS, CALLER, RESULT_OF_EVENT, AgentState, AgentStatus, CallerEvent,
    CallerState, QueueResult, StateEvent, StatusEvent, can_take_call)
from appliance.logic.acd.models import Agent, Caller, CallerKind, Member, Queue
from appliance.logic.acd.queue_log import QueueLogEntry, QueueLogKind
from appliance.logic.acd.strategies import choose
from appliance.logic.acd.supervision import may_supervise

log = logging.getLogger("callbox.acd")

_ORDER = attrgetter("order")
MISSED_CALLS = "missed calls"
# Leaving a queue unanswered for these reasons sends the caller on to the
# queue's overflow destination (or hangs up when it has none).
_OVERFLOWING = {QueueResult.TIMEOUT, QueueResult.FULL, QueueResult.JOINEMPTY,
                QueueResult.LEAVEEMPTY}
_IN_LINE = (CallerState.WAITING, CallerState.OFFERING)


class ContactCenter:
    """Queues, agents and the callers waiting for them."""

    def __init__(self, clock: Callable[[], float], rng: random.Random | None = None,
                 handle_time_weight: float = 0.2):
        if not 0 < handle_time_weight <= 1:
            raise ValidationError("handle_time_weight must be in (0, 1]")
        self._clock = clock
        self._rng = rng if rng is not None else random.Random(0)
        self._weight = handle_time_weight
        self._queues: dict[str, Queue] = {}
        self._agents: dict[str, Agent] = {}
        self._callers: dict[str, Caller] = {}
        self._timers: dict[str, tuple[str, str]] = {}  # name -> (kind, subject)
        self._seq = itertools.count()
        self._no_phone: set[str] = set()   # agents whose extension has no registered phone

    # --- what the centre looks like ------------------------------------------------

    def queue_config(self, name: str) -> QueueConfig:
        return self._queue(name).config

    def queue_names(self) -> list[str]:
        return list(self._queues)

    def agent(self, agent_id: str) -> Agent:
        """The agent's live record; read it, change it only through the methods here."""
        return self._agent(agent_id)

    def agents(self) -> list[Agent]:
        return list(self._agents.values())

    def caller(self, call_id: str) -> Caller | None:
        """A caller still in a queue or connected; None once settled and gone."""
        return self._callers.get(call_id)

    def callers(self) -> list[Caller]:
        return list(self._callers.values())

    def waiting(self, queue: str) -> list[Caller]:
        """The queue's line in serving order: callers and callbacks not yet with an agent."""
        return list(self._queue(queue).line)

    def members(self, queue: str) -> list[Member]:
        return list(self._queue(queue).members.values())

    def position(self, call_id: str) -> int:
        """1 for the next caller to be served."""
        caller = self._caller(call_id)
        return self._position(caller)

    def handle_time_s(self, queue: str) -> float:
        """The queue's average handle time (talk + wrap-up), a moving average."""
        q = self._queue(queue)
        return q.handle_time_s if q.handle_time_s is not None else q.config.default_handle_time_s

    def estimated_wait_s(self, queue: str, position: int) -> float | None:
        """Seconds until the caller at `position` is served; None with nobody logged in."""
        q = self._queue(queue)
        logged_in = sum(1 for a in self._logged_in(q))
        if not logged_in:
            return None
        return position * self.handle_time_s(queue) / logged_in

    def pending_timers(self) -> set[str]:
        return set(self._timers)

    # --- set-up ------------------------------------------------------------------------

    def add_queue(self, config: QueueConfig) -> None:
        if config.name in self._queues:
            raise Conflict(f"queue {config.name} exists already")
        self._queues[config.name] = Queue(config)

    def add_agent(self, agent_id: str, name: str, skills: Mapping[str, int] | None = None,
                  queues: Mapping[str, int] | Iterable[str] = ()) -> Agent:
        """A person who can log in; `queues` makes them a member (name -> level, or names)."""
        if not isinstance(agent_id, str) or not agent_id:
            raise ValidationError("an agent needs an id")
        if agent_id in self._agents:
            raise Conflict(f"agent {agent_id} exists already")
        skills = dict(skills or {})
        for skill, level in skills.items():
            if not isinstance(level, int) or isinstance(level, bool) or level < 0:
                raise ValidationError(f"agent {agent_id}: skill {skill!r} needs a level >= 0")
        levels = self._levels(queues)
        agent = self._agents[agent_id] = Agent(agent_id, name, skills)
        for queue, level in levels.items():
            self.add_member(queue, agent_id, level)
        return agent

    def add_member(self, queue: str, agent_id: str, level: int = 1) -> None:
        """Make the agent a member of the queue (or change their level there)."""
        q, _ = self._queue(queue), self._agent(agent_id)
        if not isinstance(level, int) or isinstance(level, bool) or level < 0:
            raise ValidationError(f"queue {queue}: level for {agent_id} must be >= 0")
        if agent_id in q.members:
            q.members[agent_id].level = level
        else:
            q.members[agent_id] = Member(agent_id, level, len(q.members))

    def reset_daily_counters(self) -> None:
        """At midnight: calls and talk time 'today' start again from zero."""
        for agent in self._agents.values():
            agent.calls_today = 0
            agent.talk_time_today = 0.0

    # --- what agents do ---------------------------------------------------------------

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

    def call_ended(self, call_id: str) -> list[Command]:
        """The conversation is over; the agent goes to wrap-up."""
        caller = self._callers.get(call_id)
        if caller is None:
            return []
        if caller.state is not CallerState.CONNECTED:
            return self.caller_hangs_up(call_id)
        return self._end_call(caller) + self.dispatch()

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

    # --- what callers do --------------------------------------------------------------

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
        if caller.kind is not CallerKind.CALL or caller.state not in _IN_LINE:
            raise Conflict(f"caller {call_id} is not waiting in a queue")
        return self._leave_unanswered(caller, CallerEvent.TRANSFER, reason=destination) \
            + self.dispatch()

    def request_callback(self, call_id: str, number: str | None = None) -> list[Command]:
        """The caller hangs up and keeps their place: the box calls back when it's their turn."""
        caller = self._caller(call_id)
        cfg = self._queues[caller.queue].config
        if not cfg.callback_enabled:
            raise NotAllowed(f"queue {cfg.name} does not offer callbacks")
        if caller.kind is not CallerKind.CALL or caller.state not in _IN_LINE:
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

    # --- time -----------------------------------------------------------------------------

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
            if caller is None or caller.state not in _IN_LINE:
                return []
            return self._leave_unanswered(caller, CallerEvent.MAX_WAIT) + self.dispatch()
        if kind == "announce":
            caller = self._callers.get(subject)
            if caller is None or caller.state not in _IN_LINE:
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
        for caller in (heapq.merge(*lines, key=_ORDER) if len(lines) > 1 else lines[0]):
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

    # --- inner workings ---------------------------------------------------------------

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

    def _missed(self, agent: Agent, why: str) -> list[Command]:
        if agent.state is not AgentState.OFFERED or agent.call_id is None:
            return []  # the ring ended some other way first
        caller = self._callers[agent.call_id]
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
        caller = self._callers[agent.call_id]
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

    def _begin_wrap_up(self, agent: Agent, seconds: float) -> list[Command]:
        if seconds:
            return [self._start_timer(f"wrap-up:{agent.id}", seconds, "wrap-up", agent.id)]
        return self._end_wrap_up(agent)

    def _end_wrap_up(self, agent: Agent) -> list[Command]:
        AGENT_STATE.fire(agent, StateEvent.WRAP_UP_DONE)
        self._phone_gone_if_idle(agent)
        return [LogEvent(QueueLogEntry(self._clock(), QueueLogKind.WRAP_UP_END,
                                       agent_id=agent.id))]

    def _start_talking(self, agent: Agent, caller: Caller, now: float) -> None:
        caller.answered_at = now
        agent.talk_started = now
        agent.calls_today += 1

    def _retry_callback(self, callback_id: str) -> list[Command]:
        caller = self._callers.get(callback_id)
        if caller is None or caller.state is not CallerState.RETRY_WAIT:
            return []
        CALLER.fire(caller, CallerEvent.RETRY_DUE)
        # Back at the place first taken: the original join time and sequence.
        self._join_line(caller)
        return []

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

    def _settle(self, caller: Caller, result: QueueResult) -> None:
        if caller.result is not None:
            raise AssertionError(f"caller {caller.id} has a result already: {caller.result}")
        caller.result = result

    def _forget(self, caller: Caller) -> list[Command]:
        """Out of the line; gone altogether once DONE."""
        self._leave_line(caller)
        cmds = self._cancel_timer(f"max-wait:{caller.id}") + self._cancel_timer(
            f"announce:{caller.id}")
        if caller.state is CallerState.DONE:
            self._callers.pop(caller.id, None)
        return cmds

    def _join_line(self, caller: Caller) -> None:
        bisect.insort(self._queues[caller.queue].line, caller, key=_ORDER)

    def _leave_line(self, caller: Caller) -> None:
        line = self._queues[caller.queue].line
        if caller in line:
            line.remove(caller)

    def _position(self, caller: Caller) -> int:
        line = self._queues[caller.queue].line
        if caller not in line:
            raise Conflict(f"caller {caller.id} is not waiting in a queue")
        return line.index(caller) + 1

    def _logged_in(self, q: Queue) -> Iterable[Agent]:
        for agent_id in q.members:
            agent = self._agents[agent_id]
            if agent.status is not AgentStatus.LOGGED_OUT and q.name in agent.queues:
                yield agent

    def _is_empty(self, q: Queue, rule: EmptyRule) -> bool:
        if rule is EmptyRule.NEVER:
            return False
        if rule is EmptyRule.NOBODY_LOGGED_IN:
            return not any(True for _ in self._logged_in(q))
        return not any(a.status is AgentStatus.AVAILABLE for a in self._logged_in(q))

    def _start_timer(self, name: str, delay: float, kind: str, subject: str) -> StartTimer:
        self._timers[name] = (kind, subject)
        return StartTimer(name, self._clock() + delay, {"kind": kind, "id": subject})

    def _cancel_timer(self, name: str) -> list[Command]:
        if self._timers.pop(name, None) is None:
            return []
        return [CancelTimer(name)]

    def _log(self, kind: QueueLogKind, caller: Caller, **fields) -> LogEvent:
        if not fields.get("number"):
            fields["number"] = caller.number
        if "result" in fields and fields["result"] is not None:
            fields["result"] = QueueResult(fields["result"]).value
        return LogEvent(QueueLogEntry(self._clock(), kind, queue=caller.queue,
                                      call_id=caller.id, **fields))

    def _levels(self, queues: Mapping[str, int] | Iterable[str]) -> dict[str, int]:
        levels = dict(queues) if isinstance(queues, Mapping) else {name: 1 for name in queues}
        for name in levels:
            self._queue(name)
        return levels

    def _queue(self, name: str) -> Queue:
        try:
            return self._queues[name]
        except KeyError:
            raise NotFound(f"no queue {name}") from None

    def _agent(self, agent_id: str) -> Agent:
        try:
            return self._agents[agent_id]
        except KeyError:
            raise NotFound(f"no agent {agent_id}") from None

    def _caller(self, call_id: str) -> Caller:
        try:
            return self._callers[call_id]
        except KeyError:
            raise NotFound(f"no caller {call_id} in any queue") from None
