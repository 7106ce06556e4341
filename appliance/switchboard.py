"""The switchboard: where every call in the engine workers goes, put together from its parts.

The SIP edge asks it which worker an INVITE goes to (`call_placement`); each worker's events go
to the call that owns the leg (`leg_owners`). A new call is taken by what it dialled, in this
order: a supervisor's `*30`–`*32`, an agent's `*45`–`*47`, voicemail's `*97`/`*98`, a ring group,
a call flow's route (the box answers it: `box_calls`), else an extension or an outside number
(`extension_calls`, with `transfers`). The ACD's commands are carried out by `acd_runtime`, the
box's own calls (click-to-dial, callbacks) are placed by `box_placed_calls`, recordings start in
`conversation_recording`, records are filed by `call_record_writer`, and the workers themselves
are the `engine_pool`'s. Each part gets only what it needs; the switchboard gets its ports from
the composition root.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from appliance.acd_runtime import AcdRuntime, announcement
from appliance.box_calls import AGENT_CODES, VOICEMAIL_CODES, BoxCalls, Voicemail
from appliance.box_placed_calls import BoxPlacedCalls
from appliance.call_placement import Placements
from appliance.call_record_writer import CallRecordWriter
from appliance.conversation_recording import ConversationRecorder
from appliance.engine_pool import EnginePool, Worker
from appliance.errors import SipParseError
from appliance.extension_calls import RING_TIMEOUT_S, ExtensionCalls
from appliance.flowcalls import FlowCallWiring
from appliance.leg_owners import LegOwners
from appliance.logic import voicemail as vm
from appliance.logic.acd import ContactCenter
from appliance.logic.calls import Call
from appliance.logic.flows import FlowSet, match_route
from appliance.logic.numbers import SUPERVISE_CODE, SUPERVISE_MODES
from appliance.outbound_calls import OutboundPorts
from appliance.ports import (AlarmBoard, Dialer, ExtensionNumbers, FindExtension, FindRingGroup, Locations, Paths,
                             Prompts, Publish, RecordingPolicy, RecordLog, Setting)
from appliance.sip import message as sipmsg
from appliance.tones import ensure_system_sounds
from appliance.transfers import Transfers
from appliance.voicemail_store import VoicemailStore

log = logging.getLogger("callbox.switchboard")

PlacedCall = TypeVar("PlacedCall")


@dataclass(frozen=True)
class SwitchboardPorts:
    """What the switchboard needs of the rest of the box, each as narrow as one question."""

    publish: Publish
    setting: Setting
    paths: Paths
    contacts: Locations
    extension: FindExtension
    extension_numbers: ExtensionNumbers
    ring_group: FindRingGroup        # by its number
    ring_group_named: FindRingGroup  # by its name (a flow sends callers to a group by name)
    dialer: Dialer
    center: ContactCenter
    agent_action: Callable[[str, str, dict[str, Any]], Any]  # (extension, login/logout/break/available, data)
    flows: Callable[[], FlowSet | None]
    night_mode: Callable[[], bool]
    flow_overrides: Callable[[], Any]
    mailbox: VoicemailStore
    pin_guard: vm.PinGuard
    voicemail_box: Callable[[str], vm.BoxConfig]
    voicemail_changed: Callable[[str], None]
    voicemail_deposited: Callable[[str, Any], None]
    recordings: RecordingPolicy
    call_records: RecordLog
    queue_log: RecordLog
    alarms: AlarmBoard
    prompt_file: Prompts


class Switchboard:
    def __init__(self, ports: SwitchboardPorts, *, bind: str, ring_timeout_s: float = RING_TIMEOUT_S,
                 clock: Callable[[], float] = time.time, edge_key_file: str = ""):
        p = self.ports = ports
        self.edge_key_file = edge_key_file
        self.center = p.center
        self.sounds = ensure_system_sounds(p.paths.folder("prompts") / "system")
        self.legs = LegOwners()
        self.pool = EnginePool(bind=bind, publish=p.publish, setting=p.setting, run_dir=p.paths.folder("run"),
                               edge_key_file=edge_key_file, on_event=self._on_event, on_lost=self._worker_lost,
                               has_calls=self._has_calls, reservation_expired=lambda cid: self.placements.forget(cid))
        self.records = CallRecordWriter(records=p.call_records, alarms=p.alarms, publish=p.publish,
                                        data_dir=p.paths.data)
        self.recorder = ConversationRecorder(policy=p.recordings, send=self.pool.send_soon, find=self._conversation,
                                             connected_legs=_connected_legs, data_dir=p.paths.data)
        self.calls = ExtensionCalls(
            legs=self.legs, contacts=p.contacts, extension=p.extension, ring_group=p.ring_group,
            ring_group_named=p.ring_group_named, dialer=p.dialer, sounds=self.sounds, write_record=self.records.write,
            record_code=self.recorder.record_code, start_recording=self.recorder.start,
            resolve_transfer=lambda w, call, target: self.transfers.resolve(w, call, target),
            to_voicemail=lambda *args, **kw: self.box_calls.to_voicemail(*args, **kw),
            forget_placement=lambda cid: self.placements.forget(cid), call_over=self.recorder.forget, clock=clock,
            ring_timeout_s=ring_timeout_s)
        self.transfers = Transfers(calls_in=self.calls.calls_in, extension_contacts=self._extension_contacts,
                                   run=self.calls.run, own_leg=self.legs.own)
        self.box_calls = BoxCalls(
            pool=self.pool, legs=self.legs, center=p.center, extension=p.extension, agent_action=p.agent_action,
            flows=p.flows, voicemail=Voicemail(p.mailbox, p.pin_guard, p.voicemail_box, p.voicemail_changed,
                                               p.voicemail_deposited),
            prompt_file=p.prompt_file, sounds=self.sounds, take_over=self.calls.take_over,
            forget_call=self.calls.discard, forget_placement=lambda cid: self.placements.forget(cid),
            write_record=self.records.write, call_over=self.recorder.forget, flow_wiring=self._flow_wiring())
        self.placements = Placements(self.pool, contacts=p.contacts, ring_group=p.ring_group,
                                     workers_in_call=self.calls.workers_in_call,
                                     worker_of_agent=self.box_calls.worker_of_agent)
        self.acd = AcdRuntime(center=p.center, queue_log=p.queue_log, publish=p.publish, call_of=self.box_calls.get,
                              call_agent_for_callback=lambda cmd: self.placed.call_agent_for_callback(cmd),
                              dial_customer=lambda cmd: self.placed.dial_customer(cmd))
        self.placed = BoxPlacedCalls(
            pool=self.pool, legs=self.legs, keep=self.box_calls.add, find=self.box_calls.get,
            forget=self.box_calls.forget, finish=self.box_calls.finish, contacts=p.contacts, extension=p.extension,
            dialer=p.dialer, desk=p.center, run_acd=self.acd.run)

    def _flow_wiring(self) -> FlowCallWiring:
        p = self.ports
        return FlowCallWiring(
            answer=lambda w, leg: self.pool.command(w, "answer", leg=leg), send=self.pool.send_soon,
            own_leg=lambda w, leg, owner: self.legs.own(w.id, leg, owner), contacts=p.contacts,
            is_extension=lambda number: p.extension(number) is not None, extension_numbers=p.extension_numbers,
            night_mode=p.night_mode, flow_overrides=p.flow_overrides, prompt_file=p.prompt_file,
            sound=lambda name: str(self.sounds.get(name, name)), notices=lambda: p.setting("recording.notice"),
            announcement=announcement, center=p.center,
            run_acd=lambda commands, answered_leg=None: self.acd.run(commands, answered_leg),
            record_code=self.recorder.record_code, record_conversation=self.recorder.start,
            to_extension=lambda fc, number: self.box_calls.take_over_for_extension(fc, number),
            to_ring_group=lambda fc, name: self.box_calls.take_over_for_extension(fc, name),
            to_voicemail=lambda w, fc, box, language: self.box_calls.flow_to_voicemail(w, fc, box, language),
            finish=lambda fc, record: self.box_calls.finish(fc, record))

    # --- what the rest of the box asks ----------------------------------------------------

    async def start(self, max_conversations: int) -> None:
        await self.pool.start(max_conversations)

    async def stop(self) -> None:
        await self.pool.stop()

    def move_to(self, address: str) -> None:
        """New calls go to workers on `address`; a worker with calls finishes them first."""
        self.pool.move_to(address)

    def status(self) -> list[dict[str, Any]]:
        return self.pool.status()

    def forward_target(self, request: sipmsg.SipMessage, ext: str) -> tuple[str, int] | None:
        """Where the edge forwards a phone's request: the worker its call is (or goes) in."""
        return self.placements.forward_target(request, ext)

    def run_acd(self, commands: list, answered_leg: str | None = None) -> None:
        self.acd.run(commands, answered_leg)

    def originate(self, ext: str, number: str) -> dict[str, Any]:
        return self.placed.originate(ext, number)

    def place(self, call_id: str, build: Callable[[Worker, OutboundPorts], PlacedCall],
              legs: int = 2) -> PlacedCall | None:
        """Run a call the box places in a worker with room for it (None when the box is full)."""
        return self.placed.place(call_id, build, legs)

    def prompt_file(self, name: str, language: str) -> str | None:
        """A prompt's WAV in a language (the box's own sounds are in `sounds`)."""
        return self.ports.prompt_file(name, language)

    def supervise(self, supervisor: str, agent: str, mode: str, leg: str | None = None) -> None:
        self.box_calls.supervise(supervisor, agent, mode, leg)

    def record_on_demand(self, call_id: str) -> dict[str, Any]:
        return self.recorder.record_on_demand(call_id)

    def active_calls(self) -> list[dict[str, Any]]:
        """Every conversation in progress: phone to phone, and the calls the box answered itself
        (menus, queues, agents, voicemail, callbacks, click-to-dial)."""
        out = [{"call_id": c.call_id, "worker": wid, "state": c.state.value, "caller": c.caller.get("number"),
                "callee": c.dialled, "start": c.start, "answer": c.answer_time}
               for wid, c in self.calls.in_progress()]
        return sorted(out + self.box_calls.shown(), key=lambda c: c["start"] or 0)

    # --- the parts' questions about each other ------------------------------------------------

    def _has_calls(self, wid: str) -> bool:
        return self.calls.in_worker(wid) or self.placements.in_worker(wid)

    def _extension_contacts(self, number: str) -> list[str]:
        return self.ports.contacts(number) if self.ports.extension(number) else []

    def _conversation(self, call_id: str) -> tuple[Any, Worker] | None:
        owner = self.box_calls.get(call_id) or self.calls.find(call_id)
        if owner is None:
            return None
        w = self.pool.worker(owner.worker) if isinstance(owner, Call) else owner.w
        return (owner, w) if w is not None else None

    # --- worker events ------------------------------------------------------------------------

    async def _on_event(self, w: Worker, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "incoming":
            await self._on_incoming(w, event)
            return
        leg = event.get("leg")
        owner = self.legs.owner(w.id, leg) if leg else None
        if owner is None:
            return
        if isinstance(owner, Call):
            self.calls.on_event(w, owner, leg, kind, event)
            return
        owner.on_event(kind, event)
        if kind == "hangup":
            self.legs.release(w.id, leg)

    def _worker_lost(self, w: Worker) -> None:
        self.calls.worker_lost(w)
        self.legs.drop_worker(w.id)
        self.placements.drop_worker(w.id)

    async def _on_incoming(self, w: Worker, event: dict[str, Any]) -> None:
        """A new call in a worker: who takes it depends on who placed it and what it dialled."""
        leg, call_id = event["leg"], event.get("call_id", "")
        placed = self.placements.arrived(w, call_id)
        caller_id = event.get("caller_id") or {}
        call = Call(call_id, leg, {"number": placed.caller_ext if placed else "", "name": caller_id.get("name", "")},
                    _user_of(event.get("to", "")), self.calls.clock, worker=w.id)
        self.calls.add(w, call)
        signed = event.get("identity")
        if placed is None or placed.worker != w.id or (self.edge_key_file and signed != placed.caller_ext):
            # Only the edge may bring calls to a worker: it authenticated the caller and signed who it is.
            log.warning("refusing call %s that did not come through the edge (%s)", call_id, event.get("source"))
            self.calls.run(w, call, call.refuse(403))
            return
        p = self.ports
        from_trunk = placed.caller_ext.startswith("trunk:")
        if from_trunk:
            # An outside caller: the number is theirs, the dialled number is our DID.
            call.trunk = placed.caller_ext.removeprefix("trunk:")
            call.direction = "inbound"
            call.caller = {"number": str(caller_id.get("number") or "anonymous"),
                           "name": str(caller_id.get("name") or "")}
            destination = p.dialer.inbound_destination(call.dialled, call.caller["number"])
            if destination and destination.startswith(("extension:", "ring_group:")):
                call.dialled = destination.split(":", 1)[1]
                self.calls.run(w, call, self.calls.route(call, placed))
                return
        else:
            caller = p.extension(placed.caller_ext)
            if caller is not None:
                call.caller["name"] = caller.get("name", "")
        code = SUPERVISE_CODE.match(call.dialled) if not from_trunk else None
        if code:
            try:
                self.calls.discard(w, leg)
                fc = self.box_calls.supervise(placed.caller_ext, code.group(2), SUPERVISE_MODES[code.group(1)], leg)
                self.legs.own(w.id, leg, fc)
            except Exception as e:  # not allowed, or the agent is not talking
                log.info("supervision refused for %s: %s", placed.caller_ext, e)
                self.calls.add(w, call)
                self.calls.run(w, call, call.refuse(403))
            return
        if not from_trunk and call.dialled in AGENT_CODES:
            await self.box_calls.agent_code(w, call, AGENT_CODES[call.dialled])
            return
        if not from_trunk and call.dialled in VOICEMAIL_CODES:
            self.box_calls.voicemail_access(w, call, own=VOICEMAIL_CODES[call.dialled])
            return
        if p.ring_group(call.dialled) is not None:
            self.calls.run(w, call, self.calls.route(call, placed))
            return
        flows = p.flows()
        # A phone of ours reaches a flow only through a route with a number (e.g. the service number):
        # a catch-all route is for calls from outside, or every outbound call would land in the IVR.
        routes = (flows.routes if from_trunk else tuple(r for r in flows.routes if r.did)) if flows else ()
        if (p.extension(call.dialled) is None and flows is not None
                and match_route(routes, call.dialled, call.caller["number"]) is not None):
            self.calls.discard(w, leg)
            fc = self.box_calls.answer_with_flows(w, leg, call_id, call.dialled, call.caller["number"],
                                                  call.caller.get("name", ""), flows,
                                                  caller_is_extension=not from_trunk, trunk=call.trunk)
            await fc.begin()
            return
        if from_trunk and p.extension(call.dialled) is None and p.ring_group(call.dialled) is None:
            # Nothing routes this DID: and a trunk call never goes back out (toll fraud).
            self.calls.run(w, call, call.refuse(404))
            return
        self.calls.run(w, call, self.calls.route(call, placed))


def _connected_legs(owner: Any) -> list[str | None]:
    """The two legs of a conversation to record: the caller's (or the one kept) and the answering one."""
    if isinstance(owner, Call):
        return [owner.kept_leg or owner.inbound, owner.answered_leg]
    return [owner.inbound, getattr(owner, "agent_leg", None)]


def _user_of(uri_text: str) -> str:
    try:
        uri = sipmsg.parse_name_addr(uri_text).uri
        return (uri.user or "") if uri is not None else ""
    except SipParseError:
        try:
            return sipmsg.parse_uri(uri_text).user or ""
        except SipParseError:
            return ""
