"""The media bridge process, kept running: started on the box's LAN address, restarted when it dies
or when the address moves, an alarm while it cannot start.

Browser phones' audio goes through it (docs/browser-phone.md); desk phones never need it, so it
runs only while browser phones are on (`sip.wss_port`). A process that dies ends only its own
calls (the bridge reports each ended; `BridgedMedia` forgets them) and is started again after
`RESTART_DELAYS_S`; the first that starts and stays up clears the alarm.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Callable, Protocol

from appliance.alarms import alarm_extra
from appliance.webrtc.client import BridgeClient

__all__ = ["MediaBridgeRuntime", "ALARM_KIND", "RESTART_DELAYS_S"]

log = logging.getLogger("callbox.media_bridge")

ALARM_KIND = "browser_phones"
RESTART_DELAYS_S = (1.0, 2.0, 5.0, 15.0, 60.0)  # then every minute
STAYED_UP_S = 30.0  # a process up this long is healthy again: the next restart is quick
ALARM_ACTION = ("Browser phones have no audio until it starts; desk phones are not affected. Restart the box; "
                "if it happens again, the system page's log says why.")


class AlarmPort(Protocol):
    def raise_alarm(self, kind: str, text: str, action: str, *, key: str = "", incident: bool = False) -> Any: ...
    def clear(self, kind: str, key: str = "") -> bool: ...


class MediaBridgeRuntime:
    """`address()`: the box's LAN address, where engine workers send the audio; `on_ended(call,
    reason)`: the bridge ended a browser call by itself."""

    def __init__(self, *, address: Callable[[], str], alarms: AlarmPort,
                 on_ended: Callable[[str, str], None],
                 client: Callable[..., BridgeClient] = BridgeClient):
        self.address = address
        self.alarms = alarms
        self.on_ended = on_ended
        self._make = client
        self._client: BridgeClient | None = None
        self._task: asyncio.Task | None = None
        self._moved: asyncio.Event | None = None
        self.starts = 0

    def current(self) -> BridgeClient | None:
        """The running bridge, or None while there is none."""
        return self._client

    def start(self) -> None:
        self._moved = asyncio.Event()
        self._task = asyncio.ensure_future(self._keep())

    def address_moved(self) -> None:
        """The LAN address changed: the bridge starts again there (its calls' audio was on the old one)."""
        if self._moved is not None:
            self._moved.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        client, self._client = self._client, None
        if client is not None:
            await client.stop()

    async def _keep(self) -> None:
        failures = 0
        loop = asyncio.get_running_loop()
        while True:
            address = self.address()
            client = self._make(address=address, on_ended=self.on_ended)
            try:
                await client.start()
            except Exception as e:  # whatever stops it starting: said, and tried again
                failures += 1
                log.error("the media bridge did not start on %s: %s", address, e, extra=alarm_extra())
                self.alarms.raise_alarm(ALARM_KIND, f"The media bridge for browser phones does not start ({e}).",
                                        ALARM_ACTION)
                await asyncio.sleep(RESTART_DELAYS_S[min(failures, len(RESTART_DELAYS_S)) - 1])
                continue
            self.starts += 1
            self._client = client
            self.alarms.clear(ALARM_KIND)
            log.info("media bridge for browser phones on %s (pid %s)", address, client.pid)
            began = loop.time()
            assert self._moved is not None
            self._moved.clear()
            moved = asyncio.ensure_future(self._moved.wait())
            died = asyncio.ensure_future(client.stopped())
            try:
                await asyncio.wait({moved, died}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                moved.cancel()
            self._client = None
            if not died.done():
                log.info("the LAN address moved: the media bridge starts again on %s", self.address())
                await client.stop()
                failures = 0
                continue
            failures = 0 if loop.time() - began > STAYED_UP_S else failures + 1
            log.error("the media bridge process stopped; starting it again", extra=alarm_extra())
            self.alarms.raise_alarm(ALARM_KIND, "The media bridge for browser phones stopped; their calls were "
                                    "cut off. It is starting again.", ALARM_ACTION)
            await client.stop()
            if failures:
                await asyncio.sleep(RESTART_DELAYS_S[min(failures, len(RESTART_DELAYS_S)) - 1])
