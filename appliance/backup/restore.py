"""Restoring a backup: restore_backup extracts into a sibling directory,
checks it, and swaps it in with one rename; the core's lock keeps a running
core out meanwhile."""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from appliance.backup.archive import BackupInfo, _check, _scan
from appliance.backup.common import (
    BACKUPS_DIR,
    BOX_ID_FILE,
    BULKY_AUDIO,
    STAGING_MARK,
    Clock,
    _err,
    _stamp,
    _unique,
    log,
)
from appliance.errors import BackupError, CallboxError
from appliance.store.atomic import atomic_write_bytes, fsync_dir
from appliance.store.db import LOCK_FILE, SUBDIRS, LockBusy, Store, flock_now


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did."""

    data_dir: Path
    info: BackupInfo
    previous: Path | None  # where the data from before the restore was kept
    box_id: str  # the box id the restored data carries
    from_other_box: bool
    kept_current_audio: bool  # the backup had no audio, so the box's own was kept



# --- the core's lock -----------------------------------------------------------------


def _hold_core_lock(data_dir: Path, doing: str) -> int | None:
    """Take the core's lock so no core starts meanwhile; refuse if one runs.

    The same flock as appliance.store.db: the kernel drops it with the
    process, so only a live core can hold it. Returns None when no core ever
    ran here (no lock file), so nothing is created in the directory.
    """
    lock_path = data_dir / LOCK_FILE
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise BackupError(f"cannot open {lock_path}: {_err(e)}") from e
    try:
        flock_now(fd)
    except LockBusy as e:
        who = f" (pid {e.holder})" if e.holder else ""
        raise BackupError(
            f"{data_dir} is in use by a running core{who}: stop the core first "
            f"(systemctl stop callbox-core), then {doing} again. Nothing was changed."
        ) from e
    except OSError as e:
        raise BackupError(f"cannot lock {lock_path}: {_err(e)}") from e
    return fd


def _release(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)



# --- swapping directories ------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2); False if unsupported."""
    import ctypes  # here: the core imports this package at every start and restores rarely
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _swap_in(staging: Path, data_dir: Path, aside: Path) -> Path | None:
    """Make `staging` the data directory; returns where the old one went
    (`aside`, normally). Raises only while nothing has changed yet."""
    parent = data_dir.parent
    if not data_dir.exists():
        (staging / STAGING_MARK).unlink()
        os.rename(staging, data_dir)
        fsync_dir(parent)
        return None
    if _exchange(staging, data_dir):
        # From here the box runs on the restored data whatever happens; the
        # rest only tidies up, and the next restore finishes it if need be.
        try:
            fsync_dir(parent)
            (data_dir / STAGING_MARK).unlink()
            os.rename(staging, aside)
            fsync_dir(parent)
        except OSError as e:
            log.warning("restored; the previous data stays at %s (%s)", staging, _err(e))
            return staging
        return aside
    # Two renames: a power cut between them leaves no data directory, only
    # `aside`; docs/backup.md says how to finish by hand.
    (staging / STAGING_MARK).unlink()
    os.rename(data_dir, aside)
    try:
        os.rename(staging, data_dir)
    except OSError:
        os.rename(aside, data_dir)
        raise
    fsync_dir(parent)
    return aside


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, _files in os.walk(root):
        fsync_dir(Path(dirpath))


def _link_tree(src: Path, dst: Path) -> None:
    """Give `dst` the files of `src` as hard links (no copy, same file system)."""
    for dirpath, _dirs, files in os.walk(src):
        rel = Path(dirpath).relative_to(src)
        (dst / rel).mkdir(parents=True, exist_ok=True)
        for name in files:
            source = Path(dirpath) / name
            if source.is_symlink() or not source.is_file():
                continue
            try:
                os.link(source, dst / rel / name)
            except OSError as e:
                if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK):
                    raise
                shutil.copy2(source, dst / rel / name)


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    # A restore run as root must not leave files the core (its own user) cannot write.
    for dirpath, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            os.chown(Path(dirpath) / name, uid, gid, follow_symlinks=False)
    os.chown(root, uid, gid)


def _staging_dirs(data_dir: Path) -> list[Path]:
    return sorted(data_dir.parent.glob(f"{data_dir.name}.restoring-*"))


