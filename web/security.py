"""Passwords, sessions, login throttling and roles for the admin page.

No I/O here: time comes from an injected clock so that expiry and
throttling can be tested by advancing a fake clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
import secrets
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from appliance.errors import ValidationError

Clock = Callable[[], float]

# scrypt at n=2**14, r=8, p=1 costs 16 MiB and a few tens of ms on a Pi: slow
# enough to hurt offline guessing, fast enough for a login form.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SALT_BYTES, HASH_BYTES = 16, 32
# A stored hash names its own cost; refuse costs that would let a tampered
# record exhaust memory.
_MAX_N, _MAX_R, _MAX_P = 2**20, 16, 4

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,31}$")


class Role(StrEnum):
    """What a web user may do: an admin everything, a supervisor the floor, an agent their own panel."""

    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


_RANK = {Role.AGENT: 1, Role.SUPERVISOR: 2, Role.ADMIN: 3}


def role_allows(have: str, need: str) -> bool:
    """Whether a user with role `have` may use a page that needs role `need`."""
    try:
        return _RANK[Role(have)] >= _RANK[Role(need)]
    except ValueError:
        return False


# -- passwords -----------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A self-describing scrypt hash: scrypt$n$r$p$salt$hash (base64 parts)."""
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R,
                            p=SCRYPT_P, dklen=HASH_BYTES, maxmem=64 * 1024 * 1024)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether password matches the stored hash; compared in constant time."""
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        n_i, r_i, p_i = int(n), int(r), int(p)
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
    except (ValueError, AttributeError):
        return False
    if scheme != "scrypt" or not (1 < n_i <= _MAX_N and 0 < r_i <= _MAX_R and 0 < p_i <= _MAX_P):
        return False
    if not expected or len(expected) > 64:
        return False
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n_i, r=r_i, p=p_i,
                            dklen=len(expected), maxmem=256 * 1024 * 1024)
    return hmac.compare_digest(digest, expected)


# Checked against when the username does not exist, so that a wrong username
# takes as long as a wrong password and does not reveal which users exist.
DUMMY_HASH = hash_password("no such user", salt=b"\0" * SALT_BYTES)


def check_new_password(username: str, password: str, repeated: str,
                       min_length: int = MIN_PASSWORD_LENGTH) -> str | None:
    """The reason a new password is refused, or None when it is acceptable."""
    if password != repeated:
        return "the two passwords differ"
    if len(password) < min_length:
        return f"the password must have at least {min_length} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must have at most {MAX_PASSWORD_LENGTH} characters"
    if password.strip().lower() == username.lower():
        return "the password must not be the username"
    if len(set(password)) < 4:
        return "the password must use more than three different characters"
    return None


def check_username(username: str) -> str:
    """The username normalised to lower case; ValidationError when malformed."""
    name = username.strip().lower()
    if not USERNAME_RE.match(name):
        raise ValidationError("a username is 1 to 32 of a-z, 0-9, '.', '_' and '-', "
                              "starting with a letter or digit")
    return name


# -- sessions ------------------------------------------------------------

@dataclass
class Session:
    """A browser's session: anonymous (before login) or a logged-in user's."""

    id: str
    csrf_token: str
    created: float
    last_seen: float
    username: str | None = None
    role: str | None = None
    notices: list[str] = field(default_factory=list)
    # The user's own choice of language; None follows the browser's Accept-Language.
    language: str | None = None

    @property
    def logged_in(self) -> bool:
        return self.username is not None


class SessionStore:
    """Server-side sessions with 256-bit random ids, idle and absolute expiry."""

    def __init__(self, clock: Clock, idle_s: float = 30 * 60, absolute_s: float = 12 * 3600,
                 max_sessions: int = 5000):
        self.clock = clock
        self.idle_s = idle_s
        self.absolute_s = absolute_s
        self.max_sessions = max_sessions
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def _expired(self, s: Session, now: float) -> bool:
        return now - s.last_seen > self.idle_s or now - s.created > self.absolute_s

    def new(self, username: str | None = None, role: str | None = None) -> Session:
        now = self.clock()
        s = Session(id=secrets.token_urlsafe(32), csrf_token=secrets.token_urlsafe(32),
                    created=now, last_seen=now, username=username, role=role)
        with self._lock:
            if len(self._sessions) >= self.max_sessions:
                self._evict(now)
            self._sessions[s.id] = s
        return s

    def _evict(self, now: float) -> None:
        for sid in [sid for sid, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[sid]
        # Still full: anonymous sessions are cheap to lose, logged-in ones are not.
        overflow = len(self._sessions) - self.max_sessions + 1
        if overflow > 0:
            oldest = sorted(self._sessions.values(), key=lambda s: (s.logged_in, s.last_seen))
            for s in oldest[:overflow]:
                del self._sessions[s.id]

    def get(self, session_id: str | None, touch: bool = True) -> Session | None:
        """The live session with this id, or None when unknown or expired.

        Getting it counts as activity unless touch is False (a page's own
        polling or event stream is not a person using the page).
        """
        if not session_id:
            return None
        now = self.clock()
        with self._lock:
            s = self._sessions.get(session_id)
            if s is None:
                return None
            if self._expired(s, now):
                del self._sessions[session_id]
                return None
            if touch:
                s.last_seen = now
            return s

    def alive(self, session_id: str) -> bool:
        """Whether the session is still live, without counting this as activity."""
        now = self.clock()
        with self._lock:
            s = self._sessions.get(session_id)
            return s is not None and not self._expired(s, now)

    def drop(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)

    def drop_user(self, username: str, keep: str | None = None) -> None:
        """Log a user out everywhere (after a role change, a new password, a removal)."""
        with self._lock:
            for sid in [sid for sid, s in self._sessions.items()
                        if s.username == username and sid != keep]:
                del self._sessions[sid]

    def set_role(self, username: str, role: str) -> None:
        with self._lock:
            for s in self._sessions.values():
                if s.username == username:
                    s.role = role


def csrf_ok(session: Session | None, supplied: str | None) -> bool:
    """Whether a state-changing request carries its session's CSRF token."""
    if session is None or not supplied:
        return False
    return hmac.compare_digest(session.csrf_token.encode(), supplied.encode())


