"""Prompt files: where each prompt lives and what is known about it.

Every prompt is a WAV file at DATA/prompts/<language>/<name>.wav. Beside it,
<name>.json records where it came from (text-to-speech, an upload, or the
built-in set).
"""

from __future__ import annotations

import json
import logging
import re
import wave
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from appliance.errors import ValidationError
from appliance.prompts.catalogue import LANGUAGES, check_language
from appliance.store.atomic import atomic_write_bytes, encode_json

log = logging.getLogger("callbox.prompts")

NAME_RE = re.compile(r"[a-z0-9-]{1,64}")


class PromptSource(StrEnum):
    TTS = "tts"
    UPLOAD = "upload"
    BUILTIN = "builtin"


@dataclass(frozen=True)
class PromptInfo:
    name: str
    language: str
    path: Path
    seconds: float
    rate: int
    source: PromptSource

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "path": str(self.path),
                "seconds": self.seconds, "rate": self.rate, "source": str(self.source)}


def prompt_dest(prompts_dir: Path, name: str, language: str) -> Path:
    """Where a prompt of that name and language lives; the name is checked."""
    check_language(language)
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise ValidationError(f"prompt name {name!r} must be 1 to 64 of a-z, 0-9 and '-'")
    return Path(prompts_dir) / language / f"{name}.wav"


def prompt_path(prompts_dir: Path, name: str, language: str,
                fallback: str | None = "en") -> Path | None:
    """The prompt's file in `language`, else in `fallback`, else None."""
    for lang in dict.fromkeys(x for x in (language, fallback) if x):
        path = prompt_dest(prompts_dir, name, lang)
        if path.is_file():
            return path
    return None


def source_of(path: Path) -> PromptSource:
    try:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        return PromptSource(meta["source"])
    except (OSError, ValueError, KeyError, TypeError):
        return PromptSource.UPLOAD     # a file put there by hand


def read_info(path: Path, source: PromptSource | None = None) -> PromptInfo:
    with wave.open(str(path), "rb") as w:
        rate, frames = w.getframerate(), w.getnframes()
    return PromptInfo(name=path.stem, language=path.parent.name, path=path,
                      seconds=round(frames / rate, 3) if rate else 0.0, rate=rate,
                      source=source if source is not None else source_of(path))


def list_prompts(prompts_dir: Path) -> list[PromptInfo]:
    """Every readable prompt, by language then name."""
    found = []
    for language in LANGUAGES:
        folder = Path(prompts_dir) / language
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.wav")):
            if not NAME_RE.fullmatch(path.stem):
                continue
            try:
                found.append(read_info(path))
            except (OSError, EOFError, wave.Error) as e:
                log.warning("prompt %s is unreadable, skipped: %s", path, e)
    return found


def check_dest(dest: Path) -> tuple[str, str]:
    dest = Path(dest)
    if dest.suffix != ".wav" or not NAME_RE.fullmatch(dest.stem):
        raise ValidationError(f"prompt file {dest.name!r} must be <name>.wav with a name of "
                              "1 to 64 of a-z, 0-9 and '-'")
    return dest.stem, dest.parent.name


def write_prompt(dest: Path, pcm_wav: bytes, source: PromptSource, text: str | None = None) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(dest, pcm_wav)
    meta: dict[str, Any] = {"source": str(source)}
    if text is not None:
        meta["text"] = text
    atomic_write_bytes(dest.with_suffix(".json"), encode_json(meta))
