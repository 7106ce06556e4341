"""A stand-in for an agent's browser, for the browser-call benchmark: SIP over the box's secure
WebSocket, opened with a ticket as the agent panel does, and an aiortc RTCPeerConnection (ICE,
DTLS-SRTP, PCMU) that sends its own tone and keeps what it hears.

    phone = await BrowserPhone.connect(lan_address, wss_port, ticket, "1001", source="127.0.0.2")
    await phone.register()
    await phone.call("2001")           # offer after ICE gathering; 200, ACK along the route set
    phone.recording = True ... phone.heard_alaw()
    await phone.hang_up(); await phone.close()

The SIP is what JsSIP sends, just enough for one outgoing call per connection (RFC 7118, RFC
3261): REGISTER, INVITE and its ACK, BYE; requests from the box (OPTIONS, NOTIFY) get 200. The
edge allows 16 connections per address, so the bench gives every 16 browsers their own loopback
source address (each browser is another host on a real LAN).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
import warnings
from fractions import Fraction

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription

from appliance.sip.message import SipMessage
from tests.sip import ws_sip
from tests.sip.browser_client import client_tls, masked
from tests.sip.ws_sip import Dialog

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # G.711; in the standard library up to Python 3.12

RATE = 8000
FRAME = 160                 # 20 ms
PT_PCMU = 0


class BrowserGone(Exception):
    """The box closed the browser's connection, refused it, or did not answer in time."""


def _ulaw_frames(freq: int) -> list[bytes]:
    """One second of a whole-hertz tone in 20 ms µ-law frames (it repeats every second)."""
    t = np.arange(RATE) / RATE
    ulaw = audioop.lin2ulaw((np.sin(2 * np.pi * freq * t) * 8000).astype("<i2").tobytes(), 2)
    return [ulaw[i:i + FRAME] for i in range(0, RATE, FRAME)]


class _Tone(MediaStreamTrack):
    """A microphone that plays one tone: an encoded frame every 20 ms, paced by its own clock."""

    kind = "audio"

    def __init__(self, freq: int) -> None:
        super().__init__()
        self.frames = _ulaw_frames(freq)
        self.index = 0
        self.started: float | None = None

    async def recv(self) -> av.Packet:
        now = time.monotonic()
        if self.started is None:
            self.started = now
        due = self.started + self.index * FRAME / RATE
        if due < now - 0.2:          # fell far behind (a busy machine): do not burst to catch up
            self.started, due = now - self.index * FRAME / RATE, now
        await asyncio.sleep(max(0.0, due - now))
        packet = av.Packet(self.frames[self.index % len(self.frames)])
        packet.pts, packet.time_base = self.index * FRAME, Fraction(1, RATE)
        self.index += 1
        return packet


