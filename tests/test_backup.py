"""Backups, restore and factory reset, against real data directories."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from appliance import backup
from appliance.backup import (
    BackupError,
    box_id,
    cleanup,
    create_backup,
    daily_backup,
    factory_reset,
    finish_interrupted_reset,
    restore_backup,
    verify_backup,
)
from appliance.store.db import SUBDIRS, Store
from appliance.store.migrations import latest_version

START = datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc).timestamp()


class FakeClock:
    def __init__(self, now: float = START):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_box(data_dir: Path) -> None:
    """A box in use: extensions, users, settings, call records, audio, token."""
    with Store(data_dir) as store:
        store.table("extensions").insert({"number": "201", "name": "Reception", "secret": "s3cret-201"})
        store.table("extensions").insert({"number": "202", "name": "Sales", "secret": "s3cret-202"})
        store.table("users").insert({"username": "admin", "role": "admin", "password": "pbkdf2$x$y"})
        store.table("settings").insert({"overrides": {"sip.realm": "office"}})
        store.table("audit").insert({"time": 1.0, "actor": "admin", "action": "login", "detail": ""})
        records = store.call_records
        first = records.append({"start": "2026-10-30T10:00:00+00:00", "caller": "+48601234567"})
        records.append({"start": "2026-11-02T08:00:00+00:00", "caller": "+48601111111"})
        records.update(first, {"end": "2026-10-30T10:05:00+00:00", "result": "ANSWERED"})
    (data_dir / "state" / "api_token").write_text("old-token")
    (data_dir / "state" / "api_token").chmod(0o600)
    (data_dir / "state" / "registrations.json").write_text("[]")
    (data_dir / "voicemail" / "201").mkdir()
    # Random bytes do not compress: corrupting the middle of the file hits data.
    (data_dir / "voicemail" / "201" / "msg0001.wav").write_bytes(os.urandom(120_000))
    (data_dir / "recordings" / "call-1.wav").write_bytes(os.urandom(50_000))
    (data_dir / "prompts" / "welcome.wav").write_bytes(b"RIFF" + os.urandom(2000))


def tree(root: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file and directory under root with a hash of its content."""
    out: dict[str, str] = {}
    for dirpath, dirs, files in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        if rel_dir.parts and rel_dir.parts[0] in skip:
            continue
        for d in dirs:
            out[(rel_dir / d).as_posix() + "/"] = "dir"
        for name in files:
            path = Path(dirpath) / name
            out[(rel_dir / name).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return {k: v for k, v in out.items() if k.split("/")[0] not in skip}


def siblings(data_dir: Path) -> list[str]:
    return sorted(p.name for p in data_dir.parent.iterdir())


def store_contents(data_dir: Path) -> dict:
    with Store(data_dir, read_only=True) as store:
        return {name: store.table(name).all() for name in ("extensions", "users", "settings", "audit")} | {
            "records": store.call_records.query(limit=None)}


def members(file: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(file, "r:gz") as tar:
        return [(m, tar.extractfile(m).read() if m.isreg() else b"") for m in tar.getmembers()]


def write_archive(dest: Path, items: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(dest, "w:gz") as tar:
        for info, data in items:
            if info.isreg():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return dest


def file_member(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def with_manifest(items, change=None):
    """Items with their manifest rebuilt to match them (optionally changed)."""
    manifest = json.loads(dict((i.name, d) for i, d in items)[backup.MANIFEST])
    data = [(i, d) for i, d in items if i.name != backup.MANIFEST]
    manifest["files"] = [{"path": i.name[len(backup.DATA_PREFIX):], "size": len(d),
                          "sha256": hashlib.sha256(d).hexdigest()} for i, d in data if i.isreg()]
    if change:
        change(manifest)
    return [*data, file_member(backup.MANIFEST, json.dumps(manifest).encode())]


@pytest.fixture
def box(tmp_path) -> Path:
    data_dir = tmp_path / "callbox"
    make_box(data_dir)
    return data_dir


@pytest.fixture
def made(box, tmp_path, clock) -> Path:
    dest = tmp_path / "out" / "box.tar.gz"
    create_backup(box, dest, clock=clock)
    return dest


# --- round trip ----------------------------------------------------------------------


def test_round_trip_brings_everything_back(box, made, clock):
    before = store_contents(box)
    files_before = tree(box, skip=("run", "backups"))
    import shutil
    shutil.rmtree(box)

    report = restore_backup(made, box, clock=clock)

    assert report.previous is None
    assert store_contents(box) == before
    restored = tree(box, skip=("run", "backups"))
    # Where phones are now is not restored: they register again.
    del files_before["state/registrations.json"]
    assert restored == files_before
    assert (box / "state" / "api_token").stat().st_mode & 0o777 == 0o600
    with Store(box) as store:  # the core can open and write it
        store.table("extensions").insert({"number": "203"})


@pytest.mark.parametrize("swap", ["exchange", "two renames"])
def test_restore_over_a_box_keeps_the_previous_data_beside_it(box, made, clock, monkeypatch, swap):
    if swap == "two renames":  # a file system without RENAME_EXCHANGE
        monkeypatch.setattr("appliance.backup.restore._exchange", lambda a, b: False)
    with Store(box) as store:
        store.table("extensions").truncate()
        store.table("users").insert({"username": "intruder", "role": "admin"})
    changed = tree(box, skip=("run",))
    clock.advance(60)

    report = restore_backup(made, box, clock=clock)

    assert report.previous == box.with_name("callbox.before-restore-20261122T093100Z")
    assert tree(report.previous, skip=("run",)) == changed
    assert [u["username"] for u in store_contents(box)["users"]] == ["admin"]
    assert len(store_contents(box)["extensions"]) == 2
    assert not list(box.parent.glob("callbox.restoring-*"))
    assert not (box / backup.STAGING_MARK).exists()


def test_the_manifest_describes_the_box(box, made, clock):
    info = verify_backup(made)
    assert info.box_id == box_id(box) and len(info.box_id) == 16
    assert info.schema_version == latest_version()
    assert info.created == "2026-11-22T09:30:00+00:00"
    paths = {f.path for f in info.files}
    assert {"config.json", "cdr/2026-10.jsonl", "cdr/2026-11.jsonl", "state/api_token",
            "voicemail/201/msg0001.wav", "recordings/call-1.wav", "prompts/welcome.wav"} <= paths
    assert not any(p.startswith("run/") for p in paths)
    assert "state/registrations.json" not in paths
    wav = box / "voicemail" / "201" / "msg0001.wav"
    entry = next(f for f in info.files if f.path == "voicemail/201/msg0001.wav")
    assert entry.sha256 == hashlib.sha256(wav.read_bytes()).hexdigest()
    # Secrets inside: the file is for its owner only.
    assert made.stat().st_mode & 0o777 == 0o600


def test_a_backup_taken_while_a_record_is_half_written_keeps_whole_lines(box, tmp_path, clock):
    shard = box / "cdr" / "2026-11.jsonl"
    whole = shard.read_bytes()
    with open(shard, "ab") as f:
        f.write(b'{"id":"half","start":"2026-11-0')
    dest = create_backup(box, tmp_path / "b.tar.gz", clock=clock).file
    data = dict((i.name, d) for i, d in members(dest))
    assert data["data/cdr/2026-11.jsonl"] == whole


def test_a_backup_while_the_core_runs_needs_no_lock(box, tmp_path, clock):
    with Store(box) as store:
        info = create_backup(box, tmp_path / "live.tar.gz", clock=clock)
        store.table("extensions").insert({"number": "204"})
    assert verify_backup(info.file) == info


def test_without_audio_the_box_keeps_its_own_voicemail(box, tmp_path, clock):
    info = create_backup(box, tmp_path / "small.tar.gz", include_audio=False, clock=clock)
    paths = {f.path for f in info.files}
    assert "prompts/welcome.wav" in paths
    assert not any(p.startswith(("voicemail/", "recordings/")) for p in paths)
    wav = (box / "voicemail" / "201" / "msg0001.wav").read_bytes()

    report = restore_backup(info.file, box, clock=clock)

    assert report.kept_current_audio
    assert (box / "voicemail" / "201" / "msg0001.wav").read_bytes() == wav


def test_the_box_keeps_its_own_id_and_its_backups(box, made, tmp_path, clock):
    other = tmp_path / "other"
    make_box(other)
    (other / "backups").mkdir()
    (other / "backups" / "old.tar.gz").write_bytes(b"kept")
    own = box_id(other)

    report = restore_backup(made, other, clock=clock)

    assert report.from_other_box and report.box_id == own != box_id(box)
    assert box_id(other) == own
    assert (other / "backups" / "old.tar.gz").read_bytes() == b"kept"


# --- refusals change nothing ----------------------------------------------------------


def assert_refused(file: Path, data_dir: Path, clock, match: str | None = None,
                   file_is_bad: bool = True) -> BackupError:
    before, around = tree(data_dir), siblings(data_dir)
    with pytest.raises(BackupError, match=match) as caught:
        restore_backup(file, data_dir, clock=clock)
    assert tree(data_dir) == before
    assert siblings(data_dir) == around
    if file_is_bad:
        with pytest.raises(BackupError):
            verify_backup(file)
    return caught.value


@pytest.mark.parametrize("where", [0.0, 0.3, 0.5, 0.8, 0.99])
def test_a_flipped_byte_is_refused(box, made, clock, where):
    data = bytearray(made.read_bytes())
    pos = int(len(data) * where)
    data[pos] ^= 0x5A
    made.write_bytes(bytes(data))
    assert_refused(made, box, clock)


@pytest.mark.parametrize("keep", [0, 5, 100, 0.5, 0.9, -4])
def test_a_truncated_file_is_refused(box, made, clock, keep):
    data = made.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    made.write_bytes(data[:n])
    assert_refused(made, box, clock)


def test_a_file_that_is_not_a_tar_gz_is_refused(box, tmp_path, clock):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(os.urandom(4096))
    assert_refused(junk, box, clock, match="not a readable")
    junk.write_bytes(gzip.compress(b"just text, not a tar archive\n" * 100))
    assert_refused(junk, box, clock)


def test_a_plain_tar_is_refused(box, made, tmp_path, clock):
    plain = tmp_path / "plain.tar"
    plain.write_bytes(gzip.decompress(made.read_bytes()))
    assert_refused(plain, box, clock)


def test_a_foreign_tar_gz_is_refused(box, made, tmp_path, clock):
    foreign = write_archive(tmp_path / "photos.tar.gz", [file_member("data/config.json", b"{}")])
    assert_refused(foreign, box, clock, match="not a Callbox backup")
    items = with_manifest(members(made), change=lambda m: m.update(format="other-backup"))
    other = write_archive(tmp_path / "other.tar.gz", items)
    assert_refused(other, box, clock, match="not a Callbox backup")
    etc = write_archive(tmp_path / "etc.tar.gz", [file_member("etc/passwd", b"root:x:0:0")])
    assert_refused(etc, box, clock)


def traversal_member(kind: str) -> tuple[tarfile.TarInfo, bytes]:
    if kind in ("dotdot", "absolute", "deep", "double-slash"):
        name = {"dotdot": "data/../../escaped", "absolute": "/tmp/escaped-callbox",
                "deep": "data/voicemail/../../../escaped",
                "double-slash": "data//tmp/escaped-callbox"}[kind]
        return file_member(name, b"gotcha")
    info = tarfile.TarInfo("data/voicemail/link")
    if kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, "../../escaped"
    elif kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, "/etc/passwd"
    elif kind == "device":
        info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    elif kind == "fifo":
        info.type = tarfile.FIFOTYPE
    elif kind == "run":
        return file_member("data/run/core.lock", b"1\n")
    return info, b""


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "deep", "double-slash", "symlink", "hardlink",
                                  "device", "fifo", "run"])
def test_members_escaping_the_archive_are_refused(box, made, tmp_path, clock, kind):
    items = members(made)
    manifest = items[-1]
    evil = write_archive(tmp_path / "evil.tar.gz", [*items[:-1], traversal_member(kind), manifest])
    assert_refused(evil, box, clock, match="refusing member")
    assert not (tmp_path / "escaped").exists()
    assert not Path("/tmp/escaped-callbox").exists()


def test_a_checksum_mismatch_is_refused(box, made, tmp_path, clock):
    items = members(made)
    tampered = []
    for info, data in items:
        if info.name == "data/config.json":
            data = data.replace(b"s3cret-201", b"s3cret-666")
        tampered.append((info, data))
    file = write_archive(tmp_path / "tampered.tar.gz", tampered)
    assert_refused(file, box, clock, match="checksum mismatch for config.json")


def test_a_file_missing_from_the_backup_is_refused(box, made, tmp_path, clock):
    items = [(i, d) for i, d in members(made) if i.name != "data/prompts/welcome.wav"]
    assert_refused(write_archive(tmp_path / "short.tar.gz", items), box, clock, match="missing")


def test_a_file_not_in_the_manifest_is_refused(box, made, tmp_path, clock):
    items = members(made)
    extra = [*items[:-1], file_member("data/prompts/extra.wav", b"RIFF"), items[-1]]
    assert_refused(write_archive(tmp_path / "extra.tar.gz", extra), box, clock, match="not in the manifest")


def test_a_newer_schema_is_refused(box, made, tmp_path, clock):
    newer = latest_version() + 1
    items = []
    for info, data in members(made):
        if info.name == "data/config.json":
            config = json.loads(data)
            config["meta"] = {"1": {"schema_version": newer}}
            data = json.dumps(config).encode()
        items.append((info, data))
    items = with_manifest(items, change=lambda m: m.update(schema_version=newer))
    file = write_archive(tmp_path / "newer.tar.gz", items)
    assert_refused(file, box, clock, match="newer than this program")


def test_a_newer_backup_format_is_refused(box, made, tmp_path, clock):
    items = with_manifest(members(made), change=lambda m: m.update(format_version=99))
    assert_refused(write_archive(tmp_path / "f99.tar.gz", items), box, clock, match="newer Callbox")


def test_a_member_bigger_than_the_free_space_is_refused_before_writing(box, tmp_path, clock):
    bomb = tarfile.TarInfo("data/recordings/huge.wav")
    bomb.size = 1 << 50  # a petabyte promised; a few bytes delivered
    file = tmp_path / "bomb.tar.gz"
    file.write_bytes(gzip.compress(bomb.tobuf(tarfile.PAX_FORMAT) + b"\0" * 4096))
    assert_refused(file, box, clock, match="not enough free space")


def test_leftovers_of_an_interrupted_restore_are_sorted_out_by_the_next(box, made, clock):
    unfinished = box.with_name("callbox.restoring-aaaa")
    (unfinished / "run").mkdir(parents=True)
    (unfinished / backup.STAGING_MARK).touch()
    # Swapped in, then the power went before the old data got its name.
    previous = box.with_name("callbox.restoring-bbbb")
    (previous / "run").mkdir(parents=True)
    (previous / "config.json").write_text("{}")

    restore_backup(made, box, clock=clock)

    assert not unfinished.exists() and not previous.exists()
    kept = sorted(box.parent.glob("callbox.before-restore-*"))
    assert len(kept) == 2
    assert any((k / "config.json").read_text() == "{}" for k in kept)


def test_a_running_core_blocks_restore(box, made, clock):
    with Store(box):  # holds run/core.lock like a running core
        err = assert_refused(made, box, clock, match="stop the core first", file_is_bad=False)
        assert str(os.getpid()) in str(err)
    assert restore_backup(made, box, clock=clock).previous is not None


# --- factory reset --------------------------------------------------------------------


def test_factory_reset_keeps_a_backup_and_returns_to_first_run(box, tmp_path, clock):
    own_id = box_id(box)
    old = store_contents(box)
    (box / "queuelog").mkdir()
    (box / "queuelog" / "2026-11.jsonl").write_text('{"id": "q1"}\n')
    old_tree = tree(box, skip=("run", "backups"))

    kept = factory_reset(box, tmp_path / "backups", clock=clock)

    assert kept.parent == tmp_path / "backups" and kept.name.startswith("callbox-before-reset-")
    with Store(box) as store:  # opens fresh, as a core would
        assert store.table("users").all() == []
        assert store.table("extensions").all() == []
        assert store.table("settings").all() == []
        assert [e["action"] for e in store.table("audit").all()] == ["factory reset"]
        assert store.call_records.months() == []
        assert store.schema_version == latest_version()
    for sub in ("voicemail", "recordings", "prompts", "cdr"):
        assert list((box / sub).iterdir()) == []
    assert box_id(box) == own_id
    token = (box / "state" / "api_token").read_text()
    assert token and token != "old-token"
    assert (box / "state" / "api_token").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (box / "state").iterdir()) == ["api_token", "box_id"]
    assert sorted(p.name for p in box.iterdir()) == sorted([*SUBDIRS, "config.json"])

    restore_backup(kept, box, clock=clock)
    assert store_contents(box) == old
    del old_tree["state/registrations.json"]
    assert tree(box, skip=("run", "backups")) == old_tree


def test_factory_reset_keeps_backups_made_inside_the_data_dir(box, clock):
    kept = factory_reset(box, clock=clock)
    assert kept.parent == box / "backups" and kept.is_file()
    assert verify_backup(kept).box_id == box_id(box)


def test_factory_reset_is_refused_while_a_core_runs_unless_the_core_asks(box, tmp_path, clock):
    with Store(box) as store:
        before = tree(box)
        with pytest.raises(BackupError, match="stop the core first"):
            factory_reset(box, tmp_path / "backups", clock=clock)
        assert tree(box) == before
        assert not (tmp_path / "backups").exists() or not list((tmp_path / "backups").iterdir())

        factory_reset(box, tmp_path / "backups", clock=clock, core_holds_lock=True)
        # The core's open store sees the fresh data at once.
        assert store.table("users").all() == []


def test_an_interrupted_factory_reset_is_finished_at_the_next_start(box, tmp_path, clock):
    kept = tmp_path / "kept.tar.gz"
    create_backup(box, kept, clock=clock)
    (box / backup.RESET_MARK).write_text(json.dumps({"backup": str(kept)}))
    assert finish_interrupted_reset(box, clock=clock)
    assert not finish_interrupted_reset(box, clock=clock)
    with Store(box) as store:
        assert store.table("users").all() == [] and store.call_records.months() == []


# --- rotation -------------------------------------------------------------------------


def test_daily_backups_rotate_keeping_the_newest(box, tmp_path, clock):
    backups = tmp_path / "backups"
    backups.mkdir()
    manual = backups / "callbox-backup-20200101T000000Z.tar.gz"
    manual.write_bytes(b"by hand")
    made = []
    for _ in range(6):
        info = daily_backup(box, backups, clock=clock, keep_backups=3)
        made.append(info.file)
        assert daily_backup(box, backups, clock=clock, keep_backups=3) is None  # not due again
        clock.advance(86400)
    autos = sorted(backups.glob("callbox-auto-*"))
    assert autos == made[-3:]
    assert manual.exists()
    assert not any(f.path.startswith("voicemail/") for f in verify_backup(made[-1]).files)


def test_cleanup_keeps_n_by_the_time_in_their_names(tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    stamps = ["20261101T031500Z", "20261103T031500Z", "20261102T031500Z", "20261105T031500Z"]
    for i, stamp in enumerate(stamps):
        path = backups / f"callbox-auto-{stamp}.tar.gz"
        path.write_bytes(b"x")
        os.utime(path, (1000 - i, 1000 - i))  # mtimes in the wrong order on purpose
    reset = backups / "callbox-before-reset-20200101T000000Z.tar.gz"
    reset.write_bytes(b"x")
    removed = cleanup(tmp_path / "callbox", keep_backups=2, backups_dir=backups)
    assert sorted(p.name for p in removed) == ["callbox-auto-20261101T031500Z.tar.gz",
                                              "callbox-auto-20261102T031500Z.tar.gz"]
    assert sorted(p.name for p in backups.iterdir()) == [
        "callbox-auto-20261103T031500Z.tar.gz", "callbox-auto-20261105T031500Z.tar.gz", reset.name]


# --- command-line entry points ----------------------------------------------------------


def test_commands_report_success_and_refusal(box, tmp_path, clock, capsys):
    assert backup.backup_command(box, tmp_path, clock=clock) == 0
    file = next(tmp_path.glob("callbox-backup-*.tar.gz"))
    assert backup.verify_command(file) == 0
    assert backup.restore_command(file, box, clock=clock) == 0
    assert "before-restore" in capsys.readouterr().out
    file.write_bytes(file.read_bytes()[:100])
    err = io.StringIO()
    assert backup.restore_command(file, box, clock=clock, err=err) == 1
    assert err.getvalue().startswith("callbox: ")
