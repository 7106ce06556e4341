"""One browser call's media: ICE + DTLS-SRTP towards the browser, plain RTP towards an engine worker.

    bridge = MediaBridge(address="192.168.1.10")
    answer, engine_offer = await bridge.browser_calls(offer)      # a browser calls in
    bridge.engine_answers(engine_answer)
    ...
    offer = await bridge.ring_browser(engine_offer)                # the box rings a browser
    engine_answer = await bridge.browser_answers(answer)
    ...
    await bridge.hang_up()

Both sides carry the same codec (G.722, or G.711 µ-law or A-law), so the bridge never decodes:
an RTP payload from the browser leaves for the engine in the same asyncio callback that decrypted
it, with a new plain header (same sequence number and timestamp, so RFC 4733 DTMF events keep
their meaning); a payload from the engine goes to aiortc's sender as an already-encoded packet,
which encrypts and sends it at once. aiortc's receiving side (a jitter buffer that waits for four
packets, a decoder thread) is bypassed: that alone would add 80 ms.
"""

from __future__ import annotations

import asyncio
import fractions
import logging
import secrets
import time
from collections import deque
from enum import StrEnum
from typing import Any, Callable

import av
from aiortc import (MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCRtpSender,
                    RTCSessionDescription)
from aiortc import sdp as aiortc_sdp
from aiortc.codecs import CODECS
from aiortc.mediastreams import MediaStreamError
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from appliance.webrtc import plain_sdp, rtp_header
from appliance.webrtc.errors import MediaBridgeError

log = logging.getLogger(__name__)

TIME_BASE = fractions.Fraction(1, plain_sdp.RTP_CLOCK)
# Packets from the engine waiting for the browser's sender: normally none or one. More than this
# means the browser side stalled; the oldest go, so that the delay never grows.
QUEUE_PACKETS = 3
# What a browser's certificate may be checked with (RFC 8122); Chromium and Firefox send sha-256.
FINGERPRINTS = ("sha-256", "sha-384", "sha-512")
# How long a browser that names itself only by mDNS has, once both sides agreed, to send its first
# connectivity check (from which the bridge learns its address) before the call is given up.
FIRST_CHECK_WAIT = 10.0


class BridgeState(StrEnum):
    IDLE = "idle"
    WAITING_FOR_ENGINE = "waiting for the engine"
    RINGING_BROWSER = "ringing the browser"
    CONNECTED = "connected"
    ENDED = "ended"


S = BridgeState
TRANSITIONS: dict[BridgeState, dict[str, BridgeState]] = {
    S.IDLE: {"browser offer": S.WAITING_FOR_ENGINE, "engine offer": S.RINGING_BROWSER, "hang-up": S.ENDED},
    S.WAITING_FOR_ENGINE: {"engine answer": S.CONNECTED, "hang-up": S.ENDED},
    S.RINGING_BROWSER: {"browser answer": S.CONNECTED, "hang-up": S.ENDED},
    S.CONNECTED: {"hang-up": S.ENDED},
    S.ENDED: {},
}


def _carry_dtmf() -> None:
    """Let aiortc negotiate telephone-event, so that a browser's RFC 4733 DTMF reaches the bridge.

    aiortc has no DTMF of its own; its codec table is per process, and this process is the bridge's."""
    if not any(c.mimeType.lower() == "audio/telephone-event" for c in CODECS["audio"]):
        CODECS["audio"].append(RTCRtpCodecParameters(
            mimeType="audio/telephone-event", clockRate=plain_sdp.RTP_CLOCK, channels=1,
            payloadType=plain_sdp.DTMF_PT, parameters={"0-16": None}))


_carry_dtmf()


def _capabilities(*names: str) -> list:
    by_name = {c.mimeType.split("/", 1)[1].upper(): c for c in RTCRtpSender.getCapabilities("audio").codecs
               if c.clockRate == plain_sdp.RTP_CLOCK}
    return [by_name[n.upper()] for n in names]


