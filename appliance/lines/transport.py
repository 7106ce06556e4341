"""The serial port: pyserial, a reader thread, reconnect with backoff, a port lock.

A USB modem vanishes when it is unplugged, reset by its own firmware or
browned out by the Pi's supply; reads then fail with EIO. The transport
reports the loss, keeps the port's lock, and opens the same path again
(1, 2, 4 ... 30 s apart) until the device is back.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
from typing import Callable

import serial

from appliance.errors import ModemGone, PortBusy

log = logging.getLogger(__name__)

DEFAULT_LOCK_DIR = "/run/lock"


def backoff_delays(start: float = 1.0, limit: float = 30.0):
    delay = start
    while True:
        yield delay
        delay = min(delay * 2, limit)


class PortLock:
    """An flock on `<lock_dir>/callbox-<basename>.lock`; the kernel drops it if we die."""

    def __init__(self, port: str, lock_dir: str | None = None):
        base = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(port.rstrip("/")) or port)
        self.path = os.path.join(lock_dir or DEFAULT_LOCK_DIR, f"callbox-{base}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise PortBusy(f"{self.path} is held by another driver") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class SerialTransport:
    def __init__(self, url_or_path: str, baudrate: int = 115200, *,
                 lock_dir: str | None = None,
                 on_data: Callable[[bytes], None] | None = None,
                 on_gone: Callable[[], None] | None = None,
                 on_reconnect: Callable[[], None] | None = None,
                 sleeper: Callable[[float], bool | None] | None = None,
                 backoff_start: float = 1.0, backoff_limit: float = 30.0):
        self.port = url_or_path
        self.baudrate = baudrate
        self.on_data = on_data or (lambda data: None)
        self.on_gone = on_gone or (lambda: None)
        self.on_reconnect = on_reconnect or (lambda: None)
        self._lock = PortLock(url_or_path, lock_dir)
        self._stop = threading.Event()
        # The default sleeper wakes up early when the transport is closed.
        self._sleep = sleeper or self._stop.wait
        self._backoff = (backoff_start, backoff_limit)
        self._serial: serial.SerialBase | None = None
        self._write_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.gone = True

    def open(self, *, wait_for_device: bool = False) -> None:
        """Take the port's lock and open it; raises PortBusy, or ModemGone if the
        device is absent (unless `wait_for_device`: then it is opened when it appears)."""
        self._lock.acquire()
        try:
            self._open_serial()
        except ModemGone:
            if not wait_for_device:
                self._lock.release()
                raise
            log.info("%s: waiting for the device", self.port)
        self._thread = threading.Thread(target=self._run, name=f"serial {self.port}", daemon=True)
        self._thread.start()

    def _open_serial(self) -> None:
        try:
            ser = serial.serial_for_url(self.port, baudrate=self.baudrate, timeout=0.1,
                                        exclusive=None)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise ModemGone(f"{self.port}: {exc}") from exc
        self._serial = ser
        self.gone = False

    def write(self, data: bytes) -> None:
        ser = self._serial
        if ser is None or self.gone:
            raise ModemGone(f"{self.port} is gone")
        try:
            with self._write_lock:
                ser.write(data)
        except (serial.SerialException, OSError) as exc:
            self._mark_gone(exc)
            raise ModemGone(f"{self.port}: {exc}") from exc

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._close_serial()
        self._lock.release()

    def _close_serial(self) -> None:
        ser, self._serial = self._serial, None
        if ser is not None:
            try:
                ser.close()
            except (serial.SerialException, OSError):
                pass

    def _mark_gone(self, exc: BaseException) -> None:
        if not self.gone:
            log.warning("%s: device gone (%s)", self.port, exc)
            self.gone = True
            self._close_serial()
            self.on_gone()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.gone:
                self._reconnect()
                continue
            ser = self._serial
            try:
                data = ser.read(max(1, ser.in_waiting)) if ser is not None else b""
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                # TypeError/AttributeError: pyserial reading a port closed under it.
                if not self._stop.is_set():
                    self._mark_gone(exc)
                continue
            if data:
                try:
                    self.on_data(data)
                except Exception:  # a driver bug must not kill the port
                    log.exception("%s: handler failed", self.port)

    def _reconnect(self) -> None:
        for delay in backoff_delays(*self._backoff):
            if self._sleep(delay) or self._stop.is_set():
                return
            try:
                self._open_serial()
            except ModemGone:
                continue
            log.info("%s: device back", self.port)
            try:
                self.on_reconnect()
            except Exception:
                log.exception("%s: reconnect handler failed", self.port)
            return

