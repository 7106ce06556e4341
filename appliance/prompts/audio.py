"""The audio tools and the engine's format.

Prompts are 8 kHz, 16-bit signed PCM, mono: the conference bridge's clock, so
playing one costs no resampling. espeak-ng speaks, sox converts; both run as
subprocesses with a timeout, and user data only ever reaches them on stdin or
as a temp file's path.
"""

from __future__ import annotations

import array
import io
import subprocess
import sys
import wave
from functools import cache
from pathlib import Path

from appliance.errors import AudioToolError, ValidationError

RATE = 8000
TTS_TIMEOUT_S = 30.0
SOX_TIMEOUT_S = 120.0    # ten minutes of audio normalises in seconds even on a Pi

# The engine's format, as sox output options.
ENGINE_FORMAT = ["-t", "wav", "-e", "signed-integer", "-b", "16", "-c", "1", "-r", str(RATE)]


def run_tool(cmd: list[str], *, timeout: float, stdin: bytes | None = None
             ) -> subprocess.CompletedProcess[bytes]:
    """Run an audio tool; a missing tool is AudioToolError, a timeout is re-raised."""
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout,
                              check=False)
    except FileNotFoundError as e:
        raise AudioToolError(f"{cmd[0]} is not installed (tools/install-system-deps.sh "
                             "installs it)") from e


@cache
def sox_formats() -> frozenset[str]:
    """File types this sox can read (the list `sox -h` prints)."""
    proc = run_tool(["sox", "-h"], timeout=SOX_TIMEOUT_S)
    for line in proc.stdout.decode(errors="replace").splitlines():
        if line.startswith("AUDIO FILE FORMATS:"):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def tool_message(stderr: bytes, path: Path | None = None) -> str:
    text = stderr.decode(errors="replace")
    if path is not None:
        text = text.replace(str(path), "the file")
    lines = [ln.removeprefix("sox FAIL ").removeprefix("sox WARN ").strip()
             for ln in text.splitlines() if ln.strip()]
    return "; ".join(lines[-2:]) or "no reason given"


def pcm_stats(wav_bytes: bytes) -> tuple[int, int, int]:
    """(frames, rate, peak) of an engine-format WAV; anything else raises ValidationError."""
    try:
        with wave.open(io.BytesIO(wav_bytes), "rb") as w:
            if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, RATE):
                raise ValidationError("conversion did not give 8 kHz 16-bit mono audio")
            frames = w.getnframes()
            samples = array.array("h", w.readframes(frames))
    except (wave.Error, EOFError) as e:
        raise ValidationError(f"converted audio is unreadable: {e}") from e
    if sys.byteorder == "big":
        samples.byteswap()
    peak = max(max(samples, default=0), -min(samples, default=0))
    return frames, RATE, peak
