"""Voicemail boxes: their config, PINs, the greeting a caller hears, MWI bodies."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from appliance.errors import ValidationError

log = logging.getLogger("callbox.voicemail")

PIN_MIN, PIN_MAX = 4, 10
# A 4-digit PIN has 10,000 values, so the hash cannot hide it from someone
# holding the file; it only keeps PINs out of backups and screens. The
# lockout is what protects a box from callers trying PINs.
PIN_HASH_ITERATIONS = 20_000


class GreetingKind(StrEnum):
    UNAVAILABLE = "unavailable"
    BUSY = "busy"
    TEMPORARY = "temporary"  # while recorded, callers hear it whatever the reason


class Folder(StrEnum):
    NEW = "new"
    OLD = "old"


# --- box configuration -----------------------------------------------------------------

def validate_pin(pin: str) -> str:
    if not (isinstance(pin, str) and pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        raise ValidationError(f"a voicemail PIN is {PIN_MIN} to {PIN_MAX} digits")
    return pin


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """`pbkdf2_sha256$iterations$salt$hash`, the form kept in a box's config."""
    validate_pin(pin)
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_HASH_ITERATIONS)
    return f"pbkdf2_sha256${PIN_HASH_ITERATIONS}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, pin_hash: str) -> bool:
    try:
        scheme, iterations, salt, expected = pin_hash.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    except (ValueError, AttributeError):
        return False
    return hmac.compare_digest(digest.hex(), expected)


@dataclass(frozen=True)
class BoxConfig:
    """A voicemail box: an extension's, a queue's, or a shared one (e.g. "sales")."""

    number: str
    owner: str = ""  # the extension whose phone reaches the box without dialling its number
    pin_hash: str = ""  # empty: nobody can log in by phone until a PIN is set
    max_message_s: int = 180
    max_messages: int = 100
    email: str = ""
    attach_audio: bool = True
    delete_after_email: bool = False
    notify_unsolicited: bool = False  # MWI NOTIFY to phones that never SUBSCRIBE

    def __post_init__(self) -> None:
        for name in ("max_message_s", "max_messages"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise ValidationError(f"{name} must be a whole number")
        for name in ("attach_audio", "delete_after_email", "notify_unsolicited"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError(f"{name} must be true or false")
        for name in ("number", "owner", "pin_hash", "email"):
            if not isinstance(getattr(self, name), str):
                raise ValidationError(f"{name} must be text")
        if not self.number or not all(c.isalnum() or c in "_.-" for c in self.number) \
                or self.number.startswith("."):
            raise ValidationError(f"{self.number!r} is not a box number (letters, digits, _ . -)")
        if not 1 <= self.max_message_s <= 3600:
            raise ValidationError("max_message_s must be between 1 and 3600")
        if not 1 <= self.max_messages <= 10_000:
            raise ValidationError("max_messages must be between 1 and 10000")
        if self.email and ("@" not in self.email or any(c in self.email for c in " \r\n,;")):
            raise ValidationError(f"{self.email!r} is not one email address")

    def with_pin(self, pin: str) -> BoxConfig:
        return replace(self, pin_hash=hash_pin(pin))

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoxConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "pin" in data:  # a plain PIN from a form or an import is hashed on the way in
            known["pin_hash"] = hash_pin(str(data["pin"]))
        try:
            return cls(**known)
        except TypeError as e:
            raise ValidationError(f"box config: {e}") from e


def choose_greeting(reason: str, recorded: Collection[str]) -> GreetingKind | None:
    """The greeting a caller hears; None means the default prompt with the box number."""
    if GreetingKind.TEMPORARY in recorded:
        return GreetingKind.TEMPORARY
    kind = GreetingKind.BUSY if reason == "busy" else GreetingKind.UNAVAILABLE
    return kind if kind in recorded else None


@dataclass(frozen=True)
class MessageInfo:
    """What the menu needs to know of a stored message."""

    id: str
    folder: Folder
    caller: str = ""
    received: float = 0.0
    duration_s: float = 0.0


@dataclass(frozen=True)
class BoxSnapshot:
    """A box as the access menu sees it at login (config, messages, recorded greetings)."""

    config: BoxConfig
    messages: tuple[MessageInfo, ...] = ()
    greetings: frozenset[str] = frozenset()


# --- failed PIN attempts across calls -----------------------------------------------------

@dataclass
class PinGuard:
    """Locks a box after `max_failures` wrong PINs in a row, across calls, for `lockout_s`.

    Kept in memory by the core: a restart forgets failures, which costs an
    attacker a restart of the box per few guesses.
    """

    clock: Callable[[], float]
    max_failures: int = 6
    lockout_s: float = 900.0
    _failures: dict[str, int] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)

    def is_locked(self, box: str) -> bool:
        until = self._locked_until.get(box)
        if until is None:
            return False
        if self.clock() >= until:
            del self._locked_until[box]
            self._failures.pop(box, None)
            return False
        return True

    def failed(self, box: str) -> None:
        if len(self._failures) >= 10_000:
            # Someone is trying box numbers at random; keep memory bounded,
            # the boxes that are locked stay locked.
            self._failures = {b: n for b, n in self._failures.items() if b in self._locked_until}
        self._failures[box] = self._failures.get(box, 0) + 1
        if self._failures[box] >= self.max_failures:
            self._locked_until[box] = self.clock() + self.lockout_s
            log.warning("voicemail box %s locked for %ss after %d wrong PINs",
                        box, self.lockout_s, self._failures[box])

    def succeeded(self, box: str) -> None:
        self._failures.pop(box, None)


# --- message waiting indication -----------------------------------------------------------

MESSAGE_SUMMARY = "application/simple-message-summary"


def message_summary(new: int, old: int, account_uri: str,
                    urgent_new: int = 0, urgent_old: int = 0) -> tuple[str, str]:
    """The body of an MWI NOTIFY (RFC 3842) and its content type."""
    for n in (new, old, urgent_new, urgent_old):
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValidationError(f"message counts are whole numbers >= 0, got {n!r}")
    if any(c in account_uri for c in "\r\n") or ":" not in account_uri:
        raise ValidationError(f"{account_uri!r} is not a SIP URI")
    body = (f"Messages-Waiting: {'yes' if new else 'no'}\r\n"
            f"Message-Account: {account_uri}\r\n"
            f"Voice-Message: {new}/{old} ({urgent_new}/{urgent_old})\r\n")
    return MESSAGE_SUMMARY, body
