"""Append-only monthly logs: call records, and anything else that only grows.

TinyDB rewrites its whole file on every insert, so a call record would cost
more with every call ever taken (about 0.9 s per insert at 100k records).
Here each month is one JSON Lines file (`YYYY-MM.jsonl`); an append writes one
line and fsyncs it, whatever the size of the history.

A change to a record (a call that ends, a disposition set later) is appended
as an update line `{"$update": id, "$changes": {...}}` in the record's own
shard; readers fold updates into the record. Deleting (retention, erasure)
rewrites the affected shards atomically, folded.

A power cut can leave a last line half written. It was never acknowledged
(append returns only after fsync), so readers skip it and the next append in
that shard cuts it off.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from appliance.errors import NotFound, StoreError, ValidationError
from appliance.store.atomic import atomic_write_bytes, fsync_dir

log = logging.getLogger(__name__)

UPDATE = "$update"
CHANGES = "$changes"
SHARD_SUFFIX = ".jsonl"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# The current month, plus last month for records that arrive late.
OPEN_SHARDS = 2
_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)

Record = dict[str, Any]
Predicate = Callable[[Record], bool]


def _check_month(month: str) -> str:
    m = _MONTH.match(month)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ValidationError(f"{month!r} is not a month like 2026-11")
    return month


def _month_of_instant(when: datetime) -> str:
    return f"{when.year:04d}-{when.month:02d}"


def _aware(when: datetime) -> datetime:
    # A time without a zone means the box's local time.
    return when if when.tzinfo is not None else when.astimezone()


def _encode(entry: Record) -> bytes:
    try:
        text = json.dumps(entry, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValidationError(f"record cannot be stored as JSON: {e}") from e
    return text.encode("utf-8") + b"\n"


class MonthlyLog:
    """Records sharded by the month of their `time_key` field (ISO 8601)."""

    def __init__(self, directory: Path, time_key: str = "start", read_only: bool = False):
        self.directory = Path(directory)
        self.time_key = time_key
        self.read_only = read_only
        self._fds: OrderedDict[str, int] = OrderedDict()
        # Which shard holds an id: known for ids appended here and for every
        # shard scanned once by update(); saves rereading a month per update.
        self._where: dict[str, str] = {}
        self._indexed: set[str] = set()
        self._lock = threading.RLock()

    # -- writing ---------------------------------------------------------

    def append(self, record: Record) -> str:
        """Store `record` durably and return its id (assigned if absent)."""
        if not isinstance(record, dict):
            raise ValidationError("a record must be a JSON object")
        if UPDATE in record or CHANGES in record:
            raise ValidationError(f"{UPDATE!r} and {CHANGES!r} are reserved keys")
        record = dict(record)
        record_id = record.setdefault("id", uuid.uuid4().hex)
        if not isinstance(record_id, str) or not record_id:
            raise ValidationError("a record id must be a non-empty string")
        month = self._month_of(record)
        line = _encode(record)
        with self._lock:
            self._write_line(month, line)
            self._where[record_id] = month
        return record_id

    def update(self, record_id: str, changes: Record) -> None:
        """Durably change fields of a stored record (e.g. its end time)."""
        if not isinstance(changes, dict) or not changes:
            raise ValidationError("changes must be a non-empty JSON object")
        if "id" in changes and changes["id"] != record_id:
            raise ValidationError("the id of a record cannot change")
        with self._lock:
            month = self._find(record_id)
            if self.time_key in changes and self._month_of(changes) != month:
                raise ValidationError(
                    f"{self.time_key!r} cannot move record {record_id} out of {month}"
                )
            self._write_line(month, _encode({UPDATE: record_id, CHANGES: changes}))

    def delete_where(
        self,
        predicate: Predicate,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> int:
        """Remove the records in [start, end) that match; returns how many.

        Each affected shard is rewritten folded and atomically, so a crash
        leaves it before or after the deletion.
        """
        self._check_writable()
        removed_total = 0
        with self._lock:
            for month in self._months_between(start, end):
                records = self._folded(month)
                doomed = [
                    rid
                    for rid, rec in records.items()
                    if self._in_range(rec, start, end) and predicate(rec)
                ]
                if not doomed:
                    continue
                for rid in doomed:
                    del records[rid]
                    self._where.pop(rid, None)
                # The rename gives the shard a new inode; an open descriptor
                # would keep appending to the old, unlinked one.
                self._close_shard(month)
                path = self._shard(month)
                if records:
                    atomic_write_bytes(path, b"".join(_encode(r) for r in records.values()))
                else:
                    try:
                        path.unlink()
                        fsync_dir(self.directory)
                    except OSError as e:
                        raise StoreError(f"cannot remove {path}: {e.strerror or e}") from e
                removed_total += len(doomed)
                log.info("%s: deleted %d record(s)", path, len(doomed))
        return removed_total

    def close(self) -> None:
        """Close the open shards; appending later reopens them."""
        with self._lock:
            for month in list(self._fds):
                self._close_shard(month)

    def __enter__(self) -> MonthlyLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------

    def months(self) -> list[str]:
        """The months that have records, oldest first, like ['2026-10', '2026-11']."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        except OSError as e:
            raise StoreError(f"cannot list {self.directory}: {e.strerror or e}") from e
        months = []
        for name in names:
            stem = name[: -len(SHARD_SUFFIX)]
            if name.endswith(SHARD_SUFFIX) and _MONTH.match(stem):
                months.append(stem)
        return sorted(months)

    def iter_month(self, month: str) -> Iterator[Record]:
        """The records of one month, updates folded in, in the order stored."""
        yield from self._folded(_check_month(month)).values()

    def get(self, record_id: str) -> Record:
        """One record by id, updates folded in; NotFound if there is none."""
        month = self._find(record_id)
        record = self._folded(month).get(record_id)
        if record is None:
            raise NotFound(f"no record {record_id}")
        return record

    def query(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        predicate: Predicate | None = None,
        offset: int = 0,
        limit: int | None = 100,
        newest_first: bool = True,
    ) -> list[Record]:
        """Records with start <= time < end that match `predicate`, one page.

        Only the shards of the months in range are read; paging newest first
        stops reading once the page is full.
        """
        if offset < 0 or (limit is not None and limit < 0):
            raise ValidationError("offset and limit must not be negative")
        months = self._months_between(start, end)
        if newest_first:
            months.reverse()
        wanted = None if limit is None else offset + limit
        found: list[Record] = []
        for month in months:
            page = [
                rec
                for rec in self._folded(month).values()
                if self._in_range(rec, start, end) and (predicate is None or predicate(rec))
            ]
            page.sort(key=self._instant, reverse=newest_first)
            found.extend(page)
            if wanted is not None and len(found) >= wanted:
                break
        # Shards are in month order; the final sort only matters for records
        # written with different UTC offsets around a month's edge.
        found.sort(key=self._instant, reverse=newest_first)
        return found[offset:] if wanted is None else found[offset:wanted]

    # -- internals -------------------------------------------------------

    def _shard(self, month: str) -> Path:
        return self.directory / f"{month}{SHARD_SUFFIX}"

    def _month_of(self, record: Record) -> str:
        return _month_of_instant(self._parse_time(record))

    def _parse_time(self, record: Record) -> datetime:
        value = record.get(self.time_key)
        if not isinstance(value, str):
            raise ValidationError(f"record needs {self.time_key!r} as an ISO 8601 time")
        try:
            return datetime.fromisoformat(value)
        except ValueError as e:
            raise ValidationError(f"{self.time_key!r}: {value!r} is not an ISO 8601 time") from e

    def _instant(self, record: Record) -> datetime:
        try:
            return _aware(self._parse_time(record))
        except ValidationError:
            return _EARLIEST

    def _in_range(self, record: Record, start: datetime | None, end: datetime | None) -> bool:
        if start is None and end is None:
            return True
        when = self._instant(record)
        if start is not None and when < _aware(start):
            return False
        return end is None or when < _aware(end)

    def _months_between(self, start: datetime | None, end: datetime | None) -> list[str]:
        # A shard is named after the month as the record wrote it, in its own
        # UTC offset; a day of slack on each side covers every offset.
        lo = _month_of_instant(start - timedelta(days=1)) if start else None
        hi = _month_of_instant(end + timedelta(days=1)) if end else None
        return [m for m in self.months() if (lo is None or m >= lo) and (hi is None or m <= hi)]

    def _entries(self, month: str) -> Iterator[Record]:
        path = self._shard(month)
        try:
            f = open(path, "rb")
        except FileNotFoundError:
            return
        except OSError as e:
            raise StoreError(f"cannot read {path}: {e.strerror or e}") from e
        with f:
            for number, line in enumerate(f, 1):
                if not line.endswith(b"\n"):
                    # Unfinished by a crash, or being written right now: in
                    # both cases not acknowledged yet.
                    log.debug("%s: ignoring unfinished last line", path)
                    return
                try:
                    entry = json.loads(line)
                except ValueError:
                    entry = None
                if not isinstance(entry, dict):
                    log.warning("%s:%d: skipping a line that does not parse", path, number)
                    continue
                yield entry

    def _folded(self, month: str) -> dict[str, Record]:
        records: dict[str, Record] = {}
        for entry in self._entries(month):
            target = entry.get(UPDATE)
            if target is not None:
                record = records.get(target)
                changes = entry.get(CHANGES)
                if record is not None and isinstance(changes, dict):
                    record.update(changes)
                continue
            record_id = entry.get("id")
            if isinstance(record_id, str):
                records[record_id] = entry
        return records

    def _find(self, record_id: str) -> str:
        month = self._where.get(record_id)
        if month is not None:
            return month
        for month in reversed(self.months()):
            if month in self._indexed:
                continue
            for entry in self._entries(month):
                rid = entry.get("id")
                if isinstance(rid, str) and UPDATE not in entry:
                    self._where[rid] = month
            self._indexed.add(month)
            if record_id in self._where:
                return self._where[record_id]
        raise NotFound(f"no record {record_id}")

    def _check_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"{self.directory} is open read-only")

    def _write_line(self, month: str, line: bytes) -> None:
        self._check_writable()
        fd = self._open_shard(month)
        size = os.fstat(fd).st_size
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(fd, view):]
            os.fdatasync(fd)
        except OSError as e:
            # Take back a partial line (disk full, I/O error) so the next
            # append does not glue onto it.
            try:
                os.ftruncate(fd, size)
            except OSError:
                pass
            raise StoreError(f"cannot append to {self._shard(month)}: {e.strerror or e}") from e

    def _open_shard(self, month: str) -> int:
        fd = self._fds.get(month)
        if fd is not None:
            self._fds.move_to_end(month)
            return fd
        path = self._shard(month)
        try:
            if not self.directory.is_dir():
                self.directory.mkdir(parents=True, exist_ok=True)
                fsync_dir(self.directory.parent)
            created = not path.exists()
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                self._cut_unfinished_line(fd, path)
                if created:
                    fsync_dir(self.directory)
            except BaseException:
                os.close(fd)
                raise
        except OSError as e:
            raise StoreError(f"cannot open {path}: {e.strerror or e}") from e
        self._fds[month] = fd
        while len(self._fds) > OPEN_SHARDS:
            self._close_shard(next(iter(self._fds)))
        return fd

    @staticmethod
    def _cut_unfinished_line(fd: int, path: Path) -> None:
        size = os.fstat(fd).st_size
        if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
            return
        keep, pos = 0, size
        while pos > 0:
            begin = max(0, pos - 65536)
            newline = os.pread(fd, pos - begin, begin).rfind(b"\n")
            if newline >= 0:
                keep = begin + newline + 1
                break
            pos = begin
        os.ftruncate(fd, keep)
        os.fsync(fd)
        log.warning("%s: cut %d bytes of a line a crash left unfinished", path, size - keep)

    def _close_shard(self, month: str) -> None:
        fd = self._fds.pop(month, None)
        if fd is not None:
            os.close(fd)


class CallRecords(MonthlyLog):
    """Call records in `data_dir/cdr/`, one shard per month of the call's start."""

    def __init__(self, data_dir: Path, read_only: bool = False):
        super().__init__(Path(data_dir) / "cdr", time_key="start", read_only=read_only)
