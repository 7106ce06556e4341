"""Passwords, sessions, login throttling and roles for the admin page.

No I/O here: time comes from an injected clock so that expiry and
throttling can be tested by advancing a fake clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections import deque
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
class LoginThrottle:
    """Refuses logins after too many failures from one address or for one username."""

    clock: Clock
    max_failures: int = 5
    window_s: float = 300
    max_keys: int = 10000
    _failures: dict[str, deque] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _keys(self, ip: str, username: str) -> list[str]:
        return [f"ip:{ip}", f"user:{username.strip().lower()}"]

    def _prune(self, key: str, now: float) -> deque:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and now - times[0] >= self.window_s:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, ip: str, username: str) -> int:
        """Seconds until a login may be tried again; 0 when it may be tried now."""
        now = self.clock()
        wait = 0.0
        with self._lock:
            for key in self._keys(ip, username):
                times = self._prune(key, now)
                if len(times) >= self.max_failures:
                    wait = max(wait, times[-self.max_failures] + self.window_s - now)
        return int(wait) + 1 if wait > 0 else 0

    def failed(self, ip: str, username: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.max_keys:
                for key in list(self._failures):
                    self._prune(key, now)
            if len(self._failures) >= self.max_keys:
                # Under a flood of distinct names keep counting addresses.
                self._failures = {k: v for k, v in self._failures.items() if k.startswith("ip:")}
            for key in self._keys(ip, username):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, ip: str, username: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(ip, username)[1], None)
