"""Filing call records: local times, the recording's place, the log, and an alarm when the disk says no.

A record the disk refuses is kept in memory and tried again with the next one: nothing is
dropped, and the owner is told until the records are written.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from appliance.ports import AlarmBoard, Publish, RecordLog

log = logging.getLogger("callbox.switchboard")


class CallRecordWriter:
    def __init__(self, *, records: RecordLog, alarms: AlarmBoard, publish: Publish, data_dir: Path):
        self.records, self.alarms, self.publish, self.data_dir = records, alarms, publish, data_dir
        self._unwritten: list[dict[str, Any]] = []   # call records waiting for the disk

    def write(self, record: dict[str, Any], recording: str | None = None) -> None:
        record = dict(record)
        if recording:
            record["recording"] = str(Path(recording).relative_to(self.data_dir))
        for key in ("start", "answer", "end"):
            if record.get(key) is not None:
                record[key] = datetime.fromtimestamp(record[key], timezone.utc).astimezone().isoformat()
        self._unwritten.append(record)
        while self._unwritten:
            try:
                self.records.append(self._unwritten[0])
            except OSError as e:
                # Kept in memory and tried again with the next record: nothing is dropped, the owner is told.
                log.warning("call record %s not written yet: %s", record.get("call_id"), e)
                self.alarms.raise_alarm(
                    "record", f"Call records cannot be written ({e}); {len(self._unwritten)} wait in memory.",
                    "Make room on the data disk (old recordings, backups); the records are written as soon "
                    "as it works again, but a restart before then loses them.")
                break
            written = self._unwritten.pop(0)
            if not self._unwritten:
                self.alarms.clear("record")
            self.publish("call_record", **{k: written.get(k) for k in
                                           ("call_id", "disposition", "caller", "callee", "duration_s")})
