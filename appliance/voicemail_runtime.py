"""Voicemail calls at run time: leaving a message, and listening to one, on an engine leg.

The handler (`appliance.logic.handlers.voicemail_call`) and the mailbox machines it drives
decide; this module feeds the handler what the engine reports about the caller's leg, gives
its media commands to a `MediaExecutor` in the call's worker, and carries out its mailbox
changes on the `VoicemailStore` through the ports it was given (`VoicemailPorts`), then tells
the box (MWI to phones, the event stream, email).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import StateMachineError
from appliance.logic import voicemail as vm
from appliance.logic.handlers import voicemail_call as h
from appliance.logic.media import WriteRecord
from appliance.media_executor import MediaExecutor
from appliance.voicemail_store import VoicemailStore

log = logging.getLogger("callbox.voicemail")

Outcome = h.VoicemailOutcome


@dataclass(frozen=True)
class VoicemailPorts:
    """What a voicemail call in one worker needs from the rest of the box."""

    send: Callable[[str, dict[str, Any]], None]  # an engine command to the worker, not awaited
    command: Callable[..., Awaitable[Any]]  # an engine command whose answer matters (answer, record_stop)
    prompt_file: Callable[[str, str], str | None]  # (prompt name, language) -> WAV
    store: VoicemailStore
    pin_guard: vm.PinGuard
    changed: Callable[[str], None]  # a box's messages changed: MWI and the event stream
    deposited: Callable[[str, Any], None]  # a new message was filed: email and the event stream
    finish: Callable[[Any, dict[str, Any]], None]  # the call is over: forget it, file its record
    clock: Callable[[], float] = time.time


class VoicemailCall:
    """The caller's leg in one worker, driven by a Deposit or an Access machine."""

    def __init__(self, w: Any, ports: VoicemailPorts, leg: str, call_id: str, caller: str, caller_name: str,
                 machine: vm.Deposit | vm.Access, *, answered: bool = False, callee: str = "",
                 language: str = "en", outcome: Outcome = Outcome.VOICEMAIL):
        self.w, self.ports, self.inbound = w, ports, leg
        self.answered = answered
        self.language = language  # the caller's: the flow's language, or the box's
        self.recording: str | None = None
        self.ended = False
        store = ports.store
        self.call = h.VoicemailCall(
            call_id, leg, caller, caller_name, callee, w.id, ports.clock, machine, audio_file=self._audio_file,
            take_path=lambda box, greeting: str(store.greeting_take_path(box, call_id) if greeting
                                                else store.incoming_path(box, call_id, caller, caller_name)),
            open_menu=lambda box: vm.Access(call_id, store.snapshot, ports.pin_guard, ports.clock, box=box),
            outcome=outcome)
        self.media = MediaExecutor(ports.send, prompt_file=lambda path: path, on_timer=self._timer,
                                   other=self._effect)

    call_id = property(lambda self: self.call.id)
    caller = property(lambda self: self.call.caller)
    caller_name = property(lambda self: self.call.caller_name)
    callee = property(lambda self: self.call.callee)
    start = property(lambda self: self.call.start)
    machine = property(lambda self: self.call.mailbox)

    @property
    def outcome(self) -> str:
        return self.call.outcome

    @outcome.setter
    def outcome(self, value: str) -> None:
        """The queue's result, when a queue's caller was sent here (the record says it)."""
        self.call.outcome = value

    async def begin(self) -> None:
        if not self.answered:
            try:
                await self.ports.command("answer", leg=self.inbound)
            except Exception as e:
                log.info("voicemail %s: could not answer: %s", self.call_id, e)
                return
            self.answered = True
        self._run(self.call.begin)

    def on_event(self, kind: str, event: dict[str, Any]) -> None:
        if event.get("leg") != self.inbound:
            return
        if kind == "dtmf":
            digit = str(event.get("digit", ""))
            self._run(lambda: self.call.digit(digit))
        elif kind == "play_done":
            self._run(self.call.play_done)
        elif kind == "hangup":
            self._run(self.call.hung_up)

    def _timer(self, name: str) -> None:
        self._run(lambda: self.call.timer(name))

    def _run(self, step: Callable[[], list[Any]]) -> None:
        try:
            commands = step()
        except StateMachineError as e:  # an engine report that does not fit the call now
            log.warning("%s", e)
            return
        self.media(commands)

    # --- the handler's mailbox changes --------------------------------------------------------

    def _effect(self, c: Any) -> None:
        store, changed = self.ports.store, self.ports.changed
        if isinstance(c, WriteRecord):
            self.ended = True
            self.ports.finish(self, c.record)
        elif isinstance(c, h.FileMessage):
            asyncio.ensure_future(self._file_message(c))
        elif isinstance(c, h.DiscardTake):
            store.discard_incoming(Path(c.take))
        elif isinstance(c, h.KeepGreeting):
            store.set_greeting(c.box, c.kind, Path(c.take))
        elif isinstance(c, vm.MarkHeard):
            store.mark_heard(c.box, c.message_id, by=self.caller)
            changed(c.box)
        elif isinstance(c, vm.SaveMessage):
            store.save(c.box, c.message_id)
            changed(c.box)
        elif isinstance(c, vm.DeleteMessage):
            store.delete(c.box, c.message_id)
            changed(c.box)
        elif isinstance(c, vm.ChangePin):
            config = store.box(c.box)
            store.save_box(vm.BoxConfig.from_dict(config.to_dict() | {"pin_hash": c.pin_hash}))
        elif isinstance(c, vm.DeleteGreeting):
            store.delete_greeting(c.box, c.kind)
        else:
            log.info("voicemail %s: %s is not carried out here", self.call_id, type(c).__name__)

    async def _file_message(self, c: h.FileMessage) -> None:
        try:
            await self.ports.command("record_stop", leg=self.inbound)  # the WAV is complete when the worker answers
        except Exception:
            pass  # the leg is gone: the worker closed the recording itself
        try:
            message = self.ports.store.deposit(c.box, Path(c.take), c.caller, c.caller_name)
        except Exception as e:  # a message must never vanish silently
            log.error("voicemail %s: could not file the message: %s", self.call_id, e)
            return
        self.ports.deposited(c.box, message)

    def _audio_file(self, item: vm.Audio) -> str | None:
        if isinstance(item, vm.Prompt):
            return self.ports.prompt_file(item.name, self.language)
        if isinstance(item, vm.GreetingAudio):
            path = self.ports.store.greeting_path(item.box, item.kind)
            return str(path) if path else None
        if isinstance(item, vm.MessageAudio):
            return str(self.ports.store.audio_path(item.box, item.message_id))
        return None
