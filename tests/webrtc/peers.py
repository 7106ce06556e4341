"""Peers of the media bridge for tests and the bench: an aiortc stand-in for a browser, a raw RTP
engine side, and the bridge process driven over its JSON lines.

    bridge = BridgeProcess("192.0.2.2")            # python -m appliance.webrtc, maybe in a LAN host
    browser = AiortcBrowser()
    reply = bridge.command("browser_calls", call="c1", offer=await browser.offer())
    engine = RtpPeer("192.0.2.2")
    bridge.command("engine_answers", call="c1", answer=engine.sdp())
    await browser.accept(reply["answer"])

Both peers stamp what they receive (time.perf_counter) and can send payloads that carry their
own index, so that one process can time a packet's way through the bridge in each direction.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import struct
import subprocess
import sys
import threading
import time
import warnings
from collections import deque
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription

from appliance.webrtc import rtp_header

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # G.711 µ-law; in the standard library up to Python 3.12

REPO = Path(__file__).resolve().parents[2]
FRAME = 160         # 20 ms at 8 kHz
STAMP = struct.Struct("!4sI")   # b"CBX1", index: a payload that says which packet it is
MAGIC = b"CBX1"


def tone_frames(freq_hz: float, count: int, amplitude: float = 0.4) -> list[bytes]:
    """`count` 20 ms µ-law frames of a sine."""
    n = np.arange(count * FRAME)
    pcm = (amplitude * 32767 * np.sin(2 * math.pi * freq_hz * n / 8000)).astype("<i2").tobytes()
    ulaw = audioop.lin2ulaw(pcm, 2)
    return [ulaw[i * FRAME:(i + 1) * FRAME] for i in range(count)]


def stamped(index: int) -> bytes:
    return STAMP.pack(MAGIC, index) + b"\xff" * (FRAME - STAMP.size)


def stamp_of(payload: bytes) -> int | None:
    if len(payload) >= STAMP.size and payload[:4] == MAGIC:
        return STAMP.unpack_from(payload)[1]
    return None


def pcm_of(payloads: list[bytes]) -> np.ndarray:
    return np.frombuffer(audioop.ulaw2lin(b"".join(payloads), 2), dtype="<i2").astype(np.float64)


def dominant_hz(samples: np.ndarray, rate: int = 8000) -> float:
    if len(samples) < 64 or np.max(np.abs(samples)) < 100:
        return 0.0
    spectrum = np.abs(np.fft.rfft((samples - samples.mean()) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1.0 / rate)[int(np.argmax(spectrum))])


class _Packets(MediaStreamTrack):
    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self.queue: asyncio.Queue = asyncio.Queue()
        self.pts = 0

    def send(self, payload: bytes) -> None:
        self.queue.put_nowait(payload)

    async def recv(self) -> av.Packet:
        payload = await self.queue.get()
        packet = av.Packet(payload)
        packet.pts, packet.time_base = self.pts, Fraction(1, 8000)
        self.pts += FRAME
        return packet


class AiortcBrowser:
    """What a browser does, in aiortc: PCMU (and telephone-event when asked), keeps what it hears."""

    def __init__(self) -> None:
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.track = _Packets()
        transceiver = self.pc.addTransceiver(self.track, direction="sendrecv")
        transceiver.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("audio").codecs
                                         if c.mimeType in ("audio/PCMU",)])
        transceiver.receiver._handle_rtp_packet = self._heard
        self.heard: deque = deque()   # (perf_counter, payload)

    async def _heard(self, packet, arrival_time_ms: int = 0) -> None:
        self.heard.append((time.perf_counter(), packet.payload))

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept(self, answer: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

    async def answer(self, offer: str) -> str:
        await self.pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self.pc.localDescription.sdp

    async def connected(self, timeout: float = 10.0) -> None:
        end = time.monotonic() + timeout
        while self.pc.connectionState != "connected":
            if time.monotonic() > end or self.pc.connectionState in ("failed", "closed"):
                raise TimeoutError(f"browser side is {self.pc.connectionState}")
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        await self.pc.close()


class RtpPeer(asyncio.DatagramProtocol):
    """The engine side, raw: one UDP socket, PCMU out with its own SSRC, everything heard kept."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.heard: deque = deque()   # (perf_counter, rtp_header.RtpPacket)
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self.remote: tuple[str, int] | None = None
        self.seq, self.ts = 1000, 5000

    async def open(self) -> "RtpPeer":
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(self.address, 0))
        self.port = self.transport.get_extra_info("sockname")[1]
        return self

    def datagram_received(self, data: bytes, addr: tuple) -> None:
        packet = rtp_header.parse(data)
        if packet is not None:
            self.heard.append((time.perf_counter(), packet))

    def sdp(self, dtmf: bool = True) -> str:
        lines = ["v=0", f"o=engine 1 1 IN IP4 {self.address}", "s=-", f"c=IN IP4 {self.address}", "t=0 0",
                 f"m=audio {self.port} RTP/AVP 0" + (" 101" if dtmf else ""), "a=rtpmap:0 PCMU/8000"]
        if dtmf:
            lines += ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"]
        return "\r\n".join(lines + ["a=sendrecv"]) + "\r\n"

    def send(self, payload: bytes, pt: int = 0) -> None:
        assert self.transport is not None and self.remote is not None
        self.transport.sendto(rtp_header.build(pt, False, self.seq, self.ts, 0x1234, payload), self.remote)
        self.seq += 1
        self.ts += FRAME

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class BridgeProcess:
    """`python -m appliance.webrtc` in its own process (inside a test LAN host when given)."""

    def __init__(self, address: str, host: Any = None, log_level: str = "WARNING") -> None:
        args = [sys.executable, "-m", "appliance.webrtc", "--address", address, "--log-level", log_level]
        self.proc = subprocess.Popen(host.exec_args(args) if host is not None else args, cwd=REPO,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self._cond = threading.Condition()
        self._replies: dict[int, dict] = {}
        self.events: list[dict] = []
        self._next = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for("ready", timeout=30)

    def _read(self) -> None:
        for line in self.proc.stdout:
            message = json.loads(line)
            with self._cond:
                if "reply" in message:
                    self._replies[message["reply"]] = message
                else:
                    self.events.append(message)
                self._cond.notify_all()

    def send_line(self, line: str) -> None:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def command(self, cmd: str, timeout: float = 20.0, **args: Any) -> dict:
        return self.reply(self.ask(cmd, **args), timeout)

    def ask(self, cmd: str, **args: Any) -> int:
        """Send a command without waiting; `reply(id)` waits for its answer."""
        with self._cond:
            self._next += 1
            cmd_id = self._next
        self.send_line(json.dumps({"id": cmd_id, "cmd": cmd, **args}))
        return cmd_id

    def reply(self, cmd_id: int, timeout: float = 20.0) -> dict:
        with self._cond:
            if not self._cond.wait_for(lambda: cmd_id in self._replies, timeout):
                raise TimeoutError(f"no reply to command {cmd_id}")
            return self._replies.pop(cmd_id)

    def wait_for(self, event: str, timeout: float = 10.0) -> dict:
        with self._cond:
            found = self._cond.wait_for(lambda: next((e for e in self.events if e["event"] == event), None),
                                        timeout)
            if not found:
                raise TimeoutError(f"no {event} from the bridge process")
            self.events.remove(found)
            return found

    def _pid(self) -> int:
        pid = self.proc.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists() and children.read_text().split():   # `ip netns exec` execs: usually none
            pid = int(children.read_text().split()[0])
        return pid

    def cpu_s(self) -> float:
        """User + system CPU of the bridge process so far, from /proc."""
        fields = Path(f"/proc/{self._pid()}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        """Resident memory of the bridge process, in MB."""
        for line in Path(f"/proc/{self._pid()}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
