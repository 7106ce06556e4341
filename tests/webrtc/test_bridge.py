"""The media bridge without a browser: SDP it accepts and refuses, its state table, its sockets,
and the aiortc hook it relies on. Real captures in, real sockets (on loopback) out."""

from __future__ import annotations

import asyncio
import inspect
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcrtpreceiver import RTCRtpReceiver

from appliance.webrtc import rtp_header
from appliance.webrtc.bridge import TRANSITIONS, BridgeState, MediaBridge, browser_codecs
from appliance.webrtc.errors import MediaBridgeError
from appliance.webrtc.plain_sdp import build_plain, parse_plain
from tests.webrtc.captures import CHROMIUM_OFFER, PJSUA2_OFFER


def run(coro):
    return asyncio.run(coro)


def test_a_chromium_offer_gets_an_answer_and_an_engine_offer_with_the_same_codec():
    async def go():
        bridge = MediaBridge("127.0.0.1")
        answer, engine_offer = await bridge.browser_calls(CHROMIUM_OFFER)
        try:
            assert bridge.state == BridgeState.WAITING_FOR_ENGINE
            assert "m=audio" in answer and " UDP/TLS/RTP/SAVPF 9 126\r\n" in answer
            assert "a=fingerprint:sha-256" in answer and "a=rtpmap:126 telephone-event/8000" in answer
            media = parse_plain(engine_offer, "engine offer")
            assert media.codecs == ((9, "G722"), (101, "telephone-event")) and media.port == bridge.port
            bridge.engine_answers(build_plain("127.0.0.1", 40000, "G722", 120, session_id=5))
            assert bridge.state == BridgeState.CONNECTED
        finally:
            await bridge.hang_up()
        assert bridge.state == BridgeState.ENDED
        await bridge.hang_up()    # twice is harmless
    run(go())


def test_an_engine_offer_becomes_a_browser_offer_of_its_first_codec():
    async def go():
        bridge = MediaBridge("127.0.0.1")
        offer = await bridge.ring_browser(PJSUA2_OFFER)
        try:
            assert " UDP/TLS/RTP/SAVPF 9 101\r\n" in offer and "a=setup:actpass" in offer
            assert bridge.state == BridgeState.RINGING_BROWSER
            with pytest.raises(MediaBridgeError, match="browser answer has no G722"):
                await bridge.browser_answers(CHROMIUM_OFFER.replace(" 111 63 9 0 8 13 110 126", " 0")
                                             .replace("a=rtpmap:9 G722/8000\r\n", ""))
        finally:
            await bridge.hang_up()
    run(go())


BAD_OFFERS = [
    ("", "browser offer is empty"),
    ("not sdp at all", "browser offer"),
    (PJSUA2_OFFER, "no ICE credentials or DTLS fingerprint"),
    (CHROMIUM_OFFER.replace("m=audio", "m=video"), "exactly one audio stream"),
    (CHROMIUM_OFFER + CHROMIUM_OFFER[CHROMIUM_OFFER.index("m=audio"):], "exactly one audio stream"),
    (CHROMIUM_OFFER.replace(" 111 63 9 0 8 13 110 126", " 111"), "no common codec: offered opus/48000"),
    (CHROMIUM_OFFER.replace("a=fingerprint:sha-256", "a=fingerprint:md2"), "no DTLS fingerprint in sha-256"),
    ("v=0\r\n" + "a=x\r\n" * 20000, "larger than"),
]


@pytest.mark.parametrize("offer,why", BAD_OFFERS, ids=[w for _, w in BAD_OFFERS])
def test_a_malformed_browser_offer_gets_a_clear_error_and_leaves_nothing_open(offer, why):
    async def go():
        bridge = MediaBridge("127.0.0.1")
        with pytest.raises(MediaBridgeError, match=why):
            await bridge.browser_calls(offer)
        assert bridge.state == BridgeState.ENDED and bridge._transport is None and bridge._pc is None
    run(go())


def test_steps_out_of_order_name_the_state_and_the_step():
    async def go():
        bridge = MediaBridge("127.0.0.1")
        with pytest.raises(MediaBridgeError, match="no 'engine answer' while idle"):
            bridge.engine_answers(PJSUA2_OFFER)
        with pytest.raises(MediaBridgeError, match="no 'browser answer' while idle"):
            await bridge.browser_answers(CHROMIUM_OFFER)
        await bridge.hang_up()
        with pytest.raises(MediaBridgeError, match="no 'browser offer' while ended"):
            await bridge.browser_calls(CHROMIUM_OFFER)
    run(go())
    assert all(BridgeState.ENDED in (s, *to.values()) or "hang-up" in to for s, to in TRANSITIONS.items())


