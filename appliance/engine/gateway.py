"""The line gateway: one USB modem presented to the box as a SIP trunk.

Run as::

    python -m appliance.engine.gateway --line gsm --device /dev/ttyUSB2 \\
        --audio-device /dev/ttyUSB1 --profile huawei --sip-port 5090 \\
        --bind 127.0.0.1 --box sip:127.0.0.1:5060 --name gsm1

A call ringing on the line becomes an INVITE to the box (From: the caller's
number, To: the line's name); the modem answers once the box does. An INVITE
from the box to ``sip:NUMBER@gateway`` dials NUMBER on the modem and is
answered when the far end answers. The box trusts the gateway by its
address (an IP-authenticated trunk), so nothing here registers.

Threads: the main thread owns pjsua2 (``threadCnt=0``, ``mainThreadOnly``)
and is the only one that touches pjsua2 objects; it also decides everything
about calls. The modem driver's threads only post notices into the main
thread's inbox. The modem audio moves on the threads of `modem_port`.

Status goes out as JSON lines (``{"event": "status", ...}``) on the
``--status-socket`` Unix socket (the core listens there) or on stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import logging
import os
import queue
import re
import signal
import socket
import sys
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Callable, TextIO

import pjsua2 as pj

from appliance.engine import media
from appliance.engine.legs import guarded
from appliance.engine.modem_port import (
    AudioRing, AudioTtyBridge, FrameRing, ModemPort, VoiceModemBridge, dtmf_pcm,
)
from appliance.engine.protocol import ProtocolError, parse_gateway_command, parse_gateway_message
from appliance.errors import CallboxError
from appliance.lines.notices import (
    CallAnswered, CallEnded, DtmfReceived, IncomingCall, LineError, LineStatus, SmsReceived, SmsSent,
    StatusChanged,
)

log = logging.getLogger("callbox.engine.gateway")

_POLL_MS = 10
_GC_EVERY_S = 2.0
_STATUS_RETRY_S = 2.0


# --- what the gateway decides: a pure state table ------------------------------------------

class CallState(StrEnum):
    IDLE = "idle"
    OFFERING = "offering"      # the line rings; the box has our INVITE
    ANSWERING = "answering"    # the box answered; the modem is picking up
    DIALING = "dialing"        # the box called out; the modem dials
    TALKING = "talking"


class CallEvent(StrEnum):
    LINE_RINGS = "line_rings"
    BOX_CALLS = "box_calls"
    BOX_ANSWERS = "box_answers"
    LINE_ANSWERS = "line_answers"
    LINE_ENDS = "line_ends"
    BOX_ENDS = "box_ends"
    LINE_DTMF = "line_dtmf"
    BOX_DTMF = "box_dtmf"


C, CE = CallState, CallEvent
TRANSITIONS: dict[CallState, dict[CallEvent, CallState]] = {
    C.IDLE: {CE.LINE_RINGS: C.OFFERING, CE.BOX_CALLS: C.DIALING},
    C.OFFERING: {CE.BOX_ANSWERS: C.ANSWERING, CE.LINE_ENDS: C.IDLE, CE.BOX_ENDS: C.IDLE},
    C.ANSWERING: {CE.LINE_ANSWERS: C.TALKING, CE.LINE_ENDS: C.IDLE, CE.BOX_ENDS: C.IDLE},
    C.DIALING: {CE.LINE_ANSWERS: C.TALKING, CE.LINE_ENDS: C.IDLE, CE.BOX_ENDS: C.IDLE},
    C.TALKING: {CE.LINE_ENDS: C.IDLE, CE.BOX_ENDS: C.IDLE, CE.LINE_DTMF: C.TALKING,
                CE.BOX_DTMF: C.TALKING},
}


@dataclass(frozen=True)
class InviteBox:
    caller: str
    name: str = ""


@dataclass(frozen=True)
class RingBox:
    pass


@dataclass(frozen=True)
class AnswerBox:
    pass


@dataclass(frozen=True)
class RefuseBox:
    """A final error response to the box's INVITE `ref` (which may not be the current call)."""
    ref: int
    status: int
    reason: str


