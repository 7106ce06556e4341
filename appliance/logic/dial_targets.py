"""Where the box rings a number: an extension's registered phone, or out through the trunks.

Every call the box rings out decides this the same way (click-to-dial, a campaign's callee, the
customer of a callback, a phone's call to an outside number): a number that is an extension rings
its phone; any other goes through the numbering plan, which may refuse it to this caller or find
no trunk that can take it now. `where_to_ring` answers with the targets (`Target`), or why there
are none (`Unreachable`); `through_trunks` is its second half, for a number already known not to be
an extension. Each caller only turns the answer into its own (an error, a FAILED attempt, a
refusal status).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from appliance.errors import ValidationError

# The numbering plan for one caller: number -> (its decision, the trunks to try in order, each
# {"trunk", "uri", "auth"?}). It raises ValidationError for a number it cannot read.
Plan = Callable[[str], tuple[Any, list[dict[str, Any]]]]


@dataclass(frozen=True)
class Target:
    """Somewhere to ring: a phone's contact URI or a trunk's, and who is reached there."""

    uri: str
    extension: str | None = None  # the extension whose phone this is
    trunk: str | None = None  # the trunk the call leaves on
    auth: dict[str, str] | None = field(default=None, compare=False, hash=False)  # the trunk's credentials
    number: str = ""  # the number as dialled: the callee of the call record
    name: str = ""  # who the callee is, as an agent's phone shows it


class Unreachable(StrEnum):
    """Why a number cannot be rung now."""

    NO_PHONE = "NO_PHONE"  # an extension with no registered phone
    UNREADABLE = "UNREADABLE"  # not a number the numbering plan can read
    REFUSED = "REFUSED"  # the numbering plan refuses it to this caller (its verdict says why)
    NO_TRUNK = "NO_TRUNK"  # allowed, but no trunk can take the call now


@dataclass(frozen=True)
class Reach:
    """Where a number rings (`targets`, trunks in failover order), or why nowhere (`why_not`)."""

    targets: tuple[Target, ...] = ()
    why_not: Unreachable | None = None
    verdict: Any = None  # the numbering plan's verdict, when it REFUSED the number

    @property
    def first(self) -> Target:
        """The target a single call rings (the first trunk; later ones only on failover)."""
        return self.targets[0]


def where_to_ring(number: str, *, is_extension: Callable[[str], bool], phone_of: Callable[[str], str | None],
                  plan: Plan) -> Reach:
    """Where `number` rings: the extension's registered phone, or the trunks the plan allows."""
    if is_extension(number):
        contact = phone_of(number)
        if not contact:
            return Reach(why_not=Unreachable.NO_PHONE)
        return Reach((Target(contact, number, number=number),))
    return through_trunks(number, plan)


def through_trunks(number: str, plan: Plan) -> Reach:
    """Where an outside number rings: the trunks the plan allows this caller, in failover order."""
    try:
        decision, attempts = plan(number)
    except ValidationError:
        return Reach(why_not=Unreachable.UNREADABLE)
    if not decision.allowed:
        return Reach(why_not=Unreachable.REFUSED, verdict=decision.verdict)
    if not attempts:
        return Reach(why_not=Unreachable.NO_TRUNK)
    return Reach(tuple(Target(a["uri"], trunk=a["trunk"], auth=a.get("auth"), number=number) for a in attempts))
