"""The engine workers: a pool that grows with the calls, stops what stays idle, and moves to a new address.

One worker starts first to learn how many calls the pjsua2 build allows; more start as calls come
(up to what the capacity wants), always keeping a spare with nothing to do, and extra idle ones
stop again. A worker that dies is restarted (with a back-off) and only its own calls drop. When the
box's LAN address changes, new calls go to workers on the new address and a worker with calls
finishes them before it moves.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.alarms import alarm_extra
from appliance.engine.client import EngineClient, WorkerProcess
from appliance.errors import EngineError
from appliance.ports import Publish, Setting

log = logging.getLogger("callbox.switchboard")

# An INVITE placed on a worker that does not show up there within this time frees its room.
RESERVATION_S = 32.0
RESTART_BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
MOVE_CHECK_S = 1.0      # how often workers waiting to move to a new address look again
SPARE_WORKERS = 1       # idle engine workers kept ready for the next calls
POOL_CHECK_S = 2.0      # how often the pool looks for idle workers to stop


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

    def reserve(self, call_id: str, legs: int) -> None:
        """Hold room for a call the edge is about to forward here."""
        self.reserved[call_id] = legs
        self.reserved_at[call_id] = time.monotonic()

    def arrived(self, call_id: str) -> None:
        """The call showed up: its room is now counted by the worker itself."""
        self.reserved.pop(call_id, None)
        self.reserved_at.pop(call_id, None)


class EnginePool:
    """The engine worker processes, their room, and the commands sent to them."""

    def __init__(self, *, bind: str, publish: Publish, setting: Setting, run_dir: Path, edge_key_file: str = "",
                 on_event: Callable[[Worker, dict[str, Any]], Awaitable[None]],
                 on_lost: Callable[[Worker], None], has_calls: Callable[[str], bool],
                 reservation_expired: Callable[[str], None]):
        self.bind = bind
        self.publish, self.setting, self.run_dir, self.edge_key_file = publish, setting, run_dir, edge_key_file
        self.on_event, self.on_lost, self.has_calls = on_event, on_lost, has_calls
        self.reservation_expired = reservation_expired
        self.idle_stop_s = float(setting("engine.idle_stop_s"))
        self.wanted = 1
        self.workers: dict[str, Worker] = {}
        self.stopping = False
        self._tasks: list[asyncio.Task] = []
        self._mover: asyncio.Future | None = None
        self._pool_task: asyncio.Future | None = None
        self._starting: set[str] = set()

    # --- the pool ------------------------------------------------------------------------

    async def start(self, max_conversations: int) -> None:
        """Start one worker to learn the build's call limit; more start as calls come (up to what the
        capacity wants), always keeping a spare with nothing to do, and extra idle ones stop again."""
        await self._start_worker("w0")
        per_worker = self.workers["w0"].max_calls or 4
        self.wanted = workers_needed(max_conversations, per_worker)
        self._pool_task = asyncio.ensure_future(self._tend_pool())

    def worker(self, wid: str) -> Worker | None:
        return self.workers.get(wid)

    def with_most_room(self) -> Worker | None:
        return max(self.workers.values(), key=lambda w: w.room, default=None)

    def with_room(self, legs: int = 2) -> Worker | None:
        """The worker with the most room, when it can take `legs` more legs."""
        best = self.with_most_room()
        return best if best is not None and best.room >= legs else None

    def busy(self, w: Worker) -> bool:
        """Calls in it, promised to it, or legs the engine still counts as in use."""
        return bool(w.reserved) or w.free < w.max_calls or self.has_calls(w.id)

    def status(self) -> list[dict[str, Any]]:
        return [{"id": w.id, "alive": w.alive, "bind": w.bind, "moving": w.moving, "sip_port": w.sip_port,
                 "max_calls": w.max_calls,
                 "pid": w.process.process.pid if w.process.process else None,
                 "free": w.free, "room": w.room, "restarts": w.restarts} for w in self.workers.values()]

    # --- commands to a worker -------------------------------------------------------------

    async def send(self, w: Worker, cmd: str, **fields: Any) -> None:
        """An engine command whose refusal is only logged (the call's own events tell the rest)."""
        if w.client is None or not w.alive:
            return
        try:
            await w.client.command(cmd, **fields)
        except EngineError as e:
            log.info("%s refused %s %s: %s", w.id, cmd, fields.get("leg", ""), e)

    def send_soon(self, w: Worker, cmd: str, fields: dict[str, Any]) -> None:
        asyncio.ensure_future(self.send(w, cmd, **fields))

    async def command(self, w: Worker, cmd: str, **fields: Any) -> Any:
        """An engine command whose answer matters: raises when the worker refuses or is gone."""
        if w.client is None:
            raise EngineError(f"engine worker {w.id} is not running")
        return await w.client.command(cmd, **fields)

    # --- workers on demand ----------------------------------------------------------------

    def _idle(self, w: Worker) -> bool:
        return w.alive and not w.moving and not self.busy(w)

    def grow_if_needed(self) -> None:
        """Keep SPARE_WORKERS idle workers ready, so the next call never waits for a start."""
        if self.stopping:
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
        while not self.stopping:
            await asyncio.sleep(POOL_CHECK_S)
            self.expire_reservations()
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
            self.grow_if_needed()

    def expire_reservations(self) -> None:
        """Room promised to an INVITE that never arrived is free again."""
        now = time.monotonic()
        for w in self.workers.values():
            for cid, at in list(w.reserved_at.items()):
                if now - at > RESERVATION_S:
                    w.arrived(cid)
                    self.reservation_expired(cid)

    async def _stop_idle(self, w: Worker) -> None:
        w.client, w.alive = None, False
        self.workers.pop(w.id, None)
        await w.process.stop(timeout_s=5)
        log.info("engine worker %s stopped: idle for %.0f s", w.id, self.idle_stop_s)
        self.publish("engine", worker=w.id, state="stopped")

    async def _start_worker(self, wid: str) -> None:
        log_file = str(self.run_dir / f"engine-{wid}.log")
        public = self.setting("sip.external_address")
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
        self.publish("engine", worker=wid, state="ready", max_calls=w.max_calls)
        self._tasks.append(asyncio.create_task(self._pump(w, w.client)))

    def _schedule_restart(self, w: Worker) -> None:
        if self.stopping:
            return
        delay = RESTART_BACKOFF_S[min(w.restarts, len(RESTART_BACKOFF_S) - 1)]
        w.restarts += 1
        asyncio.get_running_loop().call_later(delay, lambda: asyncio.ensure_future(self._start_worker(w.id)))

    async def _pump(self, w: Worker, client: EngineClient) -> None:
        try:
            async for event in client.events():
                if event.get("event") == "capacity":
                    w.free = int(event.get("free", w.free))
                    self.grow_if_needed()
                    continue
                try:
                    await self.on_event(w, event)
                except Exception:  # one bad event must not stop a worker's calls
                    log.exception("error handling %s from %s", event, w.id)
        finally:
            if not self.stopping and w.client is client:  # not a worker moved on purpose
                await self._worker_lost(w)

    async def _worker_lost(self, w: Worker) -> None:
        w.alive = False
        code = await w.process.stop(timeout_s=2)
        log.error("engine worker %s died (exit %s); its calls are dropped", w.id, code, extra=alarm_extra())
        self.publish("engine", worker=w.id, state="died", exit=code)
        self.on_lost(w)
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

    async def _move_idle_workers(self) -> None:
        while not self.stopping:
            self.expire_reservations()
            moving = [w for w in self.workers.values() if w.moving]
            if not moving:
                return
            for w in moving:
                if not self.busy(w):
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
        self.stopping = True
        if self._mover is not None:
            self._mover.cancel()
        if self._pool_task is not None:
            self._pool_task.cancel()
        for w in self.workers.values():
            await w.process.stop(timeout_s=5)
        for t in self._tasks:
            t.cancel()


def workers_needed(max_conversations: int, calls_per_worker: int) -> int:
    """Two legs per conversation; a worker holds calls_per_worker legs."""
    return max(1, math.ceil(2 * max_conversations / max(2, calls_per_worker)))
