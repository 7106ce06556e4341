"""The command-line entry points (wired by appliance/cli.py): each prints
what it did, or `callbox: <reason>` on stderr, and returns the exit status."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from appliance.backup.archive import create_backup, verify_backup
from appliance.backup.common import MANUAL_PREFIX, Clock, _stamp, _unique_file, default_backups_dir
from appliance.backup.reset import factory_reset
from appliance.backup.restore import restore_backup
from appliance.backup.rotation import cleanup, daily_backup
from appliance.errors import CallboxError


# --- command-line entry points (wired by appliance/cli.py) ---------------------------


def _run(action: Callable[[], str], err: TextIO) -> int:
    try:
        message = action()
    except CallboxError as e:
        print(f"callbox: {e}", file=err)
        return 1
    print(message)
    return 0


def backup_command(data_dir: Path, dest: Path | None = None, *, include_audio: bool = True,
                   auto: bool = False, keep_backups: int = 7, clock: Clock = time.time,
                   err: TextIO = sys.stderr) -> int:
    """`callbox backup [FILE|DIR] [--no-audio] [--auto]`; exit status."""
    def act() -> str:
        if auto:
            info = daily_backup(data_dir, dest, clock=clock, keep_backups=keep_backups,
                                include_audio=include_audio)
            return info.summary() if info else "a backup from the last day exists; nothing to do"
        target = Path(dest) if dest is not None else default_backups_dir(data_dir)
        if target.is_dir() or dest is None:
            target = _unique_file(target, MANUAL_PREFIX, _stamp(clock))
        return create_backup(data_dir, target, include_audio=include_audio, clock=clock).summary()
    return _run(act, err)


def verify_command(file: Path, *, err: TextIO = sys.stderr) -> int:
    """`callbox backup --verify FILE`; exit status."""
    return _run(lambda: "OK " + verify_backup(file).summary(), err)


def restore_command(file: Path, data_dir: Path, *, clock: Clock = time.time,
                    err: TextIO = sys.stderr) -> int:
    """`callbox restore FILE`; exit status."""
    def act() -> str:
        r = restore_backup(file, data_dir, clock=clock)
        lines = [f"restored {r.info.summary()}", f"into {r.data_dir}"]
        if r.previous:
            lines.append(f"the data from before is kept at {r.previous}")
        if r.from_other_box:
            lines.append(f"the backup came from box {r.info.box_id}; this box stays {r.box_id}")
        if r.kept_current_audio:
            lines.append("the backup had no voicemail or recordings; the box's own were kept")
        return "\n".join(lines)
    return _run(act, err)


def factory_reset_command(data_dir: Path, backups_dir: Path | None = None, *,
                          clock: Clock = time.time, err: TextIO = sys.stderr) -> int:
    """`callbox factory-reset` (the caller asks for confirmation first); exit status."""
    def act() -> str:
        kept = factory_reset(data_dir, backups_dir, clock=clock)
        return (f"the box is back to first run; the previous data is in {kept}\n"
                "open the web page to create the first admin")
    return _run(act, err)


def cleanup_command(data_dir: Path, *, keep_backups: int = 7, backups_dir: Path | None = None,
                    err: TextIO = sys.stderr) -> int:
    """`callbox cleanup`; exit status."""
    def act() -> str:
        removed = cleanup(data_dir, keep_backups=keep_backups, backups_dir=backups_dir)
        return f"removed {len(removed)} old backup(s)"
    return _run(act, err)

