"""Voicemail store: boxes, messages and greetings on disk, and WAV header repair."""

from __future__ import annotations

import errno
import json
import os
import struct
import wave
from pathlib import Path

import pytest

from appliance.errors import NotFound, ValidationError
from appliance.logic.voicemail import (
    Access, AccessState, BoxConfig, Folder, GreetingKind, MessageAudio, PinGuard, hash_pin)
from appliance.voicemail_store import VoicemailStore, repair_wav, wav_info

RATE = 8000


class FakeClock:
    def __init__(self, now: float = 1_780_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_wav(path: Path, seconds: float, rate: int = RATE, channels: int = 1) -> Path:
    frames = int(seconds * rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        # A ramp, so that any shifted or dropped byte changes the content.
        w.writeframes(b"".join(struct.pack("<h", (i * 37) % 30000) for i in range(frames * channels)))
    return path


def unfinalise(path: Path, riff: int = 0, data: int = 0) -> None:
    """What a recorder that died before closing leaves: the header's sizes never written."""
    raw = bytearray(path.read_bytes())
    at = raw.index(b"data")
    raw[4:8] = struct.pack("<I", riff)
    raw[at + 4:at + 8] = struct.pack("<I", data)
    path.write_bytes(bytes(raw))


def frames_of(path: Path) -> tuple[int, bytes]:
    with wave.open(str(path), "rb") as w:
        n = w.getnframes()
        return n, w.readframes(n)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path, clock) -> VoicemailStore:
    s = VoicemailStore(tmp_path / "data", clock)
    s.save_box(BoxConfig("1001", owner="1001", pin_hash=hash_pin("1234"), email="ann@example.com"))
    return s


@pytest.fixture
def incoming(tmp_path) -> Path:
    d = tmp_path / "incoming"
    d.mkdir()
    return d


# --- repair_wav ----------------------------------------------------------------------------

@pytest.mark.parametrize("riff, data", [(0, 0), (0xFFFFFFFF, 0xFFFFFFFF), (36, 0)])
def test_repair_recomputes_the_sizes_from_the_file_length(tmp_path, riff, data):
    good = make_wav(tmp_path / "good.wav", 2.5)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(good.read_bytes())
    unfinalise(broken, riff, data)
    assert repair_wav(broken) is True
    assert broken.read_bytes() == good.read_bytes()
    assert frames_of(broken) == frames_of(good)
    assert wav_info(broken).duration_s == pytest.approx(2.5)


def test_repair_drops_a_sample_cut_in_half(tmp_path):
    good = make_wav(tmp_path / "good.wav", 1.0)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(good.read_bytes() + b"\x01")  # the writer died mid-sample
    unfinalise(broken)
    assert repair_wav(broken) is True
    assert broken.read_bytes() == good.read_bytes()


def test_repair_leaves_a_good_file_alone(tmp_path):
    good = make_wav(tmp_path / "good.wav", 1.0, channels=2)
    before = good.read_bytes()
    assert repair_wav(good) is False
    assert good.read_bytes() == before


def test_repair_fixes_only_the_riff_size_when_the_data_size_is_right(tmp_path):
    good = make_wav(tmp_path / "good.wav", 1.0)
    raw = bytearray(good.read_bytes())
    raw[4:8] = struct.pack("<I", 12)
    good.write_bytes(bytes(raw))
    assert repair_wav(good) is True
    assert struct.unpack("<I", good.read_bytes()[4:8])[0] == good.stat().st_size - 8


def test_repair_finds_the_data_chunk_after_other_chunks(tmp_path):
    good = make_wav(tmp_path / "good.wav", 1.0)
    raw = good.read_bytes()
    at = raw.index(b"data")
    listed = raw[:at] + b"LIST" + struct.pack("<I", 5) + b"abcde\x00" + raw[at:]
    broken = tmp_path / "listed.wav"
    broken.write_bytes(listed)
    unfinalise(broken)
    assert repair_wav(broken) is True
    assert frames_of(broken) == frames_of(good)


@pytest.mark.parametrize("content", [b"", b"hello, not audio", b"RIFF\x00\x00\x00\x00WAVE",
                                     b"RIFF\x00\x00\x00\x00WAVEfmt \x02\x00\x00\x00ab"])
def test_repair_refuses_what_is_not_a_wav_and_changes_nothing(tmp_path, content):
    path = tmp_path / "x.wav"
    path.write_bytes(content)
    with pytest.raises(ValidationError):
        repair_wav(path)
    assert path.read_bytes() == content


# --- boxes ---------------------------------------------------------------------------------

def test_box_configs_round_trip_through_a_new_store(store, tmp_path, clock):
    store.save_box(BoxConfig("sales", max_messages=20, notify_unsolicited=True))
    again = VoicemailStore(tmp_path / "data", clock)
    assert [b.number for b in again.boxes()] == ["1001", "sales"]
    assert again.box("sales") == BoxConfig("sales", max_messages=20, notify_unsolicited=True)
    assert again.box("1001").email == "ann@example.com"


def test_an_unknown_box_is_not_found_and_a_bad_number_is_refused(store):
    with pytest.raises(NotFound):
        store.box("2002")
    with pytest.raises(ValidationError):
        store.box("../etc")
    assert store.snapshot("2002") is None


def test_deleting_a_box_removes_its_messages(store, incoming):
    store.deposit("1001", make_wav(incoming / "r.wav", 2), "+1")
    store.delete_box("1001")
    assert store.boxes() == [] and not (store.root / "1001").exists()


# --- messages ------------------------------------------------------------------------------

def test_deposit_moves_the_recording_in_with_its_metadata(store, incoming, clock):
    rec = make_wav(incoming / "rec.wav", 1.5)
    audio = rec.read_bytes()
    msg = store.deposit("1001", rec, "+48601234567", "Ann")
    assert not rec.exists()
    assert store.audio_path("1001", msg.id).read_bytes() == audio
    meta = json.loads((store.root / "1001" / f"{msg.id}.json").read_text())
    assert meta["caller"] == "+48601234567" and meta["caller_name"] == "Ann"
    assert meta["received"] == clock.now and meta["duration_s"] == 1.5
    assert meta["folder"] == "new" and meta["heard_by"] == [] and meta["emailed"] is None
    assert store.messages("1001") == [msg]


def test_deposit_repairs_a_recording_left_unfinished(store, incoming):
    rec = make_wav(incoming / "rec.wav", 3.0)
    unfinalise(rec)
    msg = store.deposit("1001", rec, "+1")
    assert msg.duration_s == 3.0
    assert frames_of(store.audio_path("1001", msg.id))[0] == 3 * RATE


def test_deposit_of_something_that_is_not_audio_stores_nothing(store, incoming):
    junk = incoming / "junk.wav"
    junk.write_bytes(b"not a wav at all")
    with pytest.raises(ValidationError):
        store.deposit("1001", junk, "+1")
    assert junk.exists() and store.messages("1001") == []


def test_deposit_into_an_unknown_box_is_refused(store, incoming):
    rec = make_wav(incoming / "rec.wav", 1)
    with pytest.raises(NotFound):
        store.deposit("2002", rec, "+1")
    assert rec.exists()


def test_deposit_across_file_systems_copies_then_removes(store, incoming, monkeypatch):
    rec = make_wav(incoming / "rec.wav", 1)
    audio = rec.read_bytes()
    real_replace = os.replace

    def replace(src, dst):
        if Path(src) == rec:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(src, dst)
    monkeypatch.setattr(os, "replace", replace)
    msg = store.deposit("1001", rec, "+1")
    assert not rec.exists()
    assert store.audio_path("1001", msg.id).read_bytes() == audio
    assert not list((store.root / "1001").glob(".*.tmp"))


def test_messages_are_listed_in_the_order_they_came(store, incoming, clock):
    ids = []
    for n in range(3):
        ids.append(store.deposit("1001", make_wav(incoming / f"{n}.wav", 1), f"+{n}").id)
        clock.advance(60)
    assert [m.id for m in store.messages("1001")] == ids
    assert [m.caller for m in store.messages("1001")] == ["+0", "+1", "+2"]


def test_heard_saved_emailed_and_deleted(store, incoming, clock, tmp_path):
    a = store.deposit("1001", make_wav(incoming / "a.wav", 1), "+1").id
    b = store.deposit("1001", make_wav(incoming / "b.wav", 1), "+2").id
    c = store.deposit("1001", make_wav(incoming / "c.wav", 1), "+3").id
    assert (store.counts("1001").new, store.counts("1001").old) == (3, 0)
    store.mark_heard("1001", a, by="1001")
    store.mark_heard("1001", a, by="1001")
    store.save("1001", b)
    clock.advance(5)
    store.mark_emailed("1001", c)
    store.delete("1001", a)
    again = VoicemailStore(tmp_path / "data", clock)
    assert again.counts("1001").new == 1 and again.counts("1001").old == 1
    assert [m.id for m in again.messages("1001", Folder.OLD)] == [b]
    assert again.message("1001", b).saved is True
    assert again.message("1001", c).emailed == clock.now
    with pytest.raises(NotFound):
        again.message("1001", a)
    assert not (again.root / "1001" / f"{a}.wav").exists()
    with pytest.raises(NotFound):
        again.delete("1001", a)
    again.mark_new("1001", b)
    assert again.counts("1001").new == 2


def test_heard_by_lists_each_listener_once(store, incoming):
    m = store.deposit("1001", make_wav(incoming / "a.wav", 1), "+1").id
    store.mark_heard("1001", m, by="1002")
    store.mark_heard("1001", m, by="1003")
    store.mark_heard("1001", m, by="1002")
    assert store.message("1001", m).heard_by == ("1002", "1003")


@pytest.mark.parametrize("bad_id", ["", "../box", "x/y", "nope"])
def test_an_unknown_or_malformed_message_id_is_not_found(store, bad_id):
    with pytest.raises(NotFound):
        store.message("1001", bad_id)


def test_unreadable_metadata_is_skipped_and_orphan_audio_cleaned(store, incoming):
    good = store.deposit("1001", make_wav(incoming / "a.wav", 1), "+1")
    box = store.root / "1001"
    (box / "0000000000001-deadbeef.json").write_text("{half")
    make_wav(box / "0000000000002-cafecafe.wav", 1)  # the power went before its metadata
    (box / ".0000000000003-x.json.abc.tmp").write_text("{")
    assert store.messages("1001") == [good]
    assert store.clean_up() == 1
    assert not (box / "0000000000002-cafecafe.wav").exists()
    assert not list(box.glob(".*.tmp"))
    assert store.audio_path("1001", good.id).exists()


# --- greetings ------------------------------------------------------------------------------

def test_greetings_per_kind(store, incoming):
    assert store.greetings("1001") == set()
    path = store.set_greeting("1001", GreetingKind.BUSY, make_wav(incoming / "g.wav", 2))
    store.set_greeting("1001", "temporary", make_wav(incoming / "t.wav", 1))
    assert store.greetings("1001") == {GreetingKind.BUSY, GreetingKind.TEMPORARY}
    assert store.greeting_path("1001", "busy") == path and wav_info(path).duration_s == 2
    assert store.greeting_path("1001", GreetingKind.UNAVAILABLE) is None
    assert store.delete_greeting("1001", "temporary") is True
    assert store.delete_greeting("1001", "temporary") is False
    assert store.greetings("1001") == {GreetingKind.BUSY}


def test_a_new_greeting_replaces_the_old_one(store, incoming):
    store.set_greeting("1001", "busy", make_wav(incoming / "g1.wav", 1))
    store.set_greeting("1001", "busy", make_wav(incoming / "g2.wav", 4))
    assert wav_info(store.greeting_path("1001", "busy")).duration_s == 4


def test_an_unknown_greeting_kind_is_refused(store, incoming):
    with pytest.raises(ValueError):
        store.set_greeting("1001", "holiday", make_wav(incoming / "g.wav", 1))


# --- the menu on top of the store -----------------------------------------------------------

def test_the_phone_menu_reads_the_store_through_snapshots(store, incoming, clock):
    first = store.deposit("1001", make_wav(incoming / "a.wav", 1), "+1")
    second = store.deposit("1001", make_wav(incoming / "b.wav", 1), "+2")
    store.mark_heard("1001", first.id)
    store.set_greeting("1001", "temporary", make_wav(incoming / "t.wav", 1))
    snap = store.snapshot("1001")
    assert snap.greetings == {"temporary"} and len(snap.messages) == 2
    menu = Access("call", store.snapshot, PinGuard(clock), clock, box="1001")
    menu.start()
    for d in "1234#":
        out = menu.digit(d)
    assert menu.state is AccessState.MAIN_MENU
    assert out[0].prompt.args == {"new": 1, "old": 1}
    assert menu.digit("1")[0].playlist == (MessageAudio("1001", second.id, 1),)


# --- recordings a crash interrupted ---------------------------------------------------------

def test_a_recording_interrupted_by_a_crash_is_delivered_at_the_next_start(store, tmp_path, clock):
    rec = store.incoming_path("1001", "call/7f3", "+48601234567", "Ann")
    started = clock.now
    make_wav(rec, 4.0)
    unfinalise(rec)  # the engine worker died before closing the recorder
    clock.advance(3600)
    [msg] = VoicemailStore(tmp_path / "data", clock).recover_incoming()
    assert (msg.caller, msg.caller_name, msg.received, msg.duration_s) == ("+48601234567", "Ann", started, 4.0)
    assert frames_of(store.audio_path("1001", msg.id))[0] == 4 * RATE
    assert not list((store.root / ".incoming").iterdir())


def test_interrupted_recordings_too_short_or_for_a_deleted_box_are_dropped(store, clock):
    store.save_box(BoxConfig("sales"))
    short = store.incoming_path("1001", "c1", "+1")
    make_wav(short, 0.4)
    gone = store.incoming_path("sales", "c2", "+2")
    make_wav(gone, 5)
    store.incoming_path("1001", "c3", "+3")  # the recorder never started
    store.delete_box("sales")
    assert store.recover_incoming() == []
    assert not list((store.root / ".incoming").iterdir())
    assert store.messages("1001") == []


def test_a_finished_recording_is_deposited_from_incoming_without_its_note(store):
    rec = store.incoming_path("1001", "c1", "+1")
    make_wav(rec, 2)
    store.deposit("1001", rec, "+1")
    assert not list((store.root / ".incoming").iterdir())
    assert store.recover_incoming() == [] and store.counts("1001").new == 1


def test_a_discarded_recording_leaves_nothing(store, tmp_path):
    rec = store.incoming_path("1001", "c1", "+1")
    make_wav(rec, 0.5)
    store.discard_incoming(rec)
    assert not list((store.root / ".incoming").iterdir())
    with pytest.raises(ValidationError):
        store.discard_incoming(tmp_path / "elsewhere.wav")


def test_voicemail_menus_speak_the_callers_language_not_always_english():
    from types import SimpleNamespace

    from appliance.logic import voicemail as vm
    from appliance.voicemail_runtime import VoicemailCall
    asked: list[tuple[str, str]] = []
    ports = SimpleNamespace(prompt_file=lambda name, language: asked.append((name, language)) or f"/{language}/{name}",
                            store=None, pin_guard=None, send=None, clock=lambda: 0.0)
    call = VoicemailCall(SimpleNamespace(id="w0"), ports, "w0-1", "c1", "1001", "", machine=None, language="pl")
    assert call._audio_file(vm.Prompt("vm-default-greeting")) == "/pl/vm-default-greeting"
    assert asked == [("vm-default-greeting", "pl")]


def test_a_greeting_recorded_by_phone_is_taken_in_the_owners_box_and_never_becomes_a_message(tmp_path):
    import wave

    store = VoicemailStore(tmp_path / "vm")
    store.save_box(BoxConfig("1001", owner="1001"))
    take = store.greeting_take_path("1001", "call/1")
    assert take.parent == store.root / "1001" / "greetings" and take.name.startswith(".take-")
    with wave.open(str(take), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000), w.writeframes(b"\x00\x01" * 16000)
    assert store.recover_incoming() == []  # not a message after a power loss
    store.set_greeting("1001", "unavailable", take)
    assert store.greeting_path("1001", "unavailable") is not None and not take.exists()
    again = store.greeting_take_path("1001", "call/2")
    again.write_bytes(b"x")
    store.discard_incoming(again)
    assert not again.exists()
