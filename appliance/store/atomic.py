"""Writes that are either wholly there or not there at all after a power cut.

The pattern is the one every appliance on an SD card needs: write a temp file
beside the target, fsync it, rename it over the target, fsync the directory.
A rename within one directory is atomic on POSIX file systems, so a reader (or
the next boot) sees the old file or the new one, never a mixture.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from appliance.atomicfile import TEMP_SUFFIX, atomic_output, atomic_write_bytes, fsync_dir, temp_prefix  # noqa: F401 (the store's own names)
from appliance.errors import StoreCorrupt, StoreError

log = logging.getLogger(__name__)

_temp_prefix = temp_prefix


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files that a crashed `atomic_write_bytes(path, ...)` left behind.

    Only call this from the single writer: another writer's temp file in
    flight would look stale too.
    """
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(_temp_prefix(path) + "*" + TEMP_SUFFIX):
        try:
            tmp.unlink()
            removed.append(tmp)
        except FileNotFoundError:
            pass
    if removed:
        log.info("removed %d unfinished write(s) of %s", len(removed), path)
    return removed


def encode_json(data: Any) -> bytes:
    """Compact UTF-8 JSON, the one encoding the store writes."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class AtomicJSONStorage(Storage):
    """TinyDB storage whose every write is atomic and durable.

    A main file that does not parse is reported as StoreCorrupt and left
    exactly as it is: silently starting empty would throw away the box's
    whole configuration.
    """

    def __init__(self, path: Path, read_only: bool = False, mode: int = 0o644):
        self.path = Path(path)
        self.read_only = read_only
        self.mode = mode
        if not read_only:
            remove_stale_temps(self.path)

    def read(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise StoreError(f"cannot read {self.path}: {e.strerror or e}") from e
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise StoreCorrupt(
                f"{self.path} does not parse ({e}); it was left untouched. "
                "Restore a backup or move the file aside."
            ) from e
        if not isinstance(data, dict):
            raise StoreCorrupt(
                f"{self.path} holds a JSON {type(data).__name__}, not an object; "
                "it was left untouched. Restore a backup or move the file aside."
            )
        return data

    def write(self, data: dict[str, Any]) -> None:
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only")
        atomic_write_bytes(self.path, encode_json(data), self.mode)

    def close(self) -> None:
        pass
