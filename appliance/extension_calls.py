"""Calls between phones, and out through the trunks: placed, rung and carried out.

Each is a `Call` of the call table (`appliance.logic.calls`): this module rings an extension's
phones (in waves of what fits the worker), a ring group's members, or an outside number through
the trunks in failover order; feeds the call the worker's events; and carries out the commands
the table returns (engine commands, the call record, a transfer to resolve, voicemail when nobody
answers, recording by policy once two parties are bridged).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from appliance.engine_pool import Worker
from appliance.errors import EngineError
from appliance.leg_owners import LegOwners
from appliance.logic.calls import Bridge, Call, CallState, Command, Dial, Reject, ResolveTransfer, Target, WriteRecord
from appliance.logic.dial_targets import Unreachable, through_trunks
from appliance.logic.routing import fails_over
from appliance.ports import Clock, Dialer, FindExtension, FindRingGroup, Locations
from appliance.call_placement import Placement
from appliance.media_executor import engine_message

log = logging.getLogger("callbox.switchboard")

RING_TIMEOUT_S = 30.0

# (worker, leg, call_id, caller, caller_name, box, reason, answered=)
ToVoicemail = Callable[..., None]


class ExtensionCalls:
    def __init__(self, *, legs: LegOwners, contacts: Locations, extension: FindExtension,
                 ring_group: FindRingGroup, ring_group_named: FindRingGroup, dialer: Dialer,
                 sounds: Mapping[str, Path], write_record: Callable[[dict[str, Any], str | None], None],
                 record_code: Callable[[Any, str, str], bool],
                 start_recording: Callable[[Worker, Any, list[str], list[str], str | None], None],
                 resolve_transfer: Callable[[Worker, Call, str], None], to_voicemail: ToVoicemail,
                 forget_placement: Callable[[str], None], call_over: Callable[[str], None], clock: Clock,
                 ring_timeout_s: float = RING_TIMEOUT_S):
        self.legs, self.contacts, self.extension = legs, contacts, extension
        self.ring_group, self.ring_group_named, self.dialer = ring_group, ring_group_named, dialer
        self.sounds, self.write_record, self.record_code = sounds, write_record, record_code
        self.start_recording, self.resolve_transfer = start_recording, resolve_transfer
        self.to_voicemail, self.forget_placement, self.call_over = to_voicemail, forget_placement, call_over
        self.clock, self.ring_timeout_s = clock, ring_timeout_s
        self._calls: dict[tuple[str, str], Call] = {}     # (worker, inbound leg) -> call

    # --- the table of calls ----------------------------------------------------------------

    def add(self, w: Worker, call: Call) -> None:
        """A call whose inbound leg the worker reported: its events come here."""
        self._calls[(w.id, call.inbound)] = call
        self.legs.own(w.id, call.inbound, call)

    def discard(self, w: Worker, leg: str) -> None:
        """Not an ordinary call after all (a feature code, a menu): someone else takes its leg."""
        self._calls.pop((w.id, leg), None)

    def calls_in(self, wid: str) -> list[Call]:
        return [c for (w, _), c in self._calls.items() if w == wid]

    def in_worker(self, wid: str) -> bool:
        return any(k[0] == wid for k in self._calls)

    def find(self, call_id: str) -> Call | None:
        return next((c for c in self._calls.values() if c.call_id == call_id), None)

    def workers_in_call(self, extension: str) -> set[str]:
        """The workers where this extension's phone has a call in progress."""
        return {wid for (wid, _), c in self._calls.items()
                if c.state is not CallState.ENDED and c.caller.get("number") == extension}

    def in_progress(self) -> Iterable[tuple[str, Call]]:
        return [(wid, c) for (wid, _), c in self._calls.items() if c.state is not CallState.ENDED]

    def worker_lost(self, w: Worker) -> None:
        """The worker died: each of its calls ends (a recording it left open is made playable)."""
        from appliance.voicemail_store import repair_wav
        for key, call in list(self._calls.items()):
            if key[0] == w.id:
                if call.recording:
                    # The worker died before closing the WAV: write its sizes so it plays.
                    repair_wav(Path(call.recording))
                self.run(w, call, call.on_worker_lost())
        for key in [k for k in self._calls if k[0] == w.id]:
            self.call_over(self._calls.pop(key).call_id)

    def take_over(self, w: Worker, *, call_id: str, inbound: str, caller: str, caller_name: str, number: str,
                  direction: str, trunk: str | None) -> None:
        """A caller the box answered (a menu) goes to an extension or ring group: the call table rings it."""
        call = Call(call_id, inbound, {"number": caller, "name": caller_name}, number, self.clock,
                    worker=w.id, direction=direction)
        call.answer_time = None
        call.inbound_answered = True  # the menu answered: voicemail must not answer again
        call.trunk = trunk
        self.add(w, call)
        placed = Placement(w.id, 1 + max(1, w.room), caller)
        call.dialled = number
        self.run(w, call, self.route(call, placed))

    # --- the worker's events ----------------------------------------------------------------

    def on_event(self, w: Worker, call: Call, leg: str, kind: str, event: dict[str, Any]) -> None:
        if kind == "ringing":
            self.run(w, call, call.on_ringing(leg))
        elif kind == "dtmf":
            digit = str(event.get("digit", ""))
            if self.record_code(call, leg, digit):
                return
            self.run(w, call, call.on_dtmf(leg, digit, event.get("method", "rfc2833")))
        elif kind == "held":
            self.run(w, call, call.on_held(leg))
        elif kind == "unheld":
            self.run(w, call, call.on_unheld(leg))
        elif kind == "transfer_requested":
            self.run(w, call, call.on_transfer_requested(leg, str(event.get("target", ""))))
        elif kind == "answered":
            self.run(w, call, call.on_answered(leg))
        elif kind == "hangup":
            self.run(w, call, call.on_hangup(leg, int(event.get("cause") or 0), event.get("by", "remote")))
            self.legs.release(w.id, leg)
        if call.state is CallState.ENDED and not self.legs.owns_any(call):
            self._calls.pop((w.id, call.inbound), None)
            self.forget_placement(call.call_id)
            self.call_over(call.call_id)

    # --- where a call rings -----------------------------------------------------------------

    def route(self, call: Call, placed: Placement) -> list[Command]:
        """Where a call goes: a ring group, an extension (every registered contact at once), or out."""
        dialled = call.dialled
        group = self.ring_group(dialled) or self.ring_group_named(dialled)
        if group is not None:
            return self._ring_group(call, placed, group)
        ext = self.extension(dialled)
        if ext is None:
            return self._route_out(call, placed)
        contacts = self.contacts(dialled)
        if not contacts:
            return call.refuse(480)
        if not ext.get("call_waiting", True) and self._in_call(dialled):
            return call.refuse(486)
        targets = [Target(c, dialled) for c in contacts]
        per_wave = max(1, placed.legs - 1)
        waves = [targets[i:i + per_wave] for i in range(0, len(targets), per_wave)]
        return call.ring(waves, self.ring_timeout_s)

    def _ring_group(self, call: Call, placed: Placement, group: dict[str, Any]) -> list[Command]:
        """All members at once (in waves of what fits the worker), or one member after another."""
        members = [m for m in group["members"] if m != call.caller.get("number")]
        per_member = [[Target(c, m) for c in self.contacts(m)] for m in members]
        per_member = [t for t in per_member if t]
        if not per_member:
            return call.refuse(480)
        if group["strategy"] == "hunt":
            waves = per_member
        else:
            targets = [t for member in per_member for t in member]
            per_wave = max(1, min(len(targets), placed.legs - 1))  # what the placement found room for
            waves = [targets[i:i + per_wave] for i in range(0, len(targets), per_wave)]
        return call.ring(waves, float(group["ring_timeout_s"]))

    def _route_out(self, call: Call, placed: Placement) -> list[Command]:
        """An outside number: class of service, the outbound route, its trunks in failover order."""
        reach = through_trunks(call.dialled, lambda n: self.dialer.plan(placed.caller_ext, n))
        if reach.why_not is Unreachable.UNREADABLE:
            return call.refuse(404)
        call.direction = "outbound"
        if reach.why_not is Unreachable.REFUSED:
            log.info("call %s from %s to %s refused: %s", call.call_id, placed.caller_ext, call.dialled,
                     reach.verdict)
            return call.refuse(404 if str(reach.verdict) in ("NO_ROUTE", "INTERNAL") else 403)
        if reach.why_not is Unreachable.NO_TRUNK:
            return call.refuse(503)
        call.advance_on = fails_over
        return call.ring([[target] for target in reach.targets], self.ring_timeout_s * 2)

    def _in_call(self, extension: str) -> bool:
        for call in self._calls.values():
            if call.state is CallState.ENDED:
                continue
            if call.caller.get("number") == extension:
                return True
            if call.answered_leg and call.legs[call.answered_leg].target.extension == extension:
                return True
        return False

    # --- carrying out the call table's commands ----------------------------------------------

    def run(self, w: Worker, call: Call, commands: list[Command]) -> None:
        box = self._voicemail_for(call, commands)
        if box is not None:
            # Nobody answered (or busy): the caller leaves a message instead of hearing a refusal.
            commands = [c for c in commands if not isinstance(c, (Reject, WriteRecord))]
            reason = "busy" if call.refused_status == 486 else "unavailable"
            self.to_voicemail(w, call.inbound, call.call_id, call.caller.get("number", ""),
                              call.caller.get("name", ""), box, reason, answered=call.inbound_answered)
        for cmd in commands:
            if isinstance(cmd, WriteRecord):
                self.write_record(cmd.record, call.recording)
                continue
            if isinstance(cmd, ResolveTransfer):
                self.resolve_transfer(w, call, cmd.target)
                continue
            if isinstance(cmd, Dial):
                self.legs.own(w.id, cmd.leg, call)
            asyncio.ensure_future(self._send(w, cmd))
            if isinstance(cmd, Bridge) and call.recording is None:
                parties = [call.caller.get("number", "")] + [lg.target.extension or "" for lg in call.legs.values()
                                                              if lg.id == cmd.b]
                self.start_recording(w, call, [cmd.a, cmd.b], parties, None)

    def _voicemail_for(self, call: Call, commands: list[Command]) -> str | None:
        rejects = [c for c in commands if isinstance(c, Reject) and c.leg == call.inbound]
        if not rejects or rejects[0].status not in (408, 480, 486) or call.direction == "outbound":
            return None
        ext = self.extension(call.dialled)
        return call.dialled if ext is not None and ext.get("voicemail", True) else None

    async def _send(self, w: Worker, cmd: Command) -> None:
        """One command of the call table, as the one media executor's translation says (engine_message)."""
        if w.client is None or not w.alive:
            return
        if isinstance(cmd, Dial):
            await self._dial(w, cmd)
            return
        message = engine_message(cmd, lambda name: str(self.sounds.get(name, name)))
        if message is None:
            return
        try:
            await w.client.command(message[0], **message[1])
        except EngineError as e:
            log.info("%s refused %s: %s", w.id, cmd, e)

    async def _dial(self, w: Worker, cmd: Dial) -> None:
        try:
            name, fields = engine_message(cmd, lambda prompt: prompt) or ("call", {})
            await w.client.command(name, **fields)
        except EngineError as e:
            # The worker could not place the leg (full, bad URI): the call sees it as failed.
            log.warning("could not dial %s: %s", cmd.uri, e)
            owner = self.legs.owner(w.id, cmd.leg)
            if isinstance(owner, Call):
                self.on_event(w, owner, cmd.leg, "hangup", {"event": "hangup", "leg": cmd.leg, "cause": 503,
                                                            "by": "local"})
