"""Tickets that let a browser phone in: short-lived, single use, bound to one extension.

The web page checks the agent's session and asks the control API for a ticket for the agent's
extension; the browser opens its WebSocket with it (`wss://box:PORT/?ticket=...`). The edge
redeems the ticket once, before any SIP is read: the connection is then that extension's. No
SIP password ever reaches the page.

Pure: the clock is given. Only a hash of each ticket is kept, so the table's look-up reveals
nothing about the tickets it holds, and memory is bounded (the oldest forgotten first).
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

__all__ = ["TICKET_TTL_S", "MAX_TICKETS", "MAX_TICKET_CHARS", "Ticket", "BrowserTickets"]

# Time from the web page asking for a ticket to the browser opening its WebSocket.
TICKET_TTL_S = 60.0
# Tickets waiting to be used; beyond this the oldest is forgotten (its browser asks again).
MAX_TICKETS = 1000
# A ticket is 43 characters; anything much longer is not one of ours (checked before hashing).
MAX_TICKET_CHARS = 64


@dataclass(frozen=True)
class Ticket:
    """A ticket as the web page gets it."""

    ticket: str
    extension: str
    expires_in: float

    def to_dict(self) -> dict:
        return {"ticket": self.ticket, "extension": self.extension, "expires_in": self.expires_in}


class BrowserTickets:
    """Issue tickets for extensions and redeem each once."""

    def __init__(self, clock: Callable[[], float], ttl_s: float = TICKET_TTL_S, size: int = MAX_TICKETS):
        self.clock, self.ttl_s, self.size = clock, ttl_s, size
        self._waiting: OrderedDict[bytes, tuple[str, float]] = OrderedDict()

    def issue(self, extension: str) -> Ticket:
        """A new ticket for `extension` (the caller has checked who may have it)."""
        token = secrets.token_urlsafe(32)
        self._forget_expired()
        self._waiting[_digest(token)] = (extension, self.clock() + self.ttl_s)
        while len(self._waiting) > self.size:
            self._waiting.popitem(last=False)
        return Ticket(token, extension, self.ttl_s)

    def redeem(self, token: str) -> str | None:
        """The extension a ticket was issued for, once; None for an unknown, used or expired one."""
        if not token or len(token) > MAX_TICKET_CHARS:
            return None
        held = self._waiting.pop(_digest(token), None)
        if held is None:
            return None
        extension, expires_at = held
        return extension if expires_at > self.clock() else None

    def __len__(self) -> int:
        return len(self._waiting)

    def _forget_expired(self) -> None:
        now = self.clock()
        while self._waiting:
            first = next(iter(self._waiting))
            if self._waiting[first][1] > now:
                break
            del self._waiting[first]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "replace")).digest()
