from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tinydb import TinyDB
from tinydb.operations import delete
from tinydb.storages import MemoryStorage

from appliance.errors import MigrationError
from appliance.store.atomic import AtomicJSONStorage
from appliance.store.db import Store
from appliance.store.migrations import MIGRATIONS, apply_migrations, latest_version, version_of

REPO = Path(__file__).resolve().parents[2]


def rename_extension_field(db: TinyDB) -> None:
    """A second migration, as a later release would add one."""
    table = db.table("extensions")
    for doc in table.all():
        table.update({"number": doc["ext"]}, doc_ids=[doc.doc_id])
        table.update(delete("ext"), doc_ids=[doc.doc_id])


WITH_RENAME = [*MIGRATIONS, (2, "extension number field", rename_extension_field)]


class CountingStorage(MemoryStorage):
    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, data):
        self.writes += 1
        super().write(data)


def test_fresh_data_gets_the_latest_version_and_the_initial_tables(storage):
    assert apply_migrations(storage) == latest_version()
    data = storage.read()
    assert version_of(data) == latest_version()
    assert {"meta", "settings", "extensions", "users", "audit"} <= set(data)


def test_applying_twice_changes_nothing(storage):
    apply_migrations(storage)
    first = storage.read()
    assert apply_migrations(storage) == latest_version()
    assert storage.read() == first


def test_an_old_version_is_migrated_and_keeps_its_data(storage):
    apply_migrations(storage)
    data = storage.read()
    data["extensions"] = {"1": {"ext": "201", "name": "Reception"}}
    storage.write(data)
    assert apply_migrations(storage, WITH_RENAME) == 2
    migrated = storage.read()
    assert version_of(migrated) == 2
    assert migrated["extensions"] == {"1": {"number": "201", "name": "Reception"}}


def test_data_from_before_any_migration_is_kept(storage):
    storage.write({"settings": {"1": {"key": "company", "value": "Acme"}}})
    apply_migrations(storage)
    assert storage.read()["settings"] == {"1": {"key": "company", "value": "Acme"}}


def test_each_step_is_one_write_with_its_version():
    storage = CountingStorage()
    apply_migrations(storage, WITH_RENAME)
    assert storage.writes == 2


def test_newer_data_is_refused_and_left_alone(storage):
    storage.write({"meta": {"1": {"schema_version": latest_version() + 1}}})
    before = json.dumps(storage.read())
    with pytest.raises(MigrationError, match="newer"):
        apply_migrations(storage)
    assert json.dumps(storage.read()) == before


def test_a_failing_migration_leaves_the_previous_version(storage):
    def explode(db):
        db.table("extensions").insert({"number": "999"})
        raise RuntimeError("disk on fire")

    apply_migrations(storage)
    with pytest.raises(MigrationError, match="migration 2 .* failed: disk on fire"):
        apply_migrations(storage, [*MIGRATIONS, (2, "explode", explode)])
    data = storage.read()
    assert version_of(data) == 1
    assert data["extensions"] == {}


def test_migrations_must_be_numbered_in_order(storage):
    with pytest.raises(MigrationError, match="numbered"):
        apply_migrations(storage, [(1, "a", lambda db: None), (3, "b", lambda db: None)])


def test_an_unreadable_version_is_an_error():
    with pytest.raises(MigrationError, match="unreadable"):
        version_of({"meta": {"1": {"schema_version": "two"}}})


def test_store_refuses_a_newer_file_without_touching_it(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"meta": {"1": {"schema_version": 99}}}))
    before = config.read_bytes()
    with pytest.raises(MigrationError) as caught:
        Store(tmp_path)
    assert str(config) in str(caught.value)
    assert config.read_bytes() == before
    with open(tmp_path / "run" / "core.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the refused open let go of it


CRASHING_START = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from appliance.store.db import Store
    from appliance.store.migrations import MIGRATIONS

    def add_queue_table(db):
        db.table("queues").insert({"name": "sales"})

    def crash(db):
        db.table("queues").insert({"name": "half-done"})
        os.kill(os.getpid(), signal.SIGKILL)

    Store(Path(sys.argv[1]), migrations=[*MIGRATIONS, (2, "queues", add_queue_table), (3, "crash", crash)])
    """
)


def test_a_crash_between_migration_steps_leaves_a_loadable_file(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", CRASHING_START, str(tmp_path)], cwd=REPO, capture_output=True, timeout=60
    )
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()
    storage = AtomicJSONStorage(tmp_path / "config.json", read_only=True)
    data = storage.read()
    assert version_of(data) == 2
    assert list(data["queues"].values()) == [{"name": "sales"}]

    def add_queue_table(db):
        raise AssertionError("step 2 is done already and must not run again")

    def finish(db):
        db.table("queues").insert({"name": "support"})

    with Store(tmp_path, migrations=[*MIGRATIONS, (2, "queues", add_queue_table), (3, "finish", finish)]) as store:
        assert store.schema_version == 3
        assert [q["name"] for q in store.table("queues").all()] == ["sales", "support"]
