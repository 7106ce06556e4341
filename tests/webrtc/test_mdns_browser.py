"""A browser that names itself only by mDNS, on a LAN where multicast does not pass: the bridge
learns its address from its connectivity checks (peer-reflexive) and audio flows both ways.

Two aiortc peers on this machine: the stand-in browser's SDP has its addresses replaced by
`<uuid>.local` names that nobody answers, as Firefox's where no microphone permission is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import AsyncIterator

from aioice import stun

from appliance.webrtc.bridge import BridgeState, MediaBridge, names_itself_by_mdns
from appliance.webrtc.plain_sdp import build_plain, parse_plain
from tests.webrtc.captures import CHROMIUM_OFFER
from tests.webrtc.peers import AiortcBrowser, RtpPeer, stamp_of, stamped

CANDIDATE = re.compile(r"^(a=candidate:\S+ \d+ \S+ \d+ )(\S+)( .*)$", re.MULTILINE)
FRAMES = 50


def named_by_mdns(sdp: str) -> str:
    """Every candidate's address replaced by a name of its own that does not resolve."""
    names: dict[str, str] = {}

    def name(match: re.Match) -> str:
        host = names.setdefault(match.group(2), f"{uuid.uuid4()}.local")
        return match.group(1) + host + match.group(3)
    named = CANDIDATE.sub(name, sdp)
    assert names and "a=end-of-candidates" in named, "the stand-in browser gave no candidates"
    return named


def remote_types(bridge: MediaBridge) -> list[str]:
    ice = bridge._pc.getTransceivers()[0].receiver.transport.transport
    return [c.type for c in ice.getRemoteCandidates()]


def run(coro) -> None:
    """Each scenario on a loop of its own thread: aioice keeps its mDNS socket per thread, bound to
    the loop that made it, and a name still being resolved at the end holds its lock there."""
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, coro).result()


async def until(condition, what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise TimeoutError(what)
        await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def call_ends() -> AsyncIterator[tuple[MediaBridge, AiortcBrowser, RtpPeer]]:
    """The media bridge, the stand-in browser and the engine side on loopback, all closed after."""
    bridge, browser = MediaBridge("127.0.0.1"), AiortcBrowser()
    engine = await RtpPeer("127.0.0.1").open()
    try:
        yield bridge, browser, engine
    finally:
        await bridge.hang_up()
        await browser.close()
        engine.close()


async def talk(bridge: MediaBridge, browser: AiortcBrowser, engine: RtpPeer) -> None:
    """Both ends send FRAMES stamped frames; each must hear the other's."""
    await browser.connected()
    await until(lambda: bridge._pc.connectionState == "connected", "the bridge never connected")
    for i in range(FRAMES):
        browser.track.send(stamped(i))
        engine.send(stamped(i))
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    from_browser = {stamp_of(p.payload) for _, p in engine.heard}
    from_engine = {stamp_of(payload) for _, payload in browser.heard}
    assert len(from_browser & set(range(FRAMES))) >= FRAMES - 5, f"engine heard {len(from_browser)}"
    assert len(from_engine & set(range(FRAMES))) >= FRAMES - 5, f"browser heard {len(from_engine)}"
    assert "prflx" in remote_types(bridge), "the browser's address was not learned from its checks"


def test_a_browser_named_by_mdns_that_calls_is_heard_and_hears():
    async def go():
        async with call_ends() as (bridge, browser, engine):
            answer, engine_offer = await bridge.browser_calls(named_by_mdns(await browser.offer()))
            offered = parse_plain(engine_offer, "engine offer")
            engine.remote = (offered.address, offered.port)
            bridge.engine_answers(engine.sdp())
            await browser.accept(answer)
            await talk(bridge, browser, engine)
    run(go())


def test_a_browser_named_by_mdns_that_the_box_rings_is_heard_and_hears():
    async def go():
        async with call_ends() as (bridge, browser, engine):
            offer = await bridge.ring_browser(engine.sdp())
            answer = named_by_mdns(await browser.answer(offer))
            engine_answer = parse_plain(await bridge.browser_answers(answer), "engine answer")
            engine.remote = (engine_answer.address, engine_answer.port)
            await talk(bridge, browser, engine)
    run(go())


def test_a_browser_named_by_mdns_that_never_checks_ends_the_call_after_the_wait():
    async def go():
        ended: list[str] = []
        bridge = MediaBridge("127.0.0.1", on_ended=ended.append, first_check_wait=1.0)
        browser = AiortcBrowser()
        try:
            await bridge.browser_calls(named_by_mdns(await browser.offer()))   # its answer never arrives
            bridge.engine_answers(build_plain("127.0.0.1", 40000, "PCMU", None, session_id=5))
            await asyncio.sleep(0.8)
            assert ended == [] and bridge.state == BridgeState.CONNECTED      # still waiting for checks
            await until(lambda: ended, "the bridge kept waiting", timeout=8)
            assert ended == ["browser unreachable"] and bridge.state == BridgeState.ENDED
        finally:
            await bridge.hang_up()
            await browser.close()
    run(go())


def test_a_check_without_the_box_password_teaches_the_bridge_nothing():
    """A host on the LAN that sees the bridge's port cannot become the browser's address: a check
    must carry the box's ICE username and pass MESSAGE-INTEGRITY with its password."""
    async def go():
        bridge, browser = MediaBridge("127.0.0.1"), AiortcBrowser()
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stranger.bind(("127.0.0.1", 0))
        stranger.setblocking(False)
        try:
            answer, _ = await bridge.browser_calls(named_by_mdns(await browser.offer()))
            ufrag = re.search(r"a=ice-ufrag:(\S+)", answer).group(1)
            port = int(re.search(r"a=candidate:\S+ 1 udp \d+ [\d.]+ (\d+) typ host", answer).group(1))
            host = re.search(r"a=candidate:\S+ 1 udp \d+ ([\d.]+) \d+ typ host", answer).group(1)
            check = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.REQUEST)
            check.attributes.update({"USERNAME": f"{ufrag}:stranger", "PRIORITY": 1 << 24,
                                     "ICE-CONTROLLING": 1, "USE-CANDIDATE": None})
            check.add_message_integrity(b"not-the-box-password-at-all")
            stranger.sendto(bytes(check), (host, port))
            loop = asyncio.get_running_loop()
            reply = stun.parse_message(await asyncio.wait_for(loop.sock_recv(stranger, 2048), 5))
            assert reply.message_class == stun.Class.ERROR and reply.attributes["ERROR-CODE"][0] == 401
            await asyncio.sleep(0.2)
            assert "prflx" not in remote_types(bridge)
        finally:
            stranger.close()
            await bridge.hang_up()
            await browser.close()
    run(go())


def test_only_an_sdp_with_mdns_names_keeps_waiting_for_checks():
    assert names_itself_by_mdns(CHROMIUM_OFFER) == (CHROMIUM_OFFER, False)
    firefox = CHROMIUM_OFFER.replace("10.231.41.11 55357", "0f1e2d3c-aaaa-bbbb-cccc-0123456789ab.local 55357")
    sdp, mdns = names_itself_by_mdns(firefox + "a=end-of-candidates\r\n")
    assert mdns and "end-of-candidates" not in sdp and sdp.replace(firefox, "") == ""
