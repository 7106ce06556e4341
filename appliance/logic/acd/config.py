"""A queue's settings, checked once when the queue is made."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from appliance.errors import ValidationError


class Strategy(StrEnum):
    """How a queue picks among the agents free to take its next caller."""

    RINGALL = "ringall"
    RRMEMORY = "rrmemory"
    LEASTRECENT = "leastrecent"
    FEWESTCALLS = "fewestcalls"
    LEASTTALKTIME = "leasttalktime"
    RANDOM = "random"
    LINEAR = "linear"
    SKILLS = "skills"


class EmptyRule(StrEnum):
    """When a queue counts as empty, for joining and for staying."""

    NEVER = "never"  # a queue is never empty: callers join and stay regardless
    NOBODY_LOGGED_IN = "nobody_logged_in"
    NOBODY_AVAILABLE = "nobody_available"  # logged out or on break both count as absent


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class QueueConfig:
    """Everything an admin sets on a queue. Times are seconds; 0 turns a limit off."""

    name: str
    strategy: Strategy = Strategy.LEASTRECENT
    ring_timeout_s: float = 20.0
    wrap_up_s: float = 10.0
    max_callers: int = 0
    max_wait_s: float = 0.0
    overflow_to: str = ""  # where callers go on TIMEOUT, FULL, JOINEMPTY, LEAVEEMPTY
    join_empty: EmptyRule = EmptyRule.NOBODY_LOGGED_IN
    leave_when_empty: EmptyRule = EmptyRule.NOBODY_LOGGED_IN
    announce_position_every_s: float = 0.0
    announce_wait: bool = False
    announce_agent: bool = False  # "agent number N will help you" on connect
    music_on_hold: str = "default"
    max_no_answer: int = 3  # missed offers in a row before an automatic break
    no_answer_backoff_s: float = 10.0
    vip_numbers: frozenset[str] = frozenset()
    vip_priority: int = 10
    skills_required: Mapping[str, int] = field(default_factory=dict)
    callback_enabled: bool = False
    callback_retries: int = 2
    callback_retry_delay_s: float = 300.0
    auto_answer: bool = False
    default_handle_time_s: float = 180.0  # estimate used until real calls were measured
    survey: bool = False  # after the agent hangs up, the caller is asked to rate the call 1-5 (CSAT)

    def __post_init__(self) -> None:
        def fail(key: str, reason: str) -> None:
            raise ValidationError(f"queue {self.name!r}: {key} {reason}")

        if not isinstance(self.name, str) or not _NAME.match(self.name):
            fail("name", "must be 1-64 letters, digits, '_', '.' or '-'")
        for key, enum in (("strategy", Strategy), ("join_empty", EmptyRule),
                          ("leave_when_empty", EmptyRule)):
            value = getattr(self, key)
            try:
                object.__setattr__(self, key, enum(value))
            except ValueError:
                fail(key, f"must be one of {', '.join(e.value for e in enum)}, got {value!r}")
        for key in ("ring_timeout_s", "default_handle_time_s"):
            if not _number(getattr(self, key)) or getattr(self, key) <= 0:
                fail(key, f"must be a number > 0, got {getattr(self, key)!r}")
        for key in ("wrap_up_s", "max_wait_s", "announce_position_every_s",
                    "no_answer_backoff_s", "callback_retry_delay_s"):
            if not _number(getattr(self, key)) or getattr(self, key) < 0:
                fail(key, f"must be a number >= 0, got {getattr(self, key)!r}")
        for key in ("max_callers", "max_no_answer", "callback_retries", "vip_priority"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                fail(key, f"must be a whole number >= 0, got {value!r}")
        for key in ("announce_wait", "announce_agent", "callback_enabled", "auto_answer",
                    "survey"):
            if not isinstance(getattr(self, key), bool):
                fail(key, f"must be true or false, got {getattr(self, key)!r}")
        for key in ("overflow_to", "music_on_hold"):
            if not isinstance(getattr(self, key), str):
                fail(key, f"must be text, got {getattr(self, key)!r}")
        if isinstance(self.vip_numbers, str) or not all(
                isinstance(n, str) and n for n in self.vip_numbers):
            fail("vip_numbers", "must be a set of phone numbers")
        object.__setattr__(self, "vip_numbers", frozenset(self.vip_numbers))
        if not isinstance(self.skills_required, Mapping):
            fail("skills_required", "must map skill names to minimum levels")
        for skill, level in self.skills_required.items():
            if not isinstance(skill, str) or not skill:
                fail("skills_required", f"has a bad skill name {skill!r}")
            if not isinstance(level, int) or isinstance(level, bool) or level < 1:
                fail("skills_required", f"needs a level >= 1 for {skill!r}, got {level!r}")
        object.__setattr__(self, "skills_required", dict(self.skills_required))
        if self.strategy is Strategy.SKILLS and not self.skills_required:
            fail("strategy", "skills needs skills_required")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QueueConfig:
        """Build from JSON-ish input, refusing keys this version does not know."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValidationError(f"queue {data.get('name')!r}: unknown setting(s) {unknown}")
        values = dict(data)
        if "vip_numbers" in values and isinstance(values["vip_numbers"], list):
            values["vip_numbers"] = frozenset(values["vip_numbers"])
        try:
            return cls(**values)
        except TypeError as exc:  # a required key missing
            raise ValidationError(f"queue {data.get('name')!r}: {exc}") from None

    def priority_of(self, number: str, asked: int) -> int:
        """A VIP number is served first; an explicit higher priority still wins."""
        return max(asked, self.vip_priority) if number in self.vip_numbers else asked


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
