"""Writes that are either wholly there or not there at all after a power cut.

The pattern every appliance on an SD card needs: write a temp file beside the
target, fsync it, rename it over the target, fsync the directory. A rename
within one directory is atomic on POSIX file systems, so a reader (or the next
boot) sees the old file or the new one, never a mixture. One implementation for
the store, backups and the line drivers; standard library only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator

from appliance.errors import StoreError

TEMP_SUFFIX = ".tmp"


def temp_prefix(path: Path) -> str:
    # Hidden and named after the target, so leftovers are recognisable and
    # only ever cleaned for the file they belong to.
    return f".{path.name}."


def fsync_dir(directory: Path) -> None:
    """Make a rename, creation or removal in `directory` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(path: Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """A file to write `path` through: it replaces `path` only when the block ends without an
    error (flushed, fsynced, renamed, directory fsynced); otherwise the old file stays."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=TEMP_SUFFIX)
    try:
        # Set the mode before any byte lands, so a secret (mode 0o600) is never
        # readable by others, not even for the life of the temp file.
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace `path` with `data` so that a crash leaves the old or the new file (StoreError if
    the disk refuses)."""
    path = Path(path)
    try:
        with atomic_output(path, mode) as f:
            f.write(data)
    except OSError as e:
        raise StoreError(f"cannot write {path}: {e.strerror or e}") from e
