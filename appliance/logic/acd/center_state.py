"""What the contact centre knows: its queues, agents, callers and timers, and
the bookkeeping every side of it shares.

`CenterState` holds the records and answers questions about them; the agent
side (agent_side.py), the caller side (caller_side.py) and callbacks
(callbacks.py) each handle their own events on top of it, and `ContactCenter`
(center.py) joins them with the routing step. Nothing here does I/O or reads
the wall clock: time comes from the injected clock.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Iterable, Mapping
from operator import attrgetter

from appliance.errors import Conflict, NotFound, ValidationError
from appliance.logic.acd.commands import CancelTimer, Command, LogEvent, StartTimer
from appliance.logic.acd.config import EmptyRule, QueueConfig
from appliance.logic.acd.machines import AgentStatus, CallerEvent, CallerState, QueueResult
from appliance.logic.acd.models import Agent, Caller, Member, Queue
from appliance.logic.acd.queue_log import QueueLogEntry, QueueLogKind

# Highest priority first, then the longest waiting (Caller.order).
SERVING_ORDER = attrgetter("order")
# A caller still in a queue's line: waiting, or being offered to agents.
IN_LINE = (CallerState.WAITING, CallerState.OFFERING)


class CenterState:
    """Queues, agents and the callers waiting for them, and the timers running."""

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

    # --- what the centre looks like ---------------------------------------------------

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

    # --- set-up -----------------------------------------------------------------------

    def add_queue(self, config: QueueConfig) -> None:
        if config.name in self._queues:
            raise Conflict(f"queue {config.name} exists already")
        self._queues[config.name] = Queue(config)

    def change_queue(self, config: QueueConfig) -> None:
        """New settings for a queue: its members and callers stay, the next decision follows them."""
        self._queue(config.name).config = config

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

    # --- bookkeeping ------------------------------------------------------------------

    def _start_talking(self, agent: Agent, caller: Caller, now: float) -> None:
        caller.answered_at = now
        agent.talk_started = now
        agent.calls_today += 1

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
        bisect.insort(self._queues[caller.queue].line, caller, key=SERVING_ORDER)

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

    # --- what each side asks of the others (ContactCenter has them all) ---------------

    def dispatch(self) -> list[Command]:
        """The routing step: free agents to waiting callers (center.py)."""
        raise NotImplementedError

    def _withdraw_offers(self, caller: Caller) -> list[Command]:
        """Stop every phone ringing for the caller (agent_side.py)."""
        raise NotImplementedError

    def _begin_wrap_up(self, agent: Agent, seconds: float) -> list[Command]:
        """The agent's call is over: wrap-up, then free again (agent_side.py)."""
        raise NotImplementedError

    def _leave_unanswered(self, caller: Caller, event: CallerEvent, reason: str = "",
                          number: str = "") -> list[Command]:
        """The caller leaves without an agent (caller_side.py)."""
        raise NotImplementedError

    def _leave_if_empty(self, q: Queue) -> list[Command]:
        """Callers leave a queue nobody serves any more, if it says so (caller_side.py)."""
        raise NotImplementedError

    def customer_unreachable(self, callback_id: str, reason: str = "no answer") -> list[Command]:
        """A callback's customer did not answer (callbacks.py)."""
        raise NotImplementedError
