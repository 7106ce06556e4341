"""Tell systemd how the core is doing: READY, STATUS, STOPPING and the watchdog.

The sd_notify protocol is one datagram per message on the AF_UNIX socket named
by NOTIFY_SOCKET, so it needs no libsystemd. Outside systemd (tests, demo,
a developer's shell) NOTIFY_SOCKET is unset and every call does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from typing import Callable, Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """Sends sd_notify messages; a no-op when the process was not started by systemd."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._env = os.environ if environ is None else environ
        path = self._env.get("NOTIFY_SOCKET", "")
        # "@name" is a socket in the abstract namespace, spelled with a NUL.
        self._address = "\0" + path[1:] if path.startswith("@") else path
        self._sock: socket.socket | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        return bool(self._address)

    def notify(self, message: str) -> bool:
        """Send one raw message such as ``READY=1``; False when nothing was sent."""
        if not self.enabled:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode(), self._address)
        except OSError as exc:
            # systemd gone (shutdown) or a stale variable: the core runs on.
            if not self._warned:
                log.warning("sd_notify to %r failed: %s", self._address, exc)
                self._warned = True
            return False
        return True

    def ready(self) -> bool:
        return self.notify("READY=1")

    def status(self, text: str) -> bool:
        # One message is newline-separated assignments: a newline would end STATUS early.
        return self.notify("STATUS=" + " ".join(text.splitlines()))

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def watchdog_interval(self) -> float | None:
        """systemd's watchdog timeout in seconds, or None when no watchdog is asked of this process."""
        usec = self._env.get("WATCHDOG_USEC", "")
        pid = self._env.get("WATCHDOG_PID", "")
        if pid:
            # The variables are inherited by children; only the named process feeds.
            if not pid.isdigit() or int(pid) != os.getpid():
                return None
        if not usec.isdigit() or int(usec) == 0:
            return None
        return int(usec) / 1_000_000

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class Heartbeat:
    """A timestamp the core's loop refreshes; stale means the loop has stopped making progress."""

    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self._clock = clock
        self._last = clock()

    def beat(self) -> None:
        self._last = self._clock()

    def age(self) -> float:
        return self._clock() - self._last

    def is_fresh(self) -> bool:
        return self.age() <= self.max_age


class WatchdogFeeder:
    """Feeds systemd's watchdog every ``interval`` seconds, but only while ``is_healthy()`` says so.

    Pass half of ``watchdog_interval()``: one late or lost feed then still
    lands inside systemd's timeout.

    When the check fails the feeding stops, the timeout passes, and systemd
    kills and restarts the unit: a hung core is not left answering nothing.
    """

    def __init__(self, notifier: SystemdNotifier, interval: float, is_healthy: Callable[[], bool]) -> None:
        if interval <= 0:
            raise ValueError("the watchdog interval must be positive")
        self.notifier = notifier
        self.interval = interval
        self.is_healthy = is_healthy
        self.fed = 0
        self._starving = False

    def feed_once(self) -> bool:
        """Feed if healthy; returns whether WATCHDOG=1 went out."""
        try:
            healthy = bool(self.is_healthy())
        except Exception:
            log.exception("watchdog health check failed; not feeding")
            healthy = False
        if not healthy:
            if not self._starving:
                log.error("core unhealthy: no longer feeding the watchdog; systemd will restart it")
                self._starving = True
            return False
        if self._starving:
            log.warning("core healthy again: feeding the watchdog")
            self._starving = False
        sent = self.notifier.watchdog()
        if sent:
            self.fed += 1
        return sent

    async def run(self) -> None:
        """Run until cancelled; start it with ``asyncio.create_task(feeder.run())``."""
        while True:
            self.feed_once()
            await asyncio.sleep(self.interval)
