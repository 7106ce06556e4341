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
import tarfile
import time
from typing import TYPE_CHECKING, Any

from appliance.logic.business.privacy import matches_number
from appliance.logic.routing import POLAND

if TYPE_CHECKING:
    from appliance.core import Core


class Privacy:
    def __init__(self, core: "Core"):
        self.core = core

    def _plan(self):
        return dataclasses.replace(POLAND, country_code=self.core.settings["privacy.country_code"])

    def _match(self, number: str):
        plan = self._plan()
        matches_number({}, number, plan)  # refuses a number that is not one, before anything is read
        return lambda rec: matches_number(rec, number, plan)

    def _records(self, number: str) -> list[dict[str, Any]]:
        return self.core.call_records.query(None, None, self._match(number), limit=None)

    def _queue_lines(self, number: str) -> list[dict[str, Any]]:
        return self.core.queue_log.query(None, None, self._match(number), limit=None)

    def _voicemail(self, number: str) -> list[tuple[str, Any]]:
        match = self._match(number)
        out = []
        for box in self.core.voicemail.boxes():
            for msg in self.core.voicemail.messages(box.number):
                if match({"caller": msg.caller}):
                    out.append((box.number, msg))
        return out

    def apply_retention(self, now: float | None = None) -> dict[str, int]:
        """Delete what is older than its kind's retention (run daily by the core)."""
        from datetime import datetime, timedelta, timezone
        days = self.core.settings["privacy.retention_days"]
        now_dt = datetime.fromtimestamp(now if now is not None else time.time(), timezone.utc)
        done: dict[str, int] = {}
        for kind, log in (("call_records", self.core.call_records), ("queue_log", self.core.queue_log),
                          ("sms", self.core.sms_log)):
            if days.get(kind):
                done[kind] = log.delete_where(lambda rec: True, None, now_dt - timedelta(days=days[kind]))
        if days.get("voicemail"):
            cutoff = now_dt.timestamp() - days["voicemail"] * 86400
            gone = 0
            for box in self.core.voicemail.boxes():
                for msg in self.core.voicemail.messages(box.number):
                    if msg.received < cutoff:
                        self.core.voicemail.delete(box.number, msg.id)
                        gone += 1
            done["voicemail"] = gone
        done["recordings"] = self.core.recordings.expire(now)
        if any(done.values()):
            self.core.audit("box", "retention", done)
        return done

    def export(self, number: str, actor: str = "api") -> bytes:
        records = self._records(number)
        lines = self._queue_lines(number)
        voicemail = self._voicemail(number)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            def add(name: str, data: bytes) -> None:
                info = tarfile.TarInfo(name)
                info.size, info.mtime = len(data), int(time.time())
                tar.addfile(info, io.BytesIO(data))

            add("call_records.json", json.dumps(records, indent=1, ensure_ascii=False).encode())
            add("queue_log.json", json.dumps(lines, indent=1, ensure_ascii=False).encode())
            add("voicemail.json", json.dumps([m.to_dict() for _, m in voicemail], indent=1).encode())
            sms = self.core.sms_log.query(None, None, self._match(number), limit=None)
            add("sms.json", json.dumps(sms, indent=1, ensure_ascii=False).encode())
            for box, msg in voicemail:
                tar.add(str(self.core.voicemail.audio_path(box, msg.id)), f"voicemail/{box}-{msg.id}.wav")
            for rec in records:
                if rec.get("recording") and (self.core.data_dir / rec["recording"]).exists():
                    tar.add(str(self.core.data_dir / rec["recording"]), f"recordings/{rec['call_id']}.wav")
            add("README.txt", (f"Everything this Callbox holds about {number}, exported "
                               f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}.\n").encode())
        self.core.audit(actor, "privacy_export", {"number": number, "call_records": len(records),
                                                  "voicemail": len(voicemail)})
        return buf.getvalue()

    def erase(self, number: str, actor: str = "api") -> dict[str, int]:
        match = self._match(number)
        recordings = 0
        for rec in self._records(number):
            path = rec.get("recording")
            if path and (self.core.data_dir / path).exists():
                (self.core.data_dir / path).unlink()
                recordings += 1
        voicemail = 0
        for box, msg in self._voicemail(number):
            self.core.voicemail.delete(box, msg.id)
            self.core.voicemail_changed(box)
            voicemail += 1
        counts = {"call_records": self.core.call_records.delete_where(match),
                  "queue_log": self.core.queue_log.delete_where(match),
                  "sms": self.core.sms_log.delete_where(match),
                  "recordings": recordings, "voicemail": voicemail}
        self.core.audit(actor, "privacy_erase", {"number": number, **counts})
        return counts
