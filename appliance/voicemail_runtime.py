"""Voicemail calls at run time: leaving a message, and listening to one, on an engine leg.

The pure machines (`appliance.logic.voicemail`) decide; this module plays
their prompts and greetings, records, and files messages into the
`VoicemailStore`, then tells the box (MWI to phones, the event stream, email).
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.logic import voicemail as vm
from appliance.voicemail_store import VoicemailStore

if TYPE_CHECKING:
    from appliance.switchboard import Switchboard, Worker

log = logging.getLogger("callbox.voicemail")


class VoicemailCall:
    """The caller's leg in one worker, driven by a Deposit or an Access machine."""

    def __init__(self, sb: "Switchboard", w: "Worker", leg: str, call_id: str, caller: str, caller_name: str,
                 machine: Any, *, answered: bool = False, record_base: dict[str, Any] | None = None,
                 language: str = "en"):
        self.sb, self.w, self.inbound, self.call_id = sb, w, leg, call_id
        self.language = language  # the caller's: the flow's language, or the box's
        self.caller, self.caller_name = caller, caller_name
        self.machine = machine
        self.answered = answered
        self.start = time.time()
        self.playlist: list[str] = []
        self.turn = 0
        self.timer: asyncio.TimerHandle | None = None
        self.take: str | None = None       # the WAV being recorded: an absolute path from the store
        self.ended = False
        self.record_base = record_base or {}
        self.outcome = "VOICEMAIL"

    @property
    def store(self) -> VoicemailStore:
        return self.sb.core.voicemail

    def send(self, cmd: str, **fields: Any) -> None:
        asyncio.ensure_future(self.sb.send(self.w, cmd, **fields))

    async def begin(self) -> None:
        if not self.answered:
            try:
                await self.w.client.command("answer", leg=self.inbound)
            except Exception as e:
                log.info("voicemail %s: could not answer: %s", self.call_id, e)
                return
            self.answered = True
        self.run(self.machine.start())

    def on_event(self, kind: str, event: dict[str, Any]) -> None:
        if event.get("leg") != self.inbound:
            return
        if kind == "dtmf":
            self.run(self.machine.digit(str(event.get("digit", ""))))
        elif kind == "play_done":
            self._next()
        elif kind == "hangup":
            if self.timer:
                self.timer.cancel()
            self.run(self.machine.hangup())
            self._finish()

    def _next(self) -> None:
        if self.playlist:
            self.send("play", leg=self.inbound, file=self.playlist.pop(0))
        else:
            self.run(self.machine.play_done(self.turn))

    # --- carrying out the machine's commands --------------------------------------------------

    def run(self, commands: list) -> None:
        for c in commands:
            if isinstance(c, vm.Play):
                self.turn = c.turn
                files = [f for f in (self._file(item) for item in c.items) if f]
                self.playlist = files
                if files:
                    self.send("play", leg=self.inbound, file=self.playlist.pop(0))
                else:
                    asyncio.get_running_loop().call_soon(self._next)
            elif isinstance(c, vm.Record):
                if c.action == vm.RecordAction.START:
                    box = getattr(self.machine, "box", None)
                    number = box.number if box is not None else "greetings"
                    self.take = str(self.store.incoming_path(number, self.call_id, self.caller, self.caller_name))
                    self.send("record_start", leg=self.inbound, file=self.take)
                else:
                    asyncio.ensure_future(self._stop_recording())
            elif isinstance(c, vm.StartTimer):
                if self.timer:
                    self.timer.cancel()
                turn = c.turn
                self.timer = asyncio.get_running_loop().call_later(
                    max(0.0, c.at - time.time()), lambda: self.run(self.machine.timeout(turn)))
            elif isinstance(c, vm.Hangup):
                self.send("hangup", leg=self.inbound)
            elif isinstance(c, vm.SaveRecording):
                asyncio.ensure_future(self._save(c))
            elif isinstance(c, vm.DiscardRecording):
                if self.take:
                    self.store.discard_incoming(Path(self.take))
            elif isinstance(c, vm.StartLogin):
                self.machine = vm.Access(self.call_id, self.store.snapshot, self.sb.core.pin_guard, time.time,
                                         box=c.box)
                self.outcome = "VOICEMAIL_LOGIN"
                self.run(self.machine.start())
            elif isinstance(c, vm.MarkHeard):
                self.store.mark_heard(c.box, c.message_id, by=self.caller)
                self.sb.core.voicemail_changed(c.box)
            elif isinstance(c, vm.SaveMessage):
                self.store.save(c.box, c.message_id)
                self.sb.core.voicemail_changed(c.box)
            elif isinstance(c, vm.DeleteMessage):
                self.store.delete(c.box, c.message_id)
                self.sb.core.voicemail_changed(c.box)
            elif isinstance(c, vm.ChangePin):
                config = self.store.box(c.box)
                self.store.save_box(vm.BoxConfig.from_dict(config.to_dict() | {"pin_hash": c.pin_hash}))
            elif isinstance(c, vm.SaveGreeting) and self.take:
                self.store.set_greeting(c.box, c.kind, Path(self.take))
            elif isinstance(c, vm.DeleteGreeting):
                self.store.delete_greeting(c.box, c.kind)
            else:
                log.info("voicemail %s: %s is not carried out here", self.call_id, type(c).__name__)

    async def _stop_recording(self) -> None:
        try:
            await self.w.client.command("record_stop", leg=self.inbound)
        except Exception:
            pass  # the leg is gone: the worker closed the recording itself

    async def _save(self, c: vm.SaveRecording) -> None:
        await self._stop_recording()  # the WAV is complete when the worker answers
        if not self.take:
            return
        try:
            message = self.store.deposit(c.box, Path(self.take), c.caller, c.caller_name)
        except Exception as e:  # a message must never vanish silently
            log.error("voicemail %s: could not file the message: %s", self.call_id, e)
            return
        self.sb.core.voicemail_deposited(c.box, message)

    def _file(self, item: Any) -> str | None:
        if isinstance(item, vm.Prompt):
            return self.sb.prompt_file(item.name, self.language)
        if isinstance(item, vm.GreetingAudio):
            path = self.store.greeting_path(item.box, item.kind)
            return str(path) if path else None
        if isinstance(item, vm.MessageAudio):
            return str(self.store.audio_path(item.box, item.message_id))
        if isinstance(item, vm.TakeAudio) and self.take:
            return self.take
        return None

    def _finish(self) -> None:
        if self.ended:
            return
        self.ended = True
        end = time.time()
        record = {"call_id": self.call_id, "start": self.start, "answer": self.start, "end": end,
                  "duration_s": round(end - self.start, 3), "talk_s": 0.0, "disposition": "ANSWERED",
                  "direction": "internal", "caller": self.caller, "caller_name": self.caller_name,
                  "callee": getattr(getattr(self.machine, "box", None), "number", ""), "answered_by": "voicemail",
                  "hangup_by": "caller", "worker": self.w.id, "trunk": None, "outcome": self.outcome}
        self.sb.finish_flow_call(self, record | self.record_base)
