"""Prompt files by name and language: the caller's language, then English, then the system sounds.
A prompt that is missing is an alarm (callers hear silence where it belongs), never a crash."""

from __future__ import annotations

import logging
from pathlib import Path

from appliance.ports import AlarmBoard

log = logging.getLogger("callbox.switchboard")


class PromptFiles:
    def __init__(self, folder: Path, alarms: AlarmBoard):
        self.folder, self.alarms = folder, alarms

    def __call__(self, name: str, language: str) -> str | None:
        for lang in (language, "en", "system"):
            path = self.folder / lang / f"{name}.wav"
            if path.exists():
                return str(path)
        log.warning("prompt %s (%s) is missing", name, language)
        self.alarms.raise_alarm(
            "prompt", f"The prompt {name} ({language}) is missing: callers hear silence where it belongs.",
            "Upload it or type its text on the Prompts page.", key=f"{name}/{language}", incident=True)
        return None
