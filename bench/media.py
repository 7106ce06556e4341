"""The phones' audio for the bridged-call benchmark: one RTP socket per call end, each with its own tone.

sipp carries the signalling; the SDP it sends names one of these sockets per
call end. Each socket waits for the box's first RTP packet (the engine sends
from the start: no VAD), then answers to where it came from (symmetric RTP)
with 20 ms A-law frames of its own tone, and keeps what it hears. Afterwards
each end's audio is checked by FFT: which tone it heard, how pure, how many
packets.

All sockets are served by one thread with one selector; the frames of a
tone are made once (a whole number of hertz repeats every second).
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop  # G.711 A-law; in the standard library up to Python 3.12

RATE = 8000
FRAME = 160                 # 20 ms at 8 kHz
PT_PCMA = 8


def tones(count: int, low: float = 350.0, step: float = 13.0) -> list[int]:
    """`count` distinct whole-hertz tones inside telephone band, `step` Hz apart."""
    found = [int(low + step * i) for i in range(count)]
    if found and found[-1] > 3300:
        raise ValueError(f"{count} tones {step} Hz apart do not fit under 3300 Hz")
    return found


def _alaw_frames(freq: int) -> list[bytes]:
    t = np.arange(RATE) / RATE
    pcm = (np.sin(2 * np.pi * freq * t) * 8000).astype("<i2").tobytes()
    alaw = audioop.lin2alaw(pcm, 2)
    return [alaw[i:i + FRAME] for i in range(0, RATE, FRAME)]


@dataclass
class End:
    """One call end: a socket, its tone, what it heard."""

    name: str
    tone: int
    sock: socket.socket
    frames: list[bytes]
    peer: tuple[str, int] | None = None
    seq: int = 0
    ssrc: int = 0
    heard: bytearray = field(default_factory=bytearray)
    packets: int = 0
    recording: bool = False

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def reset(self) -> None:
        self.peer = None
        self.heard = bytearray()
        self.packets = 0
        self.recording = False


@dataclass(frozen=True)
class Heard:
    """What an end heard: its strongest tone, how much of the power was there, packets per second."""

    freq: float | None
    purity: float
    pps: float


def analyse(audio: bytes, seconds: float) -> Heard:
    if len(audio) < RATE // 2:
        return Heard(None, 0.0, len(audio) / FRAME / seconds if seconds else 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        pcm = np.frombuffer(audioop.alaw2lin(audio, 2), dtype="<i2").astype(np.float64)
    pcm -= pcm.mean()
    spectrum = np.abs(np.fft.rfft(pcm * np.hanning(len(pcm)))) ** 2
    freqs = np.fft.rfftfreq(len(pcm), 1 / RATE)
    peak = int(spectrum.argmax())
    total = spectrum.sum()
    band = spectrum[(freqs > freqs[peak] - 4) & (freqs < freqs[peak] + 4)].sum()
    return Heard(float(freqs[peak]) if total > 0 else None, float(band / total) if total > 0 else 0.0,
                 len(audio) / FRAME / seconds if seconds else 0.0)


class RtpHub:
    """Every call end's socket, served by one thread."""

    def __init__(self) -> None:
        self.ends: list[End] = []
        self._sel = selectors.DefaultSelector()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._frames: dict[int, list[bytes]] = {}

    def add(self, name: str, tone: int) -> End:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
        sock.setblocking(False)
        if tone not in self._frames:
            self._frames[tone] = _alaw_frames(tone)
        end = End(name, tone, sock, self._frames[tone], ssrc=(len(self.ends) + 1) * 7919)
        self.ends.append(end)
        self._sel.register(sock, selectors.EVENT_READ, end)
        return end

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rtp-hub", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for end in self.ends:
            self._sel.unregister(end.sock)
            end.sock.close()
        self._sel.close()

    def reset(self) -> None:
        for end in self.ends:
            end.reset()

    def record(self, on: bool) -> None:
        for end in self.ends:
            end.recording = on

    def _run(self) -> None:
        next_at = time.monotonic()
        tick = 0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_at:
                for end in self.ends:
                    if end.peer is not None:
                        header = struct.pack("!BBHII", 0x80, PT_PCMA, end.seq & 0xFFFF, (end.seq * FRAME) & 0xFFFFFFFF,
                                             end.ssrc)
                        try:
                            end.sock.sendto(header + end.frames[end.seq % len(end.frames)], end.peer)
                        except OSError:
                            pass
                        end.seq += 1
                tick += 1
                next_at += FRAME / RATE
                if next_at < now - 0.2:      # fell far behind (a busy machine): do not burst to catch up
                    next_at = now
                continue
            for key, _ in self._sel.select(timeout=max(0.0, next_at - now)):
                end: End = key.data
                while True:
                    try:
                        data, source = end.sock.recvfrom(2048)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:
                        break
                    if len(data) < 12 or data[1] & 0x7F != PT_PCMA:
                        continue
                    if end.peer is None:
                        end.peer = source
                    if end.recording:
                        end.packets += 1
                        end.heard += data[12 + 4 * (data[0] & 0x0F):]
