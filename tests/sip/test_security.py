"""The edge's defences: bans, scanners, the allow-list and the rate limit."""

from __future__ import annotations

import json

import pytest

from appliance.errors import SettingError
from appliance.sip.security import (
    DEFAULT_SCANNER_USER_AGENTS,
    Guard,
    Reason,
    SecurityPolicy,
    Verdict,
)
from tests.fake_clock import FakeClock


GUESSER = "127.0.0.2"
PHONE = "127.0.0.1"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def guard(clock: FakeClock) -> Guard:
    return Guard(SecurityPolicy(ban_failures=5, ban_window_s=60, ban_time_s=600), clock)


# ---- bans after failed authentication ---------------------------------------


def test_ban_after_the_nth_failure_in_the_window_and_not_before(guard, clock):
    for _ in range(4):
        assert guard.auth_failed(GUESSER) is None
        clock.advance(10)
        assert guard.check(GUESSER).verdict is Verdict.ALLOW
    ban = guard.auth_failed(GUESSER)
    assert ban is not None
    assert (ban.ip, ban.failures, ban.since, ban.until) == (GUESSER, 5, clock(), clock() + 600)
    decision = guard.check(GUESSER)
    assert (decision.verdict, decision.reason) == (Verdict.DROP, Reason.BANNED)
    # Another address is not affected.
    assert guard.check(PHONE).allowed
    assert [b.ip for b in guard.bans()] == [GUESSER]


def test_failures_outside_the_window_do_not_count(guard, clock):
    for _ in range(4):
        guard.auth_failed(GUESSER)
    clock.advance(61)
    assert guard.auth_failed(GUESSER) is None
    assert guard.failures(GUESSER) == 1
    assert guard.check(GUESSER).allowed
    for _ in range(3):
        assert guard.auth_failed(GUESSER) is None
    assert guard.auth_failed(GUESSER) is not None


def test_sliding_window_counts_the_last_window_only(guard, clock):
    # One failure every 15 s: at most 4 fit in any 60 s window.
    for _ in range(20):
        assert guard.auth_failed(GUESSER) is None
        clock.advance(15)
    fast = Guard(SecurityPolicy(ban_failures=5, ban_window_s=60), clock)
    bans = []
    for _ in range(5):
        bans.append(fast.auth_failed(GUESSER))
        clock.advance(14)
    assert bans[-1] is not None and bans[:-1] == [None] * 4


def test_ban_is_lifted_after_ban_time(guard, clock):
    for _ in range(5):
        guard.auth_failed(GUESSER)
    clock.advance(599)
    assert guard.check(GUESSER).reason == Reason.BANNED
    assert guard.expire() == []
    clock.advance(1)
    assert guard.check(GUESSER).allowed
    assert guard.bans() == []
    lifted = guard.expire()
    assert [b.ip for b in lifted] == [GUESSER]
    assert guard.expire() == []
    # The count starts afresh after a ban.
    assert guard.auth_failed(GUESSER) is None


def test_unban_lifts_at_once(guard):
    for _ in range(5):
        guard.auth_failed(GUESSER)
    assert guard.unban(GUESSER) is True
    assert guard.check(GUESSER).allowed
    assert guard.bans() == []
    assert guard.unban(GUESSER) is False
    assert guard.auth_failed(GUESSER) is None


def test_success_clears_failures(guard):
    for _ in range(4):
        guard.auth_failed(GUESSER)
    guard.auth_succeeded(GUESSER)
    assert guard.failures(GUESSER) == 0
    for _ in range(4):
        assert guard.auth_failed(GUESSER) is None


def test_failures_while_banned_do_not_extend_the_ban(guard, clock):
    for _ in range(5):
        first = guard.auth_failed(GUESSER)
    clock.advance(100)
    assert guard.auth_failed(GUESSER) is None
    assert [b.until for b in guard.bans()] == [first.until]


def test_manual_ban_and_json_safe_dict(guard, clock):
    ban = guard.ban(GUESSER, reason="seen in the logs", duration_s=30)
    assert guard.check(GUESSER).reason == Reason.BANNED
    assert json.loads(json.dumps(ban.to_dict())) == {
        "ip": GUESSER, "since": clock(), "until": clock() + 30, "reason": "seen in the logs", "failures": 0,
    }
    clock.advance(30)
    assert guard.check(GUESSER).allowed


def test_policy_change_applies_to_the_next_failures(guard):
    guard.update_policy(SecurityPolicy(ban_failures=2))
    assert guard.auth_failed(GUESSER) is None
    assert guard.auth_failed(GUESSER) is not None


# ---- scanners ---------------------------------------------------------------


