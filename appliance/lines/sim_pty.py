"""A pseudo-terminal that plays a USB serial device, for the modem simulators.

The driver opens a stable path (a symlink we own, like /dev/ttyUSB0 would
be) with pyserial; `unplug()` closes the pty so the driver's reads fail with
EIO and removes the path; `replug()` makes a fresh pty at the same path.
`SimulatedModem` is how every simulator comes and goes with its ports.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import tty
from typing import Callable, Self

log = logging.getLogger(__name__)

FRAME_BYTES = 320          # 20 ms of 8 kHz 16-bit mono
FRAME_SECONDS = 0.020


class PtyPort:
    def __init__(self, link_path: str, on_data: Callable[[bytes], None]):
        self.link_path = link_path
        self._on_data = on_data
        self._lock = threading.Lock()
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.plugged = False

    def plug(self) -> None:
        master, slave = os.openpty()
        os.set_blocking(master, False)
        tty.setraw(slave)  # no echo or line editing before the driver opens it
        tmp = f"{self.link_path}.new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.ttyname(slave), tmp)
        os.replace(tmp, self.link_path)
        with self._lock:
            self._master, self._slave = master, slave
        self._stop.clear()
        self.plugged = True
        self._thread = threading.Thread(target=self._read_loop, name=f"pty {self.link_path}",
                                        daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None
            self.plugged = False
        if os.path.lexists(self.link_path):
            os.unlink(self.link_path)

    close = unplug

    def write(self, data: bytes) -> None:
        with self._lock:
            fd = self._master
            if fd is None:
                return
            view = memoryview(data)
            stalls = 0
            while view:
                try:
                    n = os.write(fd, view)
                except BlockingIOError:
                    # Nobody reads: a real modem overflows and drops, so do we.
                    stalls += 1
                    if stalls > 4:
                        return
                    select.select([], [fd], [], 0.05)
                    continue
                except OSError:
                    return
                view = view[n:]

    def _read_loop(self) -> None:
        while not self._stop.is_set():
            fd = self._master
            if fd is None:
                return
            try:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(fd, 4096)
            except OSError:
                continue  # EIO while no one has the slave open: keep waiting
            if data:
                try:
                    self._on_data(data)
                except Exception:
                    log.exception("simulator failed on %r", data[:40])


class AudioPump:
    """Paces outgoing audio at real time (a pty ignores baud rate) and keeps what came in."""

    def __init__(self, send: Callable[[bytes], None], frame_bytes: int = FRAME_BYTES):
        self._send = send
        self.frame_bytes = frame_bytes
        self._out = bytearray()
        self._received = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.silence = b"\x00" * frame_bytes
        self.tone: Callable[[int], bytes] | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="audio pump", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    def queue(self, audio: bytes) -> None:
        with self._lock:
            self._out += audio

    def record(self, audio: bytes) -> None:
        with self._lock:
            self._received += audio

    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    def _run(self) -> None:
        import time
        n = 0
        next_at = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                if self._out:
                    frame = bytes(self._out[:self.frame_bytes])
                    del self._out[:self.frame_bytes]
                elif self.tone is not None:
                    frame = self.tone(n)
                else:
                    frame = self.silence
            self._send(frame)
            n += 1
            next_at += FRAME_SECONDS
            self._stop.wait(max(0.0, next_at - time.monotonic()))


def tone_frames(hz: float, *, bits: int = 16, amplitude: float = 0.3):
    """A function giving frame n of a continuous sine tone at 8 kHz."""
    import math
    import struct
    samples_per_frame = int(8000 * FRAME_SECONDS)

    def frame(n: int) -> bytes:
        start = n * samples_per_frame
        values = [math.sin(2 * math.pi * hz * (start + i) / 8000) * amplitude
                  for i in range(samples_per_frame)]
        if bits == 16:
            return struct.pack(f"<{samples_per_frame}h", *(int(v * 32767) for v in values))
        return bytes(int(128 + v * 127) for v in values)
    return frame


class SimulatedModem:
    """How a modem simulator comes and goes: its ports plug in at `start`; at `stop` the ringing
    and the audio stop and the ports go. Usable as `with GsmModemSim(...) as modem:`."""

    _ports: list[PtyPort]
    _pump: AudioPump | None
    _ring_stop: threading.Event

    def start(self) -> Self:
        for port in self._ports:
            port.plug()
        return self

    def stop(self) -> None:
        self._ring_stop.set()
        if self._pump is not None:
            self._pump.stop()
        for port in self._ports:
            if port.plugged:
                port.unplug()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
