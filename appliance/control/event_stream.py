"""The event stream: Server-Sent Events of what happens on the box (docs/api.md, "Events")."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

from aiohttp import web

from appliance.control.common import Route

if TYPE_CHECKING:
    from appliance.events import Event, EventBus

TITLE = "The event stream"

SSE_HEARTBEAT_S = 15.0

ROUTES = (
    Route("GET", "/api/events", "events", 'Server-Sent Events, see "Events" below',
          shown="/api/events?kinds="),
)


def sse(e: "Event") -> bytes:
    return f"id: {e.id}\nevent: {e.kind}\ndata: {json.dumps(e.data | {'time': e.time})}\n\n".encode()


class EventStreamRoutes:
    def __init__(self, events: "EventBus") -> None:
        self.bus = events

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: `event: <kind>` lines with JSON data; resumable with Last-Event-ID."""
        kinds = set(filter(None, request.query.get("kinds", "").split(","))) or None
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "X-Accel-Buffering": "no"})
        await resp.prepare(request)
        sub = self.bus.subscribe(kinds)
        try:
            await resp.write(b": callbox event stream\n\n")
            last = request.headers.get("Last-Event-ID", "")
            if last.isdigit():
                for e in self.bus.since(int(last)):
                    if kinds is None or e.kind in kinds:
                        await resp.write(sse(e))
            while True:
                try:
                    e = await asyncio.wait_for(sub.queue.get(), SSE_HEARTBEAT_S)
                except asyncio.TimeoutError:
                    await resp.write(b": keep-alive\n\n")
                    continue
                await resp.write(sse(e))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.bus.unsubscribe(sub)
        return resp
