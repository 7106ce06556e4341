"""The box's event stream: what happened, for the API's Server-Sent Events.

Publishers never wait for readers: each subscriber has a bounded queue, and a
reader that falls behind loses its oldest events and is told so (an
`overflow` event), instead of slowing the SIP edge down.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    data: dict[str, Any]
    time: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "time": self.time, "data": self.data}


@dataclass
class Subscription:
    queue: asyncio.Queue
    kinds: frozenset[str] | None
    dropped: int = 0


@dataclass
class EventBus:
    clock: Callable[[], float] = time.time
    queue_size: int = 1000
    history_size: int = 200
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _subs: list[Subscription] = field(default_factory=list)
    _history: list[Event] = field(default_factory=list)
    _listeners: list[Callable[[str, dict[str, Any]], None]] = field(default_factory=list)

    def listen(self, listener: Callable[[str, dict[str, Any]], None]) -> None:
        """Call `listener(kind, data)` for every event, as it is published (alarms follow events so)."""
        self._listeners.append(listener)

    def publish(self, kind: str, /, **data: Any) -> Event:
        event = Event(next(self._ids), kind, data, self.clock())
        for listener in self._listeners:
            try:
                listener(kind, data)
            except Exception:  # a listener's fault must not lose the event
                logging.getLogger(__name__).exception("event listener failed on %s", kind)
        self._history.append(event)
        if len(self._history) > self.history_size:
            del self._history[: len(self._history) - self.history_size]
        for sub in self._subs:
            if sub.kinds is not None and kind not in sub.kinds:
                continue
            if sub.queue.full():
                sub.queue.get_nowait()
                sub.dropped += 1
            sub.queue.put_nowait(event)
        return event

    def subscribe(self, kinds: set[str] | None = None) -> Subscription:
        sub = Subscription(asyncio.Queue(self.queue_size), frozenset(kinds) if kinds else None)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        if sub in self._subs:
            self._subs.remove(sub)

    def since(self, last_id: int) -> list[Event]:
        """Events after last_id still in history: lets an SSE client resume (Last-Event-ID)."""
        return [e for e in self._history if e.id > last_id]

    @property
    def subscribers(self) -> int:
        return len(self._subs)
