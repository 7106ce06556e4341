"""What the voicemail machine tests share: a clock, the caller's leg, a box, and what was played."""

from __future__ import annotations

import pytest

from appliance.logic.media import Play
from appliance.logic.voicemail import BoxConfig, Prompt, hash_pin
from appliance.logic.voicemail.commands import Machine

LEG = "in1"  # the caller's leg, which every media command of a mailbox names
BOX = BoxConfig("1001", owner="1001", pin_hash=hash_pin("1234"), max_message_s=120, max_messages=3)


class FakeClock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def kinds(commands) -> list[str]:
    return [type(c).__name__ for c in commands]


def prompts(commands) -> list[str]:
    return [item.name for c in commands if isinstance(c, Play) for item in c.playlist if isinstance(item, Prompt)]


@pytest.fixture
def fired(monkeypatch) -> set[tuple[str, object, object]]:
    """Every (machine, state, event) that went through a table, for the coverage checks."""
    seen: set[tuple[str, object, object]] = set()
    real = Machine._go

    def spy(self, event):
        seen.add((self.name, self.state, event))
        real(self, event)
    monkeypatch.setattr(Machine, "_go", spy)
    return seen

