"""The media bridge process kept running (appliance/media_bridge_runtime.py): an alarm while it
cannot start, a restart when it dies or the LAN address moves. A fake client stands in for the
process; tests/webrtc/test_client.py runs the real one."""

from __future__ import annotations

import asyncio

import pytest

from appliance import media_bridge_runtime
from appliance.alarms import Alarms
from appliance.media_bridge_runtime import ALARM_KIND, MediaBridgeRuntime
from appliance.webrtc.errors import MediaBridgeError


class FakeProcess:
    """BridgeClient's lifecycle: start (or fail to), run until it dies or is stopped."""

    made: list["FakeProcess"] = []
    failures = 0

    def __init__(self, address: str, on_ended):
        self.address, self.on_ended = address, on_ended
        self.pid = 4000 + len(FakeProcess.made)
        self.dead = asyncio.Event()
        self.stops = 0
        FakeProcess.made.append(self)

    async def start(self) -> None:
        if FakeProcess.failures:
            FakeProcess.failures -= 1
            raise MediaBridgeError("the media bridge process did not start")

    async def stopped(self) -> None:
        await self.dead.wait()

    async def stop(self) -> None:
        self.stops += 1
        self.dead.set()

    def die(self) -> None:
        self.on_ended("c1", "media bridge stopped")
        self.dead.set()


@pytest.fixture(autouse=True)
def quick(monkeypatch):
    monkeypatch.setattr(media_bridge_runtime, "RESTART_DELAYS_S", (0.01, 0.02))
    FakeProcess.made, FakeProcess.failures = [], 0


async def _until(check, seconds: float = 2.0) -> None:
    for _ in range(int(seconds / 0.01)):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not in time")


def test_a_bridge_that_cannot_start_raises_an_alarm_until_it_does(caplog):
    async def main():
        events = []
        alarms = Alarms(lambda event, **data: events.append((event, data.get("kind"))), lambda: 0.0)
        FakeProcess.failures = 2
        runtime = MediaBridgeRuntime(address=lambda: "192.168.1.10", alarms=alarms, on_ended=lambda c, r: None,
                                     client=FakeProcess)
        runtime.start()
        await _until(lambda: runtime.current() is not None)
        assert ("alarm", ALARM_KIND) in events and ALARM_KIND not in alarms.kinds()   # raised, then cleared
        assert runtime.current().address == "192.168.1.10" and len(FakeProcess.made) == 3
        await runtime.stop()
        assert runtime.current() is None and FakeProcess.made[-1].stops == 1

    asyncio.run(main())


def test_a_bridge_that_dies_ends_its_calls_and_is_started_again_and_follows_the_address():
    async def main():
        ended, address = [], ["192.168.1.10"]
        alarms = Alarms(lambda event, **data: None, lambda: 0.0)
        runtime = MediaBridgeRuntime(address=lambda: address[0], alarms=alarms,
                                     on_ended=lambda c, r: ended.append((c, r)), client=FakeProcess)
        runtime.start()
        await _until(lambda: runtime.current() is not None)
        first = runtime.current()
        first.die()
        await _until(lambda: runtime.current() not in (None, first))
        assert ended == [("c1", "media bridge stopped")] and runtime.starts == 2
        second = runtime.current()
        address[0] = "192.168.1.77"
        runtime.address_moved()
        await _until(lambda: runtime.current() not in (None, second))
        assert second.stops == 1 and runtime.current().address == "192.168.1.77"
        await runtime.stop()

    asyncio.run(main())
