"""The one state machine of the house: a table {State: {Event: NewState}} and one place a state changes.

Every machine in the box (the ACD's agents and callers, the call handlers the box answers
itself, voicemail, the extension-to-extension call) is a `Machine` over its own two enums.
`fire` is the only function that assigns the governed attribute; an event the table does not
list for the current state raises `StateMachineError` (one error policy), and every change is
logged as `old -> new` under the machine's label. The trunk registration and the modem lines use it
too; they ask for `quiet_repeats` (a refresh or a repeated RING is no news).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar

from appliance.errors import StateMachineError

S = TypeVar("S", bound=StrEnum)
E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, eq=False)  # each machine is one of a kind: hashed by identity
class Machine(Generic[S, E]):
    """One table and the single place where the attribute it governs changes."""

    name: str  # "agent status", named in errors
    label: str  # "agent %s status", the log line's subject
    attr: str  # the attribute of the thing that holds its state
    table: dict[S, dict[E, S]]
    logger: str = "callbox.machine"  # the log its changes go to, e.g. "callbox.acd"
    who: str = "id"  # the thing's attribute that names it in errors and logs
    quiet_repeats: bool = False  # a move to the state it is in is not logged

    def next_state(self, who: str, state: S, event: E) -> S:
        new = self.table.get(state, {}).get(event)
        if new is None:
            raise StateMachineError(self.name, who, state.value, event.value)
        return new

    def allows(self, state: S, event: E) -> bool:
        return event in self.table.get(state, {})

    def fire(self, thing: Any, event: E, reason: str | None = None) -> S:
        """Move `thing` on `event`; `reason`, when given, ends the log line in brackets."""
        old = getattr(thing, self.attr)
        who = getattr(thing, self.who)
        new = self.next_state(who, old, event)
        setattr(thing, self.attr, new)
        if new is not old or not self.quiet_repeats:
            logging.getLogger(self.logger).info("%s: %s -> %s%s", self.label % who, old.value, new.value,
                                                f" ({reason})" if reason else "")
        return new
