"""Modem audio on the conference bridge: an `AudioMediaPort` and the threads that feed it.

    from_line = AudioRing()          # modem -> SIP
    to_line = FrameRing()            # SIP -> modem
    port = ModemPort(from_line, to_line)
    port.open("gsm1")                # on the pjsua2 thread
    AudioTtyBridge("/dev/ttyUSB1", from_line, to_line).start()   # GSM
    VoiceModemBridge(driver, from_line, to_line).start()         # analog

The port's callbacks run on pjsua2's clock thread, every 20 ms. They only
copy a frame out of one lock-protected ring and into the other: a slow
callback would stall the whole bridge, and with it every call's audio. All
the rest (format conversion, serial I/O, DLE shielding) happens on the
bridge threads here.

The audio inside the box is 8 kHz, 16-bit signed little-endian mono in
20 ms frames (320 bytes), the same as a GSM modem's audio tty.
"""

from __future__ import annotations

import collections
import logging
import math
import os
import threading
from typing import Any, Callable

import numpy as np
import pjsua2 as pj
import serial

log = logging.getLogger("callbox.engine.modem_port")

CLOCK_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = CLOCK_RATE * FRAME_MS // 1000 * 2
SILENCE = bytes(FRAME_BYTES)
# More than this waiting towards the bridge means the modem's clock runs ahead
# of ours; the oldest audio goes, so that delay cannot build up over a call.
MAX_BUFFERED_MS = 80


class AudioRing:
    """Bytes in, 20 ms frames out; bounded, thread-safe (modem -> SIP direction)."""

    def __init__(self, max_ms: int = MAX_BUFFERED_MS):
        self._lock = threading.Lock()
        self._buf = bytearray()
        self._cap = CLOCK_RATE * max_ms // 1000 * 2
        self.dropped = 0      # bytes thrown away because the ring was full
        self.underruns = 0    # frames asked for while the ring was short

    def put(self, data: bytes) -> None:
        with self._lock:
            self._buf += data
            extra = len(self._buf) - self._cap
            if extra > 0:
                extra += extra % 2  # keep samples whole
                del self._buf[:extra]
                self.dropped += extra

    def take(self, n: int = FRAME_BYTES) -> bytes | None:
        with self._lock:
            if len(self._buf) < n:
                if self._buf:
                    self.underruns += 1
                return None
            out = bytes(self._buf[:n])
            del self._buf[:n]
            return out

    def clear(self) -> None:
        with self._lock:
            self._buf.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._buf)


