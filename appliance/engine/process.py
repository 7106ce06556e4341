"""What every pjsua2 process of the engine does around its loop (the worker, the line gateway, the
simulated phones): Python's garbage collected on the pjsua2 thread only, what other threads
posted taken from the inbox, a stop asked for by SIGTERM or SIGINT, and an exit that skips
Python's own teardown.

Python's cycle collector is disabled in these processes: a collection started on another thread
could destroy a pjsua2 object under pjsua2's feet and abort the process.
"""

from __future__ import annotations

import gc
import os
import queue
import signal
import time
from typing import Any, Callable, Iterator, NoReturn, TextIO

GC_EVERY_S = 2.0


def collect_on_this_thread_only() -> None:
    """From now on garbage is collected only where `Collector` runs (the pjsua2 thread)."""
    gc.disable()


class Collector:
    """Called every round of the loop; collects once every GC_EVERY_S and says when it did."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, every_s: float = GC_EVERY_S):
        self.clock = clock
        self.every_s = every_s
        self.next_at = clock() + every_s

    def __call__(self) -> bool:
        now = self.clock()
        if now < self.next_at:
            return False
        gc.collect()
        self.next_at = now + self.every_s
        return True


def drained(inbox: queue.Queue) -> Iterator[Any]:
    """What other threads posted to the loop's inbox, in order, without waiting for more."""
    while True:
        try:
            yield inbox.get_nowait()
        except queue.Empty:
            return


def stop_on_signals(stop: Callable[[], None]) -> None:
    """SIGTERM and SIGINT call `stop` (on the main thread, between two libHandleEvents calls)."""
    def handler(signum: int, frame: object) -> None:
        stop()
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def leave(code: int, *streams: TextIO) -> NoReturn:
    """Flush and exit: Python's own teardown of leftover SWIG objects after libDestroy can abort,
    and everything is closed by now."""
    for stream in streams:
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
