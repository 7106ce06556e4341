"""Whose events a leg's are: each engine leg belongs to one call (a phone's call, a menu, a voicemail,
a callback), which gets what the worker reports about it."""

from __future__ import annotations

from typing import Any


class LegOwners:
    """(worker, leg) -> the call that owns the leg."""

    def __init__(self) -> None:
        self._owners: dict[tuple[str, str], Any] = {}

    def own(self, worker: str, leg: str, owner: Any) -> None:
        self._owners[(worker, leg)] = owner

    def owner(self, worker: str, leg: str) -> Any:
        return self._owners.get((worker, leg))

    def release(self, worker: str, leg: str) -> None:
        self._owners.pop((worker, leg), None)

    def release_all(self, owner: Any) -> None:
        """Every leg of a call that is over."""
        for key in [k for k, v in self._owners.items() if v is owner]:
            del self._owners[key]

    def owns_any(self, owner: Any) -> bool:
        return any(v is owner for v in self._owners.values())

    def drop_worker(self, worker: str) -> None:
        """A worker died: its legs are gone with it."""
        for key in [k for k in self._owners if k[0] == worker]:
            del self._owners[key]