class BrowserPhone:
    """One browser: its WebSocket to the edge (as extension `ext`) and one call's peer connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, ext: str,
                 tone: int):
        self.reader, self.writer, self.host, self.ext, self.tone = reader, writer, host, ext, tone
        self.contact = ws_sip.new_contact()
        self.inbox: list[SipMessage] = []
        self.arrived = asyncio.Event()
        self.gone = False
        self.recording = False
        self.heard = bytearray()       # µ-law payloads from the box, while recording
        self.packets = 0
        self.dialog: Dialog | None = None
        self.pc: RTCPeerConnection | None = None
        self._reading = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, host: str, port: int, ticket: str, ext: str, tone: int, source: str = "",
                      connect_to: str = "127.0.0.1") -> "BrowserPhone":
        """The secure WebSocket with subprotocol `sip`; `host` is the box's name in SIP URIs."""
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            connect_to, port, ssl=client_tls(), local_addr=(source, 0) if source else None), 10)
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        writer.write((f"GET /?ticket={ticket} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Sec-WebSocket-Protocol: sip\r\nOrigin: https://{host}:8443\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        if head.split(b" ", 2)[1] != b"101":
            writer.close()
            status = head.split(b"\r\n", 1)[0].decode(errors="replace")
            raise BrowserGone(f"the WebSocket upgrade got {status}")
        return cls(reader, writer, host, ext, tone)

    # --- the wire ------------------------------------------------------------------------------

    async def _read(self) -> None:
        try:
            while True:
                b0, b1 = await self.reader.readexactly(2)
                n = b1 & 0x7F
                if n == 126:
                    n = int.from_bytes(await self.reader.readexactly(2), "big")
                elif n == 127:
                    n = int.from_bytes(await self.reader.readexactly(8), "big")
                payload = await self.reader.readexactly(n)
                opcode = b0 & 0x0F
                if opcode == 8:
                    break
                if opcode == 9:
                    self.writer.write(masked(10, payload))
                elif opcode in (1, 2) and (msg := ws_sip.read(payload)) is not None:
                    self._take(msg)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self.gone = True
            self.arrived.set()

    @property
    def call_id(self) -> str:
        """The Call-ID of its call ("" before it calls)."""
        return self.dialog.call_id if self.dialog else ""

    @property
    def target(self) -> str:
        """Where its requests in the call go ("" before it calls)."""
        return self.dialog.target if self.dialog else ""

    def _take(self, msg: SipMessage) -> None:
        if msg.method in ("OPTIONS", "NOTIFY"):
            self._send(ws_sip.reply(msg, 200, "OK"))
            return
        self.inbox.append(msg)
        self.arrived.set()

    def _send(self, text: str) -> None:
        self.writer.write(masked(1, text.encode()))

    def _request(self, method: str, body: str = "") -> None:
        assert self.dialog is not None
        self._send(ws_sip.request(method, self.dialog, self.contact, body,
                                  extra=[("User-Agent", "Callbox bench browser")]))

    async def _next(self, want: ws_sip.Wanted, timeout: float = 20.0) -> SipMessage:
        deadline = time.monotonic() + timeout
        while True:
            for i, msg in enumerate(self.inbox):
                if want(msg):
                    return self.inbox.pop(i)
            if self.gone:
                raise BrowserGone("the box closed the connection")
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), max(0.0, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise BrowserGone(f"nothing wanted within {timeout:.0f} s; had "
                                  f"{[ws_sip.first_line(m) for m in self.inbox]}") from None

    # --- what the agent panel does -----------------------------------------------------------------

    async def register(self) -> None:
        call_id, text = ws_sip.register(self.ext, self.host, self.contact)
        self._send(text)
        answer = await self._next(ws_sip.final_reply(call_id))
        if answer.status != 200:
            raise BrowserGone(f"REGISTER of {self.ext} got {ws_sip.first_line(answer)}")

    async def call(self, number: str, timeout: float = 20.0) -> None:
        """Call `number`: the offer once ICE gathering is done (aiortc gathers in setLocalDescription),
        the 200 ACKed along its route set, then until DTLS is up."""
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        transceiver = self.pc.addTransceiver(_Tone(self.tone), direction="sendrecv")
        transceiver.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("audio").codecs
                                         if c.mimeType == "audio/PCMU"])
        transceiver.receiver._handle_rtp_packet = self._heard   # the packets, before aiortc's jitter buffer
        await self.pc.setLocalDescription(await self.pc.createOffer())
        self.dialog = d = Dialog.calling(self.ext, number, self.host)
        self._request("INVITE", only_candidates_on(self.pc.localDescription.sdp, self.host))
        final = await self._next(ws_sip.final_reply(d.call_id), timeout)
        if final.status != 200:
            raise BrowserGone(f"INVITE to {number} got {ws_sip.first_line(final)}")
        d.answered(final)
        self._request("ACK")
        await self.pc.setRemoteDescription(RTCSessionDescription(final.body.decode(), "answer"))
        deadline = time.monotonic() + timeout
        while self.pc.connectionState != "connected":
            if time.monotonic() > deadline or self.pc.connectionState in ("failed", "closed"):
                raise BrowserGone(f"the browser's media is {self.pc.connectionState}")
            await asyncio.sleep(0.02)

    async def _heard(self, packet, arrival_time_ms: int = 0) -> None:
        if self.recording and packet.payload_type == PT_PCMU:
            self.heard += packet.payload
            self.packets += 1

    def heard_alaw(self) -> bytes:
        """What was heard, as A-law (the benchmark's FFT reads A-law)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return audioop.lin2alaw(audioop.ulaw2lin(bytes(self.heard), 2), 2)

    async def hang_up(self, timeout: float = 10.0) -> int:
        """BYE; the status it got (0: none)."""
        if self.dialog is None:
            return 0
        self.dialog.cseq += 1
        self._request("BYE")
        try:
            return (await self._next(ws_sip.reply_to("BYE", self.dialog.call_id), timeout)).status
        except BrowserGone:
            return 0

    async def close(self) -> None:
        if self.pc is not None:
            await self.pc.close()
        self._reading.cancel()
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


def only_candidates_on(sdp: str, address: str) -> str:
    """The offer with only its host candidates on `address` (the bench's own test network): ICE then
    checks no other address of the machine."""
    lines = sdp.split("\r\n")
    kept = [ln for ln in lines if not ln.startswith("a=candidate:") or f" {address} " in ln]
    return "\r\n".join(kept)
