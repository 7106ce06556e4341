"""What the backup modules share: the layout of a data directory and of a
backup file, the box id, and small helpers."""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from appliance.errors import BackupError
from appliance.store.atomic import fsync_dir
from appliance.store.db import CONFIG_FILE

# One logger for all of appliance.backup.
log = logging.getLogger(__package__)


Clock = Callable[[], float]

FORMAT = "callbox-backup"
FORMAT_VERSION = 1
MANIFEST = "callbox-backup.json"
DATA_PREFIX = "data/"
SUFFIX = ".tar.gz"
BACKUPS_DIR = "backups"
BOX_ID_FILE = "state/box_id"
TOKEN_FILE = "state/api_token"
RESET_MARK = "state/factory-reset"
# Put in a staging directory's run/ (never backed up, never restored) so an
# interrupted swap can tell a half-built directory from the previous data.
STAGING_MARK = "run/staging"
# run/ belongs to the running core; backups/ would back up the backups.
TOP_LEVEL_SKIPPED = frozenset({"run", BACKUPS_DIR})
# Where phones are now cannot be known from a backup; phones re-register.
SKIPPED_FILES = frozenset({"state/registrations.json", RESET_MARK})
BULKY_AUDIO = ("voicemail", "recordings")
# What a factory reset leaves at the top of the data dir; state/ keeps
# only the box id (and a new token).
RESET_KEEPS = frozenset({"run", BACKUPS_DIR, "state", CONFIG_FILE})
AUTO_PREFIX = "callbox-auto-"
MANUAL_PREFIX = "callbox-backup-"
RESET_PREFIX = "callbox-before-reset-"
_STAMP = re.compile(r"(\d{8}T\d{6}Z)")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20
MAX_MANIFEST_BYTES = 16 << 20
# Left free on the target's file system while restoring, for the logs and
# for the core's first writes.
FREE_SPACE_MARGIN = 64 << 20
DAY_S = 86400.0



# --- small helpers -------------------------------------------------------------------


def _stamp(clock: Clock) -> str:
    return datetime.fromtimestamp(clock(), timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _iso(clock: Clock) -> str:
    return datetime.fromtimestamp(clock(), timezone.utc).isoformat(timespec="seconds")


def _unique(path: Path, suffix: str = "") -> Path:
    # Two restores, resets or backups in the same second must not collide.
    candidate, n = path.with_name(path.name + suffix), 2
    while candidate.exists():
        candidate, n = path.with_name(f"{path.name}-{n}{suffix}"), n + 1
    return candidate


def _unique_file(directory: Path, prefix: str, stamp: str) -> Path:
    return _unique(directory / f"{prefix}{stamp}", SUFFIX)


def _err(e: OSError) -> str:
    return e.strerror or str(e)


def default_backups_dir(data_dir: Path) -> Path:
    """Where backups go unless told otherwise: inside the data directory, the
    one place the box's services may write; never itself backed up."""
    return Path(data_dir) / BACKUPS_DIR


def box_id(data_dir: Path) -> str:
    """The box's random id, kept in state/box_id; made on first use."""
    path = Path(data_dir) / BOX_ID_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    except OSError as e:
        raise BackupError(f"cannot read {path}: {_err(e)}") from e
    new = secrets.token_hex(8)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".box_id.", suffix=".tmp")
        try:
            try:
                os.write(fd, f"{new}\n".encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            # link() fails if the file exists: the first of two racing
            # writers wins and both return the same id.
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
        fsync_dir(path.parent)
        return path.read_text().strip()
    except OSError as e:
        raise BackupError(f"cannot write {path}: {_err(e)}") from e

