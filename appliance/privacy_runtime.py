"""One person's data: export everything the box holds about a phone number, or erase it.

Call records, the queue log, voicemail left by that number and the
recordings of its calls are searched with the numbering plan's forms of the
number (+48 601 234 567 = 0048601234567 = 601234567). Both actions are
written to the audit log. Contacts and SMS are not stored by this box yet.
"""

from __future__ import annotations

import dataclasses
import io
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from appliance.logic.business.privacy import matches_number
from appliance.logic.routing import POLAND
from appliance.ports import Audit, Mailbox, Paths, RecordLog, Setting


class Privacy:
    def __init__(self, *, setting: Setting, paths: Paths, call_records: RecordLog, queue_log: RecordLog,
                 sms_log: RecordLog, voicemail: Mailbox, voicemail_changed: Callable[[str], None],
                 expire_recordings: Callable[[float | None], int], audit: Audit):
        self.setting = setting
        self.paths = paths
        self.call_records, self.queue_log, self.sms_log = call_records, queue_log, sms_log
        self.voicemail = voicemail
        self.voicemail_changed = voicemail_changed
        self.expire_recordings = expire_recordings
        self.audit = audit

    def _plan(self):
        return dataclasses.replace(POLAND, country_code=self.setting("privacy.country_code"))

    def _match(self, number: str):
        plan = self._plan()
        matches_number({}, number, plan)  # refuses a number that is not one, before anything is read
        return lambda rec: matches_number(rec, number, plan)

    def _records(self, number: str) -> list[dict[str, Any]]:
        return self.call_records.query(None, None, self._match(number), limit=None)

    def _queue_lines(self, number: str) -> list[dict[str, Any]]:
        return self.queue_log.query(None, None, self._match(number), limit=None)

    def _voicemail(self, number: str) -> list[tuple[str, Any]]:
        match = self._match(number)
        out = []
        for box in self.voicemail.boxes():
            for msg in self.voicemail.messages(box.number):
                if match({"caller": msg.caller}):
                    out.append((box.number, msg))
        return out

    def apply_retention(self, now: float | None = None) -> dict[str, int]:
        """Delete what is older than its kind's retention (run daily by the core)."""
        days = self.setting("privacy.retention_days")
        now_dt = datetime.fromtimestamp(now if now is not None else time.time(), timezone.utc)
        done: dict[str, int] = {}
        for kind, log in (("call_records", self.call_records), ("queue_log", self.queue_log),
                          ("sms", self.sms_log)):
            if days.get(kind):
                done[kind] = log.delete_where(lambda rec: True, None, now_dt - timedelta(days=days[kind]))
        if days.get("voicemail"):
            cutoff = now_dt.timestamp() - days["voicemail"] * 86400
            gone = 0
            for box in self.voicemail.boxes():
                for msg in self.voicemail.messages(box.number):
                    if msg.received < cutoff:
                        self.voicemail.delete(box.number, msg.id)
                        gone += 1
            done["voicemail"] = gone
        done["recordings"] = self.expire_recordings(now)
        if any(done.values()):
            self.audit("box", "retention", done)
        return done

    def export(self, number: str, actor: str = "api") -> bytes:
        records = self._records(number)
        lines = self._queue_lines(number)
        voicemail = self._voicemail(number)
        import tarfile  # here: an export is rare, and tarfile brings in lzma and bz2 (some 2.5 MB resident)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            def add(name: str, data: bytes) -> None:
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), int(time.time())
                tar.addfile(info, io.BytesIO(data))

            add("call_records.json", json.dumps(records, indent=1, ensure_ascii=False).encode())
            add("queue_log.json", json.dumps(lines, indent=1, ensure_ascii=False).encode())
            add("voicemail.json", json.dumps([m.to_dict() for _, m in voicemail], indent=1).encode())
            sms = self.sms_log.query(None, None, self._match(number), limit=None)
            add("sms.json", json.dumps(sms, indent=1, ensure_ascii=False).encode())
            for box, msg in voicemail:
                tar.add(str(self.voicemail.audio_path(box, msg.id)), f"voicemail/{box}-{msg.id}.wav")
            for rec in records:
                if rec.get("recording") and (self.paths.data / rec["recording"]).exists():
                    tar.add(str(self.paths.data / rec["recording"]), f"recordings/{rec['call_id']}.wav")
            add("README.txt", (f"Everything this Callbox holds about {number}, exported "
                               f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}.\n").encode())
        self.audit(actor, "privacy_export", {"number": number, "call_records": len(records),
                                                  "voicemail": len(voicemail)})
        return buf.getvalue()

    def erase(self, number: str, actor: str = "api") -> dict[str, int]:
        match = self._match(number)
        recordings = 0
        for rec in self._records(number):
            path = rec.get("recording")
            if path and (self.paths.data / path).exists():
                (self.paths.data / path).unlink()
                recordings += 1
        voicemail = 0
        for box, msg in self._voicemail(number):
            self.voicemail.delete(box, msg.id)
            self.voicemail_changed(box)
            voicemail += 1
        counts = {"call_records": self.call_records.delete_where(match),
                  "queue_log": self.queue_log.delete_where(match),
                  "sms": self.sms_log.delete_where(match),
                  "recordings": recordings, "voicemail": voicemail}
        self.audit(actor, "privacy_erase", {"number": number, **counts})
        return counts