@dataclass(frozen=True)
class HangUpBox:
    cause: str


@dataclass(frozen=True)
class AnswerLine:
    pass


@dataclass(frozen=True)
class DialLine:
    number: str


@dataclass(frozen=True)
class HangUpLine:
    pass


@dataclass(frozen=True)
class JoinAudio:
    pass


@dataclass(frozen=True)
class SplitAudio:
    pass


@dataclass(frozen=True)
class DtmfToLine:
    digit: str


@dataclass(frozen=True)
class DtmfToBox:
    digit: str


GatewayCommand = (InviteBox | RingBox | AnswerBox | RefuseBox | HangUpBox | AnswerLine
                  | DialLine | HangUpLine | JoinAudio | SplitAudio | DtmfToLine | DtmfToBox)

# Why a dialled call failed, in SIP words (RFC 3261 §21).
REFUSALS: dict[str, tuple[int, str]] = {
    "busy": (486, "Busy Here"),
    "no_answer": (480, "No Answer"),
    "remote_hangup": (480, "Temporarily Unavailable"),
    "missed": (480, "Temporarily Unavailable"),
    "no_dialtone": (503, "No Dial Tone"),
    "dial_failed": (503, "Dial Failed"),
    "modem_gone": (503, "Modem Unplugged"),
    "modem_not_responding": (503, "Modem Not Responding"),
}
_DIALABLE = re.compile(r"^\+?[0-9*#]{1,40}$")


class GatewayCalls:
    """The one call a modem line carries, as a state table. Pure: it is told what
    the line and the box did and answers with commands for the gateway to carry out."""

    def __init__(self, name: str = "line"):
        self.name = name
        self.state = CallState.IDLE
        self.ref: int | None = None     # the box-side call this call belongs to
        self.number = ""
        self.direction = ""

    def _move(self, event: CallEvent) -> bool:
        new = TRANSITIONS[self.state].get(event)
        if new is None:
            # Late news from a modem or the network (an end after our own hang-up)
            # must not stop the gateway.
            log.debug("%s: ignoring %s in %s", self.name, event, self.state)
            return False
        if new != self.state:
            log.info("%s: %s -> %s", self.name, self.state.value.upper(), new.value.upper())
        self.state = new
        if new == C.IDLE:
            self.ref = None
        return True

    def line_rings(self, number: str, name: str, ref: int) -> list[GatewayCommand]:
        if not self._move(CE.LINE_RINGS):
            return []
        self.ref, self.number, self.direction = ref, number, "in"
        return [InviteBox(number, name)]

    def box_calls(self, number: str, ref: int, line_ready: bool) -> list[GatewayCommand]:
        if self.state != C.IDLE:
            return [RefuseBox(ref, 486, "Line Busy")]
        if not line_ready:
            return [RefuseBox(ref, 503, "Line Not Ready")]
        if not _DIALABLE.match(number):
            return [RefuseBox(ref, 484, "Address Incomplete")]
        self._move(CE.BOX_CALLS)
        self.ref, self.number, self.direction = ref, number, "out"
        return [DialLine(number), RingBox()]

    def box_answers(self, ref: int) -> list[GatewayCommand]:
        if ref != self.ref or not self._move(CE.BOX_ANSWERS):
            return []
        return [AnswerLine()]

    def line_answers(self) -> list[GatewayCommand]:
        was = self.state
        if not self._move(CE.LINE_ANSWERS):
            return []
        return [AnswerBox(), JoinAudio()] if was == C.DIALING else [JoinAudio()]

    def line_ends(self, cause: str) -> list[GatewayCommand]:
        was, ref = self.state, self.ref
        if not self._move(CE.LINE_ENDS):
            return []
        if was == C.DIALING and ref is not None:
            status, reason = REFUSALS.get(cause, (503, "Line Failed"))
            return [RefuseBox(ref, status, reason)]
        return [SplitAudio(), HangUpBox(cause)]

    def box_ends(self, ref: int) -> list[GatewayCommand]:
        if ref != self.ref or not self._move(CE.BOX_ENDS):
            return []
        return [SplitAudio(), HangUpLine()]

    def box_dtmf(self, ref: int, digit: str) -> list[GatewayCommand]:
        if ref != self.ref or not self._move(CE.BOX_DTMF):
            return []
        return [DtmfToLine(digit)]

    def line_dtmf(self, digit: str) -> list[GatewayCommand]:
        if not self._move(CE.LINE_DTMF):
            return []
        return [DtmfToBox(digit)]


