"""A real `callbox core` process for tests, and a small client for its API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import PYTHON, ROOT


class CoreProcess:
    def __init__(self, data_dir: Path, settings: dict[str, Any] | None = None, sip_port: int = 0,
                 env: dict[str, str] | None = None, cwd: Path | None = None):
        # `data_dir` may be relative, as an owner types it (`--data var`): it is then passed on as it
        # is and taken relative to `cwd`, the directory the core runs in.
        self.cwd = Path(cwd) if cwd is not None else ROOT
        self.data_arg = str(data_dir)
        self.data_dir = Path(data_dir) if Path(data_dir).is_absolute() else self.cwd / data_dir
        # Engine workers cost half a second and 30 MB each: only the call tests ask for them.
        # The built-in prompts (espeak-ng) likewise; tests that need prompts make their own.
        self.settings = {"engine.enabled": False, "prompts.builtin_languages": [], "provisioning.port": 0,
                                           "provisioning.pnp": False, "sip.wss_port": 0} \
            | (settings or {})
        self.sip_port_wanted = sip_port
        self.env = env or {}
        self.proc: subprocess.Popen | None = None
        self.info: dict[str, Any] = {}
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-core.log"

    def args(self) -> list[str]:
        """The command line: loopback, free ports, and the test's settings."""
        return [PYTHON, "-m", "appliance.cli", "core", "--data", self.data_arg, "--bind", "127.0.0.1",
                "--sip-port", str(self.sip_port_wanted), "--api-port", "0", *self.set_args()]

    def set_args(self) -> list[str]:
        return [a for k, v in self.settings.items() for a in ("--set", f"{k}={json.dumps(v)}")]

    def command(self, args: list[str]) -> list[str]:
        """Where it runs (a host of a test LAN wraps it in `ip netns exec`)."""
        return args

    def start(self, timeout: float = 20.0) -> "CoreProcess":
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(self.args()), cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=os.environ | {"PYTHONUNBUFFERED": "1"} | self.env)
        deadline = time.monotonic() + timeout
        path = self.data_dir / "run" / "api.json"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"core exited with {self.proc.returncode}:\n{self.log()}")
            try:
                info = json.loads(path.read_text())
                if info.get("pid") == self.proc.pid:
                    self.info = info
                    return self
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise RuntimeError(f"core did not start:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    @property
    def sip_port(self) -> int:
        return self.info["sip_port"]

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # --- API ---------------------------------------------------------------------------

    def api(self, method: str, path: str, body: Any = None, token: str | None = None,
            raw: bytes | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.info["url"] + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.info['token'] if token is None else token}",
            "Content-Type": "application/json" if raw is None else "application/octet-stream"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                text = r.read()
                kind = r.headers.get_content_type()
                if kind.startswith("text/"):
                    return r.status, text.decode(errors="replace")
                if kind != "application/json":
                    return r.status, text  # audio, archives: the bytes
                return r.status, json.loads(text) if text else None
        except urllib.error.HTTPError as e:
            text = e.read()
            try:
                return e.code, json.loads(text)
            except ValueError:
                return e.code, text.decode(errors="replace")

    def add_extension(self, number: str, secret: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {"number": number, "name": f"Test {number}", **extra}
        if secret:
            body["secret"] = secret
        status, ext = self.api("POST", "/api/extensions", body)
        assert status == 201, (status, ext)
        return ext

    def registrations(self) -> list[dict[str, Any]]:
        status, body = self.api("GET", "/api/registrations")
        assert status == 200
        return body["registrations"]

    def wait_registered(self, aor: str, timeout: float = 10.0, present: bool = True) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            regs = [r for r in self.registrations() if r["aor"] == aor]
            if bool(regs) == present:
                return regs
            time.sleep(0.1)
        raise AssertionError(f"{aor} {'not ' if present else ''}registered within {timeout}s: {self.registrations()}")


class WebProcess:
    """`callbox web` for a core's data directory, plain HTTP on loopback (as tests need it)."""

    def __init__(self, data_dir: Path, log_path: Path):
        from tests.conftest import free_port
        self.port = free_port()
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([PYTHON, "-m", "appliance.cli", "web", "--data", str(data_dir), "--host",
                                      "127.0.0.1", "--port", str(self.port), "--insecure-http"], cwd=ROOT,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + "/healthz", timeout=1).read()
                return
            except OSError:
                assert self.proc.poll() is None, log_path.read_text()
                time.sleep(0.1)
        raise RuntimeError(f"the web page did not come up:\n{log_path.read_text()}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()
