"""The switchboard: engine workers, call placement, and the call machines.

It starts the pool of engine workers, tells the SIP edge which worker an
INVITE goes to (all legs of one conversation in one worker, placed where
there is room for them), turns worker events into events of the pure call
machines (`appliance.logic.calls`) and carries out the commands they return.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import re
import time
import urllib.parse
from pathlib import Path
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from appliance.engine.client import EngineClient, WorkerProcess
from appliance.alarms import alarm_extra
from appliance.errors import Conflict, EngineError, NotAllowed, NotFound, SipParseError
from appliance.logic.calls import (Answer, Bridge, Call, CallState, Command, Dial, Hangup, Play, Reject,
                                   ResolveTransfer, Ringing, SendDtmf, StopPlay, Target, Unbridge, WriteRecord)
from appliance.acd_runtime import AcdRuntime
from appliance.flowcalls import FlowCall, answer_with_flows
from appliance.outbound_calls import CallbackCall, OriginateCall
from appliance.logic.acd import ContactCenter
from appliance.logic.flows import match_route
from appliance.tones import ensure_system_sounds
from appliance.sip import message as sipmsg

if TYPE_CHECKING:
    from appliance.core import Core

log = logging.getLogger("callbox.switchboard")

# An INVITE placed on a worker that does not show up there within this time frees its room.
RESERVATION_S = 32.0
RESTART_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
RING_TIMEOUT_S = 30.0
MOVE_CHECK_S = 1.0
SPARE_WORKERS = 1       # idle engine workers kept ready for the next calls
POOL_CHECK_S = 2.0      # how often the pool looks for idle workers to stop      # how often workers waiting to move to a new address look again
# Feature codes: *97 the caller's own voicemail, *98 any box (box number, then PIN).
VOICEMAIL_CODES = {"*97": True, "*98": False}
# Agents at their desk phones: *45 log in or out, *46 break, *47 available again.
AGENT_CODES = {"*45": "toggle", "*46": "break", "*47": "available"}
# In a call, *1 starts recording it (on demand).
RECORD_CODE_DIGIT = "1"
# Supervisors: *30<agent> listen, *31<agent> whisper (coach), *32<agent> barge.
SUPERVISE_CODE = re.compile(r"^\*3([012])(\d{2,8})$")
SUPERVISE_MODES = {"0": "listen", "1": "whisper", "2": "barge"}


@dataclass
class Worker:
    id: str
    process: WorkerProcess
    client: EngineClient | None = None
    max_calls: int = 0
    free: int = 0                 # what the worker says it has free
    reserved: dict[str, int] = field(default_factory=dict)   # call_id -> legs promised
    reserved_at: dict[str, float] = field(default_factory=dict)
    sip_port: int = 0
    alive: bool = False
    restarts: int = 0
    bind: str = ""                # the address it listens on (phones send SIP and RTP there)
    idle_since: float | None = None
    moving: bool = False          # the box's address changed: it takes no new calls, then moves

    @property
    def room(self) -> int:
        return self.free - sum(self.reserved.values()) if self.alive and not self.moving else 0


@dataclass
class Placement:
    worker: str
    legs: int
    caller_ext: str


class Switchboard(AcdRuntime):
    def __init__(self, core: "Core", *, bind: str, ring_timeout_s: float = RING_TIMEOUT_S,
                 clock: Callable[[], float] = time.time, edge_key_file: str = ""):
        self.core = core
        self.edge_key_file = edge_key_file
        self.wanted = 1
        self.bind = bind
        self.ring_timeout_s = ring_timeout_s
        self.clock = clock
        self.workers: dict[str, Worker] = {}
        self.placements: dict[str, Placement] = {}       # SIP Call-ID -> where it went
        self.calls: dict[tuple[str, str], Call] = {}     # (worker, inbound leg) -> call
        self.leg_owner: dict[tuple[str, str], Call] = {}  # (worker, any leg) -> call
        self._tasks: list[asyncio.Task] = []
        self._stopping = False
        self.sounds = ensure_system_sounds(core.data_dir / "prompts" / "system")
        self.center: ContactCenter = core.contact_center
        self.flow_calls: dict[str, FlowCall] = {}          # SIP Call-ID -> the call the box answered
        self._acd_timers: dict[str, asyncio.TimerHandle] = {}
        self._mover: asyncio.Future | None = None
        self._pool_task: asyncio.Future | None = None
        self._starting: set[str] = set()
        self._unwritten: list[dict[str, Any]] = []   # call records waiting for the disk
        self.idle_stop_s = float(core.settings["engine.idle_stop_s"])

    # --- the pool ------------------------------------------------------------------------

    async def start(self, max_conversations: int) -> None:
        """Start one worker to learn the build's call limit; more start as calls come (up to what the
        capacity wants), always keeping a spare with nothing to do, and extra idle ones stop again."""
        await self._start_worker("w0")
        per_worker = self.workers["w0"].max_calls or 4
        self.wanted = workers_needed(max_conversations, per_worker)
        self._pool_task = asyncio.ensure_future(self._tend_pool())

    # --- workers on demand ----------------------------------------------------------------

    def _idle(self, w: Worker) -> bool:
        return w.alive and not w.moving and not self._busy(w)

    def _grow_if_needed(self) -> None:
        """Keep SPARE_WORKERS idle workers ready, so the next call never waits for a start."""
        if self._stopping:
            return
        spare = sum(1 for w in self.workers.values() if self._idle(w)) + len(self._starting)
        while spare < SPARE_WORKERS and len(self.workers) < self.wanted:
            wid = next(f"w{i}" for i in itertools.count() if f"w{i}" not in self.workers)
            self._starting.add(wid)
            self.workers[wid] = Worker(wid, WorkerProcess(wid, bind=self.bind))  # a place held while it starts
            asyncio.ensure_future(self._start_spare(wid))
            spare += 1

    async def _start_spare(self, wid: str) -> None:
        try:
            await self._start_worker(wid)
        finally:
            self._starting.discard(wid)

    async def _tend_pool(self) -> None:
        while not self._stopping:
            await asyncio.sleep(POOL_CHECK_S)
            self._expire_reservations()
            now = time.monotonic()
            idle = []
            for w in self.workers.values():
                if self._idle(w):
                    w.idle_since = w.idle_since or now
                    idle.append(w)
                else:
                    w.idle_since = None
            # The longest idle stop first; the spare (and w0, which knows the build) stay.
            surplus = sorted((w for w in idle if w.id != "w0"), key=lambda w: w.idle_since or now)
            for w in surplus[:max(0, len(idle) - SPARE_WORKERS)]:
                if now - (w.idle_since or now) >= self.idle_stop_s:
                    await self._stop_idle(w)
            self._grow_if_needed()

    async def _stop_idle(self, w: Worker) -> None:
        w.client, w.alive = None, False
        self.workers.pop(w.id, None)
        await w.process.stop(timeout_s=5)
        log.info("engine worker %s stopped: idle for %.0f s", w.id, self.idle_stop_s)
        self.core.events.publish("engine", worker=w.id, state="stopped")

    async def _start_worker(self, wid: str) -> None:
        log_file = str(self.core.data_dir / "run" / f"engine-{wid}.log")
        public = self.core.settings["sip.external_address"]
        w = self.workers.get(wid) or Worker(wid, WorkerProcess(wid, bind=self.bind, log_file=log_file))
        w.process = WorkerProcess(wid, bind=self.bind, log_file=log_file, public_address=public,
                                  edge_key_file=self.edge_key_file)
        w.bind, w.moving = self.bind, False
        self.workers[wid] = w
        try:
            w.client = await w.process.start()
        except EngineError as e:
            log.error("%s", e)
            self._schedule_restart(w)
            return
        ready = w.process.ready
        w.max_calls = w.free = int(ready.get("max_calls", 0))
        w.sip_port = int(ready.get("sip_port", 0))
        w.alive = True
        w.reserved.clear()
        w.reserved_at.clear()
        log.info("engine worker %s ready on %s:%d (%d calls)", wid, self.bind, w.sip_port, w.max_calls)
        self.core.events.publish("engine", worker=wid, state="ready", max_calls=w.max_calls)
        self._tasks.append(asyncio.create_task(self._pump(w, w.client)))

    def _schedule_restart(self, w: Worker) -> None:
        if self._stopping:
            return
        delay = RESTART_BACKOFF_S[min(w.restarts, len(RESTART_BACKOFF_S) - 1)]
        w.restarts += 1
        asyncio.get_running_loop().call_later(delay, lambda: asyncio.ensure_future(self._start_worker(w.id)))

    async def _pump(self, w: Worker, client: EngineClient) -> None:
        try:
            async for event in client.events():
                try:
                    await self._on_event(w, event)
                except Exception:  # one bad event must not stop a worker's calls
                    log.exception("error handling %s from %s", event, w.id)
        finally:
            if not self._stopping and w.client is client:  # not a worker moved on purpose
                await self._worker_lost(w)

    async def _worker_lost(self, w: Worker) -> None:
        w.alive = False
        code = await w.process.stop(timeout_s=2)
        log.error("engine worker %s died (exit %s); its calls are dropped", w.id, code, extra=alarm_extra())
        self.core.events.publish("engine", worker=w.id, state="died", exit=code)
        from appliance.voicemail_store import repair_wav
        for key, call in list(self.calls.items()):
            if key[0] == w.id:
                if call.recording:
                    # The worker died before closing the WAV: write its sizes so it plays.
                    repair_wav(Path(call.recording))
                self._run(w, call, call.on_worker_lost())
        for key in [k for k in self.leg_owner if k[0] == w.id]:
            del self.leg_owner[key]
        for key in [k for k in self.calls if k[0] == w.id]:
            del self.calls[key]
        for cid in [c for c, p in self.placements.items() if p.worker == w.id]:
            del self.placements[cid]
        self._schedule_restart(w)

    # --- a new LAN address --------------------------------------------------------------

    def move_to(self, address: str) -> None:
        """New calls go to workers on `address`; a worker with calls finishes them first."""
        if address == self.bind:
            return
        log.info("engine workers move to %s: calls in progress finish where they are", address)
        self.bind = address
        for w in self.workers.values():
            w.moving = w.bind != address
        if self._mover is None or self._mover.done():
            self._mover = asyncio.ensure_future(self._move_idle_workers())

    def _busy(self, w: Worker) -> bool:
        """Calls in it, promised to it, or legs the engine still counts as in use."""
        return bool(w.reserved) or w.free < w.max_calls or any(k[0] == w.id for k in self.calls) \
            or any(p.worker == w.id for p in self.placements.values())

    async def _move_idle_workers(self) -> None:
        while not self._stopping:
            self._expire_reservations()
            moving = [w for w in self.workers.values() if w.moving]
            if not moving:
                return
            for w in moving:
                if not self._busy(w):
                    await self._restart_on(w, self.bind)
            await asyncio.sleep(MOVE_CHECK_S)

    async def _restart_on(self, w: Worker, address: str) -> None:
        old = w.client
        w.client, w.alive = None, False
        await w.process.stop(timeout_s=5)
        if old is not None:
            log.info("engine worker %s moved from %s to %s", w.id, w.bind, address)
        await self._start_worker(w.id)

    async def stop(self) -> None:
        self._stopping = True
        if self._mover is not None:
            self._mover.cancel()
        if self._pool_task is not None:
            self._pool_task.cancel()
        for w in self.workers.values():
            await w.process.stop(timeout_s=5)
        for t in self._tasks:
            t.cancel()

    def status(self) -> list[dict[str, Any]]:
        return [{"id": w.id, "alive": w.alive, "bind": w.bind, "moving": w.moving, "sip_port": w.sip_port,
                 "max_calls": w.max_calls,
                 "pid": w.process.process.pid if w.process.process else None,
                 "free": w.free, "room": w.room, "restarts": w.restarts} for w in self.workers.values()]

    def active_calls(self) -> list[dict[str, Any]]:
        """Every conversation in progress: phone to phone, and the calls the box answered itself
        (menus, queues, agents, voicemail, callbacks, click-to-dial)."""
        out = [{"call_id": c.call_id, "worker": wid, "state": c.state.value, "caller": c.caller.get("number"),
                "callee": c.dialled, "start": c.start, "answer": c.answer_time}
               for (wid, _), c in self.calls.items() if c.state is not CallState.ENDED]
        for fc in list(self.flow_calls.values()):
            if getattr(fc, "ended", False):
                continue
            out.append(_box_call(fc))
        return sorted(out, key=lambda c: c["start"] or 0)

    # --- placement (called by the SIP edge for every request it forwards) ----------------------

    def forward_target(self, request: sipmsg.SipMessage, ext: str) -> tuple[str, int] | None:
        call_id = request.call_id or ""
        placed = self.placements.get(call_id)
        if placed is not None and placed.caller_ext != ext:
            # Someone else's Call-ID: it does not make this request theirs.
            log.warning("refusing %s from %s with the Call-ID of a call of %s", request.method, ext, placed.caller_ext)
            return None
        if placed is not None:
            w = self.workers.get(placed.worker)
            return (w.bind, w.sip_port) if w and w.alive else None
        if request.method != "INVITE":
            return None
        self._expire_reservations()
        code = SUPERVISE_CODE.match(self._dialled(request))
        if code:
            # A supervisor joins the agent's conversation: only in the worker that holds it.
            fc = self.call_of_agent(code.group(2))
            w = self.workers.get(fc.w.id) if fc else None
            if w is None or w.room < 1:
                return None
            w.reserved[call_id] = 1
            w.reserved_at[call_id] = time.monotonic()
            self.placements[call_id] = Placement(w.id, 1, ext)
            return (w.bind, w.sip_port)
        legs = 1 + self._legs_wanted(request)
        # A phone's second call goes where its first is, so that an attended transfer can join them.
        busy_in = {wid for (wid, _), c in self.calls.items()
                   if c.state is not CallState.ENDED and c.caller.get("number") == ext}
        near = [w for w in self.workers.values() if w.id in busy_in and w.room >= 2]
        best = near[0] if near else max(self.workers.values(), key=lambda w: w.room, default=None)
        if best is None or best.room < 2:
            log.warning("no engine worker has room for call %s", call_id)
            return None
        legs = min(legs, best.room)
        best.reserved[call_id] = legs
        best.reserved_at[call_id] = time.monotonic()
        self.placements[call_id] = Placement(best.id, legs, ext)
        self._grow_if_needed()
        return (best.bind, best.sip_port)

    def _dialled(self, request: sipmsg.SipMessage) -> str:
        try:
            return sipmsg.parse_uri(request.uri or "").user or ""
        except SipParseError:
            return ""

    def call_of_agent(self, agent: str) -> FlowCall | None:
        return next((fc for fc in self.flow_calls.values()
                     if isinstance(fc, FlowCall) and fc.agent == agent and fc.agent_leg), None)

    def supervise(self, supervisor: str, agent: str, mode: str, leg: str | None = None) -> None:
        """Permission from the ACD (the supervisor's roles), then the engine joins them."""
        ext = self.core.extension_or_none(supervisor) or {}
        roles = ["supervisor"] if ext.get("supervisor") else ["agent"]
        self.center.supervise(supervisor, agent, mode, roles)  # raises NotAllowed / Conflict
        fc = self.call_of_agent(agent)
        if fc is None:
            raise NotFound(f"agent {agent} is not on a call")
        fc.monitor(supervisor, mode, leg)

    def _legs_wanted(self, request: sipmsg.SipMessage) -> int:
        try:
            dialled = sipmsg.parse_uri(request.uri or "").user or ""
        except SipParseError:
            return 1
        group = self.core.ring_groups.by_number(dialled)
        if group is not None and group["strategy"] == "ringall":
            return max(1, sum(len(self.core.registrar.lookup(m)) for m in group["members"]))
        return max(1, len(self.core.registrar.lookup(dialled)))

    def _expire_reservations(self) -> None:
        now = time.monotonic()
        for w in self.workers.values():
            for cid, at in list(w.reserved_at.items()):
                if now - at > RESERVATION_S:
                    w.reserved.pop(cid, None)
                    w.reserved_at.pop(cid, None)
                    self.placements.pop(cid, None)

    # --- worker events -----------------------------------------------------------------

    async def _on_event(self, w: Worker, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "capacity":
            w.free = int(event.get("free", w.free))
            self._grow_if_needed()
            return
        if kind == "incoming":
            await self._on_incoming(w, event)
            return
        leg = event.get("leg")
        call = self.leg_owner.get((w.id, leg)) if leg else None
        if call is None:
            return
        if not isinstance(call, Call):
            call.on_event(kind, event)
            if kind == "hangup":
                self.leg_owner.pop((w.id, leg), None)
            return
        if kind == "ringing":
            self._run(w, call, call.on_ringing(leg))
        elif kind == "dtmf":
            digit = str(event.get("digit", ""))
            if self.record_code(call, leg, digit):
                return
            self._run(w, call, call.on_dtmf(leg, digit, event.get("method", "rfc2833")))
        elif kind == "held":
            self._run(w, call, call.on_held(leg))
        elif kind == "unheld":
            self._run(w, call, call.on_unheld(leg))
        elif kind == "transfer_requested":
            self._run(w, call, call.on_transfer_requested(leg, str(event.get("target", ""))))
        elif kind == "answered":
            self._run(w, call, call.on_answered(leg))
        elif kind == "hangup":
            self._run(w, call, call.on_hangup(leg, int(event.get("cause") or 0), event.get("by", "remote")))
            self.leg_owner.pop((w.id, leg), None)
        if call.state is CallState.ENDED and not any(c is call for c in self.leg_owner.values()):
            self._forget(w, call)

    async def _on_incoming(self, w: Worker, event: dict[str, Any]) -> None:
        leg, call_id = event["leg"], event.get("call_id", "")
        placed = self.placements.get(call_id)
        w.reserved.pop(call_id, None)
        w.reserved_at.pop(call_id, None)
        caller_id = event.get("caller_id") or {}
        call = Call(call_id, leg, {"number": placed.caller_ext if placed else "", "name": caller_id.get("name", "")},
                    _user_of(event.get("to", "")), self.clock, worker=w.id)
        self.calls[(w.id, leg)] = call
        self.leg_owner[(w.id, leg)] = call
        signed = event.get("identity")
        if placed is None or placed.worker != w.id or (self.edge_key_file and signed != placed.caller_ext):
            # Only the edge may bring calls to a worker: it authenticated the caller and signed who it is.
            log.warning("refusing call %s that did not come through the edge (%s)", call_id, event.get("source"))
            self._run(w, call, call.refuse(403))
            return
        from_trunk = placed.caller_ext.startswith("trunk:")
        if from_trunk:
            # An outside caller: the number is theirs, the dialled number is our DID.
            call.trunk = placed.caller_ext.removeprefix("trunk:")
            call.direction = "inbound"
            call.caller = {"number": str(caller_id.get("number") or "anonymous"),
                           "name": str(caller_id.get("name") or "")}
            destination = self.core.trunks.inbound_destination(call.dialled, call.caller["number"])
            if destination and destination.startswith(("extension:", "ring_group:")):
                call.dialled = destination.split(":", 1)[1]
                self._run(w, call, self._route(call, placed))
                return
        else:
            caller = self.core.extension_or_none(placed.caller_ext)
            if caller is not None:
                call.caller["name"] = caller.get("name", "")
        code = SUPERVISE_CODE.match(call.dialled) if not from_trunk else None
        if code:
            try:
                self.calls.pop((w.id, leg), None)
                self.supervise(placed.caller_ext, code.group(2), SUPERVISE_MODES[code.group(1)], leg)
                self.leg_owner[(w.id, leg)] = self.call_of_agent(code.group(2))
            except Exception as e:  # not allowed, or the agent is not talking
                log.info("supervision refused for %s: %s", placed.caller_ext, e)
                self.calls[(w.id, leg)] = call
                self._run(w, call, call.refuse(403))
            return
        if not from_trunk and call.dialled in AGENT_CODES:
            await self._agent_code(w, call, AGENT_CODES[call.dialled])
            return
        if not from_trunk and call.dialled in VOICEMAIL_CODES:
            self._voicemail_access(w, call, own=VOICEMAIL_CODES[call.dialled])
            return
        if self.core.ring_groups.by_number(call.dialled) is not None:
            self._run(w, call, self._route(call, placed))
            return
        flows = self.core.flows
        # A phone of ours reaches a flow only through a route with a number (e.g. the service number):
        # a catch-all route is for calls from outside, or every outbound call would land in the IVR.
        routes = (flows.routes if from_trunk else tuple(r for r in flows.routes if r.did)) if flows else ()
        if (self.core.extension_or_none(call.dialled) is None and flows is not None
                and match_route(routes, call.dialled, call.caller["number"]) is not None):
            fc = answer_with_flows(self, w, leg, call_id, call.dialled, call.caller["number"],
                                   call.caller.get("name", ""), flows, caller_is_extension=not from_trunk,
                                   trunk=call.trunk)
            del self.calls[(w.id, leg)]
            self.leg_owner[(w.id, leg)] = fc
            self.flow_calls[call_id] = fc
            await fc.begin()
            return
        if from_trunk and self.core.extension_or_none(call.dialled) is None \
                and self.core.ring_groups.by_number(call.dialled) is None:
            # Nothing routes this DID: and a trunk call never goes back out (toll fraud).
            self._run(w, call, call.refuse(404))
            return
        self._run(w, call, self._route(call, placed))

    def _route(self, call: Call, placed: Placement) -> list[Command]:
        """Where a call goes: for now, extensions (every registered contact at once)."""
        dialled = call.dialled
        group = self.core.ring_groups.by_number(dialled) or self.core.ring_groups.get(dialled)
        if group is not None:
            return self._ring_group(call, placed, group)
        ext = self.core.extension_or_none(dialled)
        if ext is None:
            return self._route_out(call, placed)
        bindings = self.core.registrar.lookup(dialled)
        if not bindings:
            return call.refuse(480)
        if not ext.get("call_waiting", True) and self._in_call(dialled):
            return call.refuse(486)
        targets = [Target(b.contact, dialled) for b in bindings]
        per_wave = max(1, placed.legs - 1)
        waves = [targets[i:i + per_wave] for i in range(0, len(targets), per_wave)]
        return call.ring(waves, self.ring_timeout_s)

    def _ring_group(self, call: Call, placed: Placement, group: dict[str, Any]) -> list[Command]:
        """All members at once (in waves of what fits the worker), or one member after another."""
        members = [m for m in group["members"] if m != call.caller.get("number")]
        per_member = [[Target(b.contact, m) for b in self.core.registrar.lookup(m)] for m in members]
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
        from appliance.errors import ValidationError
        from appliance.logic.routing import fails_over
        try:
            decision, attempts = self.core.trunks.plan(placed.caller_ext, call.dialled)
        except ValidationError:
            return call.refuse(404)
        call.direction = "outbound"
        if not decision.allowed:
            log.info("call %s from %s to %s refused: %s", call.call_id, placed.caller_ext, call.dialled,
                     decision.verdict)
            return call.refuse(404 if str(decision.verdict) in ("NO_ROUTE", "INTERNAL") else 403)
        if not attempts:
            return call.refuse(503)
        call.advance_on = fails_over
        waves = [[Target(a["uri"], None, trunk=a["trunk"], auth=a.get("auth"))] for a in attempts]
        return call.ring(waves, self.ring_timeout_s * 2)

    def _in_call(self, extension: str) -> bool:
        for call in self.calls.values():
            if call.state is CallState.ENDED:
                continue
            if call.caller.get("number") == extension:
                return True
            if call.answered_leg and call.legs[call.answered_leg].target.extension == extension:
                return True
        return False

    def _forget(self, w: Worker, call: Call) -> None:
        self.calls.pop((w.id, call.inbound), None)
        self.placements.pop(call.call_id, None)

    # --- carrying out commands ------------------------------------------------------------

    def _run(self, w: Worker, call: Call, commands: list[Command]) -> None:
        box = self._voicemail_for(call, commands)
        if box is not None:
            # Nobody answered (or busy): the caller leaves a message instead of hearing a refusal.
            commands = [c for c in commands if not isinstance(c, (Reject, WriteRecord))]
            reason = "busy" if call.refused_status == 486 else "unavailable"
            self.to_voicemail(w, call.inbound, call.call_id, call.caller.get("number", ""),
                              call.caller.get("name", ""), box, reason, answered=call.inbound_answered)
        for cmd in commands:
            if isinstance(cmd, WriteRecord):
                self._write_record(cmd.record, call.recording)
                continue
            if isinstance(cmd, ResolveTransfer):
                self._resolve_transfer(w, call, cmd.target)
                continue
            if isinstance(cmd, Dial):
                self.leg_owner[(w.id, cmd.leg)] = call
            asyncio.ensure_future(self._send(w, cmd))
            if isinstance(cmd, Bridge) and call.recording is None:
                parties = [call.caller.get("number", "")] + [lg.target.extension or "" for lg in call.legs.values()
                                                              if lg.id == cmd.b]
                self.start_recording(w, call, [cmd.a, cmd.b], parties, None)

    def record_code(self, owner: Any, leg: str, digit: str) -> bool:
        """*1 pressed during a conversation starts its recording (on demand)."""
        last = owner.__dict__.setdefault("_digits", {})
        previous, last[leg] = last.get(leg, ""), digit
        if previous == "*" and digit == RECORD_CODE_DIGIT:
            try:
                self.record_on_demand(owner.call_id)
            except Exception as e:  # declined, disk full, not connected: nothing to start
                log.info("recording on demand refused for %s: %s", owner.call_id, e)
            return True
        return False

    def record_on_demand(self, call_id: str) -> dict[str, Any]:
        """Start recording a conversation now (an agent's or the API's choice)."""
        owner = self.flow_calls.get(call_id) or next((c for c in self.calls.values() if c.call_id == call_id), None)
        if owner is None:
            raise NotFound(f"no call {call_id} in progress")
        if getattr(owner, "recording", None):
            return {"call_id": call_id, "recording": owner.recording}
        if getattr(owner, "declined", False):
            raise NotAllowed("the caller declined recording")
        if isinstance(owner, Call):
            legs = [owner.kept_leg or owner.inbound, owner.answered_leg]
            w = self.workers[owner.worker]
        else:
            legs = [owner.inbound, getattr(owner, "agent_leg", None)]
            w = owner.w
        if not all(legs):
            raise Conflict(f"call {call_id} is not connected yet")
        path = self.core.recordings.path_for(call_id)
        if path is None:
            raise Conflict("the data disk is nearly full: recording is stopped")
        owner.recording = str(path)
        asyncio.ensure_future(self.send(w, "record_start", legs=legs, file=str(path)))
        return {"call_id": call_id, "recording": str(path.relative_to(self.core.data_dir))}

    def start_recording(self, w: Worker, owner: Any, legs: list[str], extensions: list[str],
                        queue: str | None) -> None:
        """Record a conversation when the policy asks for it and the disk has room."""
        recordings = self.core.recordings
        if getattr(owner, "declined", False) or \
                not recordings.wanted(extensions, queue, str(getattr(owner, "notice_mode", "never"))):
            return  # a caller who declined is never recorded
        path = recordings.path_for(owner.call_id)
        if path is None:
            return
        owner.recording = str(path)
        asyncio.ensure_future(self.send(w, "record_start", legs=legs, file=str(path)))

    def _voicemail_for(self, call: Call, commands: list[Command]) -> str | None:
        rejects = [c for c in commands if isinstance(c, Reject) and c.leg == call.inbound]
        if not rejects or rejects[0].status not in (408, 480, 486) or call.direction == "outbound":
            return None
        ext = self.core.extension_or_none(call.dialled)
        return call.dialled if ext is not None and ext.get("voicemail", True) else None

    def _voicemail_ports(self, w: Worker) -> Any:
        """What a voicemail call in worker `w` may use of the box."""
        from appliance.voicemail_runtime import VoicemailPorts
        core = self.core
        return VoicemailPorts(
            send=lambda name, fields: asyncio.ensure_future(self.send(w, name, **fields)),
            command=lambda name, **fields: w.client.command(name, **fields), prompt_file=self.prompt_file,
            store=core.voicemail, pin_guard=core.pin_guard, changed=core.voicemail_changed,
            deposited=lambda box, message: core.voicemail_deposited(box, message), finish=self.finish_flow_call)

    def to_voicemail(self, w: Worker, leg: str, call_id: str, caller: str, caller_name: str, box: str,
                     reason: str, answered: bool, language: str | None = None) -> None:
        from appliance.logic import voicemail as vm
        from appliance.voicemail_runtime import VoicemailCall
        config = self.core.voicemail_box(box)
        store = self.core.voicemail
        machine = vm.Deposit(call_id, config, caller, time.time, caller_name=caller_name, reason=reason,
                             recorded=store.greetings(box), message_count=store.counts(box).new
                             + store.counts(box).old)
        vc = VoicemailCall(w, self._voicemail_ports(w), leg, call_id, caller, caller_name, machine,
                           answered=answered, callee=box, language=language or self._language())
        self.calls.pop((w.id, leg), None)
        self.leg_owner[(w.id, leg)] = vc
        self.flow_calls[call_id] = vc  # type: ignore[assignment]
        asyncio.ensure_future(vc.begin())

    async def _agent_code(self, w: Worker, call: Call, action: str) -> None:
        """A feature code: change the agent's status, confirm with a beep (two on failure), hang up."""
        ext = call.caller.get("number", "")
        try:
            if action == "toggle":
                status = str(self.center.agent(ext).status)
                action = "logout" if status != "LOGGED_OUT" else "login"
            self.core.center_admin.agent_action(ext, action, {"reason": "phone"})
            ok = True
        except Exception as e:  # not an agent, or the change is not allowed now
            log.info("feature code from %s refused: %s", ext, e)
            ok = False
        self.calls.pop((w.id, call.inbound), None)
        self.leg_owner.pop((w.id, call.inbound), None)
        await self.send(w, "answer", leg=call.inbound)
        await self.send(w, "play", leg=call.inbound, file=str(self.sounds["beep"]))
        await asyncio.sleep(0.6 if ok else 1.2)
        await self.send(w, "hangup", leg=call.inbound)

    def _voicemail_access(self, w: Worker, call: Call, own: bool) -> None:
        from appliance.logic import voicemail as vm
        from appliance.voicemail_runtime import Outcome, VoicemailCall
        ext = call.caller.get("number", "")
        if own:
            self.core.voicemail_box(ext)
        machine = vm.Access(call.call_id, self.core.voicemail.snapshot, self.core.pin_guard, time.time,
                            box=ext if own else None)
        vc = VoicemailCall(w, self._voicemail_ports(w), call.inbound, call.call_id, ext, call.caller.get("name", ""),
                           machine, language=self._language(), outcome=Outcome.VOICEMAIL_ACCESS)
        self.calls.pop((w.id, call.inbound), None)
        self.leg_owner[(w.id, call.inbound)] = vc
        self.flow_calls[call.call_id] = vc  # type: ignore[assignment]
        asyncio.ensure_future(vc.begin())

    def _resolve_transfer(self, w: Worker, call: Call, target: str) -> None:
        """Where a REFER points: another call of this worker (attended), or an extension (blind)."""
        try:
            uri = sipmsg.parse_name_addr(target).uri if "<" in target else sipmsg.parse_uri(target)
        except SipParseError:
            self._run(w, call, call.transfer_to([]))
            return
        replaces = uri.headers.get("Replaces") or uri.headers.get("replaces")
        if replaces:
            consult_id = urllib.parse.unquote(replaces).split(";", 1)[0]
            other = next((c for (wid, _), c in self.calls.items()
                          if wid == w.id and c.call_id == consult_id and c is not call), None)
            transferor = _party(call, call.transferred_by or "")
            if other is not None and (not transferor or transferor not in _parties(other)):
                # Only one's own consultation call may be joined: not a stranger's, not a trunk's.
                log.warning("attended transfer by %s refused: call %s is not theirs", transferor or "?", consult_id)
                other = None
            handed = other.hand_over() if other else None
            if handed is None:
                log.warning("attended transfer to %s: no such call in %s", consult_id, w.id)
                self._run(w, call, call.transfer_to([]))
                return
            leg, out = handed
            self._run(w, other, out)
            self.leg_owner[(w.id, leg)] = call
            target_ext = other.legs[leg].target.extension
            self._run(w, call, call.adopt(leg, target_ext))
            return
        number = uri.user or ""
        bindings = self.core.registrar.lookup(number) if self.core.extension_or_none(number) else []
        self._run(w, call, call.transfer_to([Target(b.contact, number) for b in bindings]))

    async def _send(self, w: Worker, cmd: Command) -> None:
        if w.client is None or not w.alive:
            return
        try:
            if isinstance(cmd, Ringing):
                await w.client.command("ringing", leg=cmd.leg)
            elif isinstance(cmd, Answer):
                await w.client.command("answer", leg=cmd.leg)
            elif isinstance(cmd, Bridge):
                await w.client.command("bridge", a=cmd.a, b=cmd.b)
            elif isinstance(cmd, Unbridge):
                await w.client.command("unbridge", a=cmd.a, b=cmd.b)
            elif isinstance(cmd, Play):
                await w.client.command("play", leg=cmd.leg, file=str(self.sounds.get(cmd.prompt, cmd.prompt)),
                                       loop=cmd.loop)
            elif isinstance(cmd, StopPlay):
                await w.client.command("stop_play", leg=cmd.leg)
            elif isinstance(cmd, SendDtmf):
                await w.client.command("send_dtmf", leg=cmd.leg, digits=cmd.digits,
                                       method="info" if cmd.method == "info" else "rfc2833")
            elif isinstance(cmd, Hangup):
                await w.client.command("hangup", leg=cmd.leg)
            elif isinstance(cmd, Reject):
                await w.client.command("reject", leg=cmd.leg, status=cmd.status)
            elif isinstance(cmd, Dial):
                try:
                    extra = {"auth": cmd.auth} if cmd.auth else {}
                    await w.client.command("call", leg=cmd.leg, uri=cmd.uri, caller_id=cmd.caller_id,
                                           timeout_s=cmd.timeout_s, **extra)
                except EngineError as e:
                    # The worker could not place the leg (full, bad URI): the call sees it as failed.
                    log.warning("could not dial %s: %s", cmd.uri, e)
                    await self._on_event(w, {"event": "hangup", "leg": cmd.leg, "cause": 503, "by": "local"})
        except EngineError as e:
            log.info("%s refused %s: %s", w.id, cmd, e)

    # --- calls the box answers (flows, queues) ------------------------------------------------

    async def send(self, w: Worker, cmd: str, **fields: Any) -> None:
        if w.client is None or not w.alive:
            return
        try:
            await w.client.command(cmd, **fields)
        except EngineError as e:
            log.info("%s refused %s %s: %s", w.id, cmd, fields.get("leg", ""), e)

    def own_leg(self, w: Worker, leg: str, owner: Any) -> None:
        self.leg_owner[(w.id, leg)] = owner

    def _language(self) -> str:
        """The box's language for callers (the call flows' own), English without flows."""
        flows = self.core.flows
        return getattr(flows, "language", None) or "en"

    def prompt_file(self, name: str, language: str) -> str | None:
        base = self.core.data_dir / "prompts"
        for lang in (language, "en", "system"):
            path = base / lang / f"{name}.wav"
            if path.exists():
                return str(path)
        log.warning("prompt %s (%s) is missing", name, language)
        self.core.alarms.raise_alarm(
            "prompt", f"The prompt {name} ({language}) is missing: callers hear silence where it belongs.",
            "Upload it or type its text on the Prompts page.", key=f"{name}/{language}", incident=True)
        return None

    def take_over_for_ring_group(self, fc: FlowCall, name: str) -> None:
        self.take_over_for_extension(fc, name)  # _route finds the group by its name

    def take_over_for_extension(self, fc: FlowCall, number: str) -> None:
        """A flow sent its caller to an extension: the ordinary call machine rings it."""
        self.flow_calls.pop(fc.call_id, None)
        call = Call(fc.call_id, fc.inbound, {"number": fc.caller, "name": fc.caller_name}, number, self.clock,
                    worker=fc.w.id, direction=fc.direction)
        call.answer_time = None
        call.inbound_answered = True  # the menu answered: voicemail must not answer again
        call.trunk = fc.trunk
        self.calls[(fc.w.id, fc.inbound)] = call
        self.leg_owner[(fc.w.id, fc.inbound)] = call
        asyncio.ensure_future(self.send(fc.w, "stop_play", leg=fc.inbound))
        placed = Placement(fc.w.id, 1 + max(1, fc.w.room), fc.caller)
        call.dialled = number
        self._run(fc.w, call, self._route(call, placed))

    def finish_flow_call(self, fc: FlowCall, record: dict[str, Any]) -> None:
        self.flow_calls.pop(fc.call_id, None)
        self.placements.pop(fc.call_id, None)
        for key in [k for k, v in self.leg_owner.items() if v is fc]:
            del self.leg_owner[key]
        self._write_record(record, getattr(fc, "recording", None))

    def _write_record(self, record: dict[str, Any], recording: str | None = None) -> None:
        record = dict(record)
        if recording:
            record["recording"] = str(Path(recording).relative_to(self.core.data_dir))
        for key in ("start", "answer", "end"):
            if record.get(key) is not None:
                record[key] = datetime.fromtimestamp(record[key], timezone.utc).astimezone().isoformat()
        self._unwritten.append(record)
        while self._unwritten:
            try:
                self.core.call_records.append(self._unwritten[0])
            except OSError as e:
                # Kept in memory and tried again with the next record: nothing is dropped, the owner is told.
                log.warning("call record %s not written yet: %s", record.get("call_id"), e)
                self.core.alarms.raise_alarm(
                    "record", f"Call records cannot be written ({e}); {len(self._unwritten)} wait in memory.",
                    "Make room on the data disk (old recordings, backups); the records are written as soon "
                    "as it works again, but a restart before then loses them.")
                break
            written = self._unwritten.pop(0)
            if not self._unwritten:
                self.core.alarms.clear("record")
            self.core.events.publish("call_record", **{k: written.get(k) for k in
                                                       ("call_id", "disposition", "caller", "callee", "duration_s")})


def _box_call(fc: Any) -> dict[str, Any]:
    """What the Now page shows of a call the box answered or placed itself."""
    from appliance.voicemail_runtime import VoicemailCall
    agent = getattr(fc, "agent", None)
    queue = getattr(fc, "queue", None)
    if isinstance(fc, CallbackCall):
        state, caller, callee = "CALLBACK", queue, fc.number
    elif isinstance(fc, OriginateCall):
        state, caller, callee = "CLICK_TO_DIAL", fc.ext, (fc.target or {}).get("number")
    elif isinstance(fc, VoicemailCall):
        state, caller, callee = "VOICEMAIL", fc.caller, fc.callee
    else:
        state = "ANSWERED" if getattr(fc, "agent_answer", None) else "QUEUED" if queue else "IN_MENU"
        caller, callee = getattr(fc, "caller", ""), getattr(fc, "dialled", "")
    return {"call_id": fc.call_id, "worker": fc.w.id, "state": state, "caller": caller, "callee": callee,
            "start": getattr(fc, "start", None), "answer": getattr(fc, "agent_answer", None)
            or getattr(fc, "answer_time", None), "queue": queue, "agent": agent}


def _party(call: Call, leg: str) -> str:
    """Who is on `leg` of `call`: an extension number, or 'trunk:NAME' for an outside caller."""
    if leg == call.inbound:
        return f"trunk:{call.trunk}" if call.trunk else call.caller.get("number", "")
    found = call.legs.get(leg)
    if found is None or found.target is None:
        return ""
    return found.target.extension or (f"trunk:{found.target.trunk}" if found.target.trunk else "")


def _parties(call: Call) -> set[str]:
    """Everyone talking in `call` (the caller and whoever answered)."""
    return {p for p in [_party(call, call.inbound)] + [_party(call, leg) for leg, x in call.legs.items()
                                                      if x.state == "answered"] if p}


def _user_of(uri_text: str) -> str:
    try:
        uri = sipmsg.parse_name_addr(uri_text).uri
        return (uri.user or "") if uri is not None else ""
    except SipParseError:
        try:
            return sipmsg.parse_uri(uri_text).user or ""
        except SipParseError:
            return ""


def workers_needed(max_conversations: int, calls_per_worker: int) -> int:
    """Two legs per conversation; a worker holds calls_per_worker legs."""
    return max(1, math.ceil(2 * max_conversations / max(2, calls_per_worker)))
