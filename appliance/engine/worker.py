"""An engine worker: one pjsua2 Endpoint driven by the core over a Unix socket.

Run as ``python -m appliance.engine.worker --control SOCK --sip-port N
--bind ADDR --id w0``. The core listens on SOCK; the worker connects to it,
announces ``ready`` and then executes commands (see docs/engine-protocol.md).

Threads: the main thread owns pjsua2 and is the only one that creates,
uses or destroys pjsua2 objects, and the only one that writes to the
socket. A reader thread turns socket lines into queue items. pjsua2's own
clock thread runs the conference bridge; its callbacks (player end of file)
only set flags. Python's cycle collector is disabled and run on the main
thread, because a collection on the reader thread could destroy a player
under pjsua2's feet and abort the process.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import queue
import signal
import socket
import sys
import threading
import time
from typing import Any

import pjsua2 as pj

from appliance.engine import media
from appliance.engine.legs import Leg, LegCall, LegState, LocalAccount
from appliance.sip.identity import verify_identity
from appliance.engine.protocol import (
    Command, ProtocolError, decode_line, encode, parse_command, parse_event, parse_name_addr)

log = logging.getLogger("callbox.engine.worker")

_LOST = object()  # queue marker: the control connection is gone
_GC_EVERY_S = 2.0
_POLL_MS = 40
# While a caller talks to the box itself (a menu, a queue, voicemail) the worker waits less: pjsua hands
# a DTMF digit to this thread as a job that runs only after the wait, so a 40 ms wait would add up to
# 40 ms to every keypress in a menu. Bridged calls and an idle worker keep the long, cheap wait.
_POLL_LISTENING_MS = 5
_SHUTDOWN_GRACE_S = 1.0
_HOLD_RETRY_S = 5.0


class Worker:
    """Owns the Endpoint, the legs and the control connection."""

    def __init__(self, worker_id: str, control: socket.socket, bind: str, sip_port: int,
                 log_file: str | None = None, log_level: int = 1):
        self.id = worker_id
        self.control = control
        self.bind = bind
        self.inbox: queue.Queue = queue.Queue()
        self.legs: dict[str, Leg] = {}
        self.links: set[tuple[str, str]] = set()  # (src leg, dst leg) audio paths
        self.recordings: dict[str, media.Recording] = {}
        self.stopping = False
        self.exit_code = 0
        self._incoming_seq = 0
        self._last_free: int | None = None
        self._trash: list[Any] = []
        self._finish_later: list[str] = []  # recordings whose last leg hung up
        self._tick = 0
        self.ep, self.account, self.sip_port = media.start_endpoint(
            self, bind, sip_port, log_file, log_level)
        self.max_calls = media.max_calls()
        self.trunk_accounts: dict[tuple, LocalAccount] = {}
        self.edge_key: bytes | None = None   # the edge's signing key: only what it signed is taken
        self._refused = 0

    # ---- events out ---------------------------------------------------

    def emit(self, event: str, **fields: Any) -> None:
        message = {"event": event, **fields}
        try:
            parse_event(message)
        except ProtocolError as e:  # a bug here: the core would drop it anyway, so say it where it starts
            log.error("not sending an event that breaks the protocol: %s", e)
            return
        self._send(message)

    def _send(self, message: dict[str, Any]) -> None:
        try:
            self.control.sendall(encode(message))
        except OSError:
            self._lost("send failed")

    def _reply(self, cmd_id: Any, ok: bool = True, error: str | None = None, **fields: Any):
        message: dict[str, Any] = {"reply": cmd_id, "ok": ok, **fields}
        if error is not None:
            message["error"] = error
        self._send(message)

    def _lost(self, why: str) -> None:
        if not self.stopping:
            log.warning("control connection lost (%s): hanging up and exiting", why)
            self.stopping = True
            self.exit_code = 0

    def _report_capacity(self) -> None:
        free = max(self.max_calls - len(self.legs), 0)
        if free != self._last_free:
            self._last_free = free
            self.emit("capacity", free=free, max_calls=self.max_calls)

    # ---- callbacks from legs (main thread, inside libHandleEvents) -----

    def on_incoming(self, prm: pj.OnIncomingCallParam) -> None:
        self._incoming_seq += 1
        leg_id = f"{self.id}-{self._incoming_seq}"
        call = LegCall(self, leg_id, self.account, prm.callId)
        if self.stopping:
            prm_ = pj.CallOpParam(True)
            prm_.statusCode = 503
            call.hangup(prm_)
            return
        identity = self._edge_identity(prm.rdata.wholeMsg, prm.rdata.srcAddress)
        if identity is None:
            # Not forwarded by the edge (it signs what it authenticated): refused before it is a leg,
            # and before the core spends anything on it.
            prm_ = pj.CallOpParam(True)
            prm_.statusCode = 403
            call.hangup(prm_)
            return
        leg = Leg(id=leg_id, call=call, direction="in")
        self.legs[leg_id] = leg
        info = call.getInfo()
        self.emit("incoming", leg=leg_id, **{"from": info.remoteUri}, to=info.localUri,
                  caller_id={k: v for k, v in parse_name_addr(info.remoteUri).items()
                             if k in ("name", "number")},
                  call_id=info.callIdString, source=prm.rdata.srcAddress, identity=identity)
        self._report_capacity()

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
        ext = verify_identity(self.edge_key, call_id, value, time.time()) if value and call_id else None
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
        self._wire(leg)

    def on_dtmf(self, leg: Leg, digit: str, method: str) -> None:
        self.emit("dtmf", leg=leg.id, digit=digit, method=method)

    def on_transfer_request(self, leg: Leg, target: str) -> None:
        self.emit("transfer_requested", leg=leg.id, target=target)

    def on_transfer_status(self, leg: Leg, status: int, final: bool) -> None:
        self.emit("transfer_status", leg=leg.id, status=status, final=final)

    def _forget(self, leg: Leg, info: pj.CallInfo) -> None:
        """Drop a finished leg now: pjsua reuses call ids, and a stale Call
        object deleted later would hang up whichever new call took its id."""
        leg.state = LegState.GONE
        self.legs.pop(leg.id, None)
        cause = 408 if leg.timed_out else info.lastStatusCode
        self.emit("hangup", leg=leg.id, cause=cause, reason=info.lastReason,
                  by="local" if leg.hung_up_here else "remote")
        self.links = {(s, d) for s, d in self.links if leg.id not in (s, d)}
        if leg.player is not None:
            self._trash.append(leg.player)
            leg.player = None
        for file, rec in list(self.recordings.items()):
            rec.legs.discard(leg.id)
            if not rec.legs and file not in self._finish_later:
                self._finish_later.append(file)  # not from inside a pjsua callback
        leg.call.leg = None  # break the cycle so the Call goes when this callback returns
        leg.call = None  # type: ignore[assignment]
        self._report_capacity()

    # ---- the media wiring ------------------------------------------------

    def _wire(self, leg: Leg) -> None:
        """(Re)apply every audio path touching this leg; a re-INVITE can give
        the call a new conference slot, so paths are kept as wishes."""
        me = media.audio_of(leg.call)
        if me is None:
            return
        for src, dst in self.links:
            if leg.id in (src, dst):
                a, b = self._media(src), self._media(dst)
                if a is not None and b is not None:
                    a.startTransmit(b)
        if leg.player is not None:
            leg.player.startTransmit(me)
        for rec in self.recordings.values():
            if leg.id in rec.legs:
                me.startTransmit(rec.recorder)

    def _media(self, leg_id: str) -> pj.AudioMedia | None:
        leg = self.legs.get(leg_id)
        return media.audio_of(leg.call) if leg is not None and leg.call is not None else None

    def _leg(self, leg_id: str) -> Leg:
        leg = self.legs.get(leg_id)
        if leg is None or leg.call is None:
            raise CommandFailed(f"no such leg: {leg_id}")
        return leg

    def _finish_recording(self, file: str, reason: str) -> None:
        rec = self.recordings.pop(file, None)
        if rec is None:
            return
        # The WAV header is written when the recorder is destroyed.
        rec.recorder = None  # type: ignore[assignment]
        del rec
        if not media.await_wav(file):
            log.warning("recording %s: header not finalised in time", file)
        if reason != "command":
            self.emit("recording_stopped", file=file, reason=reason)

    # ---- commands ----------------------------------------------------------

    def handle(self, cmd: Command) -> None:
        handler = getattr(self, "cmd_" + cmd.name)
        try:
            extra = handler(**cmd.args) or {}
        except CommandFailed as e:
            self._reply(cmd.id, ok=False, error=str(e))
        except pj.Error as e:
            self._reply(cmd.id, ok=False, error=f"{cmd.name}: {e.reason} ({e.status})")
        except (TypeError, ValueError, KeyError) as e:
            self._reply(cmd.id, ok=False, error=f"{cmd.name}: {e}")
        except Exception as e:  # a bug must cost one command, not every call
            log.exception("command %s failed", cmd.name)
            self._reply(cmd.id, ok=False, error=f"{cmd.name}: internal error: {e}")
        else:
            self._reply(cmd.id, **extra)

    def cmd_status(self) -> dict:
        return {"legs": [leg.describe() for leg in self.legs.values()],
                "max_calls": self.max_calls,
                "free": max(self.max_calls - len(self.legs), 0),
                "recordings": sorted(self.recordings)}

    def cmd_answer(self, leg: str) -> None:
        self._respond(self._leg(leg), 200)

    def cmd_ringing(self, leg: str) -> None:
        self._respond(self._leg(leg), 180)

    def _respond(self, leg: Leg, status: int) -> None:
        if leg.direction != "in" or leg.state == LegState.ANSWERED:
            raise CommandFailed(f"leg {leg.id} is not an unanswered incoming call")
        prm = pj.CallOpParam(True)
        prm.statusCode = status
        leg.call.answer(prm)

    def cmd_reject(self, leg: str, status: int = 486) -> None:
        target = self._leg(leg)
        if target.direction != "in" or target.state == LegState.ANSWERED:
            raise CommandFailed(f"leg {leg} is not an unanswered incoming call")
        self._hangup(target, status)

    def cmd_hangup(self, leg: str) -> None:
        self._hangup(self._leg(leg), 0)

    def _hangup(self, leg: Leg, status: int) -> None:
        leg.hung_up_here = True
        prm = pj.CallOpParam(True)
        prm.statusCode = status
        leg.call.hangup(prm)

    def _account_for(self, auth: dict | None):
        """The local account, or one per set of trunk credentials (to answer a provider's challenge)."""
        if not auth:
            return self.account
        key = (auth["username"], auth.get("realm") or "*", auth.get("domain") or "")
        account = self.trunk_accounts.get(key)
        if account is None:
            if len(self.trunk_accounts) >= 7:  # the wheel allows 8 accounts per process, one is ours
                raise CommandFailed("call: too many trunk credentials in this worker")
            acfg = pj.AccountConfig()
            acfg.idUri = f"sip:{auth['username']}@{auth.get('domain') or self.bind}"
            acfg.mediaConfig.transportConfig.boundAddress = self.bind
            if getattr(self, "public_address", ""):
                # Behind the office router's NAT: the provider must send its audio to the public address.
                acfg.mediaConfig.transportConfig.publicAddress = self.public_address
            # A provider answering with several codecs must not get a re-INVITE to pick one:
            # many do not expect it, and the first codec is fine.
            acfg.mediaConfig.lockCodecEnabled = False
            acfg.sipConfig.authCreds.append(
                pj.AuthCredInfo("digest", auth.get("realm") or "*", auth["username"], 0, auth["password"]))
            account = LocalAccount(self)
            account.create(acfg, False)
            self.trunk_accounts[key] = account
        return account

    def cmd_call(self, leg: str, uri: str, caller_id: dict | None = None,
                 headers: dict | None = None, timeout_s: float | None = None, auth: dict | None = None) -> dict:
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
            entry.deadline = time.monotonic() + float(timeout_s)
        self.legs[leg] = entry
        try:
            call.makeCall(uri, prm)
        except pj.Error:
            self.legs.pop(leg, None)
            call.leg = None
            self._trash.append(call)
            raise
        self._report_capacity()
        return {"leg": leg}

    def cmd_bridge(self, a: str, b: str) -> None:
        self._link(a, b)
        self._link(b, a)

    def cmd_unbridge(self, a: str, b: str) -> None:
        self._unlink(a, b)
        self._unlink(b, a)

    def cmd_connect(self, src: str, dst: str) -> None:
        self._link(src, dst)

    def cmd_disconnect(self, src: str, dst: str) -> None:
        self._unlink(src, dst)

    def cmd_conference(self, legs: list[str], listen_only: list[str] | None = None,
                       whisper: dict | None = None) -> None:
        """Everyone hears everyone; listen_only legs hear all but speak to none;
        a whisper leg speaks only to its `to` leg."""
        listen_only = listen_only or []
        everyone = list(dict.fromkeys(legs + listen_only
                                      + ([whisper["from"]] if whisper else [])))
        for leg in everyone:
            self._leg(leg)
        talkers = [x for x in legs if x not in listen_only]
        for src in talkers:
            for dst in everyone:
                if src != dst:
                    self._link(src, dst)
        if whisper:
            self._link(whisper["from"], whisper["to"])

    def _link(self, src: str, dst: str) -> None:
        self._leg(src), self._leg(dst)
        if src == dst:
            raise CommandFailed("a leg cannot be connected to itself")
        self.links.add((src, dst))
        a, b = self._media(src), self._media(dst)
        if a is not None and b is not None:
            a.startTransmit(b)

    def _unlink(self, src: str, dst: str) -> None:
        self._leg(src), self._leg(dst)
        self.links.discard((src, dst))
        a, b = self._media(src), self._media(dst)
        if a is not None and b is not None:
            a.stopTransmit(b)

    def cmd_play(self, leg: str, file: str, loop: bool = False) -> None:
        target = self._leg(leg)
        if not os.path.isfile(file):
            raise CommandFailed(f"play: no such file: {file}")
        player = media.Player(file, loop)
        if target.player is not None:
            self._trash.append(target.player)
        target.player = player
        me = media.audio_of(target.call)
        if me is not None:
            player.startTransmit(me)

    def cmd_stop_play(self, leg: str) -> None:
        target = self._leg(leg)
        if target.player is not None:
            self._trash.append(target.player)
            target.player = None

    def cmd_record_start(self, file: str, leg: str | None = None,
                         legs: list[str] | None = None) -> dict:
        names = list(legs or []) + ([leg] if leg else [])
        for name in names:
            self._leg(name)
        if file in self.recordings:
            raise CommandFailed(f"record_start: already recording to {file}")
        directory = os.path.dirname(os.path.abspath(file))
        if not os.path.isdir(directory):
            raise CommandFailed(f"record_start: no such directory: {directory}")
        rec = media.Recording(file, set(names))
        self.recordings[file] = rec
        for name in names:
            me = self._media(name)
            if me is not None:
                me.startTransmit(rec.recorder)
        return {"file": file}

    def cmd_record_stop(self, file: str | None = None, leg: str | None = None) -> dict:
        files = [file] if file else [f for f, r in self.recordings.items() if leg in r.legs]
        stopped = [f for f in files if f in self.recordings]
        if not stopped:
            raise CommandFailed("record_stop: no such recording")
        for f in stopped:
            self._finish_recording(f, reason="command")
        return {"files": stopped}

    def cmd_send_dtmf(self, leg: str, digits: str, method: str = "rfc2833") -> None:
        target = self._leg(leg)
        prm = pj.CallSendDtmfParam()
        prm.digits = digits
        prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO if method == "info" \
            else pj.PJSUA_DTMF_METHOD_RFC2833
        target.call.sendDtmf(prm)

    def cmd_hold(self, leg: str) -> dict:
        return self._want_hold(self._leg(leg), True)

    def cmd_unhold(self, leg: str) -> dict:
        return self._want_hold(self._leg(leg), False)

    def _want_hold(self, leg: Leg, hold: bool) -> dict:
        """Hold needs a re-INVITE, which SIP allows only when no other INVITE
        transaction is under way (the phone's own re-INVITE may still wait
        for its ACK); then it is retried from the loop for a few seconds."""
        if leg.state != LegState.ANSWERED:
            raise CommandFailed(f"leg {leg.id} is not answered")
        leg.held_here = hold
        leg.hold_pending_until = time.monotonic() + _HOLD_RETRY_S
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
            if time.monotonic() >= (leg.hold_pending_until or 0):
                log.warning("leg %s: %s failed: %s", leg.id,
                            "hold" if leg.held_here else "unhold", e.reason)
                leg.hold_pending_until = None
            return False
        leg.hold_pending_until = None
        return True

    def cmd_transfer(self, leg: str, uri: str) -> None:
        self._leg(leg).call.xfer(uri, pj.CallOpParam(True))

    # ---- the loop ------------------------------------------------------------

    def run(self) -> int:
        threading.Thread(target=self._read_control, name="control-reader",
                         daemon=True).start()
        self.emit("ready", id=self.id, sip_port=self.sip_port, max_calls=self.max_calls,
                  pid=os.getpid())
        self._report_capacity()
        next_gc = time.monotonic() + _GC_EVERY_S
        while not self.stopping:
            self.ep.libHandleEvents(_POLL_LISTENING_MS if self._listening() else _POLL_MS)
            self._drain_inbox()
            self._after_callbacks()
            now = time.monotonic()
            if now >= next_gc:
                gc.collect()
                next_gc = now + _GC_EVERY_S
        self._shutdown()
        return self.exit_code

    def _listening(self) -> bool:
        """An answered leg with no audio path to another leg: a caller with the box (menu, queue, voicemail)."""
        if not self.legs:
            return False
        linked = {leg for pair in self.links for leg in pair}
        return any(leg.state == LegState.ANSWERED and leg.id not in linked for leg in self.legs.values())

    def _drain_inbox(self) -> None:
        while True:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return
            if item is _LOST:
                self._lost("closed by core")
                return
            cmd_id, parsed = item
            if isinstance(parsed, ProtocolError):
                self._reply(cmd_id, ok=False, error=str(parsed))
            else:
                self.handle(parsed)

    def _after_callbacks(self) -> None:
        """Work that must not run inside a pjsua callback: releases, timers, retries."""
        self._trash.clear()
        while self._finish_later:
            self._finish_recording(self._finish_later.pop(0), reason="hangup")
        self._tick += 1
        for leg in list(self.legs.values()):
            try:
                self._leg_timers(leg)
            except Exception:
                log.exception("leg %s: timer work failed", leg.id)

    def _leg_timers(self, leg: Leg) -> None:
        if leg.player is not None and leg.player.finished.is_set():
            self._trash.append(leg.player)
            leg.player = None
            self.emit("play_done", leg=leg.id)
        if leg.hold_pending_until is not None and leg.call is not None \
                and self._tick % 10 == 0:
            self._try_hold(leg)
        if leg.deadline is not None and time.monotonic() >= leg.deadline \
                and leg.call is not None:
            leg.deadline = None
            leg.timed_out = True
            self._hangup(leg, 0)

    def _read_control(self) -> None:
        """Reader thread: lines -> inbox. Never touches pjsua2."""
        buf = b""
        family = socket.AF_INET6 if ":" in self.bind else socket.AF_INET
        waker = socket.socket(family, socket.SOCK_DGRAM)
        try:
            while True:
                chunk = self.control.recv(65536)
                if not chunk:
                    break
                buf += chunk
                queued = False
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line.strip():
                        self.inbox.put(_parse(line))
                        queued = True
                if len(buf) > 1024 * 1024:
                    self.inbox.put((None, ProtocolError("line too long")))
                    buf = b""
                    queued = True
                if queued:
                    self._wake(waker)
        except OSError:
            pass
        self.inbox.put(_LOST)
        self._wake(waker)
        waker.close()

    def _wake(self, waker: socket.socket) -> None:
        """End the main thread's libHandleEvents wait now, not at the poll timeout.

        A CRLF keep-alive (RFC 5626 §3.5.1) to our own SIP port: pjsip's
        transport reads it and drops it without a word, and the loop goes on
        to the inbox at once instead of up to _POLL_MS later.
        """
        try:
            waker.sendto(b"\r\n\r\n", (self.bind, self.sip_port))
        except OSError:
            pass  # the poll timeout still bounds the wait

    def _shutdown(self) -> None:
        log.info("worker %s shutting down with %d legs", self.id, len(self.legs))
        try:
            self.ep.hangupAllCalls()
        except pj.Error:
            pass
        deadline = time.monotonic() + _SHUTDOWN_GRACE_S
        while self.legs and time.monotonic() < deadline:
            self.ep.libHandleEvents(_POLL_MS)
        self._finish_later.clear()
        for file in list(self.recordings):
            self._finish_recording(file, reason="shutdown")
        for leg in list(self.legs.values()):
            leg.player = None
            if leg.call is not None:
                leg.call.leg = None
        self.legs.clear()
        self._trash.clear()
        gc.collect()
        for account in self.trunk_accounts.values():
            try:
                account.shutdown()
            except pj.Error:
                pass
        self.trunk_accounts.clear()
        media.stop_endpoint(self.ep, self.account)
        self.account = None
        try:
            self.control.close()
        except OSError:
            pass


class CommandFailed(Exception):
    """A command the worker cannot carry out; the text goes into the reply."""


def _parse(line: bytes) -> tuple[Any, Command | ProtocolError]:
    try:
        message = decode_line(line)
    except ProtocolError as e:
        return None, e
    try:
        return message.get("id"), parse_command(message)
    except ProtocolError as e:
        return message.get("id"), e


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Callbox engine worker")
    parser.add_argument("--control", required=True, help="the core's Unix socket path")
    parser.add_argument("--sip-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--public-address", default="",
                        help="the office router's public IP: put in SDP and Contact towards SIP providers")
    parser.add_argument("--id", default="w0")
    parser.add_argument("--edge-key-file", default=None,
                        help="the edge's signing key (hex): INVITEs it did not sign are refused")
    parser.add_argument("--log-file", default=None, help="pjsua2's own log")
    parser.add_argument("--log-level", type=int, default=1, help="pjsua2 log level 0-6")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s engine[{args.id}] %(levelname)s %(message)s")
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.connect(args.control)
    gc.disable()
    worker = Worker(args.id, control, args.bind, args.sip_port, args.log_file, args.log_level)
    worker.public_address = args.public_address
    if args.edge_key_file:
        worker.edge_key = bytes.fromhex(open(args.edge_key_file).read().strip())

    def stop(signum, frame):  # runs on the main thread between libHandleEvents calls
        worker.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = worker.run()
    # Python's own teardown of leftover SWIG objects after libDestroy can abort;
    # everything is closed, so leave without it.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
