"""The switchboard's parts built from ports alone: small working fakes in, no Core, no engine process."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from appliance.call_placement import Placements
from appliance.call_record_writer import CallRecordWriter
from appliance.conversation_recording import ConversationRecorder
from appliance.engine_pool import EnginePool, Worker, workers_needed
from appliance.errors import NotAllowed
from appliance.logic.acd import ContactCenter
from appliance.ports import DataDir
from appliance.switchboard import Switchboard, SwitchboardPorts

CONTACTS = {"1001": ["sip:1001@10.0.0.11"], "1002": ["sip:1002@10.0.0.12", "sip:1002@10.0.0.13"]}


class Events(list):
    def __call__(self, kind: str, **data: Any) -> None:
        self.append((kind, data))


class Alarms:
    def __init__(self):
        self.raised: dict[str, str] = {}

    def raise_alarm(self, kind, text, action, *, key="", incident=False):
        self.raised[kind] = text

    def clear(self, kind, key=""):
        return self.raised.pop(kind, None) is not None


class Records(list):
    """A call-record log whose disk can be full."""

    full = False

    def append(self, record):
        if self.full:
            raise OSError(28, "No space left on device")
        super().append(record)
        return record["call_id"]


def pool_with(*rooms: int) -> EnginePool:
    pool = EnginePool(bind="10.0.0.2", publish=Events(), setting={"engine.idle_stop_s": 60}.get,
                      run_dir=Path("/nonexistent"), on_event=None, on_lost=None, has_calls=lambda wid: False,
                      reservation_expired=lambda cid: None)
    for i, room in enumerate(rooms):
        w = Worker(f"w{i}", process=SimpleNamespace(process=None), max_calls=4, free=room, sip_port=5070 + i,
                   alive=True, bind="10.0.0.2")
        pool.workers[w.id] = w
    return pool


def invite(call_id: str, number: str, method: str = "INVITE") -> SimpleNamespace:
    return SimpleNamespace(call_id=call_id, method=method, uri=f"sip:{number}@10.0.0.2")


def test_a_call_goes_where_there_is_room_for_its_legs_and_holds_it():
    pool = pool_with(2, 4)
    placements = Placements(pool, contacts=lambda n: CONTACTS.get(n, []), ring_group=lambda n: None,
                            workers_in_call=lambda ext: set(), worker_of_agent=lambda agent: None)
    assert placements.forward_target(invite("c1", "1002"), "1001") == ("10.0.0.2", 5071)
    assert pool.workers["w1"].reserved == {"c1": 3}  # the caller and both of 1002's phones
    assert placements.forward_target(invite("c1", "1002", "ACK"), "1001") == ("10.0.0.2", 5071)
    # Someone else's Call-ID does not make the request theirs.
    assert placements.forward_target(invite("c1", "1002", "BYE"), "1003") is None


def test_a_phones_second_call_goes_where_its_first_is():
    pool = pool_with(4, 3)
    placements = Placements(pool, contacts=lambda n: CONTACTS.get(n, []), ring_group=lambda n: None,
                            workers_in_call=lambda ext: {"w1"} if ext == "1001" else set(),
                            worker_of_agent=lambda agent: None)
    assert placements.forward_target(invite("c2", "1002"), "1001") == ("10.0.0.2", 5071)


def test_a_full_box_places_nothing():
    pool = pool_with(1)
    placements = Placements(pool, contacts=lambda n: [], ring_group=lambda n: None,
                            workers_in_call=lambda ext: set(), worker_of_agent=lambda agent: None)
    assert placements.forward_target(invite("c1", "1002"), "1001") is None
    assert pool.with_room(2) is None and workers_needed(10, 4) == 5


def test_a_record_the_disk_refuses_waits_and_is_written_with_the_next(tmp_path):
    records, alarms, events = Records(), Alarms(), Events()
    writer = CallRecordWriter(records=records, alarms=alarms, publish=events, data_dir=tmp_path)
    records.full = True
    writer.write({"call_id": "c1", "start": 0.0})
    assert records == [] and "record" in alarms.raised
    records.full = False
    writer.write({"call_id": "c2", "start": 0.0})
    assert [r["call_id"] for r in records] == ["c1", "c2"] and "record" not in alarms.raised
    assert [d["call_id"] for kind, d in events if kind == "call_record"] == ["c1", "c2"]


class Policy:
    def __init__(self, folder: Path):
        self.folder = folder

    def wanted(self, extensions, queue, route_mode="never"):
        return False

    def path_for(self, call_id):
        return self.folder / f"{call_id}.wav"


def test_star_one_in_a_conversation_records_it_unless_the_caller_declined(tmp_path):
    sent: list[tuple[str, dict[str, Any]]] = []
    talking = SimpleNamespace(call_id="c1", recording=None, declined=False)
    declined = SimpleNamespace(call_id="c2", recording=None, declined=True)
    calls = {"c1": talking, "c2": declined}
    recorder = ConversationRecorder(policy=Policy(tmp_path), send=lambda w, name, fields: sent.append((name, fields)),
                                    find=lambda cid: (calls[cid], "w0") if cid in calls else None,
                                    connected_legs=lambda owner: ["w0-1", "w0-2"], data_dir=tmp_path)
    assert recorder.record_code(talking, "w0-2", "*") is False
    assert recorder.record_code(talking, "w0-2", "1") is True
    assert sent == [("record_start", {"legs": ["w0-1", "w0-2"], "file": str(tmp_path / "c1.wav")})]
    with pytest.raises(NotAllowed):
        recorder.record_on_demand("c2")
    recorder.start("w0", talking, ["w0-1", "w0-2"], ["1001"], None)  # the policy does not ask: nothing more
    assert len(sent) == 1


def test_the_switchboard_is_built_from_ports_alone(tmp_path):
    center = ContactCenter(lambda: 0.0)
    ports = SwitchboardPorts(
        publish=Events(), setting={"engine.idle_stop_s": 60, "recording.notice": {}}.get, paths=DataDir(tmp_path),
        contacts=lambda n: CONTACTS.get(n, []), extension=lambda n: None, extension_numbers=lambda: [],
        ring_group=lambda n: None, ring_group_named=lambda n: None, dialer=None, center=center,
        agent_action=lambda ext, action, data: None, flows=lambda: None, night_mode=lambda: False,
        flow_overrides=lambda: {}, mailbox=None, pin_guard=None, voicemail_box=None, voicemail_changed=None,
        voicemail_deposited=None, recordings=Policy(tmp_path), call_records=Records(), queue_log=Records(),
        alarms=Alarms(), prompt_file=lambda name, language: None)
    sb = Switchboard(ports, bind="10.0.0.2")
    assert sb.status() == [] and sb.active_calls() == []
    assert sb.forward_target(invite("c1", "1002"), "1001") is None  # no worker yet: no room
    assert sb.place("ctd-1", lambda w, p: pytest.fail("a full box places nothing")) is None
