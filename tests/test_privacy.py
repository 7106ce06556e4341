"""One person's data: export all of it as one archive, then erase it everywhere; both audited."""

from __future__ import annotations

import io
import json
import tarfile
from datetime import datetime, timezone

import pytest

from appliance.core import Core
from appliance.errors import ValidationError
from tests.peers.audio import write_sine


@pytest.fixture
def core(tmp_path):
    c = Core(tmp_path / "data", {"prompts.builtin_languages": [], "engine.enabled": False})
    yield c
    c.audit_trail.close()
    c.queue_log.close()
    c.store.close()


def add_call(core, call_id: str, caller: str, callee: str = "500", recording: bool = False) -> None:
    rec = {"call_id": call_id, "start": datetime(2026, 11, 3, 10, tzinfo=timezone.utc).isoformat(),
           "caller": caller, "callee": callee, "disposition": "ANSWERED", "queue": "sales"}
    if recording:
        path = core.data_dir / "recordings" / f"{call_id}.wav"
        write_sine(path, 440, 0.5)
        rec["recording"] = f"recordings/{call_id}.wav"
    core.call_records.append(rec)
    core.queue_log.append({"time": rec["start"], "event": "ENTERED", "queue": "sales", "call_id": call_id,
                           "number": caller})


def test_export_then_erase_one_number_everywhere(core, tmp_path):
    add_call(core, "c1", "+48 601 234 567", recording=True)
    add_call(core, "c2", "0048601234567")
    add_call(core, "c3", "+48 602 000 000", recording=True)   # someone else
    core.voicemail_box("1001")
    msg_wav = write_sine(tmp_path / "msg.wav", 800, 1.5)
    core.voicemail.deposit("1001", msg_wav, "601234567")

    archive = tarfile.open(fileobj=io.BytesIO(core.privacy.export("601 234 567")), mode="r:gz")
    names = set(archive.getnames())
    assert {"call_records.json", "queue_log.json", "voicemail.json", "recordings/c1.wav"} <= names
    assert any(n.startswith("voicemail/1001-") for n in names)
    exported = json.loads(archive.extractfile("call_records.json").read())
    assert sorted(r["call_id"] for r in exported) == ["c1", "c2"]  # both forms of the number, not c3

    counts = core.privacy.erase("+48601234567")
    assert counts == {"call_records": 2, "queue_log": 2, "sms": 0, "recordings": 1, "voicemail": 1}
    left = core.call_records.query(None, None, limit=None)
    assert [r["call_id"] for r in left] == ["c3"]
    assert not (core.data_dir / "recordings" / "c1.wav").exists()
    assert (core.data_dir / "recordings" / "c3.wav").exists()
    assert core.voicemail.messages("1001") == []
    actions = [e["action"] for e in core.audit_log(10)]
    assert actions[:2] == ["privacy_erase", "privacy_export"]


def test_a_typo_erases_nothing(core):
    add_call(core, "c1", "+48601234567")
    with pytest.raises(ValidationError):
        core.privacy.erase("not a number")
    assert len(core.call_records.query(None, None, limit=None)) == 1


def test_retention_deletes_what_is_older_than_its_kind_allows(core, tmp_path):
    import time as _time
    old = datetime(2024, 1, 5, tzinfo=timezone.utc)
    new = datetime.now(timezone.utc)
    for cid, when in (("old", old), ("new", new)):
        core.call_records.append({"call_id": cid, "start": when.isoformat(), "caller": "1"})
        core.queue_log.append({"time": when.isoformat(), "event": "ENTERED", "call_id": cid})
    core.voicemail_box("1001")
    message = core.voicemail.deposit("1001", write_sine(tmp_path / "m.wav", 800, 1.5), "601234567",
                                     received=_time.time() - 90 * 86400)
    done = core.privacy.apply_retention()
    assert done["call_records"] == 1 and done["queue_log"] == 1 and done["voicemail"] == 1
    assert [r["call_id"] for r in core.call_records.query(None, None, limit=None)] == ["new"]
    assert core.voicemail.messages("1001") == [] and message.id
    assert core.audit_log(1)[0]["action"] == "retention"

