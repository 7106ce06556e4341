"""The box on a test LAN, started as the systemd unit starts it: `callbox core --data DIR`.

It runs in a host (network namespace) of its own, with default settings, so the
address it tells phones is the one it finds there; its control API stays on
that host's loopback, reached through a socket opened inside the namespace.
"""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from typing import Any

from tests.conftest import PYTHON
from tests.integration.corebox import CoreProcess
from tests.testlan import Host


class _NsConnection(http.client.HTTPConnection):
    def __init__(self, host: Host, address: str, port: int, timeout: float):
        super().__init__(address, port, timeout=timeout)
        self.lan_host = host

    def connect(self) -> None:
        self.sock = self.lan_host.connect((self.host, self.port), timeout=self.timeout)


def ns_http(host: Host, address: str, port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 15) -> tuple[int, Any, bytes]:
    """One HTTP request made from inside a host of the test LAN: (status, headers, body)."""
    conn = _NsConnection(host, address, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


class LanCore(CoreProcess):
    """A real core on a host of the test LAN; `settings` only where a test is about one."""

    def __init__(self, host: Host, data_dir: Path, settings: dict[str, Any] | None = None):
        super().__init__(data_dir)
        self.host = host
        self.settings = dict(settings or {})

    def args(self) -> list[str]:
        # As the systemd unit starts it: no --bind, default ports (the host is the box's own).
        return [PYTHON, "-m", "appliance.cli", "core", "--data", str(self.data_dir), *self.set_args()]

    def command(self, args: list[str]) -> list[str]:
        return self.host.exec_args(args)  # `ip netns exec` execs: the pid in api.json is this process's

    def start(self, timeout: float = 40.0) -> "LanCore":
        super().start(timeout)
        return self

    def api(self, method: str, path: str, body: Any = None, token: str | None = None,
            raw: bytes | None = None) -> tuple[int, Any]:
        url = self.info["url"]
        hostport = url.split("://", 1)[1].rstrip("/")
        address, _, port = hostport.rpartition(":")
        conn = _NsConnection(self.host, address, int(port), timeout=15)
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        try:
            conn.request(method, path, body=data, headers={
                "Authorization": f"Bearer {self.info['token'] if token is None else token}",
                "Content-Type": "application/json"})
            r = conn.getresponse()
            text = r.read()
        finally:
            conn.close()
        if r.headers.get_content_type() == "application/json":
            return r.status, json.loads(text) if text else None
        return r.status, text.decode(errors="replace")

    def wait_for(self, what: str, check, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = check()
            if last:
                return last
            time.sleep(0.2)
        raise AssertionError(f"{what} not within {timeout}s (last: {last!r})\n{self.log()}")

    def engine_ready(self, timeout: float = 40.0) -> list[dict[str, Any]]:
        def ready():
            status, body = self.api("GET", "/api/engine")
            workers = body.get("workers", []) if status == 200 and isinstance(body, dict) else []
            return workers if workers and all(w["alive"] for w in workers) else None
        return self.wait_for("engine workers", ready, timeout)