@pytest.mark.parametrize("direction", ["browser calls", "box rings"])
def test_a_hang_up_at_any_moment_of_set_up_leaves_nothing_open(direction):
    async def go(turns: int) -> None:
        bridge = MediaBridge("127.0.0.1")
        setting_up = asyncio.ensure_future(bridge.browser_calls(CHROMIUM_OFFER) if direction == "browser calls"
                                           else bridge.ring_browser(PJSUA2_OFFER))
        for _ in range(turns):
            await asyncio.sleep(0)
        await bridge.hang_up()
        try:
            await setting_up        # done before the hang-up, or ended by it
        except MediaBridgeError as e:
            assert "hung up during set-up" in str(e) or "while ended" in str(e)
        assert bridge.state == BridgeState.ENDED and bridge._transport is None and bridge._pc is None

    async def every_moment() -> None:
        for turns in (0, 1, 2, 5, 10, 20, 50, 200):
            await go(turns)
    run(every_moment())


def test_an_engine_answer_with_another_codec_is_refused():
    async def go():
        bridge = MediaBridge("127.0.0.1")
        await bridge.browser_calls(CHROMIUM_OFFER)
        try:
            with pytest.raises(MediaBridgeError, match="engine answer has no G722"):
                bridge.engine_answers(build_plain("127.0.0.1", 40000, "PCMU", None, session_id=5))
            assert bridge.state == BridgeState.WAITING_FOR_ENGINE
        finally:
            await bridge.hang_up()
    run(go())


def test_only_the_engine_the_sdp_named_may_send_audio():
    """A host on the LAN that guesses the bridge's port is not heard by the browser."""
    async def go():
        bridge = MediaBridge("127.0.0.1")
        await bridge.ring_browser(PJSUA2_OFFER.replace("10.231.41.12", "127.0.0.1"))
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stranger.bind(("127.0.0.2", 0))
        try:
            bridge._engine = ("127.0.0.1", 40557)    # as browser_answers would set it
            for seq in range(5):
                stranger.sendto(rtp_header.build(9, False, seq, seq * 160, 1, b"x" * 160), ("127.0.0.1", bridge.port))
            stranger.sendto(b"\x80\xc8" + bytes(26), ("127.0.0.1", bridge.port))   # RTCP: ignored
            await asyncio.sleep(0.2)
            stats = bridge.stats()
            assert stats["refused_sources"] == 5 and stats["to_browser"] == 0
        finally:
            stranger.close()
            await bridge.hang_up()
    run(go())


def test_a_port_in_use_is_a_clear_error():
    taken = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    taken.bind(("127.0.0.1", 0))
    try:
        async def go():
            bridge = MediaBridge("127.0.0.1", port=taken.getsockname()[1])
            with pytest.raises(MediaBridgeError, match="cannot open the engine side on 127.0.0.1"):
                await bridge.ring_browser(PJSUA2_OFFER)
            assert bridge.state == BridgeState.ENDED
        run(go())
    finally:
        taken.close()


def test_the_aiortc_hook_the_bridge_uses_is_still_there():
    """The bridge takes decrypted packets where aiortc hands them to a receiver; a new aiortc
    that renames that method must fail here, not in a call."""
    params = list(inspect.signature(RTCRtpReceiver._handle_rtp_packet).parameters)
    assert params == ["self", "packet", "arrival_time_ms"]
    assert "receiver._handle_rtp_packet(packet" in inspect.getsource(RTCDtlsTransport._handle_rtp_data)


CHROMIUM_LINES = CHROMIUM_OFFER.split("\r\n")


@settings(max_examples=200, deadline=None)
@given(st.sets(st.integers(0, len(CHROMIUM_LINES) - 1), max_size=8), st.text(max_size=60))
def test_a_damaged_browser_offer_is_read_or_refused_clearly(dropped, extra):
    """Lines missing from a real offer, or junk added to it: a MediaBridgeError, never anything else."""
    lines = [line for i, line in enumerate(CHROMIUM_LINES) if i not in dropped]
    try:
        browser_codecs("\r\n".join(lines) + extra, "browser offer")
    except MediaBridgeError:
        pass


@settings(max_examples=25, deadline=None)
@given(st.sets(st.integers(1, len(CHROMIUM_LINES) - 2), min_size=1, max_size=4))
def test_a_browser_offer_missing_lines_gets_an_answer_or_a_clear_error(dropped):
    async def go():
        bridge = MediaBridge("127.0.0.1")
        lines = [line for i, line in enumerate(CHROMIUM_LINES) if i not in dropped]
        try:
            await bridge.browser_calls("\r\n".join(lines))
        except MediaBridgeError:
            assert bridge.state == BridgeState.ENDED and bridge._pc is None
        await bridge.hang_up()
    run(go())
