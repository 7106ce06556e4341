"""The line gateway's status lines to the core, and the orders the core writes back on the same socket.

JSON lines on the core's Unix socket (``--status-socket``), reconnecting every few seconds when the
core is away and sending the last status again once it is back; or, without a socket, status lines
on a stream (stdout). What goes out is checked against protocol.GATEWAY_TABLE by the gateway.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import time
from typing import Any, Callable, TextIO

from appliance.engine.line_calls import CallState
from appliance.lines.notices import LineStatus

_RETRY_S = 2.0


def status_message(line: str, status: LineStatus, call_state: str) -> dict[str, Any]:
    """The status line the core reads: what the line page and the LED show."""
    err = status.last_error
    return {"event": "status", "line": line, "state": status.state,
            "signal": status.signal_dbm, "operator": status.operator, "sim": status.sim,
            "registered": status.registered,
            "in_call": status.in_call or call_state != CallState.IDLE,
            "call": call_state, "indicator": status.indicator,
            "last_error": dataclasses.asdict(err) if err is not None else None}


class StatusOut:
    """JSON lines to the core's Unix socket, reconnecting; or to a stream (stdout)."""

    def __init__(self, socket_path: str | None, stream: TextIO | None,
                 clock: Callable[[], float] = time.monotonic):
        self.socket_path = socket_path
        self.stream = stream
        self.clock = clock
        self._sock: socket.socket | None = None
        self._next_try = 0.0
        self._inbuf = b""
        self.last_status: dict[str, Any] | None = None

    def send(self, message: dict[str, Any]) -> None:
        if message.get("event") == "status":
            self.last_status = message
        line = json.dumps(message) + "\n"
        if self.socket_path is None:
            if self.stream is not None:
                self.stream.write(line)
                self.stream.flush()
            return
        if self._sock is None and not self._connect():
            return
        try:
            self._sock.sendall(line.encode())  # type: ignore[union-attr]
        except OSError:
            self._drop()

    def commands(self) -> list[dict[str, Any]]:
        """JSON lines the core wrote back on the status socket (never blocks)."""
        if self._sock is None:
            return []
        try:
            data = self._sock.recv(65536, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            self._drop()
            return []
        if not data:
            self._drop()
            return []
        self._inbuf += data
        out = []
        while b"\n" in self._inbuf:
            line, self._inbuf = self._inbuf.split(b"\n", 1)
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def _connect(self) -> bool:
        now = self.clock()
        if now < self._next_try:
            return False
        self._next_try = now + _RETRY_S
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.socket_path)  # type: ignore[arg-type]
        except OSError:
            sock.close()
            return False
        self._sock = sock
        self._inbuf = b""
        if self.last_status is not None:  # the core missed changes while we were apart
            try:
                sock.sendall((json.dumps(self.last_status) + "\n").encode())
            except OSError:
                self._drop()
                return False
        return True

    def retry(self) -> None:
        if self.socket_path is not None and self._sock is None and self.last_status is not None:
            self._connect()

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None

    def close(self) -> None:
        self._drop()
