"""Number patterns in Asterisk's dialplan syntax, and inbound route matching.

A pattern starts with `_`; anything else is an exact number. After the `_`:
`X` is any digit, `Z` 1-9, `N` 2-9, `[15-7]` one of the listed digits,
`.` one or more of anything, `!` zero or more of anything; digits, `*`, `#`
and `+` stand for themselves. As in Asterisk, the letters may be lower case.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable

from appliance.errors import ValidationError

_LITERAL = set("0123456789*#+")
_MAX_PATTERN = 80


@lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A regular expression matching the whole number, or ValidationError naming the fault."""
    if not isinstance(pattern, str) or not pattern:
        raise ValidationError("a number or pattern must not be empty")
    if len(pattern) > _MAX_PATTERN:
        raise ValidationError(f"is longer than {_MAX_PATTERN} characters")
    if not pattern.startswith("_"):
        if not set(pattern) <= _LITERAL:
            raise ValidationError(f"{pattern!r} may hold only digits, *, # and + "
                                  "(start it with _ to make a pattern)")
        return re.compile(re.escape(pattern))
    body = pattern[1:]
    if not body:
        raise ValidationError("'_' alone matches nothing; add digits or X, Z, N, '.'")
    out = []
    i = 0
    while i < len(body):
        ch = body[i]
        up = ch.upper()
        if up == "X":
            out.append("[0-9]")
        elif up == "Z":
            out.append("[1-9]")
        elif up == "N":
            out.append("[2-9]")
        elif ch == ".":
            out.append(".+")
        elif ch == "!":
            out.append(".*")
        elif ch in _LITERAL:
            out.append(re.escape(ch))
        elif ch == "[":
            close = body.find("]", i)
            if close < 0:
                raise ValidationError(f"{pattern!r} has a '[' without its ']'")
            out.append(_char_class(pattern, body[i + 1:close]))
            i = close
        else:
            raise ValidationError(f"{pattern!r} has {ch!r}, which a pattern cannot hold")
        i += 1
    return re.compile("".join(out))


def _char_class(pattern: str, inside: str) -> str:
    if not inside:
        raise ValidationError(f"{pattern!r} has an empty '[]'")
    chars = []
    i = 0
    while i < len(inside):
        ch = inside[i]
        if i + 2 < len(inside) and inside[i + 1] == "-":
            low, high = ch, inside[i + 2]
            if not (low.isdigit() and high.isdigit() and low <= high):
                raise ValidationError(f"{pattern!r} has a bad range {low}-{high}")
            chars.append(f"{low}-{high}")
            i += 3
            continue
        if ch not in _LITERAL:
            raise ValidationError(f"{pattern!r} has {ch!r} inside '[]'")
        chars.append(re.escape(ch))
        i += 1
    return "[" + "".join(chars) + "]"


def number_matches(pattern: str, number: str) -> bool:
    """Whether `number` matches; a leading + on the number is optional for the pattern.

    GSM modems report callers as +48601234567 while people write routes as
    48601234567 or _48XXXXXXXXX, so both spellings of a number are tried.
    """
    regex = compile_pattern(pattern)
    if regex.fullmatch(number):
        return True
    return number.startswith("+") and regex.fullmatch(number[1:]) is not None


def specificity(pattern: str) -> int:
    """2 for an exact number, 1 for a pattern, 0 for "anything" (empty)."""
    if not pattern:
        return 0
    return 1 if pattern.startswith("_") else 2


def match_route(routes: Iterable, did: str, caller: str) -> str | None:
    """The destination node of the first route that matches the call, or None.

    Routes are tried by `priority` (lower first); among equal priorities the
    more specific route wins (a caller pattern beats none, an exact number a
    pattern, as FreePBX users expect); then the order in which they are listed.
    An empty `did` or `caller` on a route matches anything, including a
    withheld caller number.
    """
    ranked = sorted(
        enumerate(routes),
        key=lambda ir: (ir[1].priority, -specificity(ir[1].caller), -specificity(ir[1].did), ir[0]))
    for _, route in ranked:
        if route.did and not number_matches(route.did, did or ""):
            continue
        if route.caller and not number_matches(route.caller, caller or ""):
            continue
        return route.destination
    return None
