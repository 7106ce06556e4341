"""Backups of the data directory, restore, and factory reset.

A backup is one tar.gz file: the data files under `data/`, and last a
manifest (`callbox-backup.json`) with the sha256 and size of every file. A
restore trusts nothing in the file until all of it has been read and checked:
it extracts into a sibling directory, verifies, and only then swaps that
directory in with one rename, so a bad file (or a power cut) leaves the box
as it was. The manifest comes last because the files are hashed while they
are written, in one pass, while the core may be running.

The backup runs beside a running core without its lock: config.json is only
ever replaced whole (one read gives one consistent version), and call-record
shards only grow (copying up to the last complete line at the start gives a
consistent prefix).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import gzip
import hashlib
import io
import json
import logging
import os
import re
import secrets
import shutil
import sys
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, TextIO

from tinydb import TinyDB
from tinydb.storages import MemoryStorage

from appliance import __version__
from appliance.errors import BackupError, CallboxError, MigrationError, ValidationError
from appliance.store.atomic import atomic_write_bytes, encode_json, fsync_dir
from appliance.store.db import CONFIG_FILE, LOCK_FILE, SUBDIRS, Store
from appliance.store.migrations import apply_migrations, latest_version, version_of

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class BackupFile:
    """One data file in a backup, by its path inside the data directory."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class BackupInfo:
    """What a backup file holds, read from its manifest (and verified)."""

    file: Path
    format_version: int
    callbox_version: str
    created: str
    box_id: str
    schema_version: int
    include_audio: bool
    files: tuple[BackupFile, ...] = field(default_factory=tuple)

    @property
    def size_bytes(self) -> int:
        """The data size once restored (the file itself is compressed)."""
        return sum(f.size for f in self.files)

    def summary(self) -> str:
        audio = "with" if self.include_audio else "without"
        return (f"{self.file}: Callbox backup of box {self.box_id}, made {self.created} by "
                f"Callbox {self.callbox_version}, schema {self.schema_version}, "
                f"{len(self.files)} files ({self.size_bytes} bytes) {audio} voicemail and recordings")


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did."""

    data_dir: Path
    info: BackupInfo
    previous: Path | None  # where the data from before the restore was kept
    box_id: str  # the box id the restored data carries
    from_other_box: bool
    kept_current_audio: bool  # the backup had no audio, so the box's own was kept


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
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        holder = ""
        try:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        except OSError:
            pass
        os.close(fd)
        if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            who = f" (pid {holder})" if holder else ""
            raise BackupError(
                f"{data_dir} is in use by a running core{who}: stop the core first "
                f"(systemctl stop callbox-core), then {doing} again. Nothing was changed."
            ) from e
        raise BackupError(f"cannot lock {lock_path}: {_err(e)}") from e
    return fd


def _release(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)


# --- creating ------------------------------------------------------------------------


def _schema_of(config: bytes, source: str) -> int:
    try:
        data = json.loads(config.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BackupError(f"{source} does not parse ({e})") from e
    if not isinstance(data, dict):
        raise BackupError(f"{source} is not a Callbox configuration")
    try:
        return version_of(data, source)
    except MigrationError as e:
        raise BackupError(str(e)) from e


def _is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def _sources(data_dir: Path, include_audio: bool) -> Iterator[tuple[str, Path]]:
    """The files to back up, as (path inside the data dir, path), sorted."""
    for root, dirs, files in os.walk(data_dir):
        rel_root = Path(root).relative_to(data_dir)
        if rel_root == Path("."):
            skipped = set(TOP_LEVEL_SKIPPED)
            if not include_audio:
                skipped.update(BULKY_AUDIO)
            # Hidden top-level entries are leftovers of interrupted work.
            dirs[:] = [d for d in dirs if d not in skipped and not d.startswith(".")]
        dirs.sort()
        for name in sorted(files):
            rel = (rel_root / name).as_posix()
            if _is_temp(name) or rel in SKIPPED_FILES or rel == CONFIG_FILE:
                continue
            path = Path(root) / name
            if not path.is_file() or path.is_symlink():
                log.warning("backup: skipping %s, not a regular file", path)
                continue
            yield rel, path


class _HashingReader:
    """Reads exactly `size` bytes of a file, hashing them on the way into the tar."""

    def __init__(self, f: IO[bytes], size: int, name: str):
        self.f = f
        self.left = size
        self.name = name
        self.sha = hashlib.sha256()

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        if len(data) < n:
            raise BackupError(f"{self.name} shrank while it was being backed up; try again")
        self.left -= len(data)
        self.sha.update(data)
        return data


def _complete_lines(f: IO[bytes], size: int) -> int:
    # An append may be under way: keep only whole lines, as readers do.
    pos = size
    while pos > 0:
        start = max(0, pos - 65536)
        f.seek(start)
        newline = f.read(pos - start).rfind(b"\n")
        if newline >= 0:
            f.seek(0)
            return start + newline + 1
        pos = start
    f.seek(0)
    return 0


def _tarinfo(name: str, size: int, mode: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    # Owners are the target box's business; modes are only ever these two.
    info.mode = 0o600 if mode & 0o077 == 0 else 0o644
    info.mtime = int(mtime)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mode: int, mtime: float) -> str:
    tar.addfile(_tarinfo(name, len(data), mode, mtime), io.BytesIO(data))
    return hashlib.sha256(data).hexdigest()


def _add_file(tar: tarfile.TarFile, rel: str, path: Path) -> BackupFile | None:
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return None  # removed since the listing (a deleted voicemail)
    with f:
        st = os.fstat(f.fileno())
        size = st.st_size
        if rel.endswith(".jsonl"):
            size = _complete_lines(f, size)
        reader = _HashingReader(f, size, str(path))
        tar.addfile(_tarinfo(DATA_PREFIX + rel, size, st.st_mode, st.st_mtime), reader)
    return BackupFile(rel, size, reader.sha.hexdigest())


def create_backup(
    data_dir: Path, dest_file: Path, *, include_audio: bool = True, clock: Clock = time.time
) -> BackupInfo:
    """Write one verified backup file of `data_dir` to `dest_file`, atomically.

    Safe while the core runs. With include_audio=False, voicemail and
    recordings are left out (prompts are configuration and always kept).
    The file is mode 0600: it holds password hashes, SIP secrets and the API token.
    """
    data_dir = Path(data_dir)
    dest = Path(dest_file)
    config_path = data_dir / CONFIG_FILE
    try:
        config = config_path.read_bytes()
        config_mtime = config_path.stat().st_mtime
    except FileNotFoundError as e:
        raise BackupError(f"no Callbox data in {data_dir} (no {CONFIG_FILE})") from e
    except OSError as e:
        raise BackupError(f"cannot read {config_path}: {_err(e)}") from e
    schema = _schema_of(config, str(config_path))
    ident = box_id(data_dir)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    except OSError as e:
        raise BackupError(f"cannot write {dest}: {_err(e)}") from e
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6,
                              format=tarfile.PAX_FORMAT) as tar:
                files = [BackupFile(CONFIG_FILE, len(config), _add_bytes(
                    tar, DATA_PREFIX + CONFIG_FILE, config, 0o644, config_mtime))]
                for rel, path in _sources(data_dir, include_audio):
                    added = _add_file(tar, rel, path)
                    if added is not None:
                        files.append(added)
                created = clock()
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "callbox_version": __version__,
                    "created": _iso(lambda: created),
                    "box_id": ident,
                    "schema_version": schema,
                    "include_audio": include_audio,
                    "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in files],
                }
                _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=1).encode(), 0o644, created)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp_name, dest)
        fsync_dir(dest.parent)
    except BaseException as e:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise BackupError(f"cannot write {dest}: {_err(e)}") from e
        raise
    info = _info_from(manifest, dest)
    log.info("backup of %s written to %s (%d files)", data_dir, dest, len(files))
    return info


# --- reading and verifying -----------------------------------------------------------


def _safe_name(name: str) -> str:
    """The member's path inside the data dir, or BackupError if it could escape."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        raise BackupError(f"refusing member {name!r}: not a plain relative path")
    # Split by hand: PurePosixPath would fold "data//x" into "data/x", and
    # the "/x" left after the prefix would then join as an absolute path.
    parts = name.split("/")
    if any(p in ("..", ".", "") for p in parts):
        raise BackupError(f"refusing member {name!r}: its path leaves the archive")
    if name == MANIFEST:
        return name
    if not name.startswith(DATA_PREFIX) or len(parts) < 2:
        raise BackupError(f"refusing member {name!r}: not part of a Callbox backup")
    rel = name[len(DATA_PREFIX):]
    if rel.split("/")[0] in TOP_LEVEL_SKIPPED:
        raise BackupError(f"refusing member {name!r}: {rel.split('/')[0]}/ is never restored")
    return rel


