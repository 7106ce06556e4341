"""The core tells systemd it is ready and feeds the watchdog while its loop runs, and only then."""

from __future__ import annotations

import signal
import socket
import time

from tests.integration.corebox import CoreProcess


def _messages(sock: socket.socket, seconds: float) -> list[str]:
    out: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            out.extend(sock.recv(4096).decode().split("\n"))
        except socket.timeout:
            break
    return out


def test_ready_then_watchdog_while_alive_and_silence_when_hung(tmp_path):
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    core = CoreProcess(tmp_path / "data", env={"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "1000000"})
    try:
        core.start()
        first = _messages(sock, 3.0)
        assert "READY=1" in first
        assert first.count("WATCHDOG=1") >= 3  # fed at half the 1 s interval
        core.proc.send_signal(signal.SIGSTOP)  # the loop hangs
        time.sleep(0.2)
        _messages(sock, 0.1)  # drop what was in flight
        assert "WATCHDOG=1" not in _messages(sock, 2.0)
        core.proc.send_signal(signal.SIGCONT)
        assert "WATCHDOG=1" in _messages(sock, 3.0)
        core.proc.send_signal(signal.SIGTERM)
        assert "STOPPING=1" in _messages(sock, 5.0)
    finally:
        core.proc.send_signal(signal.SIGCONT)
        core.stop()
        sock.close()
