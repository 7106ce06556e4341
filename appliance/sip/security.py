"""The SIP edge's defences, as pure logic: who may talk to us at all.

`Guard.check()` runs on every packet before anything is parsed further, in
this order: the allow-list, then bans, then scanner user agents, then a
token-bucket rate limit per IP. Whatever fails is dropped silently: a scanner
learns nothing from silence, and an answer would only feed its list.

Decisions worth knowing:

- The allow-list restricts, it never exempts: an address inside it can
  still be banned or rate limited. An empty list lets every address talk.
  Loopback gets no special treatment.
- `auth_failed()` must be called once per wrong credential presented (or
  unknown user), never for a challenge: a phone's first REGISTER without
  credentials is normal.
- `auth_succeeded()` clears the address's failures. Several phones of one
  office behind one NAT address share a counter; a working phone keeps a
  mistyped one from getting the whole office banned, and a guesser never
  succeeds, so this gives it nothing.
- A ban clears the failures, so after it is lifted the count starts afresh.
- Failures from a protected address (one holding a live registration, or a
  trunk's) never ban it: over UDP the source is trivially forged, and a ban
  would lock out the office or the provider. Reaching the ban threshold slows
  such an address down instead: for `ban_time_s` it may present credentials
  only `slow_checks_per_s` times a second (`admit_credentials()`); the
  rest are dropped and a real phone's retransmission gets through later.
- Requests from a registered source (exactly the transport, address and port
  a live binding was made from) have a rate bucket of their own, keyed by that
  source: a flood from other ports of the same address cannot starve the
  phone, and they do not count towards the overall limit.
- The overall limit (`overall_rate_per_s`; by default ten times the
  per-address rate, at least 2,000/s) caps everything else together, so a
  flood from many addresses cannot take the CPU that registered phones need.
- Memory is bounded: at most `max_tracked` addresses keep rate and failure
  state (least recently seen forgotten first) and at most `max_bans` bans are
  held (the oldest forgotten first).
- Scanner user agents match case-insensitively as substrings of User-Agent,
  and of the From display name where some scanners hide. The default list
  leaves out a few names that real equipment also sends:
  "Cisco-SIPGateway" (Cisco IOS voice gateways, plausible as an FXO gateway
  on the LAN) and the bare "sipv" (it matches ordinary product names).
- All times (`Ban.since`, `Ban.until`) are in the units of the clock given.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Callable, Hashable

from appliance.errors import SettingError

log = logging.getLogger(__name__)

Clock = Callable[[], float]

DEFAULT_MAX_TRACKED = 65_536
MIN_OVERALL_RATE = 2000.0
_SCANNER_CACHE_MAX = 1024

# Tools and botnets seen knocking on SIP ports; each name is matched as a
# case-insensitive substring.
DEFAULT_SCANNER_USER_AGENTS: tuple[str, ...] = (
    "friendly-scanner",  # SIPVicious svmap/svwar default
    "sipvicious",
    "sipcli",
    "sip-scan",
    "sipscan",
    "sipsak",  # stress/diagnostic tool; allow it again by editing the policy
    "sundayddr",
    "iWar",
    "SIVuS",
    "smap",
    "VaxSIPUserAgent",
    "VaxIPUserAgent",
    "PortSIP VoIP SDK",
    "pplsip",
    "cpxvoip",
    "ABTO",
    "Gulp",
)


@dataclass
class SecurityPolicy:
    """The settings of the edge's defences; replaceable while running."""

    ban_failures: int = 5
    ban_window_s: float = 60.0
    ban_time_s: float = 600.0
    rate_limit_per_s: float = 50.0
    rate_burst: int = 100
    allow_networks: list[str] = field(default_factory=list)
    scanner_user_agents: tuple[str, ...] = DEFAULT_SCANNER_USER_AGENTS
    # Requests a second from all addresses together that are not registered sources; None: derived.
    overall_rate_per_s: float | None = None
    # Credentials a slowed-down (protected, failing) address may present per second.
    slow_checks_per_s: float = 1.0

    @property
    def overall_rate(self) -> float:
        if self.overall_rate_per_s is not None:
            return self.overall_rate_per_s
        return max(MIN_OVERALL_RATE, 10 * self.rate_limit_per_s)

    def validate(self) -> None:
        """Raise SettingError naming the first bad setting."""
        if self.ban_failures < 1:
            raise SettingError("ban_failures", "must be at least 1")
        if self.ban_window_s <= 0:
            raise SettingError("ban_window_s", "must be more than 0 seconds")
        if self.ban_time_s <= 0:
            raise SettingError("ban_time_s", "must be more than 0 seconds")
        if self.rate_limit_per_s <= 0:
            raise SettingError("rate_limit_per_s", "must be more than 0")
        if self.rate_burst < 1:
            raise SettingError("rate_burst", "must be at least 1")
        _parse_networks(self.allow_networks)
        if any(not isinstance(s, str) or not s.strip() for s in self.scanner_user_agents):
            raise SettingError("scanner_user_agents", "entries must be non-empty text")
        if self.overall_rate_per_s is not None and self.overall_rate_per_s <= 0:
            raise SettingError("overall_rate_per_s", "must be more than 0")
        if self.slow_checks_per_s <= 0:
            raise SettingError("slow_checks_per_s", "must be more than 0")


