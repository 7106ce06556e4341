from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from appliance.errors import StoreCorrupt, StoreError
from appliance.store.db import SUBDIRS, Store
from appliance.store.migrations import MIGRATIONS, latest_version

REPO = Path(__file__).resolve().parents[2]


def test_a_fresh_directory_gets_the_tree_and_the_latest_schema(tmp_path):
    data_dir = tmp_path / "var"
    with Store(data_dir) as store:
        assert store.schema_version == latest_version()
    assert sorted(p.name for p in data_dir.iterdir() if p.is_dir()) == sorted(SUBDIRS)
    saved = json.loads((data_dir / "config.json").read_text())
    assert {"meta", "settings", "extensions", "users", "audit"} <= set(saved)


def test_writes_are_on_disk_when_they_return(tmp_path):
    with Store(tmp_path) as store:
        store.table("extensions").insert({"number": "201", "name": "Reception"})
        on_disk = json.loads((tmp_path / "config.json").read_text())
        assert list(on_disk["extensions"].values()) == [{"number": "201", "name": "Reception"}]
    with Store(tmp_path) as store:
        assert store.table("extensions").all() == [{"number": "201", "name": "Reception"}]


def test_a_corrupt_config_is_refused_by_name_and_left_untouched(tmp_path):
    config = tmp_path / "config.json"
    config.write_bytes(b'{"meta": {"1": {"schema_version": 1}}, "users": {')
    with pytest.raises(StoreCorrupt) as caught:
        Store(tmp_path)
    assert str(config) in str(caught.value)
    assert config.read_bytes() == b'{"meta": {"1": {"schema_version": 1}}, "users": {'
    # The failed open released the lock: once repaired, the store opens.
    config.write_bytes(b"{}")
    Store(tmp_path).close()


def test_a_leftover_temp_file_is_ignored(tmp_path):
    with Store(tmp_path) as store:
        store.table("settings").insert({"key": "company", "value": "Acme"})
    (tmp_path / ".config.json.q1w2e3.tmp").write_bytes(b'{"settings": {"1": {"key": "comp')
    with Store(tmp_path) as store:
        assert store.table("settings").all() == [{"key": "company", "value": "Acme"}]
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_a_second_writer_in_the_same_process_is_refused(tmp_path):
    with Store(tmp_path):
        with pytest.raises(StoreError, match="in use by another process"):
            Store(tmp_path)
    Store(tmp_path).close()


SECOND_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from appliance.errors import StoreError
    from appliance.store.db import Store
    try:
        Store(Path(sys.argv[1]))
    except StoreError as e:
        print("refused:", e)
    else:
        print("opened")
    """
)


def second_writer(data_dir: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-c", SECOND_WRITER, str(data_dir)], cwd=REPO, capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def test_a_second_writer_process_is_refused_while_the_core_runs(tmp_path):
    with Store(tmp_path):
        answer = second_writer(tmp_path)
        assert answer.startswith("refused:")
        assert f"pid {os.getpid()}" in answer
    assert second_writer(tmp_path) == "opened\n"


def test_read_only_opens_beside_the_writer_and_never_writes(tmp_path):
    with Store(tmp_path) as writer:
        writer.table("users").insert({"name": "Alice"})
        config = tmp_path / "config.json"
        before = config.stat().st_mtime_ns
        with Store(tmp_path, read_only=True) as reader:
            assert reader.table("users").all() == [{"name": "Alice"}]
            with pytest.raises(StoreError, match="read-only"):
                reader.table("users").insert({"name": "Mallory"})
        assert config.stat().st_mtime_ns == before
        writer.table("users").insert({"name": "Bob"})


def test_read_only_needs_an_existing_configuration(tmp_path):
    with pytest.raises(StoreError, match="no configuration"):
        Store(tmp_path / "missing", read_only=True)
    assert not (tmp_path / "missing").exists()


def test_read_only_migrates_an_old_file_in_memory_only(tmp_path):
    Store(tmp_path).close()
    config = tmp_path / "config.json"
    before = config.read_bytes()

    def add_queues(db):
        db.table("queues").insert({"name": "sales"})

    with Store(tmp_path, read_only=True, migrations=[*MIGRATIONS, (2, "queues", add_queues)]) as reader:
        assert reader.schema_version == 2
        assert reader.table("queues").all() == [{"name": "sales"}]
        with pytest.raises(StoreError, match="read-only"):
            reader.table("queues").insert({"name": "support"})
    assert config.read_bytes() == before


def test_call_records_live_in_the_cdr_directory(tmp_path):
    with Store(tmp_path) as store:
        record_id = store.call_records.append({"start": "2026-11-02T09:00:00+01:00", "caller": "+48601234567"})
    assert (tmp_path / "cdr" / "2026-11.jsonl").exists()
    with Store(tmp_path, read_only=True) as reader:
        assert reader.call_records.get(record_id)["caller"] == "+48601234567"
        with pytest.raises(StoreError, match="read-only"):
            reader.call_records.append({"start": "2026-11-02T09:05:00+01:00"})
        with pytest.raises(StoreError, match="read-only"):
            reader.call_records.update(record_id, {"result": "ANSWERED"})
        with pytest.raises(StoreError, match="read-only"):
            reader.call_records.delete_where(lambda r: True)
    assert len((tmp_path / "cdr" / "2026-11.jsonl").read_bytes().splitlines()) == 1
