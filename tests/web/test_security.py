"""Passwords, sessions, throttling and the settings form logic, without any server."""

from __future__ import annotations

import pytest

from tests.web.conftest import FakeClock
from web.kit import (LoginThrottle, SessionStore, build_fields, check_new_password, csrf_ok,
                     error_field, hash_password, parse_submission, role_allows, verify_password)


def test_password_hash_is_self_describing_salted_and_verifies():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert first != second  # a fresh salt each time
    assert verify_password("correct horse", first) and verify_password("correct horse", second)
    assert not verify_password("correct horsf", first)


@pytest.mark.parametrize("stored", ["", "plain", "scrypt$16384$8$1$AAAA", "md5$1$2$3$4$5",
                                    "scrypt$99999999999$8$1$AAAA$AAAA", "scrypt$x$8$1$AAAA$AAAA"])
def test_malformed_or_costly_hashes_never_verify(stored):
    assert not verify_password("anything", stored)


def test_new_password_rules():
    assert check_new_password("boss", "long enough 1", "long enough 1") is None
    assert "differ" in check_new_password("boss", "long enough 1", "long enough 2")
    assert "at least 10" in check_new_password("boss", "short", "short")
    assert "username" in check_new_password("bossbossbo", "bossbossbo", "bossbossbo")
    assert "different characters" in check_new_password("boss", "a" * 12, "a" * 12)


def test_roles_are_ranked():
    assert role_allows("admin", "supervisor") and role_allows("supervisor", "agent")
    assert not role_allows("agent", "supervisor") and not role_allows("supervisor", "admin")
    assert not role_allows("root", "agent")


def test_sessions_expire_when_idle_and_after_their_lifetime():
    clock = FakeClock()
    store = SessionStore(clock, idle_s=100, absolute_s=250)
    s = store.new("boss", "admin")
    clock.advance(99)
    assert store.get(s.id) is s
    clock.advance(99)
    assert store.get(s.id) is s
    clock.advance(60)  # 258 s old, though active
    assert store.get(s.id) is None
    idle = store.new()
    clock.advance(101)
    assert not store.alive(idle.id) and store.get(idle.id) is None


def test_alive_does_not_count_as_activity():
    clock = FakeClock()
    store = SessionStore(clock, idle_s=100, absolute_s=1000)
    s = store.new("boss", "admin")
    for _ in range(3):
        clock.advance(40)
        store.alive(s.id)
    assert store.get(s.id) is None


def test_full_store_drops_anonymous_sessions_first():
    clock = FakeClock()
    store = SessionStore(clock, max_sessions=3)
    boss = store.new("boss", "admin")
    anonymous = [store.new() for _ in range(5)]
    assert store.get(boss.id) is boss
    assert store.get(anonymous[-1].id) is not None
    assert store.get(anonymous[0].id) is None


def test_csrf_token_must_match_its_session():
    store = SessionStore(FakeClock())
    a, b = store.new(), store.new()
    assert csrf_ok(a, a.csrf_token)
    assert not csrf_ok(a, b.csrf_token) and not csrf_ok(a, "") and not csrf_ok(None, a.csrf_token)


def test_throttle_delays_grow_per_address_and_username_and_are_forgotten():
    clock = FakeClock()
    throttle = LoginThrottle(clock, free_failures=5, max_delay_s=300, forget_s=3600)
    for _ in range(5):
        assert throttle.retry_after("10.0.0.66", "boss") == 0
        throttle.failed("10.0.0.66", "boss")
    assert throttle.retry_after("10.0.0.66", "BOSS") == 1
    assert throttle.retry_after("10.0.0.7", "boss") == 0  # the owner, elsewhere: not slowed at all
    assert throttle.retry_after("10.0.0.66", "ann") == 0  # another user from that address
    for _ in range(20):
        throttle.failed("10.0.0.66", "boss")
    assert throttle.retry_after("10.0.0.66", "boss") == 300  # capped, not a lockout
    clock.advance(3600)
    assert throttle.retry_after("10.0.0.66", "boss") == 0


def test_a_new_password_starts_the_count_afresh():
    throttle = LoginThrottle(FakeClock(), free_failures=2)
    for _ in range(4):
        throttle.failed("10.0.0.66", "boss", generation="old")
    assert throttle.retry_after("10.0.0.66", "boss", generation="old") > 0
    assert throttle.retry_after("10.0.0.66", "boss", generation="new") == 0


def test_settings_submission_parses_types_and_keeps_only_changes():
    decls = [{"key": "sip.port", "type": "int", "value": 5060},
             {"key": "voicemail.enabled", "type": "bool", "value": True},
             {"key": "box.name", "type": "str", "value": "Callbox"},
             {"key": "recording.mode", "type": "str", "value": "off", "choices": ["off", "all"]}]
    shown = {"sip.port", "voicemail.enabled", "box.name", "recording.mode"}
    changes, errors, _ = parse_submission(
        decls, {"set:sip.port": "5070", "set:box.name": "Callbox", "set:recording.mode": "all"}, shown)
    assert changes == {"sip.port": 5070, "voicemail.enabled": False, "recording.mode": "all"}
    assert errors == {}
    changes, errors, submitted = parse_submission(decls, {"set:sip.port": "five"}, {"sip.port"})
    assert changes == {} and errors == {"sip.port": "must be a whole number"}
    assert submitted["sip.port"] == "five"


def test_field_kinds_follow_the_declared_types():
    kinds = [f.kind for f in build_fields([
        {"key": "a.x", "type": "int"}, {"key": "a.y", "type": "bool"}, {"key": "a.z", "type": "str"},
        {"key": "a.w", "type": "str", "choices": ["p", "q"]}, {"key": "a.s", "type": "secret"}])]
    assert kinds == ["number", "checkbox", "text", "select", "password"]


def test_api_error_messages_are_matched_to_their_setting():
    assert error_field("sip.port: must be between 1 and 65535", {"sip.port"}) == \
        ("sip.port", "must be between 1 and 65535")
    assert error_field("something else broke", {"sip.port"}) == (None, "something else broke")
