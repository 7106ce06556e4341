"""Backup files: the manifest, writing a backup (create_backup), and reading
and checking every member of one (verify_backup, and the scan a restore
extracts with).

tarfile and gzip are imported by the functions that use them: the core imports this package at every
start (finish_interrupted_reset) but makes a backup rarely, and tarfile brings in lzma and bz2 (some
2.5 MB resident)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tarfile

from appliance import __version__
from appliance.backup.common import (
    BULKY_AUDIO,
    CHUNK,
    DATA_PREFIX,
    FORMAT,
    FORMAT_VERSION,
    FREE_SPACE_MARGIN,
    MANIFEST,
    MAX_MANIFEST_BYTES,
    SKIPPED_FILES,
    TOP_LEVEL_SKIPPED,
    _SHA256,
    Clock,
    _err,
    _iso,
    box_id,
    log,
)
from appliance.errors import BackupError, MigrationError
from appliance.atomicfile import atomic_output
from appliance.store.db import CONFIG_FILE
from appliance.store.migrations import latest_version, version_of


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
    import tarfile
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
    import tarfile
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
        with atomic_output(dest, 0o600) as raw:
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
    except OSError as e:
        raise BackupError(f"cannot write {dest}: {_err(e)}") from e
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
    import gzip
    import tarfile
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
    import tarfile
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