def _tidy_interrupted_restores(data_dir: Path, clock: Clock) -> None:
    """Finish what a power cut during an earlier restore left beside the data dir."""
    mark = data_dir / STAGING_MARK
    if mark.exists():
        mark.unlink()
    for staging in _staging_dirs(data_dir):
        if (staging / STAGING_MARK).exists():
            log.info("removing %s, an unfinished restore", staging)
            shutil.rmtree(staging)
        elif data_dir.exists():
            # Swapped but not yet renamed: it holds the data from before that restore.
            aside = _unique(data_dir.with_name(f"{data_dir.name}.before-restore-{_stamp(clock)}"))
            log.info("keeping %s as %s", staging, aside)
            os.rename(staging, aside)


# --- restoring -----------------------------------------------------------------------


def restore_backup(file: Path, data_dir: Path, *, clock: Clock = time.time) -> RestoreReport:
    """Replace `data_dir` with the contents of backup `file`, all or nothing.

    Refuses (BackupError, nothing changed) a file that is not a complete,
    intact Callbox backup of a schema this program knows, and a data
    directory a running core holds. The previous data is kept beside it as
    `<data_dir>.before-restore-<time>`. The box keeps its own box id; the
    backups/ directory stays with the box.
    """
    file = Path(file).resolve()
    data_dir = Path(data_dir).resolve()
    lock = _hold_core_lock(data_dir, "restore") if data_dir.exists() else None
    try:
        try:
            _tidy_interrupted_restores(data_dir, clock)
            data_dir.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=data_dir.parent, prefix=f"{data_dir.name}.restoring-"))
        except OSError as e:
            raise BackupError(f"cannot restore into {data_dir}: {_err(e)}") from e
        swapped = False
        try:
            (staging / "run").mkdir()
            (staging / STAGING_MARK).touch()
            info = _check(_scan(file, staging), file)
            report = _prepare(staging, data_dir, info)
            if data_dir.exists():
                st = data_dir.stat()
                os.chmod(staging, st.st_mode & 0o7777)
                if os.geteuid() == 0 and (st.st_uid, st.st_gid) != (0, 0):
                    _chown_tree(staging, st.st_uid, st.st_gid)
            else:
                os.chmod(staging, 0o750)
            _fsync_tree(staging)
            aside = _unique(data_dir.with_name(f"{data_dir.name}.before-restore-{_stamp(clock)}"))
            previous = _swap_in(staging, data_dir, aside)
            swapped = True
        except OSError as e:
            raise BackupError(f"cannot restore into {data_dir}: {_err(e)}; nothing was changed") from e
        except CallboxError as e:
            if isinstance(e, BackupError):
                raise
            raise BackupError(f"cannot restore into {data_dir}: {e}; nothing was changed") from e
        finally:
            if not swapped:
                shutil.rmtree(staging, ignore_errors=True)
    finally:
        _release(lock)
    log.info("restored %s into %s (previous data kept at %s)", file, data_dir, previous)
    return RestoreReport(data_dir=data_dir, info=info, previous=previous, box_id=report[0],
                         from_other_box=report[1], kept_current_audio=report[2])


def _prepare(staging: Path, data_dir: Path, info: BackupInfo) -> tuple[str, bool, bool]:
    """Make the extracted tree whole: the box's own id, backups and (if the
    backup has none) audio come along; then check that it opens."""
    for sub in SUBDIRS:
        (staging / sub).mkdir(exist_ok=True)
    own_id = None
    if data_dir.exists():
        try:
            own_id = (data_dir / BOX_ID_FILE).read_text().strip() or None
        except FileNotFoundError:
            pass
        if (data_dir / BACKUPS_DIR).is_dir():
            _link_tree(data_dir / BACKUPS_DIR, staging / BACKUPS_DIR)
    kept_audio = False
    if not info.include_audio and data_dir.exists():
        for sub in BULKY_AUDIO:
            if (data_dir / sub).is_dir():
                _link_tree(data_dir / sub, staging / sub)
                kept_audio = True
    target = staging / BOX_ID_FILE
    try:
        restored_id = target.read_text().strip()
    except FileNotFoundError:
        restored_id = ""
    ident = own_id or restored_id or info.box_id or secrets.token_hex(8)
    if ident != restored_id:
        atomic_write_bytes(target, f"{ident}\n".encode())
    try:
        Store(staging, read_only=True).close()
    except CallboxError as e:
        raise BackupError(f"the configuration in the backup does not open: {e}") from e
    return ident, bool(info.box_id) and info.box_id != ident, kept_audio