# -- login throttling ----------------------------------------------------

@dataclass
class _Failures:
    count: int
    last: float
    generation: str = ""


@dataclass
class LoginThrottle:
    """Growing delays after failed logins, per (address, username) and per address.

    Not a lockout: after `free_failures` failures from one address for one
    username, each further try must wait twice as long as the one before
    (1 s, 2 s, 4 s, ... up to `max_delay_s`). The count belongs to that
    address and that username only, so an attacker guessing the owner's
    password from one machine slows down that machine, never the owner
    logging in from another. An address that fails across many usernames
    (password spraying) is slowed down the same way after
    `address_factor` times as many failures. Failures are forgotten after
    `forget_s` without one, after a successful login for that username from that
    address, and
    when the user's password changes (`generation`: `callbox reset-password`
    gives the owner a way back in from any address).

    Wrong first-run set-up codes count under the pseudo-user "(set-up)".
    """

    clock: Clock
    free_failures: int = 5
    max_delay_s: float = 5 * 60
    forget_s: float = 3600
    address_factor: int = 4
    first_delay_s: float = 1.0
    max_keys: int = 10000
    _entries: dict[tuple[str, ...], _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keys(self, ip: str, username: str) -> list[tuple[tuple[str, ...], int]]:
        return [(("pair", ip, username.strip().lower()), self.free_failures),
                (("address", ip), self.free_failures * self.address_factor)]

    def delay_after(self, count: int, free: int) -> float:
        """How long the next try must wait after `count` failures, `free` of them without delay."""
        if count < free:
            return 0.0
        return min(self.max_delay_s, self.first_delay_s * 2 ** (count - free))

    def _live(self, key: tuple[str, ...], now: float, generation: str | None) -> _Failures | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now - entry.last >= self.forget_s or (
                generation is not None and key[0] == "pair" and entry.generation != generation):
            del self._entries[key]
            return None
        return entry

    def retry_after(self, ip: str, username: str, generation: str | None = None) -> int:
        """Seconds until this address may try this username again; 0 when it may now.

        `generation` names the user's current password (any string that changes with
        it); failures counted against an older password are forgotten.
        """
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key, free in self._keys(ip, username):
                entry = self._live(key, now, generation)
                if entry is not None:
                    wait = max(wait, entry.last + self.delay_after(entry.count, free) - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, ip: str, username: str, generation: str = "") -> None:
        now = self.clock()
        with self._lock:
            if len(self._entries) >= self.max_keys:
                self._shrink(now)
            for key, _ in self._keys(ip, username):
                entry = self._live(key, now, generation)
                if entry is None:
                    self._entries[key] = _Failures(1, now, generation)
                else:
                    entry.count += 1
                    entry.last = now

    def _shrink(self, now: float) -> None:
        for key in list(self._entries):
            self._live(key, now, None)
        if len(self._entries) >= self.max_keys:
            # Under a flood of distinct names keep counting addresses, the oldest pairs go.
            pairs = sorted((e.last, k) for k, e in self._entries.items() if k[0] == "pair")
            for _, key in pairs[:max(1, len(pairs) // 2)]:
                del self._entries[key]

    def succeeded(self, ip: str, username: str) -> None:
        # Only the pair: one good password must not buy an address more guesses at others.
        with self._lock:
            self._entries.pop(self._keys(ip, username)[0][0], None)


def password_generation(stored_hash: str) -> str:
    """A short name for a stored password hash: it changes when the password does."""
    return hashlib.sha256(stored_hash.encode()).hexdigest()[:16] if stored_hash else ""