@dataclass
class _Scan:
    manifest: Any = None
    seen: dict[str, tuple[int, str]] = field(default_factory=dict)
    config: bytes | None = None


def _write_member(src: IO[bytes], target: Path, member: tarfile.TarInfo, sha: Any) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o600 if member.mode & 0o077 == 0 else 0o644
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
    with os.fdopen(fd, "wb") as out:
        while chunk := src.read(CHUNK):
            sha.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    os.utime(target, (member.mtime, member.mtime))


def _scan(file: Path, staging: Path | None) -> _Scan:
    """Read the whole archive once, hashing every file (extracting if staging)."""
    scan = _Scan()
    try:
        raw = open(file, "rb")
    except OSError as e:
        raise BackupError(f"cannot read {file}: {_err(e)}") from e
    try:
        with raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            # Stream mode: one forward pass, no seeking, members in file order.
            with tarfile.open(fileobj=gz, mode="r|") as tar:
                for member in tar:
                    _scan_member(tar, member, scan, staging)
            # Read to the very end so the gzip trailer (CRC, length) is checked
            # and a cut-off file is noticed even after the last member.
            while gz.read(CHUNK):
                pass
    except BackupError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as e:
        if isinstance(e, OSError) and not isinstance(e, gzip.BadGzipFile) and e.errno is not None:
            raise BackupError(f"cannot read {file}: {_err(e)}") from e
        raise BackupError(f"{file} is not a readable Callbox backup (not a tar.gz, truncated "
                          f"or corrupt: {e or type(e).__name__})") from e
    return scan


