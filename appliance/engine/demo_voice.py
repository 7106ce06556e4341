"""The voice the simulated phones talk with: espeak-ng saying a few sentences, or a speech-like mumble.

An agent's voice is low, a caller's high, so that a listener (or a test) tells them apart on a
recording. Pure Python and espeak-ng: no pjsua2 here.
"""

from __future__ import annotations

import logging
import math
import random
import shutil
import struct
import subprocess
import wave
from pathlib import Path

from appliance.errors import ValidationError
from appliance.tones import RATE, write_wav

log = logging.getLogger("callbox.simphones")

# (first, second formant) of a few vowels, in Hz: enough for a mumble that
# sounds like speech through a telephone.
_VOWELS = [(730, 1090), (530, 1840), (270, 2290), (570, 840), (300, 870), (660, 1720)]
SENTENCES = {
    "agent": "Thank you for calling. Let me check that for you. One moment please. "
             "Yes, I can see your order here. It will be delivered on Friday.",
    "caller": "Hello, I am calling about my order. It has not arrived yet. "
              "Could you check it for me, please? Thank you.",
}
PITCH_HZ = {"agent": 120.0, "caller": 200.0}


def _period(f0: float, formants: tuple[int, int], size: int = 400) -> list[float]:
    """One pitch period of a voiced vowel: harmonics shaped by two formant peaks."""
    out = [0.0] * size
    k = 1
    while k * f0 < 3400:
        f = k * f0
        gain = sum(1.0 / (1.0 + ((f - fm) / 90.0) ** 2) for fm in formants) + 0.05
        amp = gain / k ** 0.6
        for n in range(size):
            out[n] += amp * math.sin(2 * math.pi * k * n / size)
        k += 1
    peak = max(abs(v) for v in out) or 1.0
    return [v / peak for v in out]


def synthetic_voice(path: Path, role: str, seconds: float = 8.0, seed: int = 0) -> Path:
    """A speech-like mumble (syllables, words, pauses, falling pitch) as an 8 kHz WAV."""
    rng = random.Random(seed)
    f0 = PITCH_HZ.get(role, 150.0)
    tables = [_period(f0, formants) for formants in _VOWELS]
    total = int(seconds * RATE)
    samples: list[float] = []
    while len(samples) < total:
        words = rng.randint(3, 7)
        for w in range(words):
            for _ in range(rng.randint(1, 3)):
                samples.extend(rng.uniform(-0.15, 0.15) for _ in range(int(RATE * rng.uniform(0.01, 0.03))))
                table = rng.choice(tables)
                n = int(RATE * rng.uniform(0.12, 0.26))
                # pitch falls towards the end of a phrase, as in a statement
                pitch = f0 * (1.1 - 0.25 * w / words) * rng.uniform(0.95, 1.05)
                phase = 0.0
                for i in range(n):
                    env = min(1.0, i / (0.02 * RATE), (n - i) / (0.04 * RATE))
                    vibrato = 1.0 + 0.03 * math.sin(2 * math.pi * 5 * i / RATE)
                    phase = (phase + pitch * vibrato * len(table) / RATE) % len(table)
                    samples.append(env * table[int(phase)])
            samples.extend([0.0] * int(RATE * rng.uniform(0.06, 0.15)))
        samples.extend([0.0] * int(RATE * rng.uniform(0.35, 0.7)))
    write_wav(path, b"".join(struct.pack("<h", int(0.45 * 32767 * max(-1.0, min(1.0, v))))
                             for v in samples[:total]))
    return path


def espeak_voice(path: Path, role: str) -> Path:
    """espeak-ng saying the role's sentences (its own rate; the player resamples)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FileNotFoundError("espeak-ng is not installed")
    pitch = "30" if role == "agent" else "65"
    # The text goes on stdin: nothing from outside reaches the command line.
    subprocess.run([exe, "-v", "en", "-s", "160", "-p", pitch, "-w", str(path), "--stdin"],
                   input=SENTENCES.get(role, SENTENCES["caller"]).encode(), check=True,
                   timeout=20, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with wave.open(str(path), "rb") as w:
        if w.getnframes() == 0 or w.getsampwidth() != 2:
            raise ValueError("espeak-ng wrote no usable audio")
    return path


def make_voice(kind: str, role: str, directory: Path, seed: int = 0) -> tuple[Path, str]:
    """The WAV to talk with: (path, what made it). kind: auto, espeak, synthetic or a WAV path."""
    if kind not in ("auto", "espeak", "synthetic"):
        path = Path(kind)
        with wave.open(str(path), "rb") as w:  # fails early on a bad file
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise ValidationError(f"{path}: a voice must be 16-bit mono WAV")
        return path, "file"
    if kind in ("auto", "espeak"):
        try:
            return espeak_voice(directory / f"{role}-voice.wav", role), "espeak"
        except (OSError, ValueError, wave.Error, subprocess.SubprocessError) as e:
            if kind == "espeak":
                raise ValidationError(f"espeak-ng voice failed: {e}") from None
            log.info("espeak-ng voice failed (%s); using a synthetic voice", e)
    return synthetic_voice(directory / f"{role}-voice-synthetic.wav", role, seed=seed), "synthetic"
