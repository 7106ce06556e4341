"""The simulated desk phones: one pjsua2 Endpoint with its registered accounts, its calls and their timers.

Each call follows the table in appliance.logic.simcalls (`step` answers an event with commands:
ring, answer, send digits, hang up, start a timer); this module carries the commands out on
pjsua2 and turns what pjsua2 says back into events. What the phones do on their own (an agent
answering, a caller dialling) is in `agents_and_callers`. Every event is also told on the
`EventLine` (one JSON object a line, see docs/demo.md). One thread, like the engine worker.
"""

from __future__ import annotations

import gc
import heapq
import json
import logging
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

import pjsua2 as pj

from appliance.engine import call_control, media, process
from appliance.engine.legs import guarded
from appliance.logic.simcalls import (
    Answer, CallEvent, CallState, CancelTimers, Command, HangUp, Ring, SendDigits, SimCall, StartTimer, step,
)

log = logging.getLogger("callbox.simphones")

# G.711 only: a dozen simulated phones must not eat the CPU the box needs.
CODECS = {"PCMA/8000": 240, "PCMU/8000": 230}


class SimAccount(pj.Account):
    def __init__(self, phones: "SimPhones", user: str):
        super().__init__()
        self.phones = phones
        self.user = user
        self.registered = False

    @guarded
    def onRegState(self, prm) -> None:
        self.phones.on_reg_state(self, int(prm.code), str(prm.reason), int(prm.expiration))

    @guarded
    def onIncomingCall(self, prm) -> None:
        self.phones.on_incoming(self, prm)


class PhoneCall(pj.Call):
    def __init__(self, phones: "SimPhones", account: SimAccount, call_id: int | None = None):
        super().__init__(account, pj.PJSUA_INVALID_ID if call_id is None else call_id)
        self.phones = phones
        self.sim_account = account
        self.sim: SimCall | None = None

    @guarded
    def onCallState(self, prm) -> None:
        self.phones.on_call_state(self)

    @guarded
    def onCallMediaState(self, prm) -> None:
        self.phones.on_media(self)


class EventLine:
    """One JSON object per line on a stream the demo and tests read; `t` is the wall clock's time."""

    def __init__(self, stream: TextIO, role: str, wall_clock: Callable[[], float] = time.time):
        self.stream = stream
        self.role = role
        self.wall_clock = wall_clock

    def __call__(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, "role": self.role, "t": round(self.wall_clock(), 3), **fields})
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # nobody reads any more; the calls go on


@dataclass
class _Timer:
    at: float
    seq: int
    call_id: str
    event: CallEvent = field(compare=False)

    def __lt__(self, other: "_Timer") -> bool:
        return (self.at, self.seq) < (other.at, other.seq)


