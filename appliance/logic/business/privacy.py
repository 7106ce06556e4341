"""Privacy rules: how long each kind of data is kept, finding one person's data, the recording notice.

- Retention: each kind (recordings, voicemail, call records, contacts, SMS)
  is kept a number of days, or without limit (None). An item is due for
  deletion once it is at least that many days old (days × 24 h after its
  time, to the second), unless it is on hold (`"hold": true`, e.g. kept for
  a dispute). An item whose time cannot be read is never deleted on a guess.
- One person's data: `matches_number` compares the numbers in a record
  with the person's number in every form people and lines write it
  (+48 601 234 567, 0048601234567, 48601234567, 601 234 567 are one number
  in Poland), for export and erasure on request.
- Recording notice: a route records only if the caller was told; where the
  route lets callers decline, a caller who declined is not recorded, and a
  caller who declined is never recorded whatever the route says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Any

from appliance.errors import ValidationError
from appliance.logic.routing import POLAND, NumberingPlan
from appliance.logic.stats.schema import parse_time


class DataKind(StrEnum):
    RECORDINGS = "recordings"
    VOICEMAIL = "voicemail"
    CALL_RECORDS = "call_records"
    CONTACTS = "contacts"
    SMS = "sms"


# The field holding each kind's age. Contacts age from their last change or
# use, not from their creation: a customer who calls every week stays.
TIME_FIELDS: dict[DataKind, tuple[str, ...]] = {
    DataKind.RECORDINGS: ("start", "created"),
    DataKind.VOICEMAIL: ("received", "created", "start"),
    DataKind.CALL_RECORDS: ("start",),
    DataKind.CONTACTS: ("last_used", "updated", "created"),
    DataKind.SMS: ("time", "received", "sent"),
}

# Defaults an owner can change: long enough to settle a complaint about a call
# or a bill, short enough not to hoard voices. None keeps without limit.
DEFAULT_RETENTION_DAYS: dict[DataKind, int | None] = {
    DataKind.RECORDINGS: 90,
    DataKind.VOICEMAIL: 60,
    DataKind.CALL_RECORDS: 365,
    DataKind.CONTACTS: None,
    DataKind.SMS: 365,
}


@dataclass(frozen=True)
class RetentionPolicy:
    """Days each kind of data is kept; None keeps it until erased on request."""

    days: Mapping[DataKind, int | None] = field(default_factory=lambda: dict(DEFAULT_RETENTION_DAYS))

    def __post_init__(self) -> None:
        fixed = {}
        for name, days in self.days.items():
            try:
                kind = DataKind(name)
            except ValueError:
                raise ValidationError(f"{name!r} is not a kind of data "
                                      f"({', '.join(k.value for k in DataKind)})") from None
            if days is not None and (isinstance(days, bool) or not isinstance(days, int) or days < 0):
                raise ValidationError(f"retention of {kind.value}: a whole number of days, 0 or more")
            fixed[kind] = days
        object.__setattr__(self, "days", {k: fixed.get(k, DEFAULT_RETENTION_DAYS[k]) for k in DataKind})

    def keep_days(self, kind: DataKind | str) -> int | None:
        return self.days[DataKind(kind)]


def item_time(item: Mapping[str, Any], kind: DataKind | str, tz: tzinfo = timezone.utc) -> datetime | None:
    """The time an item ages from (UTC), or None when it has none readable."""
    for key in TIME_FIELDS[DataKind(kind)]:
        value = item.get(key)
        if value in (None, ""):
            continue
        try:
            return parse_time(value, tz)
        except ValidationError:
            return None
    return None


def due_for_deletion(items: Iterable[Mapping[str, Any]], kind: DataKind | str, now: datetime,
                     policy: RetentionPolicy | None = None, tz: tzinfo = timezone.utc) -> list[Mapping[str, Any]]:
    """The items of `kind` whose retention has run out at `now`, in input order.

    `now` must carry its zone; item times without an offset are read in `tz`
    (the box's zone).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValidationError("now must carry its time zone")
    kind = DataKind(kind)
    days = (policy or RetentionPolicy()).keep_days(kind)
    if days is None:
        return []
    cutoff = now.astimezone(timezone.utc) - timedelta(days=days)
    due = []
    for item in items:
        if item.get("hold"):
            continue
        when = item_time(item, kind, tz)
        if when is not None and when <= cutoff:
            due.append(item)
    return due


# --------------------------------------------------------------------------
# One person's number

_SEPARATORS = str.maketrans("", "", " -.()/\u00a0")
_DIGITS = re.compile(r"\+?[0-9]+")
# Shorter national numbers than this are short codes and extensions, never
# read as "country code + number" when written without a plus.
_MIN_NATIONAL = 6

NUMBER_FIELDS = ("caller", "callee", "number", "numbers", "phone", "phones", "from", "to")


def number_forms(number: str, plan: NumberingPlan = POLAND) -> frozenset[str]:
    """Every international form (digits after +) a written number may stand for.

    "+48601234567", "0048601234567" and "0601234567" are one form each;
    "601234567" is the national number (+48 601234567); "48601234567",
    written without a plus, may be either that national number or the
    international one, so it yields both. Empty for a withheld or
    non-numeric caller ("anonymous", "").
    """
    if not isinstance(number, str):
        return frozenset()
    n = number.translate(_SEPARATORS)
    if not _DIGITS.fullmatch(n):
        return frozenset()
    cc, intl, national = plan.country_code, plan.international_prefix, plan.national_prefix
    if n.startswith("+"):
        return frozenset({n[1:]})
    if intl and n.startswith(intl):
        return frozenset({n[len(intl):]})
    if national and n.startswith(national) and len(n) > len(national):
        return frozenset({cc + n[len(national):]})
    forms = {cc + n}
    if n.startswith(cc) and len(n) - len(cc) >= _MIN_NATIONAL:
        forms.add(n)
    return frozenset(forms)


def _numbers_in(record: Mapping[str, Any], fields: Iterable[str]) -> Iterable[str]:
    for key in fields:
        value = record.get(key)
        if isinstance(value, str):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, str))


