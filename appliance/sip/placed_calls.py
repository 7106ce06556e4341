"""The calls the edge placed for phones, so that an ACK or a CANCEL, which cannot be
challenged, is forwarded only for a call placed from the same host, in the name of the extension
that placed it."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

__all__ = ["PlacedCall", "PlacedCalls"]


@dataclass(frozen=True)
class PlacedCall:
    """An INVITE the edge forwarded for an authenticated phone: who placed it, from which host."""

    ext: str
    ip: str
    expires: float


class PlacedCalls:
    """Call-IDs of the INVITEs the edge forwarded for phones. Bounded in size (oldest forgotten
    first) and in time."""

    def __init__(self, clock: Callable[[], float], size: int, ttl: float):
        self.clock, self.size, self.ttl = clock, size, ttl
        self._items: OrderedDict[str, PlacedCall] = OrderedDict()

    def put(self, call_id: str, ext: str, ip: str) -> None:
        self._items.pop(call_id, None)
        self._items[call_id] = PlacedCall(ext, ip, self.clock() + self.ttl)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, call_id: str) -> PlacedCall | None:
        placed = self._items.get(call_id)
        if placed is not None and placed.expires < self.clock():
            del self._items[call_id]
            return None
        return placed

    def __len__(self) -> int:
        return len(self._items)
