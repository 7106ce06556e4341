"""The admin's own recordings: an uploaded file becomes a prompt in the engine's format.

The file's type is read from its first bytes, never from its name; a WAV's
header is checked before sox decodes it, and any failure leaves the prompt as
it was.
"""

from __future__ import annotations

import struct
import subprocess
import tempfile
from pathlib import Path

from appliance.errors import ValidationError
from appliance.prompts.audio import (
    ENGINE_FORMAT, RATE, SOX_TIMEOUT_S, pcm_stats, run_tool, sox_formats, tool_message)
from appliance.prompts.files import PromptInfo, PromptSource, check_dest, write_prompt


_FORMAT_NAMES = {"wav": "WAV", "flac": "FLAC", "ogg": "Ogg Vorbis", "aiff": "AIFF",
                 "au": "Sun AU", "mp3": "MP3"}


def _sniff(data: bytes) -> str:
    """The sox file type named by the data's first bytes, never by a file name."""
    head = data[:12]
    if head[:4] in (b"RIFF", b"RIFX") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:4] == b".snd":
        return "au"
    # MPEG audio: an ID3 tag, or a frame sync whose layer bits are not "reserved".
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                              and (head[1] >> 1) & 3):
        return "mp3"
    try:
        sample = data[:4096].decode("utf-8")
        if sum(c.isprintable() or c in "\r\n\t" for c in sample) > 0.95 * len(sample):
            raise ValidationError("this is a text file, not audio")
    except UnicodeDecodeError:
        pass
    raise ValidationError("not an audio file: expected " + ", ".join(_FORMAT_NAMES.values()))


def _check_wav(data: bytes, max_seconds: float) -> None:
    """Catch a truncated or over-long WAV from its header, before decoding it."""
    endian = "<" if data[:4] == b"RIFF" else ">"
    pos, byte_rate = 12, None
    while pos + 8 <= len(data):
        chunk = data[pos:pos + 4]
        (size,) = struct.unpack(endian + "I", data[pos + 4:pos + 8])
        body = pos + 8
        available = len(data) - body
        if chunk == b"fmt ":
            if size < 16 or available < 16:
                raise ValidationError("the WAV file is broken: its format header is incomplete")
            channels, rate, byte_rate = struct.unpack(endian + "HII", data[body + 2:body + 12])
            if not channels or not rate or not byte_rate:
                raise ValidationError("the WAV file is broken: its format header has zeros")
        elif chunk == b"data":
            if byte_rate is None:
                raise ValidationError("the WAV file is broken: audio comes before its format")
            if size in (0, 0xFFFFFFFF):
                size = available          # written by a streaming recorder
            elif size > available:
                raise ValidationError(f"the WAV file is truncated: its header announces "
                                      f"{size} bytes of audio, only {available} are there")
            seconds = size / byte_rate
            if seconds > max_seconds:
                raise ValidationError(f"the audio is {seconds:.1f} s long; the limit is "
                                      f"{max_seconds:g} s")
            return
        elif size > available:
            break
        pos = body + size + (size & 1)
    raise ValidationError("the WAV file is truncated or broken: it has no audio data")


def convert_upload(data: bytes, dest: Path, *, max_seconds: float = 600) -> PromptInfo:
    """Convert uploaded audio to the engine's format and write it to `dest`.

    Any failure raises ValidationError naming the problem, and leaves `dest`
    as it was.
    """
    dest = Path(dest)
    name, language = check_dest(dest)
    if not max_seconds > 0:
        raise ValidationError(f"max_seconds must be positive, not {max_seconds!r}")
    if not data:
        raise ValidationError("the file is empty")
    kind = _sniff(data)
    if kind == "wav":
        _check_wav(data, max_seconds)
    if kind not in sox_formats():
        raise ValidationError(f"{_FORMAT_NAMES[kind]} files cannot be read on this box "
                              f"(its sox lacks the {kind} format"
                              + ("; install libsox-fmt-mp3)" if kind == "mp3" else ")"))
    with tempfile.TemporaryDirectory(prefix="callbox-upload-") as work:
        src = Path(work) / f"upload.{kind}"
        src.write_bytes(data)
        out = Path(work) / "prompt.wav"
        # The trim runs first so that an endless stream stops just past the
        # limit rather than being decoded (and normalised) in full.
        # No dither (-D): it would turn a silent upload into faint noise.
        cmd = ["sox", "--no-glob", "-D", "-V2", "-t", kind, str(src), *ENGINE_FORMAT, str(out),
               "trim", "0", f"{max_seconds + 0.5:.3f}", "remix", "-", "rate", str(RATE),
               "norm", "-3"]
        try:
            proc = run_tool(cmd, timeout=SOX_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise ValidationError(f"the file could not be decoded within "
                                  f"{SOX_TIMEOUT_S:.0f} s") from e
        if proc.returncode != 0 or not out.exists():
            raise ValidationError(f"the {_FORMAT_NAMES[kind]} file cannot be decoded: "
                                  f"{tool_message(proc.stderr, src)}")
        if b"Premature EOF" in proc.stderr:
            raise ValidationError(f"the {_FORMAT_NAMES[kind]} file is truncated")
        wav_bytes = out.read_bytes()
    frames, rate, peak = pcm_stats(wav_bytes)
    seconds = frames / rate
    if frames == 0:
        raise ValidationError("the file contains no audio")
    if seconds > max_seconds:
        raise ValidationError(f"the audio is longer than the limit of {max_seconds:g} s")
    if peak == 0:
        raise ValidationError("the audio is silent")
    write_prompt(dest, wav_bytes, PromptSource.UPLOAD)
    return PromptInfo(name=name, language=language, path=dest, seconds=round(seconds, 3),
                      rate=rate, source=PromptSource.UPLOAD)
