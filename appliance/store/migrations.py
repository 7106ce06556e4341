"""Numbered schema migrations for config.json.

Each migration runs on an in-memory copy of the data; the result and its new
schema version then reach the file in one atomic write. A crash therefore
leaves the file at the previous version or the next, never half-way, and the
next start simply carries on from there.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from typing import Any

from tinydb import TinyDB
from tinydb.storages import MemoryStorage, Storage

from appliance.errors import MigrationError

log = logging.getLogger(__name__)

META_TABLE = "meta"
VERSION_KEY = "schema_version"

Migration = tuple[int, str, Callable[[TinyDB], None]]


def _ensure_tables(db: TinyDB, names: Sequence[str]) -> None:
    # TinyDB only writes a table once it holds a document; the schema wants
    # the tables to exist from the start so a backup shows the full shape.
    data = db.storage.read() or {}
    for name in names:
        data.setdefault(name, {})
    db.storage.write(data)


def _initial_tables(db: TinyDB) -> None:
    _ensure_tables(db, ["meta", "settings", "extensions", "users", "audit"])


MIGRATIONS: list[Migration] = [
    (1, "initial tables", _initial_tables),
]


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """The schema version this program writes."""
    return migrations[-1][0] if migrations else 0


def version_of(data: dict[str, Any] | None, source: str = "the data") -> int:
    """The schema version recorded in raw TinyDB data; 0 before any migration."""
    if not data:
        return 0
    docs = data.get(META_TABLE) or {}
    if not isinstance(docs, dict):
        raise MigrationError(f"{source}: table {META_TABLE!r} is not a table")
    versions = [
        doc.get(VERSION_KEY) for doc in docs.values() if isinstance(doc, dict) and VERSION_KEY in doc
    ]
    if not versions:
        return 0
    version = versions[0]
    if len(versions) > 1 or not isinstance(version, int) or isinstance(version, bool) or version < 0:
        raise MigrationError(f"{source}: unreadable schema version {versions!r}")
    return version


def _set_version(data: dict[str, Any], version: int) -> None:
    data[META_TABLE] = {"1": {VERSION_KEY: version}}


def _check_numbering(migrations: Sequence[Migration]) -> None:
    numbers = [number for number, _, _ in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise MigrationError(f"migrations must be numbered 1, 2, 3, ... in order; got {numbers}")


def apply_migrations(
    storage: Storage, migrations: Sequence[Migration] = MIGRATIONS, source: str = "the data"
) -> int:
    """Bring `storage` to the latest schema version, one atomic write per step.

    Returns the version reached. Raises MigrationError when the data is newer
    than this program or a migration fails (the data stays at the version
    before the failed step).
    """
    _check_numbering(migrations)
    data = storage.read() or {}
    current = version_of(data, source)
    latest = latest_version(migrations)
    if current > latest:
        raise MigrationError(
            f"{source} has schema version {current}, newer than this program "
            f"understands ({latest}); install a newer Callbox or restore a backup"
        )
    for number, name, migrate in migrations:
        if number <= current:
            continue
        scratch = TinyDB(storage=MemoryStorage)
        scratch.storage.write(copy.deepcopy(data))
        try:
            migrate(scratch)
        except Exception as e:
            raise MigrationError(
                f"{source}: migration {number} ({name}) failed: {e}; "
                f"the data stays at schema version {current}"
            ) from e
        stepped = scratch.storage.read() or {}
        _set_version(stepped, number)
        storage.write(stepped)
        data, current = stepped, number
        log.info("%s: schema version %d -> %d (%s)", source, number - 1, number, name)
    return current


def fresh_database() -> dict:
    """The contents of a new config.json at the latest schema (for a factory reset)."""
    from tinydb import TinyDB
    from tinydb.storages import MemoryStorage
    db = TinyDB(storage=MemoryStorage)
    apply_migrations(db.storage)
    return db.storage.read() or {}
