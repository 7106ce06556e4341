"""The worker's call legs: INVITEs the edge signed, calls the core places, and what the core does to
them (ring, answer, refuse, hold, digits, transfer, hang up).

A leg is dropped the moment pjsua says its call is over: pjsua reuses call ids, and a stale Call
deleted later would hang up whichever new call took its id. Hold needs a re-INVITE, which SIP
allows only when no other INVITE transaction is under way, so a refused one is retried from the
loop (`tick`) for a few seconds. Time comes from the clocks given: `clock` for deadlines,
`wall_clock` for the edge's signatures.

Runs on the worker's pjsua2 thread only.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any, Callable, Protocol

import pjsua2 as pj

from appliance.engine import call_control, media
from appliance.engine.commands import CommandFailed
from appliance.engine.legs import Leg, LegCall, LegState, LocalAccount, live_leg
from appliance.engine.protocol import parse_name_addr
from appliance.sip.identity import verify_identity

log = logging.getLogger("callbox.engine.worker")

_HOLD_RETRY_S = 5.0
_HOLD_RETRY_EVERY = 10  # loop rounds between two tries
_TRUNK_ACCOUNTS = 7  # the wheel allows 8 accounts per process, one is the worker's own


class LegAudio(Protocol):
    """What a leg's audio needs to hear of it (the worker's audio paths)."""

    def rewire(self, leg: Leg) -> None: ...
    def leg_gone(self, leg: Leg) -> None: ...


class CallLegs:
    """Every SIP call the worker holds, by leg id; the callbacks of their pjsua2 objects land here."""

    def __init__(self, legs: dict[str, Leg], audio: LegAudio, emit: Callable[..., None],
                 stopping: Callable[[], bool], *, worker_id: str, bind: str, sip_port: int,
                 max_calls: int, edge_key: bytes | None = None, public_address: str = "",
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time):
        self.legs = legs
        self.audio = audio
        self.emit = emit
        self.id = worker_id
        self.bind = bind
        self.sip_port = sip_port
        self.max_calls = max_calls
        self.edge_key = edge_key   # the edge's signing key: only what it signed is taken
        self.public_address = public_address
        self.clock = clock
        self.wall_clock = wall_clock
        self.stopping = stopping  # the worker is on its way out: new calls get 503
        self.account: LocalAccount | None = media.local_account(worker_id, bind, sip_port, self.on_incoming)
        self.trunk_accounts: dict[tuple, LocalAccount] = {}
        self._incoming_seq = 0
        self._last_free: int | None = None
        self._refused = 0
        self._trash: list[Any] = []
        self._tick = 0

    @property
    def free(self) -> int:
        return max(self.max_calls - len(self.legs), 0)

    def report_capacity(self) -> None:
        if self.free != self._last_free:
            self._last_free = self.free
            self.emit("capacity", free=self.free, max_calls=self.max_calls)

    def describe(self) -> list[dict[str, Any]]:
        return [leg.describe() for leg in self.legs.values()]

    # ---- pjsua callbacks (inside libHandleEvents) ------------------------------------------

    def on_incoming(self, prm: pj.OnIncomingCallParam) -> None:
        self._incoming_seq += 1
        leg_id = f"{self.id}-{self._incoming_seq}"
        call = LegCall(self, leg_id, self.account, prm.callId)
        if self.stopping():
            call_control.end(call, 503)
            return
        identity = self._edge_identity(prm.rdata.wholeMsg, prm.rdata.srcAddress)
        if identity is None:
            # Not forwarded by the edge (it signs what it authenticated): refused before it is a leg,
            # and before the core spends anything on it.
            call_control.end(call, 403)
            return
        leg = Leg(id=leg_id, call=call, direction="in")
        self.legs[leg_id] = leg
        info = call.getInfo()
        self.emit("incoming", leg=leg_id, **{"from": info.remoteUri}, to=info.localUri,
                  caller_id={k: v for k, v in parse_name_addr(info.remoteUri).items()
                             if k in ("name", "number")},
                  call_id=info.callIdString, source=prm.rdata.srcAddress, identity=identity)
        self.report_capacity()

    def _edge_identity(self, message: str, source: str) -> str | None:
        """Who the edge says sent this INVITE, if the edge's signature holds; '' with no key (a
        worker run on its own, as the engine's tests do)."""
        if self.edge_key is None:
            return ""
        call_id = value = ""
        for line in message.split("\r\n")[1:]:
            if not line:
                break
            name, _, rest = line.partition(":")
            name = name.strip().lower()
            if name in ("call-id", "i"):
                call_id = rest.strip()
            elif name == "x-callbox-auth":
                value = rest.strip()
        ext = verify_identity(self.edge_key, call_id, value, self.wall_clock()) if value and call_id else None
        if ext is None:
            self._refused += 1
            if self._refused <= 10 or self._refused % 1000 == 0:
                log.warning("refused an INVITE from %s that the edge did not sign (%d so far)", source, self._refused)
        return ext

    def on_state(self, leg: Leg, info: pj.CallInfo) -> None:
        if info.state == pj.PJSIP_INV_STATE_EARLY and leg.direction == "out" \
                and info.lastStatusCode in (180, 183) and not leg.rang:
            leg.rang = True
            self.emit("ringing", leg=leg.id, status=info.lastStatusCode)
        elif info.state == pj.PJSIP_INV_STATE_CONFIRMED and leg.state != LegState.ANSWERED:
            leg.state = LegState.ANSWERED
            leg.deadline = None
            self.emit("answered", leg=leg.id, codec=media.codec_of(leg.call))
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self._forget(leg, info)

    def on_media(self, leg: Leg) -> None:
        status = media.audio_status(leg.call)
        if status is None:
            return
        held = status == pj.PJSUA_CALL_MEDIA_REMOTE_HOLD
        if held != leg.held_by_remote:
            leg.held_by_remote = held
            self.emit("held" if held else "unheld", leg=leg.id, by="remote")
        self.audio.rewire(leg)

    def on_dtmf(self, leg: Leg, digit: str, method: str) -> None:
        self.emit("dtmf", leg=leg.id, digit=digit, method=method)

    def on_transfer_request(self, leg: Leg, target: str) -> None:
        self.emit("transfer_requested", leg=leg.id, target=target)

    def on_transfer_status(self, leg: Leg, status: int, final: bool) -> None:
        self.emit("transfer_status", leg=leg.id, status=status, final=final)

    def _forget(self, leg: Leg, info: pj.CallInfo) -> None:
        leg.state = LegState.GONE
        self.legs.pop(leg.id, None)
        cause = 408 if leg.timed_out else info.lastStatusCode
        self.emit("hangup", leg=leg.id, cause=cause, reason=info.lastReason,
                  by="local" if leg.hung_up_here else "remote")
        self.audio.leg_gone(leg)
        leg.call.leg = None  # break the cycle so the Call goes when this callback returns
        leg.call = None  # type: ignore[assignment]
        self.report_capacity()

    # ---- commands ---------------------------------------------------------------------------

    def answer(self, leg: str) -> None:
        call_control.respond(self._unanswered(leg).call, 200)

    def ringing(self, leg: str) -> None:
        call_control.respond(self._unanswered(leg).call, 180)

    def reject(self, leg: str, status: int = 486) -> None:
        self._hang_up(self._unanswered(leg), status)

    def hangup(self, leg: str) -> None:
        self._hang_up(live_leg(self.legs, leg), 0)

    def _unanswered(self, leg_id: str) -> Leg:
        leg = live_leg(self.legs, leg_id)
        if leg.direction != "in" or leg.state == LegState.ANSWERED:
            raise CommandFailed(f"leg {leg_id} is not an unanswered incoming call")
        return leg

    def _hang_up(self, leg: Leg, status: int) -> None:
        leg.hung_up_here = True
        call_control.end(leg.call, status)

    def call(self, leg: str, uri: str, caller_id: dict | None = None, headers: dict | None = None,
             timeout_s: float | None = None, auth: dict | None = None) -> dict:
        if leg in self.legs:
            raise CommandFailed(f"leg id already in use: {leg}")
        if len(self.legs) >= self.max_calls:
            raise CommandFailed(f"full: {self.max_calls} calls in this worker")
        prm = pj.CallOpParam(True)
        if caller_id:
            number = str(caller_id.get("number") or self.id)
            name = str(caller_id.get("name") or "").replace('"', "")
            if not all(c.isalnum() or c in "+*#-._" for c in number):
                raise CommandFailed("call: caller_id number has bad characters")
            prm.txOption.localUri = f'"{name}" <sip:{number}@{self.bind}:{self.sip_port}>'
        for name_, value in (headers or {}).items():
            h = pj.SipHeader()
            h.hName, h.hValue = name_, value
            prm.txOption.headers.append(h)
        call = LegCall(self, leg, self._account_for(auth))
        entry = Leg(id=leg, call=call, direction="out")
        if timeout_s:
            entry.deadline = self.clock() + float(timeout_s)
        self.legs[leg] = entry
        try:
            call.makeCall(uri, prm)
        except pj.Error:
            self.legs.pop(leg, None)
            call.leg = None
            self._trash.append(call)
            raise
        self.report_capacity()
        return {"leg": leg}

    def _account_for(self, auth: dict | None) -> LocalAccount | None:
        """The local account, or one per set of trunk credentials (to answer a provider's challenge)."""
        if not auth:
            return self.account
        key = (auth["username"], auth.get("realm") or "*", auth.get("domain") or "")
        account = self.trunk_accounts.get(key)
        if account is None:
            if len(self.trunk_accounts) >= _TRUNK_ACCOUNTS:
                raise CommandFailed("call: too many trunk credentials in this worker")
            acfg = pj.AccountConfig()
            acfg.idUri = f"sip:{auth['username']}@{auth.get('domain') or self.bind}"
            acfg.mediaConfig.transportConfig.boundAddress = self.bind
            if self.public_address:
                # Behind the office router's NAT: the provider must send its audio to the public address.
                acfg.mediaConfig.transportConfig.publicAddress = self.public_address
            # A provider answering with several codecs must not get a re-INVITE to pick one:
            # many do not expect it, and the first codec is fine.
            acfg.mediaConfig.lockCodecEnabled = False
            acfg.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", auth.get("realm") or "*", auth["username"], 0, auth["password"]))
            account = LocalAccount(self.on_incoming)
            account.create(acfg, False)
            self.trunk_accounts[key] = account
        return account

    def send_dtmf(self, leg: str, digits: str, method: str = "rfc2833") -> None:
        call_control.send_digits(live_leg(self.legs, leg).call, digits, method)

    def hold(self, leg: str) -> dict:
        return self._want_hold(live_leg(self.legs, leg), True)

    def unhold(self, leg: str) -> dict:
        return self._want_hold(live_leg(self.legs, leg), False)

    def _want_hold(self, leg: Leg, hold: bool) -> dict:
        if leg.state != LegState.ANSWERED:
            raise CommandFailed(f"leg {leg.id} is not answered")
        leg.held_here = hold
        leg.hold_pending_until = self.clock() + _HOLD_RETRY_S
        if self._try_hold(leg):
            return {}
        return {"pending": True}

    def _try_hold(self, leg: Leg) -> bool:
        prm = pj.CallOpParam(True)
        try:
            if leg.held_here:
                leg.call.setHold(prm)
            else:
                prm.opt.flag = pj.PJSUA_CALL_UNHOLD
                leg.call.reinvite(prm)
        except pj.Error as e:
            if self.clock() >= (leg.hold_pending_until or 0):
                log.warning("leg %s: %s failed: %s", leg.id,
                            "hold" if leg.held_here else "unhold", e.reason)
                leg.hold_pending_until = None
            return False
        leg.hold_pending_until = None
        return True

    def transfer(self, leg: str, uri: str) -> None:
        live_leg(self.legs, leg).call.xfer(uri, pj.CallOpParam(True))

    # ---- the loop ------------------------------------------------------------------------------

    def tick(self) -> None:
        """Outside pjsua callbacks, every round: hold retries and ringing deadlines."""
        self._trash.clear()
        self._tick += 1
        for leg in list(self.legs.values()):
            try:
                self._leg_timers(leg)
            except Exception:
                log.exception("leg %s: timer work failed", leg.id)

    def _leg_timers(self, leg: Leg) -> None:
        if leg.hold_pending_until is not None and leg.call is not None \
                and self._tick % _HOLD_RETRY_EVERY == 0:
            self._try_hold(leg)
        if leg.deadline is not None and self.clock() >= leg.deadline and leg.call is not None:
            leg.deadline = None
            leg.timed_out = True
            self._hang_up(leg, 0)

    def close(self) -> None:
        """The worker stops (its calls hung up already): legs and accounts go before the endpoint."""
        for leg in list(self.legs.values()):
            if leg.call is not None:
                leg.call.leg = None
        self.legs.clear()
        self._trash.clear()
        gc.collect()  # the Calls go before their accounts
        media.shut_down_accounts(self.trunk_accounts.values())
        self.trunk_accounts.clear()