class SimPhones:
    """One pjsua2 Endpoint with its accounts, calls and timers; subclasses add behaviour."""

    role = "phones"
    user_agent = "Callbox simulated phone"

    def __init__(self, box: tuple[str, int], accounts: list[tuple[str, str]], emit: EventLine,
                 rng: random.Random, voice: Path, bind: str = "127.0.0.1", log_level: int = 0,
                 clock: Callable[[], float] = time.monotonic, *, max_calls: int):
        self.box = box
        self.emit = emit
        self.rng = rng
        self.clock = clock
        self.stopping = False
        self.calls: dict[str, PhoneCall] = {}
        self.refused: set[PhoneCall] = set()  # refused but not yet DISCONNECTED
        self._trash: list[Any] = []  # released outside pjsua callbacks
        self._timers: list[_Timer] = []
        self._seq = 0
        self._timer_seq = 0
        self.ep, self.sip_port = media.start_endpoint(
            bind, 0, log_level=log_level, user_agent=self.user_agent, max_calls=max_calls,
            conference_ports=None, codecs=CODECS)
        self.max_calls = min(max_calls, media.max_calls())
        self.voice_player = pj.AudioMediaPlayer()
        self.voice_player.createPlayer(str(voice), 0)  # loops: talk lasts longer than the clip
        self.accounts = [self._account(user, secret, bind) for user, secret in accounts]

    # ---- setup ---------------------------------------------------------------

    def _account(self, user: str, secret: str, bind: str) -> SimAccount:
        host, port = self.box
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{user}@{host}"
        acfg.regConfig.registrarUri = f"sip:{host}:{port}"
        acfg.regConfig.timeoutSec = 300
        acfg.regConfig.retryIntervalSec = 5  # the box may be starting or restarting
        acfg.regConfig.firstRetryIntervalSec = 2
        acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, secret))
        acfg.mediaConfig.transportConfig.boundAddress = bind
        acfg.mediaConfig.transportConfig.port = 0
        account = SimAccount(self, user)
        account.create(acfg, False)
        return account

    # ---- pjsua callbacks (main thread, inside libHandleEvents) ----------------------

    def on_reg_state(self, account: SimAccount, code: int, reason: str, expiration: int) -> None:
        if 200 <= code < 300 and expiration > 0:
            if not account.registered:
                account.registered = True
                self.emit("registered", account=account.user, expires=expiration)
                self.on_registered(account)
        elif 200 <= code < 300:
            account.registered = False
            self.emit("unregistered", account=account.user)
        else:
            account.registered = False
            self.emit("registration_failed", account=account.user, code=code, reason=reason)

    def on_registered(self, account: SimAccount) -> None:
        """Hook for subclasses."""

    def on_incoming(self, account: SimAccount, prm) -> None:
        call = PhoneCall(self, account, prm.callId)
        info = call.getInfo()
        status = self.refuse_status(account)
        if status is not None:
            self.refused.add(call)
            self.emit("refused", account=account.user, status=status, **{"from": info.remoteUri},
                      call_id=info.callIdString)
            call_control.end(call, status)
            return
        self.take_incoming(account, call, info)

    def refuse_status(self, account: SimAccount) -> int | None:
        return 486  # only agents take calls

    def take_incoming(self, account: SimAccount, call: PhoneCall, info) -> None:
        raise NotImplementedError

    def on_call_state(self, call: PhoneCall) -> None:
        info = call.getInfo()
        sim = call.sim
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.refused.discard(call)
            self._trash.append(call)  # pjsua reuses call ids: drop the object now
            if sim is None:
                return
            call.sim = None
            self.calls.pop(sim.id, None)
            by = "local" if sim.state == CallState.HANGING_UP else "remote"
            talked = None if sim.connected_at is None else round(self.clock() - sim.connected_at, 1)
            self.emit("hung_up", account=sim.account, call=sim.id, by=by,
                      cause=int(info.lastStatusCode), reason=info.lastReason, talk_s=talked)
            self.run(sim, step(sim, CallEvent.DISCONNECTED, self.clock()))
        elif info.state == pj.PJSIP_INV_STATE_CONFIRMED and sim is not None:
            if sim.state != CallState.HANGING_UP:
                self.emit("answered", account=sim.account, call=sim.id)
            self.run(sim, step(sim, CallEvent.CONNECTED, self.clock()))

    def on_media(self, call: PhoneCall) -> None:
        info = call.getInfo()
        for i, m in enumerate(info.media):
            if m.type == pj.PJMEDIA_TYPE_AUDIO and m.status in (
                    pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD) \
                    and self.voice_player is not None:
                self.voice_player.startTransmit(call.getAudioMedia(i))

    # ---- carrying out the machine's commands -------------------------------------------

    def new_call_id(self, account: SimAccount) -> str:
        self._seq += 1
        return f"{account.user}-{self._seq}"

    def run(self, sim: SimCall, commands: list[Command]) -> None:
        call = self.calls.get(sim.id)
        for cmd in commands:
            if isinstance(cmd, StartTimer):
                self._timers = [t for t in self._timers
                                if not (t.call_id == sim.id and t.event == cmd.event)]
                heapq.heapify(self._timers)
                self._timer_seq += 1
                heapq.heappush(self._timers, _Timer(self.clock() + cmd.seconds, self._timer_seq,
                                                    sim.id, cmd.event))
            elif isinstance(cmd, CancelTimers):
                self._timers = [t for t in self._timers if t.call_id != sim.id]
                heapq.heapify(self._timers)
            elif call is None:
                continue  # the SIP call is over already
            elif isinstance(cmd, (Ring, Answer)):
                status = 180 if isinstance(cmd, Ring) else 200
                self._sip(sim, "answer", lambda: call_control.respond(call, status))
            elif isinstance(cmd, HangUp):
                self._sip(sim, "hangup", lambda: call_control.end(call))
            elif isinstance(cmd, SendDigits):
                digits = cmd.digits
                if self._sip(sim, "sendDtmf", lambda: call_control.send_digits(call, digits)):
                    self.emit("dtmf_sent", account=sim.account, call=sim.id, digits=cmd.digits)

    def _sip(self, sim: SimCall, what: str, action: Callable[[], None]) -> bool:
        try:
            action()
            return True
        except pj.Error as e:
            log.warning("call %s: %s failed: %s (%s)", sim.id, what, e.reason, e.status)
            return False

    # ---- the loop ------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Hook for subclasses: runs every turn of the loop."""

    def run_forever(self) -> int:
        self.emit("ready", pid=os.getpid(), sip_port=self.sip_port, max_calls=self.max_calls,
                  accounts=[a.user for a in self.accounts])
        collect = process.Collector(self.clock)  # here, on the pjsua2 thread, never on another
        while not self.stopping:
            self.ep.libHandleEvents(10)
            self._trash.clear()
            now = self.clock()
            self._fire_timers(now)
            if not self.stopping:
                self.tick(now)
            collect()
        self.shutdown()
        return 0

    def _fire_timers(self, now: float) -> None:
        # A helper of its own: a Call left in a local of the loop's frame would
        # outlive libDestroy, and its destructor then aborts the process.
        while self._timers and self._timers[0].at <= now and not self.stopping:
            timer = heapq.heappop(self._timers)
            call = self.calls.get(timer.call_id)
            if call is not None and call.sim is not None:
                self.run(call.sim, step(call.sim, timer.event, now))

    def _pump_until(self, done: Callable[[], bool], seconds: float) -> None:
        deadline = self.clock() + seconds
        while not done() and self.clock() < deadline:
            self.ep.libHandleEvents(10)

    def shutdown(self) -> None:
        now = self.clock()
        for sim in [c.sim for c in self.calls.values() if c.sim is not None]:
            self.run(sim, step(sim, CallEvent.SHUTDOWN, now))
        # refusals still under way go too
        media.hang_up_all(self.ep, lambda: bool(self.calls or self.refused), 3.0, clock=self.clock)
        for account in self.accounts:
            if account.registered:
                try:
                    account.setRegistration(False)
                except pj.Error:
                    account.registered = False
        self._pump_until(lambda: not any(a.registered for a in self.accounts), 3.0)
        self._timers.clear()
        self.calls.clear()
        self.refused.clear()
        self._trash.clear()
        self.voice_player = None
        gc.collect()
        media.shut_down_accounts(self.accounts)
        self.accounts.clear()
        gc.collect()
        # Unregistration is done (or gave up): don't let pjsua wait for it again.
        media.stop_endpoint(self.ep, None)
        self.emit("stopped")
