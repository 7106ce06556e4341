"""Extensions and web users: what an admin may create, validated in one place.

Pure: takes and returns plain dicts; the core stores them.
"""

from __future__ import annotations

import re
import secrets
import string
from enum import StrEnum
from typing import Any

from appliance.errors import ValidationError


class ClassOfService(StrEnum):
    """What numbers an extension may dial out to (emergency numbers always)."""

    INTERNAL = "internal"
    LOCAL = "local"
    NATIONAL = "national"
    INTERNATIONAL = "international"


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"


EXTENSION_NUMBER = re.compile(r"^[1-9][0-9]{1,7}$")
SECRET_ALPHABET = string.ascii_letters + string.digits
MIN_SECRET = 12
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")  # an agent's web user is their extension: 1001


def generate_secret(length: int = 20) -> str:
    """A SIP password strong enough to survive an internet-facing brute force."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(length))


def _check_secret(secret: Any) -> str:
    if not isinstance(secret, str) or len(secret) < MIN_SECRET:
        raise ValidationError(f"secret: must be at least {MIN_SECRET} characters")
    if len(secret) > 128 or any(c in secret for c in "\r\n\"\\") or not secret.isprintable():
        raise ValidationError("secret: must be printable, at most 128 characters, without quotes or backslashes")
    if secret.isdigit() or secret.lower() == secret and secret.isalpha():
        raise ValidationError("secret: too easy to guess; mix letters and digits")
    return secret


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > 64 or not name.isprintable():
        raise ValidationError("name: must be 1 to 64 printable characters")
    if any(c in name for c in '"<>\\'):
        raise ValidationError('name: must not contain " < > or \\')
    return name.strip()


EXTENSION_FIELDS = {"number", "name", "secret", "class_of_service", "voicemail", "call_waiting", "record",
                    "supervisor"}
RECORD_POLICIES = ("default", "always", "never")


def new_extension(data: Any) -> dict[str, Any]:
    """A complete extension from what a client sent, with a strong secret when none was given."""
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object")
    unknown = set(data) - EXTENSION_FIELDS
    if unknown:
        raise ValidationError(f"{sorted(unknown)[0]}: unknown field")
    number = data.get("number")
    if not isinstance(number, str) or not EXTENSION_NUMBER.match(number):
        raise ValidationError("number: must be 2 to 8 digits, not starting with 0")
    ext = {
        "number": number,
        "name": _check_name(data.get("name", f"Extension {number}")),
        "secret": _check_secret(data["secret"]) if "secret" in data else generate_secret(),
        "class_of_service": ClassOfService.NATIONAL.value,
        "voicemail": True,
        "call_waiting": True,
    }
    return ext | _changes(data, skip={"number", "name", "secret"})


def change_extension(current: dict[str, Any], data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object")
    if "number" in data and data["number"] != current["number"]:
        raise ValidationError("number: cannot be changed; create a new extension")
    unknown = set(data) - EXTENSION_FIELDS
    if unknown:
        raise ValidationError(f"{sorted(unknown)[0]}: unknown field")
    out = dict(current)
    if "name" in data:
        out["name"] = _check_name(data["name"])
    if "secret" in data:
        out["secret"] = _check_secret(data["secret"])
    return out | _changes(data, skip={"number", "name", "secret"})


def _changes(data: dict[str, Any], skip: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in skip:
            continue
        if key == "class_of_service":
            try:
                out[key] = ClassOfService(value).value
            except ValueError:
                raise ValidationError(
                    f"class_of_service: must be one of {', '.join(c.value for c in ClassOfService)}") from None
        elif key == "record":
            if value not in RECORD_POLICIES:
                raise ValidationError(f"record: must be one of {', '.join(RECORD_POLICIES)}")
            out[key] = value
        elif key in ("voicemail", "call_waiting", "supervisor"):
            if not isinstance(value, bool):
                raise ValidationError(f"{key}: must be true or false")
            out[key] = value
    return out


def public_extension(ext: dict[str, Any], registered: bool | None = None) -> dict[str, Any]:
    """What lists show: everything but the secret."""
    out = {k: v for k, v in ext.items() if k != "secret"}
    if registered is not None:
        out["registered"] = registered
    return out


USER_FIELDS = {"username", "role", "password_hash", "language"}


def new_user(data: Any, now: float) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object")
    unknown = set(data) - USER_FIELDS
    if unknown:
        raise ValidationError(f"{sorted(unknown)[0]}: unknown field")
    username = data.get("username")
    if not isinstance(username, str) or not USERNAME.match(username):
        raise ValidationError("username: 2 to 32 characters: lowercase letters, digits, . _ -, starting with a letter or digit")
    user = {"username": username, "created": now, "language": "en"}
    return user | change_user(user | {"role": None, "password_hash": None}, data, creating=True)


def change_user(current: dict[str, Any], data: Any, creating: bool = False) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError("body: must be a JSON object")
    out = dict(current)
    if "role" in data or creating:
        try:
            out["role"] = Role(data.get("role")).value
        except ValueError:
            raise ValidationError(f"role: must be one of {', '.join(r.value for r in Role)}") from None
    if "password_hash" in data or creating:
        h = data.get("password_hash")
        if not isinstance(h, str) or not h.startswith(("scrypt$", "argon2")) or len(h) > 512:
            raise ValidationError("password_hash: must be a scrypt$… or argon2 hash made by the web page")
        out["password_hash"] = h
    if "language" in data:
        if data["language"] not in ("en", "pl", "zh"):
            raise ValidationError("language: must be one of en, pl, zh")
        out["language"] = data["language"]
    return out
