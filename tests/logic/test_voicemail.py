"""Voicemail boxes: their config, PINs and the guard against guessing them, greetings, MWI bodies."""

from __future__ import annotations

import pytest

from appliance.errors import ValidationError
from appliance.logic.voicemail import (
    BoxConfig, GreetingKind, PinGuard, check_pin, choose_greeting, hash_pin, message_summary, validate_pin)
from tests.logic.test_voicemail_support import FakeClock


# --- box config, PIN, greetings, MWI -------------------------------------------------------

@pytest.mark.parametrize("pin", ["1234", "0000", "9876543210"])
def test_a_pin_of_4_to_10_digits_is_hashed_and_checks(pin):
    h = hash_pin(pin)
    scheme, _iterations, _salt, digest = h.split("$")
    assert scheme == "pbkdf2_sha256" and len(digest) == 64 and digest != pin
    assert check_pin(pin, h)
    assert not check_pin(pin[:-1] + str((int(pin[-1]) + 1) % 10), h)


@pytest.mark.parametrize("pin", ["123", "12345678901", "12a4", "", "١٢٣٤"])
def test_a_pin_that_is_not_4_to_10_digits_is_refused(pin):
    with pytest.raises(ValidationError):
        validate_pin(pin)


def test_two_hashes_of_one_pin_differ_by_their_salt():
    assert hash_pin("1234") != hash_pin("1234")


@pytest.mark.parametrize("stored", ["", "garbage", "md5$1$00$00", "pbkdf2_sha256$x$zz$00"])
def test_a_malformed_stored_hash_never_matches(stored):
    assert not check_pin("1234", stored)


def test_box_config_defaults_and_round_trip():
    box = BoxConfig("1001", owner="1001", email="ann@example.com").with_pin("4321")
    assert (box.max_message_s, box.max_messages) == (180, 100)
    again = BoxConfig.from_dict(box.to_dict())
    assert again == box and check_pin("4321", again.pin_hash)
    assert check_pin("5555", BoxConfig.from_dict({"number": "sales", "pin": "5555"}).pin_hash)


@pytest.mark.parametrize("bad", [{"number": ""}, {"number": "../etc"}, {"number": ".hidden"},
                                 {"number": "a/b"}, {"number": "1", "max_message_s": 0},
                                 {"number": "1", "max_messages": 0},
                                 {"number": "1", "email": "a@b.c, d@e.f"}, {"number": "1", "pin": "12"},
                                 {"number": "1", "unknown_field_is_ignored": 1, "max_messages": "x"},
                                 {"number": "1", "attach_audio": "yes"}, {"number": 1001}])
def test_a_bad_box_config_is_refused(bad):
    with pytest.raises(ValidationError):
        BoxConfig.from_dict(bad)


@pytest.mark.parametrize("reason, recorded, expected", [
    ("unavailable", set(), None),
    ("busy", set(), None),
    ("unavailable", {"unavailable", "busy"}, GreetingKind.UNAVAILABLE),
    ("busy", {"unavailable", "busy"}, GreetingKind.BUSY),
    ("busy", {"unavailable"}, None),
    ("busy", {"busy", "temporary"}, GreetingKind.TEMPORARY),
    ("unavailable", {"temporary"}, GreetingKind.TEMPORARY),
])
def test_the_temporary_greeting_overrides_the_others(reason, recorded, expected):
    assert choose_greeting(reason, recorded) == expected


@pytest.mark.parametrize("new, old, waiting", [(2, 8, "yes"), (0, 3, "no"), (0, 0, "no")])
def test_message_summary_follows_rfc_3842(new, old, waiting):
    ctype, body = message_summary(new, old, "sip:1001@box")
    assert ctype == "application/simple-message-summary"
    assert body == (f"Messages-Waiting: {waiting}\r\nMessage-Account: sip:1001@box\r\n"
                    f"Voice-Message: {new}/{old} (0/0)\r\n")


def test_message_summary_counts_urgent_messages():
    assert message_summary(3, 1, "sip:x@y", 1, 0)[1].endswith("Voice-Message: 3/1 (1/0)\r\n")


@pytest.mark.parametrize("args", [(-1, 0, "sip:a@b"), (1, True, "sip:a@b"), (1, 0, "sip:a@b\r\nX: y"),
                                  (1, 0, "nouri")])
def test_message_summary_refuses_bad_input(args):
    with pytest.raises(ValidationError):
        message_summary(*args)


# --- the PIN guard -------------------------------------------------------------------------

def test_a_box_locks_after_repeated_failures_and_unlocks_after_the_lockout():
    clock = FakeClock()
    guard = PinGuard(clock, max_failures=3, lockout_s=600)
    for _ in range(2):
        guard.failed("1001")
    assert not guard.is_locked("1001")
    guard.failed("1001")
    assert guard.is_locked("1001") and not guard.is_locked("1002")
    clock.advance(599)
    assert guard.is_locked("1001")
    clock.advance(1)
    assert not guard.is_locked("1001")
    guard.failed("1001")
    assert not guard.is_locked("1001")  # the count started again


def test_a_right_pin_clears_the_failures():
    guard = PinGuard(FakeClock(), max_failures=3)
    guard.failed("1001")
    guard.failed("1001")
    guard.succeeded("1001")
    guard.failed("1001")
    assert not guard.is_locked("1001")

def test_guessing_many_box_numbers_keeps_the_guard_small_and_locks_in_place():
    guard = PinGuard(FakeClock(), max_failures=2)
    guard.failed("1001")
    guard.failed("1001")
    for n in range(20_000):
        guard.failed(f"9{n}")
    assert guard.is_locked("1001") and len(guard._failures) <= 10_001
