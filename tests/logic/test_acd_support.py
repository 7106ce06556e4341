"""A working fake of the core around the ACD: a clock, a timer service, a command record.

Holds no tests; the ACD test modules share it.
"""

from __future__ import annotations

import random
from typing import Any

from appliance.logic.acd import (
    CancelTimer, Command, ContactCenter, LogEvent, QueueConfig, QueueLogEntry, StartTimer)


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Box:
    """The ACD as the core drives it: commands are recorded, timers fire as time passes."""

    def __init__(self, *queues: QueueConfig, seed: int = 0):
        self.clock = FakeClock()
        self.center = ContactCenter(self.clock, random.Random(seed))
        self.timers: dict[str, float] = {}
        self.commands: list[Command] = []
        self.last: list[Command] = []
        for queue in queues:
            self.center.add_queue(queue)

    def run(self, commands: list[Command]) -> list[Command]:
        self.commands += commands
        self.last = commands
        for cmd in commands:
            if isinstance(cmd, StartTimer):
                self.timers[cmd.name] = cmd.at
            elif isinstance(cmd, CancelTimer):
                del self.timers[cmd.name]  # cancelling an unknown timer is a bug
        return commands

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.center, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            return self.run(result) if isinstance(result, list) else result
        return call

    def advance(self, seconds: float) -> list[Command]:
        """Move time on, firing due timers in time order as the core's timer wheel would."""
        target = self.clock.now + seconds
        fired: list[Command] = []
        while True:
            due = sorted((at, name) for name, at in self.timers.items() if at <= target)
            if not due:
                break
            at, name = due[0]
            self.clock.now = max(self.clock.now, at)
            del self.timers[name]
            fired += self.run(self.center.timer_fired(name))
        self.clock.now = target
        self.last = fired
        return fired

    def agents(self, *ids: str, queues: Any = None, skills: dict | None = None,
               login: bool = True) -> None:
        for agent_id in ids:
            self.center.add_agent(agent_id, f"Agent {agent_id}", skills or {},
                                  queues if queues is not None else self.center.queue_names())
            if login:
                self.agent_login(agent_id)

    def entries(self, kind: str | None = None, call_id: str | None = None) -> list[QueueLogEntry]:
        return [c.entry for c in self.commands if isinstance(c, LogEvent)
                and (kind is None or c.entry.kind == kind)
                and (call_id is None or c.entry.call_id == call_id)]

    def results(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for entry in self.entries():
            if entry.result:
                out.setdefault(entry.call_id, []).append(entry.result)
        return out


def of(commands: list[Command], kind: type) -> list:
    return [c for c in commands if isinstance(c, kind)]
