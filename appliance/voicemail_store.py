"""Voicemail on disk: boxes, messages (WAV + JSON metadata) and greetings.

Layout under the data directory:

    voicemail/<box>/box.json                the box's config (BoxConfig)
    voicemail/<box>/<id>.wav, <id>.json     a message and its metadata
    voicemail/<box>/greetings/<kind>.wav    unavailable, busy, temporary

A message exists once its metadata file exists: the audio is moved in and
fsynced first, the metadata is written atomically last. A crash in between
leaves a WAV without metadata, which listings ignore and `clean_up` removes.
Deleting goes the other way round (metadata first), so a message is never
listed without its audio.

The recordings come from the engine's recorder, which writes the RIFF and
data sizes only when it is closed; a worker that dies mid-call leaves a WAV
whose header says it is empty. `repair_wav` recomputes the sizes from the
file's length, and `deposit` runs it on every recording it takes in.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from appliance.errors import NotFound, StoreCorrupt, StoreError, ValidationError
from appliance.logic.voicemail import (
    BoxConfig, BoxSnapshot, Folder, GreetingKind, MessageInfo)
from appliance.store.atomic import atomic_write_bytes, encode_json, fsync_dir

log = logging.getLogger(__name__)

BOX_FILE = "box.json"
GREETINGS = "greetings"
INCOMING = ".incoming"  # recordings in progress, each with a note of whose message it is


# --- WAV headers ---------------------------------------------------------------------------

@dataclass(frozen=True)
class WavInfo:
    channels: int
    sample_rate: int
    bits: int
    block_align: int
    byte_rate: int
    data_offset: int
    data_size: int

    @property
    def duration_s(self) -> float:
        return self.data_size / self.byte_rate if self.byte_rate else 0.0


def _chunks(f, size: int) -> tuple[dict[str, Any] | None, int | None, int]:
    """Walk the chunks: (fmt fields, offset of the data chunk's header, its declared size)."""
    fmt: dict[str, Any] | None = None
    pos = 12
    while pos + 8 <= size:
        f.seek(pos)
        chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
        if chunk_id == b"fmt ":
            raw = f.read(min(chunk_size, 40))
            if len(raw) < 16:
                break
            _tag, channels, rate, byte_rate, block_align, bits = struct.unpack("<HHIIHH", raw[:16])
            fmt = {"channels": channels, "sample_rate": rate, "byte_rate": byte_rate,
                   "block_align": block_align, "bits": bits}
        elif chunk_id == b"data":
            return fmt, pos, chunk_size
        pos += 8 + chunk_size + (chunk_size & 1)
    return fmt, None, 0


def _open_wav(path: Path, mode: str):
    try:
        return open(path, mode)
    except FileNotFoundError:
        raise NotFound(f"no audio file {path}") from None
    except OSError as e:
        raise StoreError(f"cannot open {path}: {e.strerror or e}") from e


def _check_riff(f, path: Path) -> int:
    size = os.fstat(f.fileno()).st_size
    f.seek(0)
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValidationError(f"{path.name} is not a WAV file")
    return size


def wav_info(path: Path) -> WavInfo:
    """The format and the length of a WAV file as its header says; ValidationError if not WAV."""
    path = Path(path)
    with _open_wav(path, "rb") as f:
        size = _check_riff(f, path)
        fmt, data_at, data_size = _chunks(f, size)
    if fmt is None or data_at is None or not fmt["channels"] or not fmt["block_align"]:
        raise ValidationError(f"{path.name} has no usable fmt and data chunks")
    return WavInfo(data_offset=data_at + 8, data_size=min(data_size, size - data_at - 8), **fmt)


def repair_wav(path: Path) -> bool:
    """Fix the RIFF and data sizes of a WAV whose writer never finalised them.

    Returns True if the header was changed. A file that is not a WAV at all
    raises ValidationError and is left as it is.
    """
    path = Path(path)
    with _open_wav(path, "r+b") as f:
        size = _check_riff(f, path)
        fmt, data_at, declared = _chunks(f, size)
        if fmt is None or data_at is None or not fmt["block_align"]:
            raise ValidationError(f"{path.name} has no usable fmt and data chunks")
        data_offset = data_at + 8
        available = size - data_offset
        changed = False
        if (declared == 0 and available > 0) or declared > available:
            # The data chunk runs to the end of the file; a sample cut in half
            # by the crash is dropped so players do not misalign channels.
            whole = available - available % fmt["block_align"]
            if whole != available:
                f.truncate(data_offset + whole)
                size = data_offset + whole
            f.seek(data_at + 4)
            f.write(struct.pack("<I", whole))
            changed = True
        f.seek(4)
        (riff_size,) = struct.unpack("<I", f.read(4))
        if riff_size != size - 8:
            f.seek(4)
            f.write(struct.pack("<I", size - 8))
            changed = True
        if changed:
            f.flush()
            os.fsync(f.fileno())
            log.info("repaired the header of %s (%d bytes of audio)", path, size - data_offset)
        return changed


# --- messages -------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredMessage:
    id: str
    box: str
    caller: str
    caller_name: str
    received: float
    duration_s: float
    folder: Folder = Folder.NEW
    heard_by: tuple[str, ...] = ()
    saved: bool = False
    emailed: float | None = None  # when the email with this message was handed to the mailer

    def info(self) -> MessageInfo:
        return MessageInfo(self.id, self.folder, self.caller, self.received, self.duration_s)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["folder"] = self.folder.value
        d["heard_by"] = list(self.heard_by)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StoredMessage:
        return cls(id=d["id"], box=d["box"], caller=d.get("caller", ""),
                   caller_name=d.get("caller_name", ""), received=float(d["received"]),
                   duration_s=float(d.get("duration_s", 0.0)), folder=Folder(d.get("folder", "new")),
                   heard_by=tuple(d.get("heard_by", ())), saved=bool(d.get("saved", False)),
                   emailed=d.get("emailed"))


@dataclass(frozen=True)
class Counts:
    new: int
    old: int


def _move_in(src: Path, dst: Path) -> None:
    """Move a finished file into place durably, across file systems if need be."""
    with open(src, "rb") as f:
        os.fsync(f.fileno())
    try:
        os.replace(src, dst)
    except OSError as e:
        if e.errno != errno.EXDEV:
            raise
        tmp = dst.with_name(f".{dst.name}.{uuid.uuid4().hex[:8]}.tmp")
        with open(src, "rb") as s, open(tmp, "wb") as d:
            shutil.copyfileobj(s, d, 1 << 20)
            d.flush()
            os.fsync(d.fileno())
        os.replace(tmp, dst)
        os.unlink(src)
    fsync_dir(dst.parent)


@dataclass
class VoicemailStore:
    """The voicemail part of the data directory. Only the core writes it."""

    data_dir: Path
    clock: Callable[[], float] = time.time
    root: Path = field(init=False)
    _lock: threading.RLock = field(init=False, default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.root = Path(self.data_dir).resolve() / "voicemail"  # the engine records to paths under it
        self.root.mkdir(parents=True, exist_ok=True)

    # -- boxes ----------------------------------------------------------------------

    def _dir(self, box: str) -> Path:
        # BoxConfig's validation keeps a number a single safe path component.
        BoxConfig(box)
        return self.root / box

    def _existing(self, box: str) -> Path:
        d = self._dir(box)
        if not (d / BOX_FILE).exists():
            raise NotFound(f"no voicemail box {box}")
        return d

    def save_box(self, config: BoxConfig) -> None:
        with self._lock:
            d = self._dir(config.number)
            (d / GREETINGS).mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(d / BOX_FILE, encode_json(config.to_dict()), 0o600)

    def box(self, number: str) -> BoxConfig:
        path = self._existing(number) / BOX_FILE
        return BoxConfig.from_dict(self._read_json(path))

    def boxes(self) -> list[BoxConfig]:
        return [self.box(p.parent.name) for p in sorted(self.root.glob(f"*/{BOX_FILE}"))]

    def delete_box(self, number: str) -> None:
        """Remove a box with its messages and greetings."""
        with self._lock:
            d = self._existing(number)
            (d / BOX_FILE).unlink()
            fsync_dir(d)
            shutil.rmtree(d, ignore_errors=True)
            fsync_dir(self.root)

    def snapshot(self, number: str) -> BoxSnapshot | None:
        """What the phone menu needs at login; None if there is no such box."""
        try:
            config = self.box(number)
        except (NotFound, ValidationError):
            return None
        return BoxSnapshot(config, tuple(m.info() for m in self.messages(number)),
                           frozenset(self.greetings(number)))

    # -- messages -------------------------------------------------------------------

    def deposit(self, box: str, wav_path: Path, caller: str, caller_name: str = "",
                received: float | None = None) -> StoredMessage:
        """Take a finished recording in as a new message; the file at wav_path is moved."""
        wav_path = Path(wav_path)
        with self._lock:
            d = self._existing(box)
            repair_wav(wav_path)
            info = wav_info(wav_path)
            when = self.clock() if received is None else received
            # Time first, so names sort in the order messages came in.
            msg_id = f"{int(when * 1000):013d}-{uuid.uuid4().hex[:8]}"
            msg = StoredMessage(msg_id, box, caller, caller_name, when, round(info.duration_s, 3))
            try:
                _move_in(wav_path, d / f"{msg_id}.wav")
            except OSError as e:
                raise StoreError(f"cannot store a message in box {box}: {e.strerror or e}") from e
            self._write(msg)
            if wav_path.parent == self.root / INCOMING:
                wav_path.with_suffix(".json").unlink(missing_ok=True)
            log.info("voicemail %s: new message %s from %s (%.1f s)", box, msg_id, caller, msg.duration_s)
            return msg

    # -- recordings in progress -------------------------------------------------------

    def incoming_path(self, box: str, call_id: str, caller: str = "", caller_name: str = "") -> Path:
        """Where the engine records a message for `box`.

        A note of the box and the caller is written beside it first, so a
        recording that a crash interrupted can still be delivered by
        `recover_incoming()` when the core starts again.
        """
        self._existing(box)
        safe_call = "".join(c if c.isalnum() or c in "-_." else "_" for c in call_id)[:80]
        d = self.root / INCOMING
        d.mkdir(exist_ok=True)
        stem = f"{box}--{safe_call}"
        note = {"box": box, "caller": caller, "caller_name": caller_name, "started": self.clock()}
        atomic_write_bytes(d / f"{stem}.json", encode_json(note), 0o600)
        return d / f"{stem}.wav"

    def discard_incoming(self, wav_path: Path) -> None:
        wav_path = Path(wav_path)
        is_greeting_take = wav_path.parent.name == GREETINGS and wav_path.name.startswith(".take-") \
            and wav_path.parent.parent.parent == self.root
        if wav_path.parent != self.root / INCOMING and not is_greeting_take:
            raise ValidationError(f"{wav_path} is not a recording in progress")
        wav_path.unlink(missing_ok=True)
        wav_path.with_suffix(".json").unlink(missing_ok=True)

    def recover_incoming(self, min_s: float = 1.0) -> list[StoredMessage]:
        """Deliver the recordings a crash interrupted; call it when the core starts, before any call."""
        d = self.root / INCOMING
        if not d.is_dir():
            return []
        recovered = []
        with self._lock:
            for note_path in sorted(d.glob("*.json")):
                wav = note_path.with_suffix(".wav")
                try:
                    note = self._read_json(note_path)
                    if not wav.exists():
                        raise NotFound("the recording never started")
                    repair_wav(wav)
                    if wav_info(wav).duration_s < min_s:
                        raise ValidationError("shorter than a message")
                    recovered.append(self.deposit(str(note["box"]), wav, str(note.get("caller", "")),
                                                  str(note.get("caller_name", "")),
                                                  received=float(note.get("started", self.clock()))))
                except (NotFound, ValidationError, StoreCorrupt, KeyError, ValueError) as e:
                    log.info("voicemail: dropping interrupted recording %s: %s", wav.name, e)
                    self.discard_incoming(wav)
            for wav in d.glob("*.wav"):
                if not wav.with_suffix(".json").exists():
                    wav.unlink()
        return recovered

    def messages(self, box: str, folder: Folder | str | None = None) -> list[StoredMessage]:
        d = self._existing(box)
        out = []
        for meta in sorted(d.glob("*.json")):
            if meta.name == BOX_FILE or meta.name.startswith("."):
                continue
            try:
                msg = StoredMessage.from_dict(self._read_json(meta))
            except (StoreCorrupt, KeyError, ValueError, TypeError) as e:
                log.warning("voicemail %s: skipping unreadable %s: %s", box, meta.name, e)
                continue
            if folder is None or msg.folder == folder:
                out.append(msg)
        return out

    def message(self, box: str, message_id: str) -> StoredMessage:
        path = self._meta(box, message_id)
        if not path.exists():
            raise NotFound(f"no message {message_id} in box {box}")
        return StoredMessage.from_dict(self._read_json(path))

    def audio_path(self, box: str, message_id: str) -> Path:
        self.message(box, message_id)
        return self._dir(box) / f"{message_id}.wav"

    def counts(self, box: str) -> Counts:
        msgs = self.messages(box)
        return Counts(sum(m.folder is Folder.NEW for m in msgs), sum(m.folder is Folder.OLD for m in msgs))

    def mark_heard(self, box: str, message_id: str, by: str = "") -> StoredMessage:
        """The message was listened to: it moves to the old folder."""
        with self._lock:
            msg = self.message(box, message_id)
            heard = msg.heard_by + ((by,) if by and by not in msg.heard_by else ())
            return self._write(replace(msg, folder=Folder.OLD, heard_by=heard))

    def mark_new(self, box: str, message_id: str) -> StoredMessage:
        with self._lock:
            return self._write(replace(self.message(box, message_id), folder=Folder.NEW))

    def save(self, box: str, message_id: str) -> StoredMessage:
        """Keep the message: old folder, and exempt from deletion after email."""
        with self._lock:
            return self._write(replace(self.message(box, message_id), folder=Folder.OLD, saved=True))

    def mark_emailed(self, box: str, message_id: str) -> StoredMessage:
        with self._lock:
            return self._write(replace(self.message(box, message_id), emailed=self.clock()))

    def delete(self, box: str, message_id: str) -> None:
        with self._lock:
            meta = self._meta(box, message_id)
            try:
                meta.unlink()
            except FileNotFoundError:
                raise NotFound(f"no message {message_id} in box {box}") from None
            (meta.parent / f"{message_id}.wav").unlink(missing_ok=True)
            fsync_dir(meta.parent)

    def clean_up(self) -> int:
        """Remove audio that never got metadata (a crash during deposit); returns how many."""
        removed = 0
        with self._lock:
            for d in self.root.iterdir():
                if not (d / BOX_FILE).exists():
                    continue
                for leftover in [*d.glob(".*.tmp"), *(d / GREETINGS).glob(".*.tmp")]:
                    leftover.unlink(missing_ok=True)
                for wav in d.glob("*.wav"):
                    if not wav.with_suffix(".json").exists():
                        wav.unlink(missing_ok=True)
                        removed += 1
        return removed

    # -- greetings ------------------------------------------------------------------

    def set_greeting(self, box: str, kind: GreetingKind | str, wav_path: Path) -> Path:
        """Make a recording (or an upload) the box's greeting of `kind`; the file is moved."""
        kind = GreetingKind(kind)
        wav_path = Path(wav_path)
        with self._lock:
            d = self._existing(box) / GREETINGS
            d.mkdir(exist_ok=True)
            repair_wav(wav_path)
            wav_info(wav_path)
            dst = d / f"{kind.value}.wav"
            try:
                _move_in(wav_path, dst)
            except OSError as e:
                raise StoreError(f"cannot store a greeting for box {box}: {e.strerror or e}") from e
            return dst

    def greeting_take_path(self, box: str, call_id: str) -> Path:
        """Where the owner's phone records a new greeting before they keep it (`set_greeting`).

        In the box's own greetings folder, hidden, so it is never taken for a message (the
        incoming folder's recordings are delivered as messages after a power loss)."""
        safe_call = "".join(c if c.isalnum() or c in "-_." else "_" for c in call_id)[:80]
        d = self._existing(box) / GREETINGS
        d.mkdir(exist_ok=True)
        return d / f".take-{safe_call}.wav"

    def greeting_path(self, box: str, kind: GreetingKind | str) -> Path | None:
        path = self._existing(box) / GREETINGS / f"{GreetingKind(kind).value}.wav"
        return path if path.exists() else None

    def greetings(self, box: str) -> set[GreetingKind]:
        return {k for k in GreetingKind if self.greeting_path(box, k) is not None}

    def delete_greeting(self, box: str, kind: GreetingKind | str) -> bool:
        with self._lock:
            path = self._existing(box) / GREETINGS / f"{GreetingKind(kind).value}.wav"
            if not path.exists():
                return False
            path.unlink()
            fsync_dir(path.parent)
            return True

    # -- files ----------------------------------------------------------------------

    def _meta(self, box: str, message_id: str) -> Path:
        if not message_id or not all(c.isalnum() or c == "-" for c in message_id):
            raise NotFound(f"no message {message_id!r} in box {box}")
        return self._existing(box) / f"{message_id}.json"

    def _write(self, msg: StoredMessage) -> StoredMessage:
        atomic_write_bytes(self._dir(msg.box) / f"{msg.id}.json", encode_json(msg.to_dict()), 0o600)
        return msg

    @staticmethod
    def _read_json(path: Path) -> dict[str, Any]:
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise NotFound(f"{path} does not exist") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise StoreCorrupt(f"{path} does not parse ({e})") from e
        except OSError as e:
            raise StoreError(f"cannot read {path}: {e.strerror or e}") from e
        if not isinstance(data, dict):
            raise StoreCorrupt(f"{path} is not a JSON object")
        return data