class FrameRing:
    """Frames as the bridge hands them over (pjsua2 byte vectors), bounded (SIP -> modem).

    Turning a byte vector into `bytes` costs a few hundred microseconds in
    SWIG, too long for the clock thread, so the reader does it."""

    def __init__(self, max_ms: int = MAX_BUFFERED_MS):
        self._lock = threading.Lock()
        self._frames: collections.deque[Any] = collections.deque(maxlen=max(1, max_ms // FRAME_MS))

    def put(self, frame: Any) -> None:
        with self._lock:
            self._frames.append(frame)

    def take_all(self) -> list[bytes]:
        with self._lock:
            frames = list(self._frames)
            self._frames.clear()
        return [bytes(f) for f in frames]

    def clear(self) -> None:
        with self._lock:
            self._frames.clear()


class ModemPort(pj.AudioMediaPort):
    """The modem's place on the conference bridge. Create, connect and destroy it on
    the pjsua2 thread only; its two callbacks run on the clock thread."""

    def __init__(self, from_line: AudioRing, to_line: FrameRing):
        super().__init__()
        self.from_line = from_line
        self.to_line = to_line
        self._silence = pj.ByteVector(SILENCE)

    def open(self, name: str) -> "ModemPort":
        fmt = pj.MediaFormatAudio()
        fmt.type = pj.PJMEDIA_TYPE_AUDIO
        fmt.id = pj.PJMEDIA_FORMAT_L16
        fmt.clockRate = CLOCK_RATE
        fmt.channelCount = 1
        fmt.bitsPerSample = 16
        fmt.frameTimeUsec = FRAME_MS * 1000
        fmt.avgBps = fmt.maxBps = CLOCK_RATE * 16
        self.createPort(name, fmt)
        return self

    def onFrameRequested(self, frame: pj.MediaFrame) -> None:
        data = self.from_line.take(FRAME_BYTES)
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = pj.ByteVector(data) if data is not None else self._silence
        frame.size = FRAME_BYTES

    def onFrameReceived(self, frame: pj.MediaFrame) -> None:
        if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO and frame.size:
            self.to_line.put(frame.buf[:])


# --- sample formats of voice modems (V.253 +VSM names) -----------------------------------

def _ulaw_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = codes & 0x80
    exponent = (codes >> 4) & 0x07
    mantissa = codes & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return np.where(sign != 0, -magnitude, magnitude).astype("<i2")


_ULAW_TO_LINEAR = _ulaw_table()
_ULAW_FROM_LINEAR_INDEX = np.argsort(_ULAW_TO_LINEAR, kind="stable")
_ULAW_SORTED = _ULAW_TO_LINEAR[_ULAW_FROM_LINEAR_INDEX]


def to_linear16(data: bytes, fmt_name: str) -> bytes:
    """A voice modem's samples as 16-bit signed little-endian."""
    name = fmt_name.upper()
    if name == "16-BIT LINEAR":
        return data[: len(data) - len(data) % 2]
    raw = np.frombuffer(data, dtype=np.uint8)
    if name in ("UNSIGNED PCM", "8-BIT LINEAR"):
        return ((raw.astype(np.int16) - 128) << 8).astype("<i2").tobytes()
    if name == "SIGNED PCM":
        return (raw.view(np.int8).astype(np.int16) << 8).astype("<i2").tobytes()
    if name in ("G711U", "8-BIT ULAW"):
        return _ULAW_TO_LINEAR[raw].tobytes()
    raise ValueError(f"unsupported voice format: {fmt_name}")


def from_linear16(data: bytes, fmt_name: str) -> bytes:
    """16-bit signed little-endian samples in a voice modem's format."""
    name = fmt_name.upper()
    if name == "16-BIT LINEAR":
        return data
    pcm = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2").astype(np.int32)
    if name in ("UNSIGNED PCM", "8-BIT LINEAR"):
        return ((pcm >> 8) + 128).astype(np.uint8).tobytes()
    if name == "SIGNED PCM":
        return (pcm >> 8).astype(np.int8).tobytes()
    if name in ("G711U", "8-BIT ULAW"):
        # The nearest code by value: exact for every level the table can express.
        pos = np.clip(np.searchsorted(_ULAW_SORTED, pcm), 1, 255)
        nearer_left = (pcm - _ULAW_SORTED[pos - 1]) < (_ULAW_SORTED[pos] - pcm)
        pos = np.where(nearer_left, pos - 1, pos)
        return _ULAW_FROM_LINEAR_INDEX[pos].astype(np.uint8).tobytes()
    raise ValueError(f"unsupported voice format: {fmt_name}")


_DTMF_HZ = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}


def dtmf_pcm(digit: str, tone_ms: int = 100, gap_ms: int = 60) -> bytes:
    """An in-band DTMF digit (Q.23 pair, then a pause) as 16-bit PCM frames."""
    low, high = _DTMF_HZ[digit.upper()]
    n = CLOCK_RATE * tone_ms // 1000
    t = np.arange(n) / CLOCK_RATE
    wave = 0.25 * (np.sin(2 * math.pi * low * t) + np.sin(2 * math.pi * high * t))
    pcm = (wave * 32767).astype("<i2").tobytes() + bytes(CLOCK_RATE * gap_ms // 1000 * 2)
    return pcm + bytes(-len(pcm) % FRAME_BYTES)


# --- the threads that carry audio to and from the modem --------------------------------

class _Bridge:
    """A thread that moves audio while `active` (a call is up) and drops it otherwise."""

    name = "modem audio"

    def __init__(self, from_line: AudioRing, to_line: FrameRing):
        self.from_line = from_line
        self.to_line = to_line
        self._active = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._inject = bytearray()   # audio that replaces the SIP side's for a moment
        self._inject_lock = threading.Lock()
        self.frames_to_line = 0
        self.frames_from_line = 0

    def start(self) -> "_Bridge":
        self._thread = threading.Thread(target=self._run_guarded, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    @property
    def active(self) -> bool:
        return self._active.is_set()

    def set_active(self, active: bool) -> None:
        """Audio flows only during a call; stale audio never leaks into the next one."""
        self.from_line.clear()
        self.to_line.clear()
        with self._inject_lock:
            self._inject.clear()
        if active:
            self._active.set()
        else:
            self._active.clear()

    def play_to_line(self, pcm: bytes) -> None:
        """16-bit PCM sent to the line instead of the SIP audio (in-band DTMF)."""
        with self._inject_lock:
            self._inject += pcm

    def _outgoing(self) -> list[bytes]:
        frames = self.to_line.take_all()
        with self._inject_lock:
            if not self._inject:
                return frames
            count = max(len(frames), 1)
            pcm = bytes(self._inject[: count * FRAME_BYTES])
            del self._inject[: count * FRAME_BYTES]
        return [pcm[i:i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]

    def _run_guarded(self) -> None:
        while not self._stop.is_set():
            try:
                self._run()
            except Exception:
                log.exception("%s failed; restarting it", self.name)
                self._stop.wait(0.5)

    def _run(self) -> None:
        raise NotImplementedError


class AudioTtyBridge(_Bridge):
    """A GSM modem's audio tty (raw 16-bit PCM). The tty comes and goes with the
    stick, so it is opened when it appears and again after every unplug."""

    name = "modem audio tty"

    def __init__(self, path: str, from_line: AudioRing, to_line: FrameRing,
                 opener: Callable[..., Any] = serial.serial_for_url):
        super().__init__(from_line, to_line)
        self.path = path
        self._opener = opener
        self.port: Any = None

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.port is None and not self._open():
                self._stop.wait(0.2)
                continue
            try:
                if not self.active:
                    # Between calls there is nothing to carry: sleep, and keep the
                    # modem's buffer from holding stale audio for the next call.
                    self._active.wait(0.25)
                    self.port.reset_input_buffer()
                    self.to_line.clear()
                    continue
                # Returns with a whole frame or after the timeout (see _open), so
                # the loop wakes about once per frame.
                data = self.port.read(max(FRAME_BYTES, self.port.in_waiting))
                if data:
                    self.from_line.put(data)
                    self.frames_from_line += len(data) / FRAME_BYTES
                for frame in self._outgoing():
                    self.port.write(frame)
                    self.frames_to_line += 1
            except (serial.SerialException, OSError) as e:
                log.info("audio tty %s lost: %s", self.path, e)
                self._close()

    def _open(self) -> bool:
        if not os.path.exists(self.path):
            return False
        try:
            # The timeout bounds how long SIP audio can wait for the modem's next
            # frame: one frame time.
            self.port = self._opener(self.path, baudrate=115200, timeout=FRAME_MS / 1000,
                                     write_timeout=0.5, exclusive=True)
        except (serial.SerialException, OSError, ValueError) as e:
            log.debug("audio tty %s not ready: %s", self.path, e)
            return False
        log.info("audio tty %s open", self.path)
        return True

    def _close(self) -> None:
        try:
            if self.port is not None:
                self.port.close()
        except (serial.SerialException, OSError):
            pass
        self.port = None

    def stop(self) -> None:
        super().stop()
        self._close()


class VoiceModemBridge(_Bridge):
    """A voice modem's in-band audio; the driver does the DLE shielding both ways."""

    name = "voice modem audio"

    def __init__(self, driver: Any, from_line: AudioRing, to_line: FrameRing,
                 poll_s: float = 0.01):
        super().__init__(from_line, to_line)
        self.driver = driver
        self._poll_s = poll_s

    def _format(self) -> str:
        fmt = getattr(self.driver.line, "format", None)
        return fmt.name if fmt is not None else "16-BIT LINEAR"

    def _run(self) -> None:
        while not self._stop.wait(self._poll_s):
            audio = self.driver.audio_received()
            if not self.active:
                self.to_line.clear()
                continue
            fmt = self._format()
            if audio:
                pcm = to_linear16(audio, fmt)
                self.from_line.put(pcm)
                self.frames_from_line += len(pcm) / FRAME_BYTES
            frames = self._outgoing()
            if frames:
                self.driver.send_audio(from_linear16(b"".join(frames), fmt))
                self.frames_to_line += len(frames)


def cpu_seconds(pid: int | None = None) -> float:
    """User plus system CPU time of a process (this one by default), from /proc."""
    with open(f"/proc/{pid or os.getpid()}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks
