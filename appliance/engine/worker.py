"""An engine worker: one pjsua2 Endpoint driven by the core over a Unix socket.

Run as ``python -m appliance.engine.worker --control SOCK --sip-port N
--bind ADDR --id w0``. The core listens on SOCK; the worker connects to it,
announces ``ready`` and then executes commands (see docs/engine-protocol.md).
The commands are dispatched in `commands`, carried out by the call legs
(`call_legs`) and the audio paths (`audio_paths`); this module is the process:
the endpoint, the control connection and the loop.

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
import logging
import os
import queue
import socket
import sys
import threading
from typing import Any

from appliance.engine import media, process
from appliance.engine.audio_paths import AudioPaths
from appliance.engine.call_legs import CallLegs
from appliance.engine.commands import carry_out, worker_handlers
from appliance.engine.legs import Leg
from appliance.engine.protocol import Command, ProtocolError, decode_line, encode, parse_command, parse_event

log = logging.getLogger("callbox.engine.worker")

_LOST = object()  # queue marker: the control connection is gone
_POLL_MS = 40
# While a caller talks to the box itself (a menu, a queue, voicemail) the worker waits less: pjsua hands
# a DTMF digit to this thread as a job that runs only after the wait, so a 40 ms wait would add up to
# 40 ms to every keypress in a menu. Bridged calls and an idle worker keep the long, cheap wait.
_POLL_LISTENING_MS = 5
_SHUTDOWN_GRACE_S = 1.0


class Worker:
    """Owns the Endpoint, the control connection and the loop; the legs and their audio are parts."""

    def __init__(self, worker_id: str, control: socket.socket, bind: str, sip_port: int,
                 log_file: str | None = None, log_level: int = 1, *, edge_key: bytes | None = None,
                 public_address: str = ""):
        self.id = worker_id
        self.control = control
        self.bind = bind
        self.inbox: queue.Queue = queue.Queue()
        self.stopping = False
        self.exit_code = 0
        self.ep, self.sip_port = media.start_endpoint(bind, sip_port, log_file=log_file, log_level=log_level)
        self.max_calls = media.max_calls()
        self.legs: dict[str, Leg] = {}
        self.audio = AudioPaths(self.legs, self.emit)
        self.calls = CallLegs(self.legs, self.audio, self.emit, lambda: self.stopping,
                              worker_id=worker_id, bind=bind, sip_port=self.sip_port,
                              max_calls=self.max_calls, edge_key=edge_key, public_address=public_address)
        self.handlers = worker_handlers(self.calls, self.audio, self.status)

    # ---- messages out ---------------------------------------------------------

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

    def _reply(self, cmd_id: Any, **fields: Any) -> None:
        self._send({"reply": cmd_id, **fields})

    def _lost(self, why: str) -> None:
        if not self.stopping:
            log.warning("control connection lost (%s): hanging up and exiting", why)
            self.stopping = True
            self.exit_code = 0

    # ---- commands in ------------------------------------------------------------

    def handle(self, cmd: Command) -> None:
        self._reply(cmd.id, **carry_out(self.handlers, cmd))

    def status(self) -> dict:
        return {"legs": self.calls.describe(), "max_calls": self.max_calls,
                "free": self.calls.free, "recordings": sorted(self.audio.recordings)}

    # ---- the loop ------------------------------------------------------------

    def run(self) -> int:
        threading.Thread(target=self._read_control, name="control-reader",
                         daemon=True).start()
        self.emit("ready", id=self.id, sip_port=self.sip_port, max_calls=self.max_calls,
                  pid=os.getpid())
        self.calls.report_capacity()
        collect = process.Collector()
        while not self.stopping:
            self.ep.libHandleEvents(_POLL_LISTENING_MS if self.audio.listening() else _POLL_MS)
            self._drain_inbox()
            # Work that must not run inside a pjsua callback: releases, timers, retries.
            self.audio.after_callbacks()
            self.calls.tick()
            collect()
        self._shutdown()
        return self.exit_code

    def _drain_inbox(self) -> None:
        for item in process.drained(self.inbox):
            if item is _LOST:
                self._lost("closed by core")
                return
            cmd_id, parsed = item
            if isinstance(parsed, ProtocolError):
                self._reply(cmd_id, ok=False, error=str(parsed))
            else:
                self.handle(parsed)

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
        media.hang_up_all(self.ep, lambda: bool(self.legs), _SHUTDOWN_GRACE_S, _POLL_MS)
        self.audio.close()
        self.calls.close()
        media.stop_endpoint(self.ep, self.calls.account)
        self.calls.account = None
        try:
            self.control.close()
        except OSError:
            pass


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
    edge_key = None
    if args.edge_key_file:
        with open(args.edge_key_file) as f:
            edge_key = bytes.fromhex(f.read().strip())
    control = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    control.connect(args.control)
    process.collect_on_this_thread_only()
    worker = Worker(args.id, control, args.bind, args.sip_port, args.log_file, args.log_level,
                    edge_key=edge_key, public_address=args.public_address)

    def stop() -> None:
        worker.stopping = True

    process.stop_on_signals(stop)
    process.leave(worker.run(), sys.stdout, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
