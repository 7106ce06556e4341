"""Call recording: the policy, the disk guard, and keeping recordings valid and within retention.

The engine worker records (mixed, 8 kHz WAV); this module decides whether a
call is recorded, where the file goes, refuses to start one when the disk is
nearly full (an alarm instead; calls go on), repairs the WAV header of a
recording whose worker died before closing it, and deletes old recordings.
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from appliance.core import Core

log = logging.getLogger("callbox.recording")


class Recordings:
    def __init__(self, core: "Core"):
        self.core = core
        self.dir = core.data_dir / "recordings"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.disk_full = False

    def wanted(self, extensions: list[str], queue: str | None, route_mode: str = "never") -> bool:
        """An extension's own choice wins; then the queue's, the route's (a route that announces
        recording records), and the box-wide policy."""
        for number in extensions:
            ext = self.core.extension_or_none(number) or {}
            choice = ext.get("record", "default")
            if choice == "always":
                return True
            if choice == "never":
                return False
        if queue and queue in self.core.settings["recording.queues"]:
            return True
        if str(route_mode) in ("announce", "opt_out"):
            return True
        policy = self.core.settings["recording.policy"]
        return policy == "always" or (policy == "queues" and bool(queue))

    def path_for(self, call_id: str) -> Path | None:
        """Where a new recording goes, or None when the disk guard says no."""
        usage = shutil.disk_usage(self.dir)
        pct = 100.0 * usage.used / usage.total if usage.total else 0.0
        if pct >= self.core.settings["recording.max_disk_pct"]:
            if not self.disk_full:
                log.error("data disk %.0f %% full: new recordings stop until there is room", pct)
                self.core.events.publish("alarm", kind="disk_full", percent=round(pct, 1),
                                         text="recording stopped: the data disk is nearly full")
            self.disk_full = True
            return None
        self.disk_full = False
        day = time.strftime("%Y/%m/%d")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in call_id)[:80]
        folder = self.dir / day
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{safe}.wav"

    def repair_all(self) -> int:
        """Fix the headers of recordings whose worker died mid-call (sizes are written only at the end)."""
        from appliance.voicemail_store import repair_wav
        fixed = 0
        for wav in self.dir.rglob("*.wav"):
            try:
                if repair_wav(wav):
                    fixed += 1
            except OSError as e:
                log.warning("cannot repair %s: %s", wav, e)
        if fixed:
            log.warning("repaired %d recording(s) cut off by a restart", fixed)
        return fixed

    def expire(self, now: float | None = None) -> int:
        days = self.core.settings["recording.retention_days"]
        if not days:
            return 0
        cutoff = (now or time.time()) - days * 86400
        gone = 0
        for wav in self.dir.rglob("*.wav"):
            if wav.stat().st_mtime < cutoff:
                wav.unlink()
                gone += 1
        return gone
