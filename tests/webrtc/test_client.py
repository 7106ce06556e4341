"""The core's client of the bridge process: answers, refusals, and a process that dies."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from appliance.webrtc.client import BridgeClient
from appliance.webrtc.errors import MediaBridgeError
from tests.webrtc.captures import CHROMIUM_OFFER, PJSUA2_OFFER


def test_the_client_sets_up_refuses_and_hangs_up():
    async def go():
        client = BridgeClient("127.0.0.1")
        await client.start()
        try:
            answer, engine_offer = await client.browser_calls("c1", CHROMIUM_OFFER)
            assert "UDP/TLS/RTP/SAVPF 9 126" in answer and "RTP/AVP 9 101" in engine_offer
            assert "a=setup:actpass" in await client.ring_browser("c2", PJSUA2_OFFER)
            with pytest.raises(MediaBridgeError, match="engine answer has no G722"):
                await client.engine_answers("c1", PJSUA2_OFFER.replace(" 9 0 8 120", " 0 8 120"))
            with pytest.raises(MediaBridgeError, match="^browser offer is empty$"):
                await client.browser_calls("c3", "")
            assert set((await client.stats())["calls"]) == {"c1", "c2"}
            await client.hang_up("c1")
            await client.hang_up("c2")
            assert (await client.stats())["calls"] == {}
        finally:
            await client.stop()
        with pytest.raises(MediaBridgeError, match="not running"):
            await client.stats()
    asyncio.run(go())


def test_a_dead_process_ends_its_calls_and_fails_what_waits():
    ended = []

    async def go():
        client = BridgeClient("127.0.0.1", on_ended=lambda call, reason: ended.append((call, reason)))
        await client.start()
        await client.ring_browser("c1", PJSUA2_OFFER)
        os.kill(client.pid, signal.SIGKILL)
        with pytest.raises(MediaBridgeError, match="stopped|not running|no answer"):
            await client.stats()
        await client.stop()
    asyncio.run(go())
    assert ended == [("c1", "media bridge stopped")]


def test_the_client_loads_no_webrtc_library():
    """The core may hold a client without paying aiortc's and av's 44 MB (docs/browser-phone.md)."""
    import subprocess
    import sys
    code = "import sys, appliance.webrtc.client; print(sorted({'aiortc', 'aioice', 'av'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
