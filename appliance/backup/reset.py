"""Factory reset: back the box up, then return it to first run; and finish
a reset a power cut interrupted."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from pathlib import Path

from appliance.backup.archive import create_backup
from appliance.backup.common import (
    BOX_ID_FILE,
    RESET_KEEPS,
    RESET_MARK,
    RESET_PREFIX,
    TOKEN_FILE,
    Clock,
    _err,
    _iso,
    _stamp,
    _unique,
    _unique_file,
    box_id,
    default_backups_dir,
    log,
)
from appliance.backup.restore import _hold_core_lock, _release
from appliance.errors import BackupError
from appliance.store.atomic import atomic_write_bytes, encode_json, fsync_dir
from appliance.store.db import CONFIG_FILE, SUBDIRS
from appliance.store.migrations import fresh_database


# --- factory reset -------------------------------------------------------------------


def _fresh_config(clock: Clock, backup: Path) -> bytes:
    data = fresh_database()
    data["audit"] = {"1": {"time": clock(), "actor": "system", "action": "factory reset",
                           "detail": f"the previous data was backed up to {backup}"}}
    return encode_json(data)


def _finish_reset(data_dir: Path, clock: Clock) -> None:
    """Carry out the reset recorded in state/factory-reset; safe to repeat."""
    mark = data_dir / RESET_MARK
    try:
        backup = Path(json.loads(mark.read_text())["backup"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BackupError(f"cannot read {mark}: {e}") from e
    # config.json goes first: once the users are gone the box is in first-run,
    # whatever a power cut leaves of the rest (the next start finishes it).
    atomic_write_bytes(data_dir / CONFIG_FILE, _fresh_config(clock, backup), mode=0o600)
    atomic_write_bytes(data_dir / TOKEN_FILE, secrets.token_urlsafe(32).encode(), mode=0o600)
    trash = data_dir / ".reset-trash"
    trash.mkdir(exist_ok=True)
    keeps = set(RESET_KEEPS) | {trash.name}
    if backup.is_relative_to(data_dir):
        keeps.add(backup.relative_to(data_dir).parts[0])
    # Renames first (quick, each atomic), the slow deletion after.
    for entry in data_dir.iterdir():
        if entry.name not in keeps:
            os.rename(entry, _unique(trash / entry.name))
    for sub in SUBDIRS:
        (data_dir / sub).mkdir(exist_ok=True)
    keep = {BOX_ID_FILE, TOKEN_FILE, RESET_MARK}
    for entry in (data_dir / "state").iterdir():
        if f"state/{entry.name}" not in keep:
            os.rename(entry, _unique(trash / f"state-{entry.name}"))
    fsync_dir(data_dir)
    fsync_dir(data_dir / "state")
    shutil.rmtree(trash)
    mark.unlink()
    fsync_dir(data_dir / "state")


def factory_reset(
    data_dir: Path,
    backups_dir: Path | None = None,
    *,
    clock: Clock = time.time,
    core_holds_lock: bool = False,
) -> Path:
    """Back the box up, then return it to first run; returns the backup's path.

    Removes users (the web page asks for a new admin), extensions, settings,
    the audit log, call records and all audio; keeps state/box_id and the
    backups; makes a new API token. Refused while a core holds the lock,
    unless the core itself calls with core_holds_lock=True and restarts
    right after (it still holds the old settings and token in memory).
    """
    data_dir = Path(data_dir).resolve()
    backups_dir = Path(backups_dir).resolve() if backups_dir is not None else default_backups_dir(data_dir)
    if not (data_dir / CONFIG_FILE).is_file():
        raise BackupError(f"no Callbox data in {data_dir}; nothing to reset")
    lock = None if core_holds_lock else _hold_core_lock(data_dir, "reset")
    try:
        if (data_dir / RESET_MARK).exists():
            # An earlier reset was cut short after its backup: finish that one.
            kept = Path(json.loads((data_dir / RESET_MARK).read_text())["backup"])
        else:
            kept = _unique_file(backups_dir, RESET_PREFIX, _stamp(clock))
            create_backup(data_dir, kept, include_audio=True, clock=clock)
            box_id(data_dir)
            atomic_write_bytes(data_dir / RESET_MARK, json.dumps(
                {"backup": str(kept), "started": _iso(clock)}).encode())
        _finish_reset(data_dir, clock)
    except OSError as e:
        raise BackupError(f"factory reset of {data_dir} failed: {_err(e)}; run it again "
                          "to finish (the backup was kept)") from e
    finally:
        _release(lock)
    log.warning("factory reset of %s done; previous data backed up to %s", data_dir, kept)
    return kept


def finish_interrupted_reset(data_dir: Path, *, clock: Clock = time.time) -> bool:
    """Complete a factory reset a power cut interrupted; True if there was one.

    Call before opening the store at start-up (it takes the core lock itself).
    """
    data_dir = Path(data_dir)
    if not (data_dir / RESET_MARK).exists():
        return False
    lock = _hold_core_lock(data_dir, "start")
    try:
        _finish_reset(data_dir, clock)
    except OSError as e:
        raise BackupError(f"cannot finish the factory reset of {data_dir}: {_err(e)}") from e
    finally:
        _release(lock)
    log.warning("finished an interrupted factory reset of %s", data_dir)
    return True