def matches_number(record: Mapping[str, Any], number: str, plan: NumberingPlan = POLAND,
                   fields: Iterable[str] = NUMBER_FIELDS) -> bool:
    """Whether any number in the record (caller, callee, a contact's numbers...) is `number`.

    Raises ValidationError when `number` itself is not a phone number, so
    that an erasure never runs on a typo that matches nothing.
    """
    wanted = number_forms(number, plan)
    if not wanted:
        raise ValidationError(f"{number!r} is not a phone number")
    return any(number_forms(n, plan) & wanted for n in _numbers_in(record, fields))


# --------------------------------------------------------------------------
# Recording notice


class RecordingMode(StrEnum):
    """What a route does about recording, as the admin chose it."""

    NEVER = "never"          # not recorded, nothing said
    ANNOUNCE = "announce"    # "this call may be recorded", no way to decline on the keypad
    OPT_OUT = "opt_out"      # the notice and "press 9 to decline"


NOTICE_PROMPT = "this-call-may-be-recorded"
DECLINE_PROMPT = "press-9-to-decline-recording"
DECLINE_DIGIT = "9"


@dataclass(frozen=True)
class RoutePolicy:
    recording: RecordingMode = RecordingMode.NEVER

    def __post_init__(self) -> None:
        object.__setattr__(self, "recording", RecordingMode(self.recording))


def _mode(route_policy: RoutePolicy | RecordingMode | str | Mapping[str, Any] | None) -> RecordingMode:
    if route_policy is None:
        return RecordingMode.NEVER
    if isinstance(route_policy, RoutePolicy):
        return route_policy.recording
    if isinstance(route_policy, Mapping):
        route_policy = route_policy.get("recording", RecordingMode.NEVER)
    try:
        return RecordingMode(route_policy)
    except ValueError:
        raise ValidationError(f"{route_policy!r} is not a recording mode "
                              f"({', '.join(m.value for m in RecordingMode)})") from None


def recording_notice(route_policy: RoutePolicy | RecordingMode | str | Mapping[str, Any] | None) -> tuple[str, ...]:
    """The prompts to play before a call on this route may be recorded."""
    mode = _mode(route_policy)
    if mode is RecordingMode.ANNOUNCE:
        return (NOTICE_PROMPT,)
    if mode is RecordingMode.OPT_OUT:
        return (NOTICE_PROMPT, DECLINE_PROMPT)
    return ()


def recording_allowed(route_policy: RoutePolicy | RecordingMode | str | Mapping[str, Any] | None,
                      caller_declined: bool) -> bool:
    """Whether this call may be recorded (after the notice of `recording_notice` was played).

    A caller who declined is never recorded: on an "announce" route there is
    no key for it, but an agent who hears "I do not want to be recorded"
    records the refusal the same way.
    """
    mode = _mode(route_policy)
    if mode is RecordingMode.NEVER or caller_declined:
        return False
    return True