class Verdict(StrEnum):
    """Look at the packet, or drop it without a word."""

    ALLOW = "allow"
    DROP = "drop"


class Reason(StrEnum):
    """Why a packet was let in or dropped; words for logs and the event stream."""

    ALLOWED = "allowed"
    NOT_IN_ALLOW_LIST = "not in allow list"
    BANNED = "banned"
    SCANNER = "scanner user agent"
    RATE_LIMITED = "rate limited"
    OVERALL_LIMIT = "overall rate limited"


@dataclass(frozen=True)
class Decision:
    """A verdict with the reason for it."""

    verdict: Verdict
    reason: str

    @property
    def allowed(self) -> bool:
        return self.verdict is Verdict.ALLOW


_ALLOWED = Decision(Verdict.ALLOW, Reason.ALLOWED)
_NOT_IN_ALLOW_LIST = Decision(Verdict.DROP, Reason.NOT_IN_ALLOW_LIST)
_BANNED = Decision(Verdict.DROP, Reason.BANNED)
_SCANNER = Decision(Verdict.DROP, Reason.SCANNER)
_RATE_LIMITED = Decision(Verdict.DROP, Reason.RATE_LIMITED)
_OVERALL_LIMIT = Decision(Verdict.DROP, Reason.OVERALL_LIMIT)


@dataclass
class Ban:
    """An address we drop everything from until `until`."""

    ip: str
    since: float
    until: float
    reason: str
    failures: int

    def remaining(self, now: float) -> float:
        return max(0.0, self.until - now)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ip": self.ip,
            "since": self.since,
            "until": self.until,
            "reason": self.reason,
            "failures": self.failures,
        }


class _Peer:
    """What we remember about one address: its rate bucket, recent failures and
    whether it is slowed down (a protected address that kept failing)."""

    __slots__ = ("tokens", "refilled_at", "failures", "slow_until", "slow_tokens", "slow_at")

    def __init__(self, tokens: float, now: float, max_failures: int) -> None:
        self.tokens = tokens
        self.refilled_at = now
        self.failures: deque[float] = deque(maxlen=max_failures)
        self.slow_until = 0.0
        self.slow_tokens = 0.0
        self.slow_at = now


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse_networks(cidrs: list[str]) -> list[Network]:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(str(cidr).strip(), strict=False))
        except ValueError:
            raise SettingError("allow_networks", f"not a network: {cidr!r}") from None
    return networks


def _compile_agents(agents: tuple[str, ...]) -> re.Pattern[str] | None:
    if not agents:
        return None
    return re.compile("|".join(re.escape(a.strip().lower()) for a in agents))