def browser_codecs(sdp: str, what: str) -> dict[int, str]:
    """Payload type -> codec name of the audio in a browser's SDP (8 kHz telephone-event only)."""
    if not isinstance(sdp, str) or not sdp.strip():
        raise MediaBridgeError(f"{what} is empty")
    if len(sdp.encode("utf-8", "replace")) > 4 * plain_sdp.MAX_SDP_BYTES:
        raise MediaBridgeError(f"{what} is larger than {4 * plain_sdp.MAX_SDP_BYTES} bytes")
    try:
        parsed = aiortc_sdp.SessionDescription.parse(sdp)
    except Exception as e:  # aiortc's parser documents no exception set; any failure is bad input
        raise MediaBridgeError(f"{what} does not parse: {type(e).__name__}: {e}") from None
    kinds = [m.kind for m in parsed.media]
    if kinds != ["audio"]:
        raise MediaBridgeError(f"{what} must carry exactly one audio stream, not {kinds or 'none'}")
    media = parsed.media[0]
    if media.ice is None or not media.ice.usernameFragment or media.dtls is None or not media.dtls.fingerprints:
        raise MediaBridgeError(f"{what} has no ICE credentials or DTLS fingerprint (not WebRTC)")
    if not any(f.algorithm.lower() in FINGERPRINTS for f in media.dtls.fingerprints):
        raise MediaBridgeError(f"{what}: no DTLS fingerprint in {', '.join(sorted(FINGERPRINTS))}")
    listed = {str(f) for f in media.fmt}      # an rtpmap whose type the m= line leaves out is not offered
    found = {}
    for codec in media.rtp.codecs:
        if str(codec.payloadType) not in listed:
            continue
        name = codec.mimeType.split("/", 1)[1]
        if name.lower() == plain_sdp.DTMF:
            if codec.clockRate == plain_sdp.RTP_CLOCK:
                found[codec.payloadType] = plain_sdp.DTMF
        elif codec.clockRate == plain_sdp.RTP_CLOCK or name.upper() == "G722":
            found[codec.payloadType] = name.upper()
        else:
            found[codec.payloadType] = f"{name}/{codec.clockRate}"
    return found


def names_itself_by_mdns(sdp: str) -> tuple[str, bool]:
    """A browser's SDP as the bridge gives it to aiortc, and whether it names its host by mDNS.

    Firefox without a microphone permission kept for the site, and Chromium for a page without one,
    put a `<uuid>.local` name in their host candidates instead of their address
    (draft-ietf-mmusic-mdns-ice-candidates). Where multicast does not pass, aioice cannot resolve
    it; told `a=end-of-candidates`, aioice 0.13 then drops the component and fails at once. Without
    that line it keeps checking and learns the browser's address from the browser's own checks
    (peer-reflexive, RFC 8445 7.3.1.3), which only count once they carry the box's ICE username and
    pass MESSAGE-INTEGRITY with its password; the bridge says end-of-candidates itself after
    FIRST_CHECK_WAIT (`MediaBridge._give_up_waiting_for_checks`).
    `tests/webrtc/test_mdns_browser.py` fails if a new aioice stops waiting or stops learning."""
    lines = sdp.split("\n")
    hosts = [line.split()[4] for line in lines
             if line.startswith("a=candidate:") and len(line.split()) > 7]
    if not any(h.rstrip(".").lower().endswith(".local") for h in hosts):
        return sdp, False
    return "\n".join(line for line in lines if line.rstrip("\r") != "a=end-of-candidates"), True


class _ToBrowser(MediaStreamTrack):
    """The engine's audio as already-encoded packets, handed to aiortc's sender as they arrive."""

    kind = "audio"

    def __init__(self, clock: Callable[[], float]):
        super().__init__()
        self._clock = clock
        self._packets: deque = deque()
        self._ready = asyncio.Event()
        self._pts: int | None = None
        self._last_ts = 0
        self.dropped = 0
        self.waits_ms: deque = deque(maxlen=3000)

    def put(self, payload: bytes, timestamp: int) -> None:
        if self._pts is None:
            self._pts = 0
        else:
            delta = (timestamp - self._last_ts) & 0xFFFFFFFF
            self._pts += delta - (1 << 32) if delta >= 1 << 31 else delta
        self._last_ts = timestamp
        if len(self._packets) >= QUEUE_PACKETS:
            self._packets.popleft()
            self.dropped += 1
        self._packets.append((payload, self._pts, self._clock()))
        self._ready.set()

    async def recv(self) -> av.Packet:
        while not self._packets:
            if self.readyState != "live":
                raise MediaStreamError
            self._ready.clear()
            await self._ready.wait()
        payload, pts, queued_at = self._packets.popleft()
        self.waits_ms.append((self._clock() - queued_at) * 1000)
        packet = av.Packet(payload)
        packet.pts = pts
        packet.time_base = TIME_BASE
        return packet

    def stop(self) -> None:
        super().stop()
        self._ready.set()


