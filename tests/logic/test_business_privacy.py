"""Retention, one person's number in all its forms, and the recording notice."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from appliance.errors import ValidationError
from appliance.logic.business import (
    DataKind,
    RecordingMode,
    RetentionPolicy,
    RoutePolicy,
    due_for_deletion,
    matches_number,
    number_forms,
    recording_allowed,
    recording_notice,
)
from appliance.logic.routing import CHINA, POLAND
from appliance.logic.stats import zone

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def at(delta: timedelta) -> str:
    return (NOW - delta).isoformat()


# ---------------------------------------------------------------- retention

def test_retention_boundary_is_inclusive_to_the_second():
    policy = RetentionPolicy({DataKind.RECORDINGS: 90})
    exactly = {"id": "exactly", "start": at(timedelta(days=90))}
    a_second_younger = {"id": "younger", "start": at(timedelta(days=90) - timedelta(seconds=1))}
    older = {"id": "older", "start": at(timedelta(days=400))}
    due = due_for_deletion([exactly, a_second_younger, older], "recordings", NOW, policy)
    assert [i["id"] for i in due] == ["exactly", "older"]


@pytest.mark.parametrize("kind, field, default_days", [
    (DataKind.RECORDINGS, "start", 90),
    (DataKind.VOICEMAIL, "received", 60),
    (DataKind.CALL_RECORDS, "start", 365),
    (DataKind.SMS, "time", 365),
])
def test_default_retention_per_kind(kind, field, default_days):
    old = {field: at(timedelta(days=default_days))}
    young = {field: at(timedelta(days=default_days - 1))}
    assert due_for_deletion([old, young], kind, NOW) == [old]


def test_contacts_are_kept_until_erased_by_default_and_age_from_last_use():
    contact = {"name": "Ann", "created": at(timedelta(days=3000)), "last_used": at(timedelta(days=10))}
    assert due_for_deletion([contact], DataKind.CONTACTS, NOW) == []
    policy = RetentionPolicy({DataKind.CONTACTS: 730})
    assert due_for_deletion([contact], DataKind.CONTACTS, NOW, policy) == []     # used 10 days ago
    stale = {**contact, "last_used": at(timedelta(days=731))}
    assert due_for_deletion([stale], DataKind.CONTACTS, NOW, policy) == [stale]


def test_zero_days_deletes_everything_up_to_now_and_none_keeps_forever():
    items = [{"start": at(timedelta(0))}, {"start": at(timedelta(days=-1))}]   # now, and tomorrow
    assert due_for_deletion(items, "call_records", NOW, RetentionPolicy({"call_records": 0})) == items[:1]
    assert due_for_deletion(items, "call_records", NOW, RetentionPolicy({"call_records": None})) == []


def test_held_and_unreadable_items_are_kept():
    old = timedelta(days=1000)
    items = [{"start": at(old), "hold": True}, {"start": "yesterday"}, {"start": None}, {}]
    assert due_for_deletion(items, "recordings", NOW) == []


def test_local_times_are_read_in_the_box_zone():
    # 2026-08-24 14:00 in Warsaw (UTC+2) is 12:00 UTC: exactly 90 days before NOW.
    item = {"start": "2026-08-24T14:00:00"}
    policy = RetentionPolicy({"recordings": 90})
    assert due_for_deletion([item], "recordings", NOW, policy, tz=zone("Europe/Warsaw")) == [item]
    # Read as UTC it is two hours younger: not yet.
    assert due_for_deletion([item], "recordings", NOW, policy) == []


def test_bad_policies_and_times():
    with pytest.raises(ValidationError):
        RetentionPolicy({"recordings": -1})
    with pytest.raises(ValidationError):
        RetentionPolicy({"recordings": 1.5})
    with pytest.raises(ValidationError):
        RetentionPolicy({"faxes": 10})
    with pytest.raises(ValidationError):
        due_for_deletion([], "recordings", datetime(2026, 1, 1))


# ---------------------------------------------------------------- one person's number

PERSON = "+48 601 234 567"


@pytest.mark.parametrize("written, same", [
    ("+48601234567", True),
    ("+48 601 234 567", True),
    ("0048601234567", True),
    ("0048 601-234-567", True),
    ("601234567", True),
    ("601 234 567", True),
    ("48601234567", True),          # the plus left out, as people write it
    ("(0) 601 234 567", True),      # a national prefix Poland no longer dials, still the number
    ("+48601234568", False),
    ("+49601234567", False),        # Germany
    ("0049601234567", False),
    ("601234", False),
    ("anonymous", False),
    ("", False),
])
def test_number_table_poland(written, same):
    assert matches_number({"caller": written, "callee": "1001"}, PERSON) is same


def test_all_forms_match_each_other():
    forms = ["+48601234567", "0048601234567", "601234567", "48601234567", "601-234-567"]
    for a in forms:
        for b in forms:
            assert matches_number({"caller": a}, b), (a, b)


@pytest.mark.parametrize("written, same", [
    ("+86 138 1234 5678", True),
    ("008613812345678", True),
    ("13812345678", True),
    ("8613812345678", True),
    ("+48 138 1234 5678", False),
])
def test_number_table_china(written, same):
    assert matches_number({"callee": written}, "13812345678", CHINA) is same


def test_national_number_written_with_country_code_is_not_a_short_number():
    # "48123" is too short to be 48 + a national number: only the number 48123 itself.
    assert number_forms("48123", POLAND) == {"4848123"}


def test_fields_checked_include_lists_of_a_contacts_numbers():
    contact = {"name": "Ann", "phones": ["+48 22 123 45 67", "601 234 567"]}
    assert matches_number(contact, PERSON)
    assert not matches_number({"name": "601234567"}, PERSON)    # not a number field
    assert matches_number({"from": "0048601234567", "body": "hi"}, PERSON)   # an SMS


def test_an_erasure_never_runs_on_a_number_that_is_no_number():
    with pytest.raises(ValidationError):
        matches_number({"caller": "anonymous"}, "anonymous")
    with pytest.raises(ValidationError):
        matches_number({"caller": ""}, "")


# ---------------------------------------------------------------- recording notice

@pytest.mark.parametrize("policy, declined, allowed, prompts", [
    (RecordingMode.NEVER, False, False, ()),
    (RecordingMode.NEVER, True, False, ()),
    (RecordingMode.ANNOUNCE, False, True, ("this-call-may-be-recorded",)),
    (RecordingMode.ANNOUNCE, True, False, ("this-call-may-be-recorded",)),
    (RecordingMode.OPT_OUT, False, True, ("this-call-may-be-recorded", "press-9-to-decline-recording")),
    (RecordingMode.OPT_OUT, True, False, ("this-call-may-be-recorded", "press-9-to-decline-recording")),
])
def test_recording_decision(policy, declined, allowed, prompts):
    for form in (policy, policy.value, RoutePolicy(policy), {"recording": policy.value}):
        assert recording_allowed(form, declined) is allowed
        assert recording_notice(form) == prompts


def test_no_policy_means_no_recording_and_unknown_modes_are_refused():
    assert recording_allowed(None, False) is False and recording_notice({}) == ()
    with pytest.raises(ValidationError):
        recording_allowed("secretly", False)


def test_notice_prompts_exist_in_every_language():
    from appliance.prompts import BUILTIN_PROMPTS
    for lang, phrases in BUILTIN_PROMPTS.items():
        for name in recording_notice(RecordingMode.OPT_OUT):
            assert name in phrases, (lang, name)
