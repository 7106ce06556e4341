"""Automatic backups: one a day (daily_backup, backup_due), and removing
the old ones (cleanup)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

from appliance.backup.archive import BackupInfo, _is_temp, create_backup
from appliance.backup.common import (
    _STAMP,
    AUTO_PREFIX,
    DAY_S,
    SUFFIX,
    Clock,
    _err,
    _stamp,
    _unique_file,
    default_backups_dir,
    log,
)
from appliance.errors import BackupError, ValidationError
from appliance.store.atomic import fsync_dir


# --- automatic backups and rotation --------------------------------------------------


def _auto_backups(backups_dir: Path) -> list[Path]:
    try:
        names = os.listdir(backups_dir)
    except FileNotFoundError:
        return []
    except OSError as e:
        raise BackupError(f"cannot list {backups_dir}: {_err(e)}") from e
    found = [backups_dir / n for n in names
             if n.startswith(AUTO_PREFIX) and n.endswith(SUFFIX) and _STAMP.search(n)]
    # The UTC stamp in the name sorts by time, whatever the files' mtimes say.
    return sorted(found, key=lambda p: (_STAMP.search(p.name).group(1), p.name))


def backup_due(backups_dir: Path, now: float) -> bool:
    """True when the newest automatic backup is a day old or more (or there is none)."""
    autos = _auto_backups(Path(backups_dir))
    if not autos:
        return True
    newest = datetime.strptime(_STAMP.search(autos[-1].name).group(1), "%Y%m%dT%H%M%SZ")
    age = now - newest.replace(tzinfo=timezone.utc).timestamp()
    # A little slack: the timer's random delay must not skip a day.
    return age >= DAY_S - 3600 or age < 0


def cleanup(data_dir: Path, *, keep_backups: int, backups_dir: Path | None = None) -> list[Path]:
    """Keep the `keep_backups` newest automatic backups; returns what was removed.

    Backups made by hand or before a factory reset are never removed here.
    """
    if keep_backups < 1:
        raise ValidationError("keep_backups must be at least 1")
    backups_dir = Path(backups_dir) if backups_dir is not None else default_backups_dir(data_dir)
    removed: list[Path] = []
    try:
        for old in _auto_backups(backups_dir)[:-keep_backups]:
            old.unlink()
            removed.append(old)
        # Only the daily job writes these, and it runs one at a time.
        for name in os.listdir(backups_dir) if backups_dir.is_dir() else []:
            if name.startswith(f".{AUTO_PREFIX}") and _is_temp(name):
                (backups_dir / name).unlink()
                removed.append(backups_dir / name)
        if removed:
            fsync_dir(backups_dir)
    except OSError as e:
        raise BackupError(f"cannot clean up {backups_dir}: {_err(e)}") from e
    for path in removed:
        log.info("removed old backup %s", path)
    return removed


def daily_backup(
    data_dir: Path,
    backups_dir: Path | None = None,
    *,
    clock: Clock = time.time,
    keep_backups: int = 7,
    include_audio: bool = False,
    force: bool = False,
) -> BackupInfo | None:
    """The automatic backup: one a day, the `keep_backups` newest kept.

    Without audio by default: a copy on the same card guards against a bad
    change, not a dead card, and seven copies of every recording would fill it.
    """
    backups_dir = Path(backups_dir) if backups_dir is not None else default_backups_dir(data_dir)
    if not force and not backup_due(backups_dir, clock()):
        return None
    dest = _unique_file(backups_dir, AUTO_PREFIX, _stamp(clock))
    info = create_backup(data_dir, dest, include_audio=include_audio, clock=clock)
    cleanup(data_dir, keep_backups=keep_backups, backups_dir=backups_dir)
    return info

