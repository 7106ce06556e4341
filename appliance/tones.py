"""System sounds the box makes itself: ringback and music on hold.

They are generated (8 kHz, 16-bit mono WAV, the engine's format) the first
time the core starts, so the box ships no audio it has no rights to.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 8000


def _samples(parts: list[tuple[float, float]], volume: float = 0.3) -> bytes:
    """(frequency Hz or 0 for silence, seconds) pieces, with short fades against clicks."""
    out = bytearray()
    for hz, seconds in parts:
        n = int(RATE * seconds)
        fade = min(80, n // 4)
        for i in range(n):
            amp = volume * min(1.0, i / fade if fade else 1.0, (n - i) / fade if fade else 1.0)
            value = amp * math.sin(2 * math.pi * hz * i / RATE) if hz else 0.0
            out += struct.pack("<h", int(value * 32767))
    return bytes(out)


def ringback() -> bytes:
    """ETSI ringback: 425 Hz, 1 s on, 4 s off."""
    return _samples([(425, 1.0), (0, 4.0)])


def music_on_hold() -> bytes:
    """A calm arpeggio (A minor, C major, …), looped by the player."""
    notes = [220.0, 261.6, 329.6, 261.6, 196.0, 246.9, 293.7, 246.9, 174.6, 220.0, 261.6, 220.0,
             164.8, 207.7, 246.9, 329.6]
    return _samples([(hz, 0.45) for hz in notes], volume=0.2)


def beep() -> bytes:
    """The voicemail beep: 1 kHz for a third of a second."""
    return _samples([(1000, 0.35)], volume=0.4)


SOUNDS = {"ringback": ringback, "music-on-hold": music_on_hold, "beep": beep}


def write_wav(path: Path, pcm: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)
    tmp.replace(path)


def ensure_system_sounds(directory: Path) -> dict[str, Path]:
    """The path of each system sound, made if missing."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, make in SOUNDS.items():
        path = directory / f"{name}.wav"
        if not path.exists():
            write_wav(path, make())
        paths[name] = path
    return paths
