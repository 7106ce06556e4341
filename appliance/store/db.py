"""The data directory: config.json in TinyDB, and the tree beside it.

Only the core writes the data directory. It proves that by holding an
exclusive lock on run/core.lock for as long as its Store is open; a second
writer is refused instead of silently interleaving whole-file rewrites.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import MemoryStorage
from tinydb.table import Table

from appliance.errors import StoreError
from appliance.store.atomic import AtomicJSONStorage
from appliance.store.migrations import (
    MIGRATIONS,
    Migration,
    apply_migrations,
    latest_version,
    version_of,
)
from appliance.store.records import CallRecords

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
LOCK_FILE = "run/core.lock"
SUBDIRS = ("cdr", "voicemail", "recordings", "prompts", "run", "state")
# config.json holds SIP secrets, trunk and SMTP passwords and the web users' password
# hashes; state/ and run/ hold the API token, phones' provisioning passwords and
# uploaded backups. None of it is for other accounts on the box.
SECRET_MODE = 0o600
PRIVATE_DIRS = ("run", "state")


def make_private(data_dir: Path) -> None:
    """Take other accounts' access away from the data directory and its secrets.

    Also repairs a box whose files were written before this rule (or restored
    from a backup that kept their old modes): config.json becomes 0600, run/
    and state/ 0700, and the data directory loses its permissions for others.
    """
    wanted = [(data_dir, os.stat(data_dir).st_mode & 0o770)]
    wanted += [(data_dir / sub, 0o700) for sub in PRIVATE_DIRS]
    if (data_dir / CONFIG_FILE).exists():
        wanted.append((data_dir / CONFIG_FILE, SECRET_MODE))
    for path, mode in wanted:
        try:
            os.chmod(path, mode)
        except PermissionError as e:  # not ours to change (another owner): say so, still start
            log.warning("cannot make %s private (mode %o): %s", path, mode, e.strerror or e)


class _SnapshotStorage(MemoryStorage):
    """A read-only view migrated in memory; the file on disk stays as it is."""

    def __init__(self, data: dict[str, Any], source: Path):
        super().__init__()
        self.memory = data
        self.source = source
        self.frozen = False

    def write(self, data: dict[str, Any]) -> None:
        if self.frozen:
            raise StoreError(f"{self.source} is open read-only")
        super().write(data)


class LockBusy(Exception):
    """Another live process holds the core lock; `holder` is its pid text."""

    def __init__(self, holder: str) -> None:
        super().__init__(holder)
        self.holder = holder


def flock_now(fd: int) -> None:
    """Lock `fd` exclusively without waiting; on failure close it.

    Raises LockBusy (with the holder's pid as written in the file) when
    another process holds the lock, the OSError itself on any other failure.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        busy = e.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
        holder = ""
        if busy:
            try:
                holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            except OSError:
                pass
        os.close(fd)
        if busy:
            raise LockBusy(holder) from e
        raise


def _take_lock(lock_path: Path, data_dir: Path) -> int:
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise StoreError(f"cannot open {lock_path}: {e.strerror or e}") from e
    try:
        flock_now(fd)
    except LockBusy as e:
        who = f" (pid {e.holder})" if e.holder else ""
        raise StoreError(
            f"{data_dir} is in use by another process{who}: only one core may "
            f"write it (lock {lock_path}). Stop the other core, or open read-only."
        ) from e
    except OSError as e:
        raise StoreError(f"cannot lock {lock_path}: {e.strerror or e}") from e
    # The pid is only a hint for the message above; the lock is the flock.
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


class Store:
    """The box's configuration database and data directory.

    `Store(data_dir)` is the single writer: it creates the directory tree,
    takes the core lock and applies pending migrations. `Store(data_dir,
    read_only=True)` takes no lock and never writes; if the file still needs
    migrating, it is migrated in memory only.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        read_only: bool = False,
        migrations: Sequence[Migration] = MIGRATIONS,
    ):
        self.data_dir = Path(data_dir)
        self.read_only = read_only
        self.config_path = self.data_dir / CONFIG_FILE
        self._lock_fd: int | None = None
        self._call_records: CallRecords | None = None
        if read_only:
            if not self.config_path.is_file():
                raise StoreError(f"no configuration at {self.config_path}")
            self.db = self._open_read_only(migrations)
            return
        try:
            for sub in SUBDIRS:
                (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
            make_private(self.data_dir)
        except OSError as e:
            raise StoreError(f"cannot create {self.data_dir}: {e.strerror or e}") from e
        self._lock_fd = _take_lock(self.data_dir / LOCK_FILE, self.data_dir)
        try:
            self.db = TinyDB(self.config_path, storage=AtomicJSONStorage, mode=SECRET_MODE)
            version = apply_migrations(self.db.storage, migrations, source=str(self.config_path))
        except BaseException:
            self._release_lock()
            raise
        log.info("opened %s for writing (schema version %d)", self.data_dir, version)

    def _open_read_only(self, migrations: Sequence[Migration]) -> TinyDB:
        db = TinyDB(self.config_path, storage=AtomicJSONStorage, read_only=True)
        data = db.storage.read() or {}
        if version_of(data, str(self.config_path)) == latest_version(migrations):
            return db
        db.close()
        snapshot = TinyDB(storage=_SnapshotStorage, data=data, source=self.config_path)
        apply_migrations(snapshot.storage, migrations, source=str(self.config_path))
        snapshot.storage.frozen = True
        return snapshot

    def table(self, name: str) -> Table:
        """A TinyDB table; every write to it is atomic and durable on return."""
        return self.db.table(name)

    @property
    def schema_version(self) -> int:
        """The schema version of the open data."""
        return version_of(self.db.storage.read(), str(self.config_path))

    @property
    def call_records(self) -> CallRecords:
        """The call records in cdr/, sharded by month."""
        if self._call_records is None:
            self._call_records = CallRecords(self.data_dir, read_only=self.read_only)
        return self._call_records

    def close(self) -> None:
        """Close the database and let another writer in."""
        if self._call_records is not None:
            self._call_records.close()
            self._call_records = None
        self.db.close()
        self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            # Closing the descriptor drops the flock.
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
