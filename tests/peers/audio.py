"""Audio checks for tests: which tone is in a WAV file."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import numpy as np


def write_sine(path: str | Path, freq_hz: float, seconds: float, rate: int = 8000,
               amplitude: float = 0.5) -> Path:
    """A mono 16-bit sine WAV (the format prompts use)."""
    n = int(seconds * rate)
    frames = b"".join(
        struct.pack("<h", int(amplitude * 32767 * math.sin(2 * math.pi * freq_hz * i / rate)))
        for i in range(n))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return Path(path)


def read_samples(wav_path: str | Path) -> tuple[np.ndarray, int]:
    with wave.open(str(wav_path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{wav_path}: expected 16-bit samples")
        rate, channels = w.getframerate(), w.getnchannels()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return data, rate


def dominant_frequency(wav_path: str | Path, start_s: float = 0.0,
                       end_s: float | None = None) -> float:
    """The strongest frequency (Hz) between start_s and end_s; 0.0 for silence."""
    data, rate = read_samples(wav_path)
    part = data[int(start_s * rate): None if end_s is None else int(end_s * rate)]
    if len(part) < 64 or np.max(np.abs(part)) < 100:  # under about -50 dBFS
        return 0.0
    spectrum = np.abs(np.fft.rfft((part - part.mean()) * np.hanning(len(part))))
    return float(np.fft.rfftfreq(len(part), 1.0 / rate)[int(np.argmax(spectrum))])


def tone_share(wav_path: str | Path, hz: float, tolerance: float = 20.0,
               start_s: float = 0.0, end_s: float | None = None) -> float:
    """The part (0..1) of the signal's energy within hz ± tolerance: for mixes,
    where the dominant frequency says too little."""
    data, rate = read_samples(wav_path)
    part = data[int(start_s * rate): None if end_s is None else int(end_s * rate)]
    if len(part) < 64:
        return 0.0
    power = np.abs(np.fft.rfft((part - part.mean()) * np.hanning(len(part)))) ** 2
    total = power.sum()
    if total == 0:
        return 0.0
    freqs = np.fft.rfftfreq(len(part), 1.0 / rate)
    return float(power[np.abs(freqs - hz) <= tolerance].sum() / total)


def tone_present(wav_path: str | Path, hz: float, tolerance: float = 20.0,
                 start_s: float = 0.0, end_s: float | None = None) -> bool:
    return abs(dominant_frequency(wav_path, start_s, end_s) - hz) <= tolerance


def duration_s(wav_path: str | Path) -> float:
    with wave.open(str(wav_path), "rb") as w:
        return w.getnframes() / w.getframerate()
