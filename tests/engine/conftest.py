"""Fixtures: a real engine worker (driven through EngineClient) and real phones."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable

import pytest

from appliance.engine.client import WorkerProcess
from tests.peers.audio import write_sine
from tests.peers.phones import Phone

class Engine:
    """A worker seen from the core, with blocking calls for readable tests.

    The asyncio client runs on its own loop thread, as it would in the core.
    """

    def __init__(self, worker_id: str = "w0"):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.worker = WorkerProcess(worker_id=worker_id)
        self.client = self._run(self.worker.start())
        self.ready = self.worker.ready

    def _run(self, coro, timeout: float = 30.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def host(self) -> str:
        return self.worker.sip_uri_host

    def uri(self, user: str = "100") -> str:
        return f"sip:{user}@{self.host}"

    def command(self, cmd: str, **args: Any) -> dict:
        return self._run(self.client.command(cmd, **args))

    def wait_event(self, name: str | None = None, timeout: float = 10.0, **match: Any) -> dict:
        return self._run(self.client.next_event(name, timeout_s=timeout, **match),
                         timeout + 5)

    def send_raw(self, line: bytes) -> None:
        self._run(self.client.send_raw(line))

    def drop_connection(self) -> None:
        self._run(self.worker.drop_connection())

    def wait_exit(self, timeout: float = 10.0) -> int:
        return self._run(asyncio.wait_for(self.worker.process.wait(), timeout), timeout + 5)

    def close(self) -> None:
        try:
            self._run(self.worker.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
            self.loop.close()


@pytest.fixture
def engine():
    e = Engine()
    yield e
    e.close()


@pytest.fixture
def make_phone() -> Callable[..., Phone]:
    phones: list[Phone] = []

    def make(name: str = "phone", **kwargs: Any) -> Phone:
        p = Phone(name, **kwargs)
        phones.append(p)
        return p

    yield make
    for p in phones:
        p.close()


@pytest.fixture
def tone_wav(tmp_path):
    def make(freq_hz: float, seconds: float = 3.0):
        return write_sine(tmp_path / f"tone-{int(freq_hz)}.wav", freq_hz, seconds)
    return make


def call_in(engine: Engine, phone: Phone, user: str = "100") -> str:
    """The phone calls the worker; the test, as the core, answers. Returns the leg."""
    phone.call(engine.uri(user))
    incoming = engine.wait_event("incoming")
    engine.command("answer", leg=incoming["leg"])
    engine.wait_event("answered", leg=incoming["leg"])
    phone.wait_for("call_state", state="CONFIRMED")
    return incoming["leg"]
