"""Numbering plans and class of service: what kind of number was dialled, and
who may dial it.

A number is classified against a numbering plan (`classify`) into one
`NumberClass`; an extension's class of service is a rung on the ladder
internal < local < national < international, and `permitted` says whether the
rung reaches the class. Emergency numbers are always permitted; premium
numbers only with international.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from appliance.directory import ClassOfService
from appliance.errors import ValidationError


class NumberClass(StrEnum):
    """What kind of number was dialled, as the class-of-service rules see it."""

    EMERGENCY = "emergency"
    INTERNAL = "internal"
    LOCAL = "local"
    NATIONAL = "national"
    INTERNATIONAL = "international"
    PREMIUM = "premium"


# Every number any supported country uses for emergencies. Dialling a foreign
# one costs nothing, and refusing a real one could cost a life.
DEFAULT_EMERGENCY = ("112", "997", "998", "999", "911", "110", "119", "120", "122")
# Satellite and international networks: priced like premium lines and the
# favourite destinations of toll fraud.
_COSTLY_NETWORKS = ("+881", "+882", "+883")


@dataclass(frozen=True)
class NumberingPlan:
    """How people in one country dial.

    `premium_prefixes` are prefixes of national numbers (as dialled after the
    national prefix) that cost extra; an entry starting with + names foreign
    numbers (e.g. "+882", "+883", the international networks toll fraud loves).
    `area_code` (optional) makes national numbers in the box's own area LOCAL;
    `local_lengths` are the lengths of subscriber numbers dialled without an
    area code (China: 7 and 8 digits; Poland dials all 9 digits, so none).
    Numbers of `extension_lengths` dialled without a prefix are INTERNAL.
    """

    name: str = "Poland"
    country_code: str = "48"
    national_prefix: str = "0"
    international_prefix: str = "00"
    emergency: tuple[str, ...] = DEFAULT_EMERGENCY
    premium_prefixes: tuple[str, ...] = ("70", *_COSTLY_NETWORKS)
    area_code: str = ""
    local_lengths: tuple[int, ...] = ()
    extension_lengths: tuple[int, ...] = (3, 4)


POLAND = NumberingPlan()
CHINA = NumberingPlan(
    name="China", country_code="86", national_prefix="0", international_prefix="00",
    emergency=("110", "119", "120", "122", "112"), premium_prefixes=("168", *_COSTLY_NETWORKS),
    local_lengths=(7, 8))
PLANS = {"PL": POLAND, "CN": CHINA}

_DIAL_CHARS = re.compile(r"\+?[0-9*#]+")
_SEPARATORS = str.maketrans("", "", " -.()/")


def normalise_number(number: Any) -> str:
    if not isinstance(number, str):
        raise ValidationError("number: must be a string")
    n = number.translate(_SEPARATORS)
    if not n or len(n) > 32 or not _DIAL_CHARS.fullmatch(n):
        raise ValidationError(f"number: {number!r} is not a dialable number")
    return n


def classify(number: str, plan: NumberingPlan | None = None, *,
             extensions: Collection[str] | None = None, **plan_fields: Any) -> NumberClass:
    """The class of a dialled number under `plan` (Poland unless given).

    Plan fields may also be given by keyword (`country_code="86"`), which
    replace the plan's. With `extensions`, INTERNAL means one of those numbers
    rather than a number of extension length. Raises ValidationError when the
    number is not dialable at all.
    """
    plan = plan or POLAND
    if plan_fields:
        plan = dataclasses.replace(plan, **plan_fields)
    n = normalise_number(number)
    if n in plan.emergency:
        return NumberClass.EMERGENCY
    if "*" in n or "#" in n:
        # Feature codes (*97 voicemail, #8 pickup) never leave the box.
        return NumberClass.INTERNAL
    intl = plan.international_prefix
    if n.startswith("+") or (intl and n.startswith(intl)):
        rest = n[1:] if n.startswith("+") else n[len(intl):]
        if rest.startswith(plan.country_code):
            return _national(plan, rest[len(plan.country_code):])
        if any(p.startswith("+") and ("+" + rest).startswith(p) for p in plan.premium_prefixes):
            return NumberClass.PREMIUM
        return NumberClass.INTERNATIONAL
    national = plan.national_prefix
    if national and n.startswith(national) and len(n) > len(national):
        return _national(plan, n[len(national):])
    if extensions is not None:
        if n in extensions:
            return NumberClass.INTERNAL
    elif len(n) in plan.extension_lengths:
        return NumberClass.INTERNAL
    if len(n) in plan.local_lengths and not _premium(plan, n):
        return NumberClass.LOCAL
    # Whatever else was dialled without a prefix is a national number (Polish
    # nine-digit numbers, Chinese mobiles) or a national short code; treating
    # unknown shapes as national keeps them off the cheapest rung.
    return _national(plan, n)


def _premium(plan: NumberingPlan, national_number: str) -> bool:
    return any(not p.startswith("+") and national_number.startswith(p) for p in plan.premium_prefixes)


def _national(plan: NumberingPlan, national_number: str) -> NumberClass:
    if _premium(plan, national_number):
        return NumberClass.PREMIUM
    if plan.area_code and national_number.startswith(plan.area_code):
        return NumberClass.LOCAL
    return NumberClass.NATIONAL


_LADDER = {
    ClassOfService.INTERNAL: 0, ClassOfService.LOCAL: 1,
    ClassOfService.NATIONAL: 2, ClassOfService.INTERNATIONAL: 3,
}
# The rung a number class needs; premium sits with international on purpose:
# a premium call can cost as much as an intercontinental one.
_NEEDS = {
    NumberClass.INTERNAL: ClassOfService.INTERNAL, NumberClass.LOCAL: ClassOfService.LOCAL,
    NumberClass.NATIONAL: ClassOfService.NATIONAL, NumberClass.INTERNATIONAL: ClassOfService.INTERNATIONAL,
    NumberClass.PREMIUM: ClassOfService.INTERNATIONAL,
}


def permitted(ext_cos: ClassOfService | str, number_class: NumberClass | str) -> bool:
    """Whether an extension with class of service `ext_cos` may dial a number of `number_class`."""
    number_class = NumberClass(number_class)
    if number_class is NumberClass.EMERGENCY:
        return True
    return _LADDER[ClassOfService(ext_cos)] >= _LADDER[_NEEDS[number_class]]


def reaches(ext_cos: ClassOfService | str, required: ClassOfService | str) -> bool:
    """Whether class of service `ext_cos` stands at least as high on the ladder as `required`."""
    return _LADDER[ClassOfService(ext_cos)] >= _LADDER[ClassOfService(required)]
