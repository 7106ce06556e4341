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

The gateway is three parts and a loop: the call as a state table
(`line_calls`), the modem side (`modem_side`: the driver and its audio) and the
SIP side (`box_side`: the endpoint, the call with the box, the modem's port on
the conference bridge). This module carries out what the table decides.

Status goes out as JSON lines (``{"event": "status", ...}``) on the
``--status-socket`` Unix socket (the core listens there) or on stdout.
"""

from __future__ import annotations

import argparse
import logging
import os
import queue
import sys
from dataclasses import dataclass
from typing import Any, Callable

import pjsua2 as pj

from appliance.engine import process
from appliance.engine.box_side import BoxCall, BoxSide
from appliance.engine.commands import check_declared
from appliance.engine.line_calls import (
    AnswerBox, AnswerLine, DialLine, DtmfToBox, DtmfToLine, GatewayCalls, GatewayCommand, HangUpBox,
    HangUpLine, InviteBox, JoinAudio, RefuseBox, RingBox, SplitAudio,
)
from appliance.engine.modem_port import AudioRing, FrameRing
from appliance.engine.modem_side import LINE_KINDS, ModemSide, make_driver
from appliance.engine.protocol import (
    GATEWAY_COMMAND_TABLE, ProtocolError, parse_gateway_command, parse_gateway_message,
)
from appliance.engine.status_socket import StatusOut, status_message
from appliance.errors import CallboxError
from appliance.lines.notices import (
    CallAnswered, CallEnded, DtmfReceived, IncomingCall, LineError, LineStatus, SmsReceived, SmsSent,
    StatusChanged,
)

log = logging.getLogger("callbox.engine.gateway")

_POLL_MS = 10


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


class Gateway:
    def __init__(self, opts: GatewayOptions, status_out: StatusOut):
        if opts.line not in LINE_KINDS:
            raise CallboxError(f"unknown line kind: {opts.line}")
        if opts.line == "gsm" and not opts.audio_device:
            log.warning("%s: no --audio-device: calls will have no audio", opts.name)
        self.opts = opts
        self.out = status_out
        self.calls = GatewayCalls(opts.name)
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.stopping = False
        self.line_status = LineStatus()
        self._last_sent: dict[str, Any] | None = None
        from_line, to_line = AudioRing(), FrameRing()
        self.box = BoxSide(opts.name, opts.bind, opts.sip_port, opts.box, self, from_line, to_line,
                           log_level=opts.log_level)
        driver = make_driver(opts.line, opts.device, self.inbox.put, profile=opts.profile, pin=opts.pin,
                             pin_memory=opts.pin_memory, lock_dir=opts.lock_dir,
                             backoff_start=opts.backoff_start)
        self.modem = ModemSide(opts.line, driver, opts.audio_device, from_line, to_line)
        # What the table decides, by command: carried out on one side or the other.
        self._doers: dict[type, Callable[[Any], None]] = {
            InviteBox: self._invite_box,
            RingBox: lambda cmd: self.box.respond(180),
            AnswerBox: lambda cmd: self.box.respond(200),
            HangUpBox: lambda cmd: self.box.hang_up(),
            AnswerLine: lambda cmd: self.modem.answer(),
            DialLine: lambda cmd: self.modem.dial(cmd.number),
            HangUpLine: lambda cmd: self.modem.hang_up(),
            JoinAudio: self._join_audio,
            SplitAudio: lambda cmd: self._split_audio(),
            DtmfToLine: lambda cmd: self.modem.send_digit(cmd.digit),
            DtmfToBox: lambda cmd: self.box.send_digit(cmd.digit),
        }
        # Orders from the core, each declared in protocol.GATEWAY_COMMAND_TABLE.
        self._orders: dict[str, Callable[[dict[str, Any]], None]] = check_declared(
            {"send_sms": self._send_sms}, GATEWAY_COMMAND_TABLE)

    @property
    def sip_port(self) -> int:
        return self.box.sip_port

    # --- what the box side tells (main thread, inside libHandleEvents) -------------------------

    def box_calls(self, call: BoxCall, number: str) -> None:
        commands = self.calls.box_calls(number, call.ref, self.modem.ready)
        if self.calls.ref == call.ref:
            self.box.take(call)
            self._event("call", state="dialing", number=number, direction="out")
        self._carry_out(commands, refused=call)

    def box_answered(self, ref: int) -> None:
        self._carry_out(self.calls.box_answers(ref))

    def box_ended(self, ref: int, current: bool, status: int, reason: str) -> None:
        if current:
            self._event("call", state="ended", by="box", status=status, reason=reason)
        self._carry_out(self.calls.box_ends(ref))

    def box_dtmf(self, ref: int, digit: str) -> None:
        self._carry_out(self.calls.box_dtmf(ref, digit))

    # --- line notices (posted by the driver's threads, handled on the main thread) --

    def _on_notice(self, notice: Any) -> None:
        if isinstance(notice, IncomingCall):
            self._carry_out(self.calls.line_rings(notice.number, notice.name, self.box.next_ref()))
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

    # --- orders from the core -----------------------------------------------------------------

    def _on_order(self, order: dict[str, Any]) -> None:
        """Orders from the core over the status socket (JSON lines), e.g. an SMS to send."""
        try:
            name = parse_gateway_command(order)["cmd"]
        except ProtocolError as e:
            log.warning("order from the core refused: %s", e)
            return
        self._orders[name](order)

    def _send_sms(self, order: dict[str, Any]) -> None:
        if not self.modem.sends_sms:
            return
        try:
            self.modem.send_sms(order["number"], order["text"])
        except CallboxError as e:
            self._event("sms_sent", number=order["number"], ok=False, error=str(e))

    # --- carrying out what the table decided ----------------------------------------------

    def _carry_out(self, commands: list[GatewayCommand], refused: BoxCall | None = None) -> None:
        for cmd in commands:
            try:
                if isinstance(cmd, RefuseBox):
                    self.box.refuse(cmd.ref, cmd.status, cmd.reason, refused)
                else:
                    self._doers[type(cmd)](cmd)
            except (pj.Error, CallboxError) as e:
                text = f"{e.reason} ({e.status})" if isinstance(e, pj.Error) else str(e)
                log.warning("%s: %s failed: %s", self.opts.name, type(cmd).__name__, text)
                self._failed(cmd)
        self._send_status_if_changed()

    def _failed(self, cmd: GatewayCommand) -> None:
        """A command the line or the network refused ends the call cleanly."""
        if isinstance(cmd, DialLine):
            self._carry_out(self.calls.line_ends("dial_failed"))
        elif isinstance(cmd, AnswerLine):
            self._carry_out(self.calls.line_ends("answer_failed"))
        elif isinstance(cmd, InviteBox):
            self._carry_out(self.calls.box_ends(self.calls.ref or 0))

    def _invite_box(self, cmd: InviteBox) -> None:
        self._event("call", state="offering", number=cmd.caller, direction="in")
        self.box.invite(self.calls.ref or 0, cmd.caller, cmd.name)

    def _join_audio(self, cmd: JoinAudio) -> None:
        self.modem.audio_on(True)
        self.box.join()
        self._event("call", state="talking", number=self.calls.number, direction=self.calls.direction)

    def _split_audio(self) -> None:
        self.modem.audio_on(False)
        self.box.split()

    # --- status out --------------------------------------------------------------------

    def _event(self, event: str, **fields: Any) -> None:
        self._send({"event": event, "line": self.opts.name, **fields})

    def _send(self, message: dict[str, Any]) -> None:
        try:
            parse_gateway_message(message)
        except ProtocolError as e:  # a bug: the core would drop it, so say it here
            log.error("not sending a status line that breaks the protocol: %s", e)
            return
        self.out.send(message)

    def _send_status(self) -> None:
        message = status_message(self.opts.name, self.line_status, self.calls.state)
        self._last_sent = message
        self._send(message)

    def _send_status_if_changed(self) -> None:
        if status_message(self.opts.name, self.line_status, self.calls.state) != self._last_sent:
            self._send_status()

    # --- the loop ----------------------------------------------------------------------

    def run(self) -> int:
        self.modem.start()
        self._event("ready", sip_port=self.sip_port, pid=os.getpid(), kind=self.opts.line)
        self._send_status()
        collect = process.Collector()
        while not self.stopping:
            self.box.handle_events(_POLL_MS)
            for notice in process.drained(self.inbox):
                try:
                    self._on_notice(notice)
                except Exception:  # a bug must cost one notice, not the line
                    log.exception("%s: handling %r failed", self.opts.name, notice)
            for order in self.out.commands():
                try:
                    self._on_order(order)
                except Exception:
                    log.exception("%s: order %r failed", self.opts.name, order)
            if collect():
                self.out.retry()
        self._shutdown()
        return 0

    def _shutdown(self) -> None:
        log.info("%s: shutting down", self.opts.name)
        try:
            self.modem.hang_up()
        except CallboxError:
            pass
        self.box.end_calls()
        self.modem.stop()
        self.modem.audio_on(False)
        self.box.close()
        self.out.close()


def parse_args(argv: list[str] | None = None) -> GatewayOptions:
    p = argparse.ArgumentParser(description="Callbox line gateway: a modem line as a SIP trunk")
    p.add_argument("--line", choices=LINE_KINDS, required=True)
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
    process.collect_on_this_thread_only()
    gateway = Gateway(opts, StatusOut(opts.status_socket, stream))

    def stop() -> None:
        gateway.stopping = True

    process.stop_on_signals(stop)
    process.leave(gateway.run(), sys.stderr, stream)


if __name__ == "__main__":
    sys.exit(main())