@pytest.mark.parametrize(
    "user_agent",
    ["friendly-scanner", "FRIENDLY-SCANNER", "sipvicious 0.3.8", "SIPVicious", "sipcli/v1.8",
     "VaxSIPUserAgent/3.1", "PortSIP VoIP SDK 11.2", "pplsip", "iWar", "sundayddr", "smap 0.6.0"],
)
def test_scanner_user_agents_are_dropped(guard, user_agent):
    decision = guard.check(PHONE, user_agent)
    assert (decision.verdict, decision.reason) == (Verdict.DROP, Reason.SCANNER)


@pytest.mark.parametrize(
    "user_agent",
    ["Yealink SIP-T46S 66.86.0.15", "Grandstream GXP2170 1.0.11.3", "baresip v3.10.1 (x86_64/linux)",
     "PJSUA v2.15.1 Linux-6.1/x86_64/glibc-2.36", "Linphone Desktop/5.2.4 (Debian) LinphoneSDK/5.2.4",
     "MicroSIP/3.21.3", "snom D785/10.1.141.13", "Cisco/SPA504G-7.6.2", ""],
)
def test_normal_phones_are_allowed(guard, user_agent):
    assert guard.check(PHONE, user_agent).allowed


def test_scanner_hiding_in_the_from_display_name(guard):
    assert guard.check(PHONE, "Yealink SIP-T46S", from_name="friendly-scanner").reason == Reason.SCANNER


def test_scanner_list_comes_from_the_policy(guard):
    guard.update_policy(SecurityPolicy(scanner_user_agents=("EvilDialer",)))
    assert guard.check(PHONE, "friendly-scanner").allowed
    assert guard.check(PHONE, "evildialer/2").reason == Reason.SCANNER


def test_default_list_is_sane():
    assert all(a.strip() for a in DEFAULT_SCANNER_USER_AGENTS)
    assert len({a.lower() for a in DEFAULT_SCANNER_USER_AGENTS}) == len(DEFAULT_SCANNER_USER_AGENTS)


# ---- allow-list -------------------------------------------------------------


def test_empty_allow_list_lets_everyone_talk(guard):
    assert guard.check("203.0.113.7").allowed
    assert guard.check("2001:db8::1").allowed


def test_allow_list_with_cidrs(clock):
    guard = Guard(SecurityPolicy(allow_networks=["127.0.0.0/30", "10.1.0.0/16", "2001:db8::/32"]), clock)
    for ip in ("127.0.0.1", "127.0.0.3", "10.1.200.9", "2001:db8::5", "::ffff:10.1.0.1"):
        assert guard.check(ip).allowed, ip
    for ip in ("127.0.0.4", "10.2.0.1", "2001:db9::1", "not-an-address"):
        decision = guard.check(ip)
        assert (decision.verdict, decision.reason) == (Verdict.DROP, Reason.NOT_IN_ALLOW_LIST), ip


def test_allow_list_does_not_exempt_from_bans(clock):
    guard = Guard(SecurityPolicy(allow_networks=["127.0.0.0/8"], ban_failures=1), clock)
    guard.auth_failed(PHONE)
    assert guard.check(PHONE).reason == Reason.BANNED


def test_allow_list_change_takes_effect(guard):
    assert guard.check(GUESSER).allowed
    guard.policy = SecurityPolicy(allow_networks=["127.0.0.1/32"])
    assert guard.check(GUESSER).reason == Reason.NOT_IN_ALLOW_LIST
    assert guard.check(PHONE).allowed


def test_bad_policy_is_refused_and_the_old_one_kept(guard):
    with pytest.raises(SettingError) as caught:
        guard.update_policy(SecurityPolicy(allow_networks=["10.0.0.0/33"]))
    assert caught.value.key == "allow_networks"
    with pytest.raises(SettingError):
        guard.update_policy(SecurityPolicy(ban_failures=0))
    assert guard.policy.allow_networks == []
    assert guard.check(GUESSER).allowed


# ---- rate limit -------------------------------------------------------------


def test_rate_limit_allows_a_burst_then_refills(clock):
    guard = Guard(SecurityPolicy(rate_limit_per_s=10, rate_burst=20), clock)
    assert all(guard.check(PHONE).allowed for _ in range(20))
    decision = guard.check(PHONE)
    assert (decision.verdict, decision.reason) == (Verdict.DROP, Reason.RATE_LIMITED)
    assert guard.check(GUESSER).allowed  # buckets are per address
    clock.advance(0.5)  # five tokens come back
    assert [guard.check(PHONE).allowed for _ in range(6)] == [True] * 5 + [False]
    clock.advance(1000)  # never more than the burst
    assert sum(guard.check(PHONE).allowed for _ in range(30)) == 20


