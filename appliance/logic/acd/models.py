"""The things the ACD keeps track of. Their states change only through machines.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from appliance.logic.acd.config import QueueConfig
from appliance.logic.acd.machines import AgentState, AgentStatus, CallerState, QueueResult


@dataclass
class Agent:
    id: str
    name: str
    skills: dict[str, int] = field(default_factory=dict)
    status: AgentStatus = AgentStatus.LOGGED_OUT
    state: AgentState = AgentState.IDLE
    break_reason: str = ""
    queues: set[str] = field(default_factory=set)  # the queues this login serves
    call_id: str | None = None  # the call ringing or in hand
    missed_in_row: int = 0
    calls_today: int = 0
    talk_time_today: float = 0.0
    # Never having taken a call counts as having been idle the longest.
    last_call_end: float = float("-inf")
    talk_started: float = 0.0

    def has_skills(self, required: dict[str, int]) -> bool:
        return all(self.skills.get(skill, 0) >= level for skill, level in required.items())


@dataclass
class Member:
    """An agent's place in one queue: a level (lower is tried first) and the order added."""

    agent_id: str
    level: int
    order: int


class CallerKind(StrEnum):
    CALL = "call"  # someone on the line
    CALLBACK = "callback"  # someone who asked to be called back; no live leg


@dataclass
class Caller:
    id: str
    queue: str
    number: str
    priority: int
    joined_at: float
    seq: int  # breaks ties between callers who joined at the same instant
    kind: CallerKind = CallerKind.CALL
    state: CallerState = CallerState.WAITING
    result: QueueResult | None = None
    offered_to: set[str] = field(default_factory=set)
    agent_id: str | None = None
    answered_at: float | None = None
    failed_attempts: int = 0
    origin_call_id: str = ""  # a callback's original call

    @property
    def order(self) -> tuple[int, float, int]:
        """Highest priority first, then the longest waiting."""
        return (-self.priority, self.joined_at, self.seq)


@dataclass
class Queue:
    config: QueueConfig
    members: dict[str, Member] = field(default_factory=dict)
    line: list[Caller] = field(default_factory=list)  # in order; callers not yet with an agent
    last_order: int = -1  # rrmemory: the member rung last
    handle_time_s: float | None = None  # moving average; None until a call ended

    @property
    def name(self) -> str:
        return self.config.name