class Guard:
    """Decides per packet whether the edge looks at it, and bans guessers."""

    def __init__(
        self,
        policy: SecurityPolicy,
        clock: Clock,
        *,
        max_tracked: int = DEFAULT_MAX_TRACKED,
        max_bans: int = DEFAULT_MAX_TRACKED,
    ) -> None:
        if max_tracked < 1 or max_bans < 1:
            raise SettingError("max_tracked", "must be at least 1")
        self._clock = clock
        self.max_tracked = max_tracked
        self.max_bans = max_bans
        self._peers: OrderedDict[Hashable, _Peer] = OrderedDict()
        self._bans: dict[str, Ban] = {}
        self._allowed_cache: dict[str, bool] = {}
        # User agents already looked at: phones send the same one with every packet.
        self._scanner_cache: dict[str, bool] = {}
        self._overall_tokens = 0.0
        self._overall_at = clock()
        self.update_policy(policy)
        self._overall_tokens = self._policy.overall_rate

    # ---- policy -----------------------------------------------------------

    @property
    def policy(self) -> SecurityPolicy:
        return self._policy

    @policy.setter
    def policy(self, policy: SecurityPolicy) -> None:
        self.update_policy(policy)

    def update_policy(self, policy: SecurityPolicy) -> None:
        """Use new settings from now on; bans already made keep their end time."""
        policy.validate()
        # Own copies, so a caller editing its object later changes nothing here.
        self._policy = replace(
            policy,
            allow_networks=list(policy.allow_networks),
            scanner_user_agents=tuple(policy.scanner_user_agents),
        )
        self._networks = _parse_networks(self._policy.allow_networks)
        self._scanners = _compile_agents(self._policy.scanner_user_agents)
        self._allowed_cache.clear()
        self._scanner_cache.clear()

    # ---- per packet -------------------------------------------------------

    def check(self, ip: str, user_agent: str = "", from_name: str = "") -> Decision:
        """Whether to look at a packet from `ip` at all (check_address and check_agent in one)."""
        if self._networks and not self._in_allow_list(ip):
            return _NOT_IN_ALLOW_LIST
        if self.is_banned(ip):
            return _BANNED
        if self.is_scanner(user_agent) or self.is_scanner(from_name):
            return _SCANNER
        return self.check_address(ip)

    def check_address(self, ip: str, source_key: Hashable | None = None) -> Decision:
        """The checks that need only the address, so they run before a packet is parsed:
        allow-list, bans, the rate limit and the overall limit. `source_key` names a
        registered source: it is rate-limited on its own and not by the overall limit."""
        if self._networks and not self._in_allow_list(ip):
            return _NOT_IN_ALLOW_LIST
        now = self._clock()
        ban = self._bans.get(ip)
        if ban is not None and ban.until > now:
            return _BANNED
        policy = self._policy
        peer = self._peer(source_key or ip, now)
        tokens = peer.tokens + (now - peer.refilled_at) * policy.rate_limit_per_s
        peer.tokens = min(float(policy.rate_burst), tokens)
        peer.refilled_at = now
        if peer.tokens < 1.0:
            return _RATE_LIMITED
        if source_key is None:
            rate = policy.overall_rate
            overall = self._overall_tokens + (now - self._overall_at) * rate
            self._overall_tokens = min(rate, overall)
            self._overall_at = now
            if self._overall_tokens < 1.0:
                return _OVERALL_LIMIT
            self._overall_tokens -= 1.0
        peer.tokens -= 1.0
        return _ALLOWED

    def check_agent(self, user_agent: str = "", from_name: str = "") -> Decision:
        """The check that needs the parsed message: known scanners."""
        if self.is_scanner(user_agent) or self.is_scanner(from_name):
            return _SCANNER
        return _ALLOWED

    def is_scanner(self, user_agent: str | None) -> bool:
        """Whether a User-Agent (or display name) names a known scanner."""
        if not user_agent or self._scanners is None:
            return False
        verdict = self._scanner_cache.get(user_agent)
        if verdict is None:
            verdict = self._scanners.search(user_agent.lower()) is not None
            if len(self._scanner_cache) >= _SCANNER_CACHE_MAX:
                self._scanner_cache.clear()
            self._scanner_cache[user_agent] = verdict
        return verdict

    def is_banned(self, ip: str) -> bool:
        ban = self._bans.get(ip)
        return ban is not None and ban.until > self._clock()

    # ---- authentication outcomes ------------------------------------------

    def auth_failed(self, ip: str, protected: bool = False) -> Ban | None:
        """Count one wrong credential; returns the ban if this one made it.

        A `protected` address (a live registration's, a trunk's) is never banned:
        reaching the threshold slows it down instead (see the module notes)."""
        now = self._clock()
        if self.is_banned(ip):
            return None
        policy = self._policy
        peer = self._peer(ip, now)
        failures = peer.failures
        if failures.maxlen != policy.ban_failures:
            failures = peer.failures = deque(failures, maxlen=policy.ban_failures)
        horizon = now - policy.ban_window_s
        while failures and failures[0] <= horizon:
            failures.popleft()
        failures.append(now)
        if len(failures) < policy.ban_failures:
            return None
        count = len(failures)
        failures.clear()
        if protected:
            if peer.slow_until <= now:
                peer.slow_tokens = 1.0
                peer.slow_at = now
                log.warning("slowing down %s: %d failed authentications within %g s (not banned: "
                            "a live registration or a trunk uses it)", ip, count, policy.ban_window_s)
            peer.slow_until = now + policy.ban_time_s
            return None
        return self._add_ban(
            Ban(
                ip=ip,
                since=now,
                until=now + policy.ban_time_s,
                reason=f"{count} failed authentications within {policy.ban_window_s:g} s",
                failures=count,
            )
        )

    def is_slowed(self, ip: str) -> bool:
        """Whether a protected address is slowed down after failing too often."""
        peer = self._peers.get(ip)
        return peer is not None and peer.slow_until > self._clock()

    def admit_credentials(self, ip: str) -> bool:
        """Whether credentials from `ip` may be checked now; False only for a slowed-down
        address beyond `slow_checks_per_s` (drop the request: a phone sends it again)."""
        peer = self._peers.get(ip)
        if peer is None:
            return True
        now = self._clock()
        if peer.slow_until <= now:
            return True
        rate = self._policy.slow_checks_per_s
        peer.slow_tokens = min(1.0, peer.slow_tokens + (now - peer.slow_at) * rate)
        peer.slow_at = now
        if peer.slow_tokens < 1.0:
            return False
        peer.slow_tokens -= 1.0
        return True

    def auth_succeeded(self, ip: str) -> None:
        """Clear the address's failures (see the module notes for why)."""
        peer = self._peers.get(ip)
        if peer is not None:
            peer.failures.clear()

    def failures(self, ip: str) -> int:
        """Failures of `ip` still inside the window."""
        peer = self._peers.get(ip)
        if peer is None:
            return 0
        horizon = self._clock() - self._policy.ban_window_s
        return sum(1 for t in peer.failures if t > horizon)

    # ---- bans -------------------------------------------------------------

    def ban(self, ip: str, reason: str = "banned by the administrator",
            duration_s: float | None = None) -> Ban:
        """Ban an address by hand, for `duration_s` or the policy's ban time."""
        now = self._clock()
        duration = self._policy.ban_time_s if duration_s is None else duration_s
        if duration <= 0:
            raise SettingError("duration_s", "must be more than 0 seconds")
        return self._add_ban(Ban(ip=ip, since=now, until=now + duration, reason=reason, failures=0))

    def bans(self) -> list[Ban]:
        """The bans in force now."""
        now = self._clock()
        return [b for b in self._bans.values() if b.until > now]

    def unban(self, ip: str) -> bool:
        """Lift a ban at once; False if the address was not banned."""
        ban = self._bans.pop(ip, None)
        peer = self._peers.get(ip)
        if peer is not None:
            peer.failures.clear()
        if ban is None:
            return False
        log.info("unbanned %s", ip)
        return ban.until > self._clock()

    def expire(self) -> list[Ban]:
        """Forget bans whose time is up and return them, each once."""
        now = self._clock()
        lifted = [b for b in self._bans.values() if b.until <= now]
        for ban in lifted:
            del self._bans[ban.ip]
        return lifted

    def tracked(self) -> int:
        """How many addresses have rate or failure state (bounded by max_tracked)."""
        return len(self._peers)

    # ---- internals --------------------------------------------------------

    def _add_ban(self, ban: Ban) -> Ban:
        self._bans.pop(ban.ip, None)
        self._bans[ban.ip] = ban
        while len(self._bans) > self.max_bans:
            del self._bans[next(iter(self._bans))]
        log.debug("banned %s until %.0f: %s", ban.ip, ban.until, ban.reason)
        return ban

    def _peer(self, ip: Hashable, now: float) -> _Peer:
        peer = self._peers.get(ip)
        if peer is None:
            peer = _Peer(float(self._policy.rate_burst), now, self._policy.ban_failures)
            self._peers[ip] = peer
            if len(self._peers) > self.max_tracked:
                self._peers.popitem(last=False)
        else:
            self._peers.move_to_end(ip)
        return peer

    def _in_allow_list(self, ip: str) -> bool:
        cached = self._allowed_cache.get(ip)
        if cached is not None:
            return cached
        try:
            address = ipaddress.ip_address(ip.strip("[]"))
        except ValueError:
            allowed = False
        else:
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
                address = address.ipv4_mapped
            allowed = any(address in net for net in self._networks)
        if len(self._allowed_cache) >= self.max_tracked:
            self._allowed_cache.clear()
        self._allowed_cache[ip] = allowed
        return allowed
