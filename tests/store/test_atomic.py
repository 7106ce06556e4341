from __future__ import annotations

import json
import os
import stat

import pytest
from tinydb import Query, TinyDB

from appliance.errors import StoreCorrupt, StoreError
from appliance.store.atomic import AtomicJSONStorage, atomic_write_bytes, remove_stale_temps


def temps(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_replaces_the_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "api.json"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert temps(tmp_path) == []


@pytest.mark.parametrize("mode", [0o600, 0o644])
def test_atomic_write_sets_the_mode_asked_for(tmp_path, mode):
    target = tmp_path / "secret"
    atomic_write_bytes(target, b"token", mode=mode)
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "config.json"
    target.write_bytes(b"old")

    def broken_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(StoreError, match="No space left"):
        atomic_write_bytes(target, b"new")
    monkeypatch.undo()
    assert target.read_bytes() == b"old"
    assert temps(tmp_path) == []


def test_writing_into_a_missing_directory_is_a_store_error(tmp_path):
    with pytest.raises(StoreError, match="cannot write"):
        atomic_write_bytes(tmp_path / "nowhere" / "x", b"data")


def test_remove_stale_temps_only_touches_the_files_own_temps(tmp_path):
    target = tmp_path / "config.json"
    (tmp_path / ".config.json.abc123.tmp").write_bytes(b"half")
    (tmp_path / ".api.json.abc123.tmp").write_bytes(b"other file's")
    removed = remove_stale_temps(target)
    assert [p.name for p in removed] == [".config.json.abc123.tmp"]
    assert temps(tmp_path) == [".api.json.abc123.tmp"]


def test_storage_reads_none_when_there_is_no_file(tmp_path):
    assert AtomicJSONStorage(tmp_path / "config.json").read() is None


def test_storage_writes_compact_utf8_json(tmp_path):
    path = tmp_path / "config.json"
    storage = AtomicJSONStorage(path)
    data = {"settings": {"1": {"greeting": "Dzień dobry"}}}
    storage.write(data)
    raw = path.read_bytes()
    assert "Dzień".encode() in raw
    assert b", " not in raw and b": " not in raw
    assert json.loads(raw) == data
    assert AtomicJSONStorage(path).read() == data


@pytest.mark.parametrize("content", [b'{"settings": {"1": {', b"\xff\xfe garbage", b"", b"[1, 2]"])
def test_a_file_that_does_not_parse_is_reported_and_left_untouched(tmp_path, content):
    path = tmp_path / "config.json"
    path.write_bytes(content)
    before = path.stat()
    with pytest.raises(StoreCorrupt) as caught:
        AtomicJSONStorage(path).read()
    assert str(path) in str(caught.value)
    assert path.read_bytes() == content
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_a_leftover_temp_file_is_ignored_and_cleaned(tmp_path):
    path = tmp_path / "config.json"
    AtomicJSONStorage(path).write({"settings": {"1": {"a": 1}}})
    (tmp_path / ".config.json.x7y8z9.tmp").write_bytes(b'{"settings": {"1": {"a": 2')
    storage = AtomicJSONStorage(path)
    assert storage.read() == {"settings": {"1": {"a": 1}}}
    assert temps(tmp_path) == []


def test_read_only_storage_neither_cleans_nor_writes(tmp_path):
    path = tmp_path / "config.json"
    path.write_bytes(b"{}")
    (tmp_path / ".config.json.x7y8z9.tmp").write_bytes(b"{")
    storage = AtomicJSONStorage(path, read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        storage.write({"a": {}})
    assert path.read_bytes() == b"{}"
    assert temps(tmp_path) == [".config.json.x7y8z9.tmp"]


def test_tinydb_behaves_the_same_over_either_storage(storage):
    db = TinyDB(storage=lambda: storage)
    users = db.table("users")
    alice = users.insert({"name": "Alice", "extension": "201"})
    users.insert({"name": "Bob", "extension": "202"})
    users.update({"extension": "203"}, Query().name == "Bob")
    users.remove(doc_ids=[alice])
    assert users.all() == [{"name": "Bob", "extension": "203"}]
    assert storage.read()["users"] == {"2": {"name": "Bob", "extension": "203"}}


def test_file_storage_keeps_tinydb_data_across_opens(tmp_path):
    path = tmp_path / "config.json"
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        db.table("extensions").insert({"number": "201"})
    with TinyDB(path, storage=AtomicJSONStorage) as db:
        assert db.table("extensions").all() == [{"number": "201"}]
