"""Small working fakes for the line tests."""

from __future__ import annotations

import re
from typing import Callable


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedModem:
    """Answers a pure line core's writes from a table {regex: reply bytes or callable}."""

    DEFAULTS: dict[str, bytes] = {
        r"AT\+CPIN\?": b"\r\n+CPIN: READY\r\n\r\nOK\r\n",
        r"AT\+CSQ": b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n",
        r"AT\+CREG\?": b'\r\n+CREG: 2,1,"00C3","1A2B"\r\n\r\nOK\r\n',
        r"AT\+COPS\?": b'\r\n+COPS: 0,0,"Plus",2\r\n\r\nOK\r\n',
        r"AT\+CLCC": b"\r\nOK\r\n",
    }

    def __init__(self, core, replies: dict[str, bytes | Callable[[str], bytes] | None] | None = None):
        self.core = core
        self.replies = {**self.DEFAULTS, **(replies or {})}
        self.written: list[str] = []

    def pump(self, rounds: int = 100) -> None:
        for _ in range(rounds):
            writes = self.core.writes()
            if not writes:
                return
            for data in writes:
                cmd = data.decode("latin-1").strip()
                self.written.append(cmd)
                reply = b"\r\nOK\r\n"
                for pattern, value in self.replies.items():
                    if re.fullmatch(pattern, cmd):
                        reply = value(cmd) if callable(value) else value
                        break
                if reply:
                    self.core.receive(reply)

    def commands(self, prefix: str) -> list[str]:
        return [c for c in self.written if c.startswith(prefix)]
