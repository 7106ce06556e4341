"""Real SIP phones for tests: each `Phone` is a pjsua2 softphone process.

    phone = Phone("alice")
    phone.call("sip:100@127.0.0.1:5070")
    phone.wait_for("call_state", state="CONFIRMED")
    phone.play_tone(400)
    phone.close()

Every method sends one command and waits for its reply (raising PhoneError
if the phone refused it). Events queue up until a test waits for them;
`wait_for` takes the first matching one and leaves the others.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


class PhoneError(Exception):
    """The test phone refused a command or did not answer in time."""


class Phone:
    def __init__(self, name: str = "phone", codecs: str = "PCMU/8000,PCMA/8000",
                 python: str = sys.executable, start_timeout: float = 20.0, host: Any = None):
        """`host`: a host of a test LAN (tests/testlan.py): the phone runs there, on its address."""
        self.name = name
        self.address = host.address if host is not None else "127.0.0.1"
        self._cond = threading.Condition()
        self._events: list[dict] = []
        self._replies: dict[int, dict] = {}
        self._next_id = 0
        self._closed = False
        args = [python, "-m", "tests.peers.pjphone", "--name", name, "--codecs", codecs, "--bind", self.address]
        self.proc = subprocess.Popen(
            host.exec_args(args) if host is not None else args,
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True, name=f"phone-{name}").start()
        try:
            ready = self.wait_for("ready", timeout=start_timeout)
        except PhoneError:
            self.close()
            raise
        self.port: int = ready["sip_port"]

    @property
    def uri(self) -> str:
        """Where to call this phone directly."""
        return f"sip:{self.name}@{self.address}:{self.port}"

    # -- commands --
    def command(self, cmd: str, timeout: float = 10.0, **args: Any) -> dict:
        with self._cond:
            self._next_id += 1
            cmd_id = self._next_id
        try:
            self.proc.stdin.write(json.dumps({"id": cmd_id, "cmd": cmd, **args}) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError) as e:
            raise PhoneError(f"{self.name}: phone process is gone ({e})") from None
        deadline = time.monotonic() + timeout
        with self._cond:
            while cmd_id not in self._replies:
                left = deadline - time.monotonic()
                if left <= 0 or (self._closed and cmd_id not in self._replies):
                    raise PhoneError(f"{self.name}: no reply to {cmd}")
                self._cond.wait(left)
            reply = self._replies.pop(cmd_id)
        if not reply.get("ok"):
            raise PhoneError(f"{self.name}: {cmd} failed: {reply.get('error')}")
        return reply

    def register(self, registrar: str, user: str, password: str, mwi: bool = False) -> dict:
        return self.command("register", registrar=registrar, user=user, password=password, mwi=mwi)

    def call(self, uri: str) -> dict:
        return self.command("call", uri=uri)

    def answer(self, status: int = 200) -> dict:
        return self.command("answer", status=status)

    def hangup(self) -> dict:
        return self.command("hangup")

    def hold(self) -> dict:
        return self.command("hold")

    def unhold(self) -> dict:
        return self.command("unhold")

    def dtmf(self, digits: str, method: str = "rfc2833") -> dict:
        return self.command("dtmf", digits=digits, method=method)

    def play_tone(self, freq_hz: int) -> dict:
        return self.command("play_tone", freq_hz=freq_hz)

    def play(self, file: str | Path) -> dict:
        return self.command("play", file=str(file))

    def record(self, file: str | Path) -> dict:
        return self.command("record", file=str(file))

    def stop_record(self) -> dict:
        return self.command("stop_record")

    def transfer(self, uri: str) -> dict:
        return self.command("transfer", uri=uri)

    def status(self) -> dict:
        return self.command("status")

    # -- events --
    def wait_for(self, event: str, timeout: float = 10.0, **match: Any) -> dict:
        """Take the first queued or coming event with this name and these fields."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, e in enumerate(self._events):
                    if e.get("event") == event and all(e.get(k) == v for k, v in match.items()):
                        return self._events.pop(i)
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    seen = [e.get("event") for e in self._events]
                    raise PhoneError(f"{self.name}: no {event} {match or ''} "
                                     f"within {timeout} s (queued: {seen})")
                self._cond.wait(left)

    def events(self, event: str) -> list[dict]:
        """Take every queued event with this name, now."""
        with self._cond:
            taken = [e for e in self._events if e.get("event") == event]
            self._events = [e for e in self._events if e.get("event") != event]
            return taken

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                if "reply" in message and message["reply"] is not None:
                    self._replies[message["reply"]] = message
                elif "event" in message:
                    self._events.append(message)
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def close(self) -> None:
        """Stop the phone (hanging up its call) and reap the process."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
