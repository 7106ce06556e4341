"""What the call machines' table tests share: the kinds of commands out, and the table's checks.

Holds no tests of its own; `table_checks` makes the checks for one machine's test module.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import pytest

from appliance.errors import StateMachineError


def kinds(commands) -> list[str]:
    return [type(c).__name__ for c in commands]


def table_checks(table: Mapping, expected: Mapping[tuple, list[str]], reach: Callable[..., object],
                 events: Mapping[object, Callable[[object], list]],
                 refuse: Callable[[object, object], object]) -> type:
    """The checks of a machine's table as a test class, to be bound to a `Test...` name in its module.

    `expected` is written out by hand in the test module: the kinds of commands each (state, event)
    pair of `table` returns. `reach(state)` tells the story that brings a call to a state, `events`
    fires each event the way the box would, and `refuse(call, event)` fires a pair the table does not
    list: every such pair must be refused with an error naming both and change nothing.
    """
    state_type, event_type = (type(part) for part in next(iter(expected)))
    refused = [(s, e) for s, e in itertools.product(state_type, event_type) if (s, e) not in expected]

    class TableChecks:
        def test_the_expectations_list_exactly_the_table(self):
            assert set(expected) == {(s, e) for s, row in table.items() for e in row}

        @pytest.mark.parametrize("state, event", sorted(expected))
        def test_every_pair_of_the_table(self, state, event):
            c = reach(state)
            out = events[event](c)
            assert c.state is table[state][event]
            assert kinds(out) == expected[(state, event)]

        @pytest.mark.parametrize("state, event", refused)
        def test_a_pair_outside_the_table_is_refused_and_changes_nothing(self, state, event):
            c = reach(state)
            with pytest.raises(StateMachineError, match=f"event {event.value} is not allowed in state {state.value}"):
                refuse(c, event)
            assert c.state is state

    return TableChecks