def dialled_number(request_line_or_uri: str) -> str:
    """The user part of the INVITE's Request-URI: `INVITE sip:0612@gw SIP/2.0` -> `0612`."""
    m = re.search(r"sips?:([^@;>\s]+)@", request_line_or_uri)
    if not m:
        return ""
    return re.sub(r"%2[Bb]", "+", m.group(1)).replace("-", "").replace(" ", "")


def status_message(line: str, status: LineStatus, call_state: str) -> dict[str, Any]:
    """The status line the core reads: what the line page and the LED show."""
    err = status.last_error
    return {"event": "status", "line": line, "state": status.state,
            "signal": status.signal_dbm, "operator": status.operator, "sim": status.sim,
            "registered": status.registered,
            "in_call": status.in_call or call_state != CallState.IDLE,
            "call": call_state, "indicator": status.indicator,
            "last_error": dataclasses.asdict(err) if err is not None else None}


# --- pjsua2 faces -------------------------------------------------------------------------

class BoxCall(pj.Call):
    """The SIP side of the line's call; callbacks go to the gateway (main thread)."""

    def __init__(self, gateway: "Gateway", ref: int, account: pj.Account,
                 call_id: int = pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.gateway = gateway
        self.ref = ref

    @guarded
    def onCallState(self, prm: pj.OnCallStateParam) -> None:
        self.gateway.on_call_state(self, self.getInfo())

    @guarded
    def onCallMediaState(self, prm: pj.OnCallMediaStateParam) -> None:
        self.gateway.on_media(self)

    @guarded
    def onDtmfDigit(self, prm: pj.OnDtmfDigitParam) -> None:
        self.gateway.on_box_dtmf(self, prm.digit)


class StatusOut:
    """JSON lines to the core's Unix socket, reconnecting; or to a stream (stdout)."""

    def __init__(self, socket_path: str | None, stream: TextIO | None):
        self.socket_path = socket_path
        self.stream = stream
        self._sock: socket.socket | None = None
        self._next_try = 0.0
        self.last_status: dict[str, Any] | None = None

    def send(self, message: dict[str, Any]) -> None:
        if message.get("event") == "status":
            self.last_status = message
        line = json.dumps(message) + "\n"
        if self.socket_path is None:
            if self.stream is not None:
                self.stream.write(line)
                self.stream.flush()
            return
        if self._sock is None and not self._connect():
            return
        try:
            self._sock.sendall(line.encode())  # type: ignore[union-attr]
        except OSError:
            self._drop()

    def commands(self) -> list[dict[str, Any]]:
        """JSON lines the core wrote back on the status socket (never blocks)."""
        if self._sock is None:
            return []
        try:
            data = self._sock.recv(65536, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            self._drop()
            return []
        if not data:
            self._drop()
            return []
        self._inbuf = getattr(self, "_inbuf", b"") + data
        out = []
        while b"\n" in self._inbuf:
            line, self._inbuf = self._inbuf.split(b"\n", 1)
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def _connect(self) -> bool:
        now = time.monotonic()
        if now < self._next_try:
            return False
        self._next_try = now + _STATUS_RETRY_S
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.socket_path)  # type: ignore[arg-type]
        except OSError:
            sock.close()
            return False
        self._sock = sock
        if self.last_status is not None:  # the core missed changes while we were apart
            try:
                sock.sendall((json.dumps(self.last_status) + "\n").encode())
            except OSError:
                self._drop()
                return False
        return True

    def retry(self) -> None:
        if self.socket_path is not None and self._sock is None and self.last_status is not None:
            self._connect()

    def _drop(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = None

    def close(self) -> None:
        self._drop()


# --- the gateway ----------------------------------------------------------------------------

@dataclass
class GatewayOptions:
    line: str
    device: str
    box: str
    name: str = "line1"
    audio_device: str | None = None
    profile: str | None = None
    pin: str | None = None
    pin_memory: str | None = None
    sip_port: int = 0
    bind: str = "127.0.0.1"
    status_socket: str | None = None
    lock_dir: str | None = None
    backoff_start: float = 1.0
    log_level: int = 1


def make_driver(opts: GatewayOptions, on_notice: Callable[[Any], None]) -> Any:
    """The line's driver, waiting for its modem if it is not plugged in yet."""
    common: dict[str, Any] = {"on_notice": on_notice, "wait_for_device": True,
                              "backoff_start": opts.backoff_start}
    if opts.lock_dir:
        common["lock_dir"] = opts.lock_dir
    if opts.line == "gsm":
        from appliance.lines.gsm import GsmDriver
        return GsmDriver(opts.device, profile=opts.profile or "generic", pin=opts.pin,
                         pin_memory=opts.pin_memory, **common)
    from appliance.lines.voice_modem import VoiceModemDriver
    return VoiceModemDriver(opts.device, profile=opts.profile or "conexant", **common)


class Gateway:
    def __init__(self, opts: GatewayOptions, status_out: StatusOut):
        if opts.line not in ("gsm", "analog"):
            raise CallboxError(f"unknown line kind: {opts.line}")
        if opts.line == "gsm" and not opts.audio_device:
            log.warning("%s: no --audio-device: calls will have no audio", opts.name)
        self.opts = opts
        self.id = opts.name  # the account's user part (media.start_endpoint reads it)
        self.out = status_out
        self.calls = GatewayCalls(opts.name)
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.stopping = False
        self.box_call: BoxCall | None = None
        self._next_ref = 0
        self._audio_joined = False
        self._port_media: pj.AudioMedia | None = None
        self._joined_to: pj.AudioMedia | None = None
        self.line_status = LineStatus()
        self.box_host = opts.box.split(":", 1)[1] if opts.box.startswith("sip:") else opts.box
        self.ep, self.account, self.sip_port = media.start_endpoint(
            self, opts.bind, opts.sip_port, None, opts.log_level)
        self.from_line, self.to_line = AudioRing(), FrameRing()
        self.port = ModemPort(self.from_line, self.to_line).open(f"modem-{opts.name}")
        self.driver = make_driver(opts, self.inbox.put)
        if opts.line == "gsm":
            self.audio = AudioTtyBridge(opts.audio_device, self.from_line, self.to_line) \
                if opts.audio_device else None
        else:
            self.audio = VoiceModemBridge(self.driver, self.from_line, self.to_line)

    # --- SIP callbacks (main thread, inside libHandleEvents) --------------------------

    def on_incoming(self, prm: pj.OnIncomingCallParam) -> None:
        self._next_ref += 1
        call = BoxCall(self, self._next_ref, self.account, prm.callId)
        first_line = prm.rdata.wholeMsg.split("\n", 1)[0]
        number = dialled_number(first_line) or dialled_number(call.getInfo().localUri)
        ready = self.driver.status.state == "ready"
        commands = self.calls.box_calls(number, call.ref, ready)
        if self.calls.ref == call.ref:
            self.box_call = call
            self._event("call", state="dialing", number=number, direction="out")
        self._carry_out(commands, refused=call)

    def on_call_state(self, call: BoxCall, info: pj.CallInfo) -> None:
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self._carry_out(self.calls.box_answers(call.ref))
        elif info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            if call is self.box_call:
                # Let go now: pjsua reuses call ids, and a stale Call deleted later
                # would hang up whichever new call took its id.
                self.box_call = None
                self._joined_to = None
                self._event("call", state="ended", by="box", status=info.lastStatusCode,
                            reason=info.lastReason)
            self._carry_out(self.calls.box_ends(call.ref))

    def on_media(self, call: BoxCall) -> None:
        if call is self.box_call:
            self._wire()

    def on_box_dtmf(self, call: BoxCall, digit: str) -> None:
        self._carry_out(self.calls.box_dtmf(call.ref, digit))

    # --- line notices (posted by the driver's threads, handled on the main thread) --

    def _on_notice(self, notice: Any) -> None:
        if isinstance(notice, IncomingCall):
            self._next_ref += 1
            self._carry_out(self.calls.line_rings(notice.number, notice.name, self._next_ref))
        elif isinstance(notice, CallAnswered):
            self._carry_out(self.calls.line_answers())
        elif isinstance(notice, CallEnded):
            self._event("call", state="ended", by="line", cause=notice.cause)
            self._carry_out(self.calls.line_ends(notice.cause))
        elif isinstance(notice, DtmfReceived):
            self._carry_out(self.calls.line_dtmf(notice.digit))
        elif isinstance(notice, StatusChanged):
            self.line_status = notice.status
            self._send_status()
        elif isinstance(notice, LineError):
            log.warning("%s: line error %s %s", self.opts.name, notice.kind, notice.text)
        elif isinstance(notice, SmsReceived):
            self._event("sms", sender=notice.sender, text=notice.text, time=str(notice.time))
        elif isinstance(notice, SmsSent):
            self._event("sms_sent", number=notice.number, ok=notice.ok, error=notice.error)

    def _on_command(self, cmd: dict[str, Any]) -> None:
        """Orders from the core over the status socket (JSON lines), e.g. an SMS to send."""
        try:
            parse_gateway_command(cmd)
        except ProtocolError as e:
            log.warning("order from the core refused: %s", e)
            return
        if cmd.get("cmd") == "send_sms" and hasattr(self.driver, "send_sms"):
            try:
                self.driver.send_sms(str(cmd.get("number", "")), str(cmd.get("text", "")))
            except CallboxError as e:
                self._event("sms_sent", number=cmd.get("number"), ok=False, error=str(e))

    # --- commands ------------------------------------------------------------------

    def _carry_out(self, commands: list[GatewayCommand], refused: BoxCall | None = None) -> None:
        for cmd in commands:
            try:
                self._do(cmd, refused)
            except (pj.Error, CallboxError) as e:
                text = f"{e.reason} ({e.status})" if isinstance(e, pj.Error) else str(e)
                log.warning("%s: %s failed: %s", self.opts.name, type(cmd).__name__, text)
                self._failed(cmd, text)
        self._send_status_if_changed()

    def _failed(self, cmd: GatewayCommand, text: str) -> None:
        """A command the line or the network refused ends the call cleanly."""
        if isinstance(cmd, DialLine):
            self._carry_out(self.calls.line_ends("dial_failed"))
        elif isinstance(cmd, AnswerLine):
            self._carry_out(self.calls.line_ends("answer_failed"))
        elif isinstance(cmd, InviteBox):
            self._carry_out(self.calls.box_ends(self.calls.ref or 0))

    def _do(self, cmd: GatewayCommand, refused: BoxCall | None) -> None:
        if isinstance(cmd, InviteBox):
            self._invite_box(cmd)
        elif isinstance(cmd, RefuseBox):
            call = refused if refused is not None and refused.ref == cmd.ref else self.box_call
            if call is not None and call.ref == cmd.ref:
                self._sip_end(call, cmd.status, cmd.reason)
        elif isinstance(cmd, (RingBox, AnswerBox)):
            if self.box_call is not None:
                prm = pj.CallOpParam(True)
                prm.statusCode = 180 if isinstance(cmd, RingBox) else 200
                self.box_call.answer(prm)
        elif isinstance(cmd, HangUpBox):
            if self.box_call is not None:
                self._sip_end(self.box_call, 0, "")
        elif isinstance(cmd, AnswerLine):
            self.driver.answer()
        elif isinstance(cmd, DialLine):
            self.driver.dial(cmd.number)
        elif isinstance(cmd, HangUpLine):
            self.driver.hangup()
        elif isinstance(cmd, JoinAudio):
            self._audio_joined = True
            if self.audio is not None:
                self.audio.set_active(True)
            self._wire()
            self._event("call", state="talking", number=self.calls.number,
                        direction=self.calls.direction)
        elif isinstance(cmd, SplitAudio):
            self._split()
        elif isinstance(cmd, DtmfToLine):
            if self.opts.line == "gsm":
                self.driver.send_dtmf(cmd.digit)
            elif self.audio is not None:
                # A voice modem has no command to send a digit: it goes in-band.
                self.audio.play_to_line(dtmf_pcm(cmd.digit))
        elif isinstance(cmd, DtmfToBox):
            if self.box_call is not None:
                self._dtmf_to_box(self.box_call, cmd.digit)

    def _dtmf_to_box(self, call: BoxCall, digit: str) -> None:
        try:
            call.dialDtmf(digit)  # RFC 4733, when the box offered telephone-event
        except pj.Error:
            prm = pj.CallSendDtmfParam()
            prm.digits = digit
            prm.method = pj.PJSUA_DTMF_METHOD_SIP_INFO
            call.sendDtmf(prm)

    def _invite_box(self, cmd: InviteBox) -> None:
        ref = self.calls.ref or 0
        call = BoxCall(self, ref, self.account)
        prm = pj.CallOpParam(True)
        user = cmd.caller if cmd.caller and _DIALABLE.match(cmd.caller) else "anonymous"
        name = cmd.name.replace('"', "").replace("\\", "")
        prm.txOption.localUri = f'"{name}" <sip:{user}@{self.opts.bind}:{self.sip_port}>' \
            if name else f"<sip:{user}@{self.opts.bind}:{self.sip_port}>"
        self.box_call = call
        self._event("call", state="offering", number=cmd.caller, direction="in")
        try:
            call.makeCall(f"sip:{self.opts.name}@{self.box_host}", prm)
        except pj.Error:
            self.box_call = None
            raise

    def _sip_end(self, call: BoxCall, status: int, reason: str) -> None:
        prm = pj.CallOpParam(True)
        prm.statusCode = status
        if reason:
            prm.reason = reason
        try:
            call.hangup(prm)
        except pj.Error as e:
            log.debug("hangup of call %s: %s", call.ref, e.reason)

    def _wire(self) -> None:
        """Join the modem port and the call's audio both ways, again after a
        re-INVITE, which may give the call a new conference slot."""
        if not self._audio_joined or self.box_call is None:
            return
        call_media = media.audio_of(self.box_call)
        if call_media is None:
            return
        self.port.startTransmit(call_media)
        call_media.startTransmit(self.port)
        self._joined_to = call_media

    def _split(self) -> None:
        self._audio_joined = False
        if self.audio is not None:
            self.audio.set_active(False)
        if self._joined_to is not None:
            try:
                self.port.stopTransmit(self._joined_to)
                self._joined_to.stopTransmit(self.port)
            except pj.Error:
                pass  # the call's port went with the call
            self._joined_to = None

    # --- status out --------------------------------------------------------------------

    def _event(self, event: str, **fields: Any) -> None:
        message = {"event": event, "line": self.opts.name, **fields}
        try:
            parse_gateway_message(message)
        except ProtocolError as e:  # a bug: the core would drop it, so say it here
            log.error("not sending a status line that breaks the protocol: %s", e)
            return
        self.out.send(message)

    _last_sent: dict[str, Any] | None = None

    def _send_status(self) -> None:
        message = status_message(self.opts.name, self.line_status, self.calls.state)
        self._last_sent = message
        self.out.send(message)

    def _send_status_if_changed(self) -> None:
        if status_message(self.opts.name, self.line_status, self.calls.state) != self._last_sent:
            self._send_status()

    # --- the loop ----------------------------------------------------------------------

    def run(self) -> int:
        self.driver.start()
        if self.audio is not None:
            self.audio.start()
        self._event("ready", sip_port=self.sip_port, pid=os.getpid(), kind=self.opts.line)
        self._send_status()
        next_gc = time.monotonic() + _GC_EVERY_S
        while not self.stopping:
            self.ep.libHandleEvents(_POLL_MS)
            while True:
                try:
                    notice = self.inbox.get_nowait()
                except queue.Empty:
                    break
                try:
                    self._on_notice(notice)
                except Exception:  # a bug must cost one notice, not the line
                    log.exception("%s: handling %r failed", self.opts.name, notice)
            for cmd in self.out.commands():
                try:
                    self._on_command(cmd)
                except Exception:
                    log.exception("%s: command %r failed", self.opts.name, cmd)
            now = time.monotonic()
            if now >= next_gc:
                gc.collect()
                self.out.retry()
                next_gc = now + _GC_EVERY_S
        self._shutdown()
        return 0

    def _shutdown(self) -> None:
        log.info("%s: shutting down", self.opts.name)
        try:
            self.driver.hangup()
        except CallboxError:
            pass
        try:
            self.ep.hangupAllCalls()
        except pj.Error:
            pass
        deadline = time.monotonic() + 1.0
        while self.box_call is not None and time.monotonic() < deadline:
            self.ep.libHandleEvents(_POLL_MS)
        if self.audio is not None:
            self.audio.stop()
        self.driver.stop()
        self._split()
        self.box_call = None
        self.port = None  # type: ignore[assignment]
        gc.collect()
        media.stop_endpoint(self.ep, self.account)
        self.account = None
        self.out.close()


def parse_args(argv: list[str] | None = None) -> GatewayOptions:
    p = argparse.ArgumentParser(description="Callbox line gateway: a modem line as a SIP trunk")
    p.add_argument("--line", choices=("gsm", "analog"), required=True)
    p.add_argument("--device", required=True, help="the modem's AT tty")
    p.add_argument("--audio-device", default=None, help="GSM: the modem's audio tty")
    p.add_argument("--profile", default=None,
                   choices=("huawei", "simcom", "quectel", "generic", "conexant", "usr"))
    p.add_argument("--pin", default=None, help="the SIM's PIN")
    p.add_argument("--pin-memory", default=None, help="file remembering a refused PIN")
    p.add_argument("--sip-port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--box", required=True, help="where calls from the line go: sip:HOST:PORT")
    p.add_argument("--name", default="line1", help="the line's name (the To of its calls)")
    p.add_argument("--status-socket", default=None, help="the core's Unix socket for status")
    p.add_argument("--lock-dir", default=None, help="where the port locks live (/run/lock)")
    p.add_argument("--backoff-start", type=float, default=1.0,
                   help="first wait (s) before reopening a vanished modem")
    p.add_argument("--log-level", type=int, default=1, help="pjsua2 log level 0-6")
    a = p.parse_args(argv)
    return GatewayOptions(line=a.line, device=a.device, box=a.box, name=a.name,
                          audio_device=a.audio_device, profile=a.profile, pin=a.pin,
                          pin_memory=a.pin_memory, sip_port=a.sip_port, bind=a.bind,
                          status_socket=a.status_socket, lock_dir=a.lock_dir,
                          backoff_start=a.backoff_start, log_level=a.log_level)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    # pjsua2 writes its console log to fd 1; status lines get their own copy of
    # stdout and fd 1 goes to stderr.
    stream = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s gateway[{opts.name}] %(levelname)s %(message)s")
    gc.disable()  # collected on the main thread only (see the engine worker)
    gateway = Gateway(opts, StatusOut(opts.status_socket, stream))

    def stop(signum: int, frame: object) -> None:
        gateway.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = gateway.run()
    sys.stderr.flush()
    stream.flush()
    # Python's teardown of leftover SWIG objects after libDestroy can abort.
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