def test_steady_rate_below_the_limit_is_never_dropped(clock):
    guard = Guard(SecurityPolicy(rate_limit_per_s=10, rate_burst=1), clock)
    for _ in range(100):
        assert guard.check(PHONE).allowed
        clock.advance(0.1)


# ---- memory -----------------------------------------------------------------


def test_memory_stays_bounded_with_100k_addresses(clock):
    guard = Guard(SecurityPolicy(ban_failures=1, allow_networks=["10.0.0.0/8"]), clock,
                  max_tracked=65_536, max_bans=65_536)
    for n in range(100_000):
        ip = f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}"
        guard.check(ip)
        guard.auth_failed(ip)
    assert guard.tracked() <= 65_536
    assert len(guard.bans()) <= 65_536
    # The most recent addresses are the ones remembered.
    assert guard.is_banned("10.1.134.159")  # n = 99_999
    assert not guard.is_banned("10.0.0.0")  # n = 0, forgotten first


def test_least_recently_seen_address_is_forgotten_first(clock):
    guard = Guard(SecurityPolicy(ban_failures=3), clock, max_tracked=3)
    guard.auth_failed("127.0.0.10")
    guard.auth_failed("127.0.0.10")
    guard.check("127.0.0.11")
    guard.check("127.0.0.12")
    guard.check("127.0.0.10")  # seen again: now the most recent
    guard.check("127.0.0.13")  # pushes out .11
    assert guard.tracked() == 3
    assert guard.failures("127.0.0.10") == 2
    assert guard.auth_failed("127.0.0.10") is not None


# ---- protected addresses: slowed down, never banned by failures -------------


def test_failures_from_a_protected_address_slow_it_down_instead_of_banning(guard, clock):
    for _ in range(20):
        assert guard.auth_failed(PHONE, protected=True) is None
    assert not guard.is_banned(PHONE)
    assert guard.is_slowed(PHONE)
    # One credential check a second while slowed down.
    assert [guard.admit_credentials(PHONE) for _ in range(3)] == [True, False, False]
    clock.advance(1.0)
    assert guard.admit_credentials(PHONE)
    # Slowed for ban_time_s after the last burst of failures, then back to normal.
    clock.advance(600)
    assert not guard.is_slowed(PHONE)
    assert all(guard.admit_credentials(PHONE) for _ in range(10))


def test_an_unprotected_address_is_banned_and_others_are_never_slowed(guard):
    for _ in range(4):
        guard.auth_failed(PHONE, protected=True)
    assert not guard.is_slowed(PHONE) and guard.admit_credentials(PHONE)
    bans = [guard.auth_failed(GUESSER) for _ in range(5)]
    assert bans[-1] is not None and guard.is_banned(GUESSER)


def test_an_administrators_ban_applies_to_a_protected_address(guard):
    guard.ban(PHONE)
    assert guard.check_address(PHONE).verdict is Verdict.DROP


# ---- address checks before parsing, registered sources, overall limit --------


def test_a_registered_source_has_its_own_bucket(clock):
    guard = Guard(SecurityPolicy(rate_limit_per_s=10, rate_burst=10), clock)
    for _ in range(10):
        assert guard.check_address(PHONE).allowed
    assert guard.check_address(PHONE).reason == Reason.RATE_LIMITED
    # The phone registered from PHONE:5070 is not starved by the flood from PHONE's other ports.
    assert all(guard.check_address(PHONE, ("udp", PHONE, 5070)).allowed for _ in range(10))
    assert not guard.check_address(PHONE, ("udp", PHONE, 5070)).allowed


def test_the_overall_limit_caps_all_addresses_together(clock):
    guard = Guard(SecurityPolicy(rate_limit_per_s=100, rate_burst=100, overall_rate_per_s=50), clock)
    allowed = sum(guard.check_address(f"10.0.{i // 250}.{i % 250}").allowed for i in range(500))
    assert allowed == 50
    assert guard.check_address("10.9.9.9").reason == Reason.OVERALL_LIMIT
    # Registered sources are not counted in it.
    assert guard.check_address("10.9.9.9", "udp:10.9.9.9:5060").allowed
    clock.advance(1.0)
    assert guard.check_address("10.9.9.9").allowed


def test_the_overall_limit_follows_the_per_address_rate_by_default():
    assert SecurityPolicy(rate_limit_per_s=200).overall_rate == 2000
    assert SecurityPolicy(rate_limit_per_s=100000).overall_rate == 1_000_000
    assert SecurityPolicy(rate_limit_per_s=10).overall_rate == 2000


def test_check_agent_needs_no_address(guard):
    assert guard.check_agent("friendly-scanner").reason == Reason.SCANNER
    assert guard.check_agent("Yealink SIP-T46S").allowed
