"""Runs a pure line core on a serial port: a reader thread, a tick thread, one lock.

The core (`GsmLine`, `VoiceLine`) takes bytes, ticks and actions and hands
back bytes to write and notices; this is the only place where they meet
the real port and real time.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable, Protocol

from appliance.errors import ATError, ModemGone
from appliance.lines.notices import LineStatus, Notice
from appliance.lines.transport import SerialTransport

log = logging.getLogger(__name__)


class LineCore(Protocol):
    status: LineStatus

    def connected(self) -> None: ...
    def gone(self) -> None: ...
    def receive(self, data: bytes) -> None: ...
    def tick(self) -> None: ...
    def writes(self) -> list[bytes]: ...
    def notices(self) -> list[Notice]: ...
    def answer(self) -> None: ...
    def dial(self, number: str) -> None: ...
    def hangup(self) -> None: ...


class LineRunner:
    def __init__(self, core: LineCore, port: str, *, lock_dir: str | None = None,
                 baudrate: int = 115200, backoff_start: float = 1.0,
                 on_notice: Callable[[Notice], None] | None = None,
                 tick_interval: float = 0.05, wait_for_device: bool = False):
        self.line = core
        self.events: queue.Queue[Notice] = queue.Queue()
        self._on_notice = on_notice
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._tick_interval = tick_interval
        self._wait_for_device = wait_for_device
        self._thread: threading.Thread | None = None
        self.transport = SerialTransport(port, baudrate, lock_dir=lock_dir,
                                         on_data=self._on_data, on_gone=self._on_gone,
                                         on_reconnect=self._on_reconnect,
                                         backoff_start=backoff_start)

    def start(self):
        """Open the port (PortBusy if another driver has it) and start the line.
        With `wait_for_device` a missing modem is not an error: the line starts
        when it is plugged in."""
        with self._lock:
            self.transport.open(wait_for_device=self._wait_for_device)
            if not self.transport.gone:
                self.line.connected()
                self._flush()
        self._thread = threading.Thread(target=self._ticker, name="line tick", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.transport.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def status(self) -> LineStatus:
        return self.line.status

    def _ticker(self) -> None:
        while not self._stop.wait(self._tick_interval):
            with self._lock:
                self.line.tick()
                self._flush()

    def _on_data(self, data: bytes) -> None:
        with self._lock:
            self.line.receive(data)
            self._flush()

    def _on_gone(self) -> None:
        with self._lock:
            self.line.gone()
            self._flush()

    def _on_reconnect(self) -> None:
        with self._lock:
            self.line.connected()
            self._flush()

    def _flush(self) -> None:
        if not self.transport.gone:
            for data in self.line.writes():
                try:
                    self.transport.write(data)
                except ModemGone:
                    break
        for notice in self.line.notices():
            self.events.put(notice)
            if self._on_notice is not None:
                try:
                    self._on_notice(notice)
                except Exception:
                    log.exception("notice handler failed on %r", notice)

    def _do(self, action: Callable[[], None]) -> None:
        with self._lock:
            action()
            self._flush()

    # What every line does, GSM or analog: the driver's core decides how.
    def answer(self) -> None:
        self._do(self.line.answer)

    def dial(self, number: str) -> None:
        self._do(lambda: self.line.dial(number))

    def hangup(self) -> None:
        self._do(self.line.hangup)

    def wait_for(self, kind: type, timeout: float = 10.0,
                 where: Callable[[Notice], bool] | None = None) -> Notice:
        """The next notice of `kind` (others are passed over); ATError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ATError(f"no {kind.__name__} within {timeout} s")
            try:
                notice = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if isinstance(notice, kind) and (where is None or where(notice)):
                return notice
