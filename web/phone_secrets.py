"""Phone secrets: made easy to type on a keypad, and shown once on the printable sheet."""

from __future__ import annotations

import secrets
import string

_SECRET_ALPHABET = string.ascii_letters + string.digits


# Extensions whose secret a session may still see once on the printable sheet: {session id:
# {number}}, filled when the secret is made (added, new secret, the wizard), emptied as the
# sheet is shown. A secret "shown once" is not shown again when the page is reopened.
_FRESH_SECRETS: dict[str, set[str]] = {}


def secret_made(session_id: str, number: str) -> None:
    _FRESH_SECRETS.setdefault(session_id, set()).add(number)


def take_fresh_secret(session_id: str, number: str) -> bool:
    """Whether this session may see the extension's secret now; after this, it may not."""
    numbers = _FRESH_SECRETS.get(session_id, set())
    if number not in numbers:
        return False
    numbers.discard(number)
    if not numbers:
        _FRESH_SECRETS.pop(session_id, None)
    return True


def new_secret(length: int = 16) -> str:
    """A phone secret that is easy to type on a phone's keypad (letters and digits, ~95 bits)."""
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(length))
