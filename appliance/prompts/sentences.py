"""Numbers and sentences: the prompt names that say a number, a place in the
queue, a wait or an agent, in each language's grammar.

Pure: a sentence is a list of prompt names played one after another.
"""

from __future__ import annotations

import math
import re

from appliance.errors import ValidationError
from appliance.prompts.catalogue import check_language


def _num(n: int) -> str:
    return f"num-{n}"


def say_number(n: int, language: str, *, counting: bool = False) -> list[str]:
    """Prompt names that say 0 <= n <= 999.

    `counting` means a count of minutes follows: Polish then takes the
    feminine jedna/dwie (minuta is feminine), Chinese takes 两 for a lone 2
    and for two hundred.
    """
    check_language(language)
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 999:
        raise ValidationError(f"{n!r} cannot be spoken: numbers run from 0 to 999")
    if language == "en":
        return _say_en(n)
    if language == "pl":
        return _say_pl(n, counting)
    return _say_zh(n, counting)


def _say_en(n: int) -> list[str]:
    if n < 20:
        return [_num(n)]
    if n < 100:
        tens, unit = divmod(n, 10)
        return [_num(tens * 10)] + ([_num(unit)] if unit else [])
    hundreds, rest = divmod(n, 100)
    # British usage: "three hundred and five".
    return [_num(hundreds), "num-hundred"] + (["num-and"] + _say_en(rest) if rest else [])


def _say_pl(n: int, counting: bool) -> list[str]:
    if n == 0:
        return ["num-0"]
    if counting and n == 1:
        return ["num-1f"]          # jedna minuta; in compounds "jeden" never changes
    hundreds, rest = divmod(n, 100)
    out = [_num(hundreds * 100)] if hundreds else []
    if rest >= 20:
        tens, unit = divmod(rest, 10)
        out.append(_num(tens * 10))
    else:
        unit = rest
    if unit:
        out.append("num-2f" if counting and unit == 2 else _num(unit))
    return out


def _say_zh(n: int, counting: bool) -> list[str]:
    if n < 10:
        return ["num-liang"] if counting and n == 2 else [_num(n)]
    hundreds, rest = divmod(n, 100)
    if not hundreds:
        tens, unit = divmod(n, 10)
        # 十一, not 一十一, when the number starts with the ten.
        return ([] if tens == 1 else [_num(tens)]) + ["num-10"] + ([_num(unit)] if unit else [])
    out = ["num-liang" if counting and hundreds == 2 else _num(hundreds), "num-hundred"]
    if rest == 0:
        return out
    if rest < 10:
        return out + ["num-0", _num(rest)]       # 一百零五
    tens, unit = divmod(rest, 10)
    return out + [_num(tens), "num-10"] + ([_num(unit)] if unit else [])   # 一百一十五


def _pl_minutes(n: int) -> str:
    """minuta (1), minuty (2-4, 22-24, ... but not 12-14), minut (the rest)."""
    if n == 1:
        return "minute"
    if 2 <= n % 10 <= 4 and (n % 100) // 10 != 1:
        return "minutes"
    return "minutes-many"


def _spoken_count(value: float) -> int:
    # Queue figures are said from 1 to 999: "caller number 0" or a
    # four-digit wait would only confuse the caller.
    return min(999, max(1, math.ceil(value)))


def announce_position(position: int, language: str) -> list[str]:
    """Prompt names that tell a caller their place in the queue (1-999)."""
    check_language(language)
    return ["you-are-caller-number", *say_number(_spoken_count(position), language)]


def announce_wait(minutes: float, language: str) -> list[str]:
    """Prompt names that tell the estimated wait, rounded up to whole minutes (1-999)."""
    check_language(language)
    n = _spoken_count(minutes)
    if language == "en":
        unit = "minute" if n == 1 else "minutes"
    elif language == "pl":
        unit = _pl_minutes(n)
    else:
        unit = "minutes"
    return ["estimated-wait", *say_number(n, language, counting=True), unit]


def say_digits(digits: str, language: str) -> list[str]:
    """Prompt names that read a digit string one digit at a time."""
    check_language(language)
    if not re.fullmatch(r"[0-9]{1,20}", digits or ""):
        raise ValidationError(f"{digits!r} is not a string of 1 to 20 digits")
    names = [_num(int(d)) for d in digits]
    if language == "zh":
        names = ["num-yao" if name == "num-1" else name for name in names]
    return names


def announce_agent(agent_number: str, language: str) -> list[str]:
    """Prompt names that say which agent takes the call, digit by digit."""
    return ["agent-number", *say_digits(str(agent_number), language), "will-help-you"]
