"""Call recording: the policy, the disk guard, and keeping recordings valid and within retention.

The engine worker records (mixed, 8 kHz WAV); this module decides whether a
call is recorded, where the file goes, refuses to start one when the disk is
nearly full (an alarm instead; calls go on), repairs the WAV header of a
recording whose worker died before closing it, and deletes old recordings.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
import wave
from pathlib import Path

from appliance.ports import AlarmBoard, FindExtension, Paths, RecordLog, Setting
from appliance.voicemail_store import repair_wav

log = logging.getLogger("callbox.recording")


class Recordings:
    def __init__(self, *, paths: Paths, setting: Setting, extension: FindExtension, alarms: AlarmBoard,
                 call_records: RecordLog):
        self.data_dir = paths.data
        self.setting = setting
        self.extension = extension
        self.alarms = alarms
        self.call_records = call_records
        self.dir = paths.folder("recordings")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.disk_full = False

    def wanted(self, extensions: list[str], queue: str | None, route_mode: str = "never") -> bool:
        """An extension's own choice wins; then the queue's, the route's (a route that announces
        recording records), and the box-wide policy."""
        for number in extensions:
            ext = self.extension(number) or {}
            choice = ext.get("record", "default")
            if choice == "always":
                return True
            if choice == "never":
                return False
        if queue and queue in self.setting("recording.queues"):
            return True
        if str(route_mode) in ("announce", "opt_out"):
            return True
        policy = self.setting("recording.policy")
        return policy == "always" or (policy == "queues" and bool(queue))

    def path_for(self, call_id: str) -> Path | None:
        """Where a new recording goes, or None when the disk guard says no."""
        usage = shutil.disk_usage(self.dir)
        pct = 100.0 * usage.used / usage.total if usage.total else 0.0
        if pct >= self.setting("recording.max_disk_pct"):
            if not self.disk_full:
                log.warning("data disk %.0f %% full: new recordings stop until there is room", pct)
                self.alarms.raise_alarm(
                    "disk", f"The data disk is {pct:.0f} % full: new recordings have stopped (calls go on).",
                    "Delete old recordings (Recordings page) or lower the retention, or use a larger card.")
            self.disk_full = True
            return None
        if self.disk_full:
            self.alarms.clear("disk")
        self.disk_full = False
        day = time.strftime("%Y/%m/%d")
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in call_id)[:80]
        folder = self.dir / day
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{safe}.wav"

    def repair_all(self) -> int:
        """Fix the headers of recordings whose worker died mid-call (sizes are written only at the end)."""
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

    def compress_pending(self, now: float | None = None, min_age_s: float = 60.0) -> int:
        """Speech to Opus (about a tenth of the WAV's size on the SD card), once the call is over.

        Done for finished recordings only (older than a minute, header complete); the call
        record is pointed at the new file before the WAV is removed, so nothing is lost on a
        power cut in between. Without opusenc the WAVs simply stay.
        """
        if not self.setting("recording.compress") or shutil.which("opusenc") is None:
            return 0
        now = now or time.time()
        done = 0
        for wav in sorted(self.dir.rglob("*.wav")):
            try:
                if now - wav.stat().st_mtime < min_age_s:
                    continue
                with wave.open(str(wav)) as w:
                    if w.getnframes() == 0:
                        continue
            except (OSError, wave.Error, EOFError):
                continue
            opus = wav.with_suffix(".opus")
            tmp = wav.with_suffix(".opus.tmp")
            result = subprocess.run(["opusenc", "--quiet", "--bitrate", "16", "--speech", str(wav), str(tmp)],
                                    capture_output=True, timeout=300)
            if result.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
                log.warning("could not compress %s: %s", wav, result.stderr.decode(errors="replace")[-200:])
                tmp.unlink(missing_ok=True)
                continue
            tmp.replace(opus)
            old = str(wav.relative_to(self.data_dir))
            new = str(opus.relative_to(self.data_dir))
            for rec in self.call_records.query(None, None, lambda r: r.get("recording") == old, limit=None):
                self.call_records.update(rec["id"], {"recording": new})
            wav.unlink()
            done += 1
        return done

    def expire(self, now: float | None = None) -> int:
        days = self.setting("recording.retention_days")
        if not days:
            return 0
        cutoff = (now or time.time()) - days * 86400
        gone = 0
        for audio in [*self.dir.rglob("*.wav"), *self.dir.rglob("*.opus")]:
            if audio.stat().st_mtime < cutoff:
                audio.unlink()
                gone += 1
        return gone