class _EngineSocket(asyncio.DatagramProtocol):
    def __init__(self, on_datagram: Callable[[bytes, tuple], None]):
        self.on_datagram = on_datagram

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        try:
            self.on_datagram(data, addr)
        except Exception:  # one bad packet must not end the call nor leave a traceback on the loop
            log.warning("media bridge: packet from %s:%s dropped", *addr[:2], exc_info=log.isEnabledFor(10))

    def error_received(self, exc: Exception) -> None:
        log.debug("media bridge: engine side: %s", exc)   # ICMP unreachable while the engine sets up


class MediaBridge:
    """The media of one browser call. `address`: the box's LAN address, where the engine sends RTP."""

    def __init__(self, address: str, *, port: int = 0, name: str = "",
                 on_ended: Callable[[str], Any] | None = None, clock: Callable[[], float] = time.monotonic,
                 first_check_wait: float = FIRST_CHECK_WAIT):
        self.address = address
        self.name = name or secrets.token_hex(3)
        self.on_ended = on_ended
        self._port_wanted = port
        self._clock = clock
        self._first_check_wait = first_check_wait
        self._mdns_only = False                      # the browser's candidates wait for its checks
        self._check_wait: asyncio.Task | None = None
        self.state = S.IDLE
        self._pc: RTCPeerConnection | None = None
        self._to_browser = _ToBrowser(clock)
        self._transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self._ssrc = secrets.randbits(32)
        self._session_id = secrets.randbits(31)
        self._engine: tuple[str, int] | None = None
        self._engine_voice_pt: int | None = None
        self._to_engine_pt: dict[int, int] = {}      # browser payload type -> engine payload type
        self._browser_names: dict[int, str] = {}
        self._engine_offer: plain_sdp.PlainMedia | None = None
        self._tasks: set[asyncio.Task] = set()
        self._dtmf_pts: set[int] = set()             # browser payload types of telephone-event
        self.codec = ""
        self.counts = {"to_engine": 0, "to_browser": 0, "dtmf_to_engine": 0, "dropped_from_browser": 0,
                       "dropped_from_engine": 0, "refused_sources": 0}

    # -- the state table --------------------------------------------------------------------------

    def _expect(self, event: str) -> BridgeState:
        new = TRANSITIONS[self.state].get(event)
        if new is None:
            raise MediaBridgeError(f"bridge {self.name}: no '{event}' while {self.state}")
        return new

    def _move(self, event: str) -> None:
        new = self._expect(event)
        log.info("bridge %s: %s -> %s", self.name, self.state, new)
        self.state = new

    # -- a browser calls in -----------------------------------------------------------------------

    async def browser_calls(self, offer: str) -> tuple[str, str]:
        """The browser's offer in; the answer for the browser and a plain-RTP offer for the engine out."""
        self._move("browser offer")
        try:
            offered = browser_codecs(offer, "browser offer")
            self.codec = plain_sdp.choose_codec(list(offered.values()))
            has_dtmf = plain_sdp.DTMF in offered.values()
            pc = self._peer([self.codec] + ([plain_sdp.DTMF] if has_dtmf else []))
            offer, self._mdns_only = names_itself_by_mdns(offer)
            await self._aiortc("browser offer", lambda: pc.setRemoteDescription(RTCSessionDescription(offer, "offer")))
            answer = await self._aiortc("browser offer", pc.createAnswer)
            await self._aiortc("browser offer", lambda: pc.setLocalDescription(answer))
            self._map_browser(offered)
            await self._open_engine_side()
        except BaseException:
            await self._abandon()
            raise
        engine_offer = plain_sdp.build_plain(self.address, self.port, self.codec,
                                             plain_sdp.DTMF_PT if has_dtmf else None, self._session_id)
        return pc.localDescription.sdp, engine_offer

    def engine_answers(self, answer: str) -> None:
        """The engine's plain-RTP answer to `browser_calls`'s offer: audio starts flowing to it."""
        self._expect("engine answer")
        media = plain_sdp.parse_plain(answer, "engine answer")
        if self.codec not in media.voice():
            raise MediaBridgeError(f"engine answer has no {self.codec}, the codec offered ({media.voice()})")
        self._move("engine answer")
        pts = {self.codec: media.pt_of(self.codec)}
        if media.dtmf_pt is not None:
            pts[plain_sdp.DTMF] = media.dtmf_pt
        self._to_engine_pt = {b: pts[name] for b, name in self._browser_names.items() if name in pts}
        self._engine_voice_pt = pts[self.codec]
        self._engine = (media.address, media.port)
        self._wait_for_checks()

    # -- the box rings a browser ------------------------------------------------------------------

    async def ring_browser(self, engine_offer: str) -> str:
        """The engine's plain-RTP offer in; an offer for the browser out."""
        self._expect("engine offer")
        media = plain_sdp.parse_plain(engine_offer, "engine offer")
        voice = media.voice()
        self.codec = plain_sdp.choose_codec(voice, tuple(voice) or plain_sdp.VOICE_CODECS)
        self._move("engine offer")
        self._engine_offer = media
        try:
            pc = self._peer([self.codec] + ([plain_sdp.DTMF] if media.dtmf_pt is not None else []))
            offer = await self._aiortc("browser offer", pc.createOffer)
            await self._aiortc("browser offer", lambda: pc.setLocalDescription(offer))
            await self._open_engine_side()
        except BaseException:
            await self._abandon()
            raise
        return pc.localDescription.sdp

    async def browser_answers(self, answer: str) -> str:
        """The browser's answer in; the plain-RTP answer for the engine out."""
        self._expect("browser answer")
        answered = browser_codecs(answer, "browser answer")
        if self.codec not in answered.values():
            raise MediaBridgeError(f"browser answer has no {self.codec}, the codec offered "
                                   f"({', '.join(answered.values())})")
        pc = self._pc
        answer, self._mdns_only = names_itself_by_mdns(answer)
        await self._aiortc("browser answer", lambda: pc.setRemoteDescription(RTCSessionDescription(answer, "answer")))
        self._move("browser answer")
        self._wait_for_checks()
        media = self._engine_offer
        engine_pts = {self.codec: media.pt_of(self.codec)}
        dtmf = media.dtmf_pt if plain_sdp.DTMF in answered.values() else None
        if dtmf is not None:
            engine_pts[plain_sdp.DTMF] = dtmf
        self._map_browser(answered)
        self._to_engine_pt = {b: engine_pts[n] for b, n in self._browser_names.items() if n in engine_pts}
        self._engine_voice_pt = engine_pts[self.codec]
        self._engine = (media.address, media.port)
        return plain_sdp.build_plain(self.address, self.port, self.codec, dtmf, self._session_id,
                                     codec_pt=engine_pts[self.codec])

    # -- hang-up ----------------------------------------------------------------------------------

    async def hang_up(self) -> None:
        """Close both sides; calling it again does nothing."""
        if self.state == S.ENDED:
            return
        self._move("hang-up")
        await self._close()

    async def _abandon(self) -> None:
        """A set-up step failed (or the call was hung up meanwhile): nothing of it stays open."""
        if self.state != S.ENDED:
            self._move("hang-up")
        await self._close()

    def stats(self) -> dict:
        waits = sorted(self._to_browser.waits_ms)
        return {**self.counts, "dropped_from_engine": self.counts["dropped_from_engine"] + self._to_browser.dropped,
                "state": str(self.state), "codec": self.codec,
                "ice": self._pc.iceConnectionState if self._pc else "closed",
                "queue_wait_ms_p50": round(waits[len(waits) // 2], 3) if waits else None,
                "queue_wait_ms_p95": round(waits[int(len(waits) * 0.95)], 3) if waits else None,
                "queue_wait_ms_max": round(waits[-1], 3) if waits else None}

    # -- inside -----------------------------------------------------------------------------------

    def _peer(self, codecs: list[str]) -> RTCPeerConnection:
        # No STUN server: the browser and the box share the office LAN, and the box must not
        # reach out to the internet (aiortc would ask a public one by default).
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self._pc = pc
        transceiver = pc.addTransceiver(self._to_browser, direction="sendrecv")
        transceiver.setCodecPreferences(_capabilities(*codecs))
        # The receiving half of aiortc (jitter buffer of four packets, decoder thread) is bypassed:
        # the decrypted packets come here instead. The attribute is aiortc's own hook, per receiver;
        # tests/webrtc/test_bridge_unit.py fails if a new aiortc renames it.
        transceiver.receiver._handle_rtp_packet = self._from_browser
        pc.on("connectionstatechange", self._browser_state)
        return pc

    async def _aiortc(self, what: str, step: Callable[[], Any]) -> Any:
        """One aiortc step: its errors said as ours; a hang-up while it ran ends the set-up."""
        try:
            result = await step()
        except Exception as e:  # aiortc raises ValueError, InvalidStateError, OperationError, ...
            if self.state == S.ENDED:
                raise MediaBridgeError(f"bridge {self.name}: hung up during set-up") from None
            raise MediaBridgeError(f"{what} refused: {type(e).__name__}: {e}") from None
        if self.state == S.ENDED:
            raise MediaBridgeError(f"bridge {self.name}: hung up during set-up")
        return result

    def _map_browser(self, names: dict[int, str]) -> None:
        self._browser_names = {pt: name for pt, name in names.items() if name in (self.codec, plain_sdp.DTMF)}
        self._dtmf_pts = {pt for pt, name in self._browser_names.items() if name == plain_sdp.DTMF}

    async def _open_engine_side(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            self._transport, _ = await loop.create_datagram_endpoint(
                lambda: _EngineSocket(self._from_engine), local_addr=(self.address, self._port_wanted))
        except OSError as e:
            raise MediaBridgeError(f"cannot open the engine side on {self.address}:{self._port_wanted}: "
                                   f"{e.strerror or e}") from None
        self.port = self._transport.get_extra_info("sockname")[1]
        if self.state == S.ENDED:           # hung up while the socket was being made
            self._transport.close()
            self._transport = None
            raise MediaBridgeError(f"bridge {self.name}: hung up during set-up")

    async def _from_browser(self, packet, arrival_time_ms: int = 0) -> None:
        # Called by aiortc's receiving task: an exception here would end that task, and the call.
        try:
            pt = self._to_engine_pt.get(packet.payload_type)
            if pt is None or self._engine is None or self._transport is None:
                self.counts["dropped_from_browser"] += 1
                return
            self._transport.sendto(rtp_header.build(pt, packet.marker, packet.sequence_number, packet.timestamp,
                                                    self._ssrc, packet.payload), self._engine)
            self.counts["dtmf_to_engine" if packet.payload_type in self._dtmf_pts else "to_engine"] += 1
        except Exception as e:
            self.counts["dropped_from_browser"] += 1
            log.warning("bridge %s: a packet from the browser was dropped: %s", self.name, e)

    def _from_engine(self, data: bytes, addr: tuple) -> None:
        packet = rtp_header.parse(data)
        if packet is None:
            return                                   # RTCP, or not RTP at all
        if self._engine is None:
            self.counts["dropped_from_engine"] += 1  # before the engine's SDP: nobody to hear yet
            return
        if addr[0] != self._engine[0]:
            self.counts["refused_sources"] += 1      # only the engine the SDP named may speak
            return
        if packet.payload_type != self._engine_voice_pt or self.state != S.CONNECTED:
            # Browsers do nothing with RFC 4733 events they receive; comfort noise is not negotiated.
            self.counts["dropped_from_engine"] += 1
            return
        self._to_browser.put(packet.payload, packet.timestamp)
        self.counts["to_browser"] += 1

    def _spawn(self, coro) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)                         # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    def _wait_for_checks(self) -> None:
        if self._mdns_only:
            self._check_wait = asyncio.ensure_future(self._give_up_waiting_for_checks())

    async def _give_up_waiting_for_checks(self) -> None:
        """End-of-candidates for a browser named by mDNS, FIRST_CHECK_WAIT after both sides agreed.

        Until then aioice keeps its component and waits for the browser's checks; after it, a
        browser that never reached the box fails ICE like one whose candidates all failed."""
        await asyncio.sleep(self._first_check_wait)
        pc = self._pc
        if pc is None or self.state == S.ENDED or pc.iceConnectionState not in ("new", "checking"):
            return
        log.info("bridge %s: no check from the browser in %.0f s, its mDNS names unresolved",
                 self.name, self._first_check_wait)
        try:
            await pc.addIceCandidate(None)
        except Exception:  # closing meanwhile: the hang-up already ends the call
            log.debug("bridge %s: end-of-candidates refused", self.name, exc_info=True)

    def _browser_state(self) -> None:
        pc = self._pc
        if pc is None or self.state == S.ENDED or pc.connectionState not in ("failed", "closed"):
            return
        reason = "browser unreachable" if pc.connectionState == "failed" else "browser closed"
        self._spawn(self._ended_by_browser(reason))

    async def _ended_by_browser(self, reason: str) -> None:
        try:
            await self.hang_up()
        except MediaBridgeError:
            return
        if self.on_ended is not None:
            try:
                self.on_ended(reason)
            except Exception:
                log.exception("bridge %s: on_ended failed", self.name)

    async def _close(self) -> None:
        self._to_browser.stop()
        wait, self._check_wait = self._check_wait, None
        if wait is not None and wait is not asyncio.current_task():
            wait.cancel()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        pc, self._pc = self._pc, None
        if pc is not None:
            try:
                await pc.close()
            except Exception:  # closing must finish whatever aiortc thinks of its own state
                log.warning("bridge %s: closing the browser side failed", self.name, exc_info=True)