def _scan_member(tar: tarfile.TarFile, member: tarfile.TarInfo, scan: _Scan, staging: Path | None) -> None:
    rel = _safe_name(member.name)
    if not (member.isreg() and member.type in (tarfile.REGTYPE, tarfile.AREGTYPE)):
        kind = ("a symlink" if member.issym() else "a hard link" if member.islnk()
                else "a device" if member.isdev() else "a directory" if member.isdir() else "not a file")
        raise BackupError(f"refusing member {member.name!r}: {kind}")
    if rel in scan.seen or (rel == MANIFEST and scan.manifest is not None):
        raise BackupError(f"refusing member {member.name!r}: it appears twice")
    src = tar.extractfile(member)
    if rel == MANIFEST:
        if member.size > MAX_MANIFEST_BYTES:
            raise BackupError(f"{MANIFEST} is too big to be a Callbox manifest")
        try:
            scan.manifest = json.loads(src.read().decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise BackupError(f"not a Callbox backup: {MANIFEST} does not parse ({e})") from e
        return
    if scan.manifest is not None:
        raise BackupError(f"refusing member {member.name!r}: it comes after the manifest")
    sha = hashlib.sha256()
    if staging is None:
        keep = rel == CONFIG_FILE and member.size <= MAX_MANIFEST_BYTES * 8
        parts = []
        while chunk := src.read(CHUNK):
            sha.update(chunk)
            if keep:
                parts.append(chunk)
        if keep:
            scan.config = b"".join(parts)
    else:
        free = shutil.disk_usage(staging).free
        if member.size + FREE_SPACE_MARGIN > free:
            raise BackupError(f"not enough free space to restore {rel} ({member.size} bytes, "
                              f"{free} free); nothing was changed")
        try:
            _write_member(src, staging / rel, member, sha)
        except OSError as e:
            raise BackupError(f"cannot write {staging / rel}: {_err(e)}; nothing was changed") from e
        if rel == CONFIG_FILE:
            scan.config = (staging / rel).read_bytes()
    scan.seen[rel] = (member.size, sha.hexdigest())


def _info_from(manifest: Any, file: Path) -> BackupInfo:
    """The manifest as BackupInfo; BackupError if it is foreign or malformed."""
    if manifest is None:
        raise BackupError(f"{file} is not a Callbox backup: it has no {MANIFEST} "
                          "(or was cut off before it)")
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{file} is not a Callbox backup: {MANIFEST} is of another format")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BackupError(f"{file}: unreadable backup format version {version!r}")
    if version > FORMAT_VERSION:
        raise BackupError(f"{file} was made by a newer Callbox (backup format {version}; this "
                          f"program reads up to {FORMAT_VERSION}): install a newer Callbox")
    schema = manifest.get("schema_version")
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 0:
        raise BackupError(f"{file}: unreadable schema version {schema!r}")
    if schema > latest_version():
        raise BackupError(
            f"{file} has schema version {schema}, newer than this program understands "
            f"({latest_version()}): install a newer Callbox to restore it. Nothing was changed.")
    files = manifest.get("files")
    if not isinstance(files, list):
        raise BackupError(f"{file}: the manifest lists no files")
    entries = []
    for item in files:
        ok = (isinstance(item, dict) and isinstance(item.get("path"), str)
              and isinstance(item.get("size"), int) and item["size"] >= 0
              and isinstance(item.get("sha256"), str) and _SHA256.match(item["sha256"]))
        if not ok:
            raise BackupError(f"{file}: malformed manifest entry {item!r}")
        _safe_name(DATA_PREFIX + item["path"])
        entries.append(BackupFile(item["path"], item["size"], item["sha256"]))
    return BackupInfo(
        file=file, format_version=version, callbox_version=str(manifest.get("callbox_version", "")),
        created=str(manifest.get("created", "")), box_id=str(manifest.get("box_id", "")),
        schema_version=schema, include_audio=bool(manifest.get("include_audio", True)),
        files=tuple(entries))


def _check(scan: _Scan, file: Path) -> BackupInfo:
    info = _info_from(scan.manifest, file)
    listed = {f.path: f for f in info.files}
    if len(listed) != len(info.files):
        raise BackupError(f"{file}: the manifest lists a file twice")
    missing = sorted(set(listed) - set(scan.seen))
    if missing:
        raise BackupError(f"{file} is incomplete: {', '.join(missing[:5])} missing")
    extra = sorted(set(scan.seen) - set(listed))
    if extra:
        raise BackupError(f"{file}: {', '.join(extra[:5])} not in the manifest; refusing")
    for path, f in listed.items():
        if scan.seen[path] != (f.size, f.sha256):
            raise BackupError(f"{file} is corrupt: checksum mismatch for {path}. Nothing was changed.")
    if CONFIG_FILE not in listed or scan.config is None:
        raise BackupError(f"{file} holds no {CONFIG_FILE}")
    actual = _schema_of(scan.config, f"{file}:{CONFIG_FILE}")
    if actual != info.schema_version:
        raise BackupError(f"{file}: {CONFIG_FILE} has schema version {actual}, the manifest "
                          f"says {info.schema_version}")
    return info


def verify_backup(file: Path) -> BackupInfo:
    """Read all of `file` and check it; BackupError says what is wrong. Writes nothing."""
    file = Path(file)
    return _check(_scan(file, None), file)


# --- swapping directories ------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one atomic step (Linux renameat2); False if unsupported."""
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


# --- factory reset -------------------------------------------------------------------


def _fresh_config(clock: Clock, backup: Path) -> bytes:
    db = TinyDB(storage=MemoryStorage)
    apply_migrations(db.storage)
    data = db.storage.read() or {}
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
    atomic_write_bytes(data_dir / CONFIG_FILE, _fresh_config(clock, backup))
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
