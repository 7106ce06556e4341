"""The media bridge process: the bridges of every browser call of one box, on one asyncio loop.

    python -m appliance.webrtc --address 192.168.1.10

It reads one JSON command a line on stdin and answers each on stdout with
`{"reply": id, "ok": true, ...}` or `{"reply": id, "ok": false, "error": "..."}`:

    {"id": 1, "cmd": "browser_calls", "call": "c1", "offer": sdp}    -> answer, engine_offer
    {"id": 2, "cmd": "engine_answers", "call": "c1", "answer": sdp}
    {"id": 3, "cmd": "ring_browser", "call": "c2", "engine_offer": sdp} -> offer
    {"id": 4, "cmd": "browser_answers", "call": "c2", "answer": sdp}  -> engine_answer
    {"id": 5, "cmd": "hang_up", "call": "c1"}
    {"id": 6, "cmd": "stats"}                                          -> calls, cpu_s

and tells `{"event": "ended", "call": "c1", "reason": "browser unreachable"}` when a browser
goes away by itself. It says `{"event": "ready"}` first. A command's failure (bad SDP, no common
codec, an unknown call) is its reply; it never stops the process or the other calls.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any, Callable

from appliance.webrtc.bridge import MediaBridge
from appliance.webrtc.errors import MediaBridgeError

MAX_LINE = 256 * 1024
log = logging.getLogger(__name__)


class Bridges:
    """The calls of one box, by the id the caller gave; `handle` answers one command."""

    def __init__(self, address: str, emit: Callable[[dict], None]):
        self.address = address
        self.emit = emit
        self.calls: dict[str, MediaBridge] = {}

    async def handle(self, message: dict) -> dict:
        cmd = message.get("cmd")
        handler = getattr(self, f"cmd_{cmd}", None) if isinstance(cmd, str) else None
        if handler is None:
            raise MediaBridgeError(f"unknown command {cmd!r}")
        args = {k: v for k, v in message.items() if k not in ("id", "cmd")}
        try:
            return await handler(**args) or {}
        except TypeError as e:
            raise MediaBridgeError(f"{cmd}: {e}") from None

    def _call(self, call: str) -> MediaBridge:
        bridge = self.calls.get(call)
        if bridge is None:
            raise MediaBridgeError(f"no call {call!r}")
        return bridge

    def _new(self, call: str) -> MediaBridge:
        if not isinstance(call, str) or not call or call in self.calls:
            raise MediaBridgeError(f"call id {call!r} is empty or taken")
        bridge = MediaBridge(self.address, name=call, on_ended=lambda reason: self._ended(call, reason))
        self.calls[call] = bridge
        return bridge

    def _ended(self, call: str, reason: str) -> None:
        self.calls.pop(call, None)
        self.emit({"event": "ended", "call": call, "reason": reason})

    async def _setting_up(self, call: str, step) -> Any:
        try:
            return await step
        except BaseException:
            self.calls.pop(call, None)
            raise

    async def cmd_browser_calls(self, call: str, offer: str) -> dict:
        bridge = self._new(call)
        answer, engine_offer = await self._setting_up(call, bridge.browser_calls(offer))
        return {"answer": answer, "engine_offer": engine_offer}

    async def cmd_engine_answers(self, call: str, answer: str) -> dict:
        self._call(call).engine_answers(answer)
        return {}

    async def cmd_ring_browser(self, call: str, engine_offer: str) -> dict:
        bridge = self._new(call)
        return {"offer": await self._setting_up(call, bridge.ring_browser(engine_offer))}

    async def cmd_browser_answers(self, call: str, answer: str) -> dict:
        return {"engine_answer": await self._call(call).browser_answers(answer)}

    async def cmd_hang_up(self, call: str) -> dict:
        bridge = self.calls.pop(call, None)
        if bridge is not None:
            await bridge.hang_up()
        return {}

    async def cmd_stats(self) -> dict:
        times = os.times()
        return {"calls": {c: b.stats() for c, b in self.calls.items()},
                "cpu_s": times.user + times.system}

    async def close(self) -> None:
        for call in list(self.calls):
            await self.cmd_hang_up(call)


async def serve(address: str) -> None:
    loop = asyncio.get_running_loop()
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)

    def emit(message: dict) -> None:
        out.write(json.dumps(message) + "\n")

    bridges = Bridges(address, emit)
    reader = asyncio.StreamReader(limit=MAX_LINE)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    emit({"event": "ready"})
    pending: set[asyncio.Task] = set()
    try:
        while True:
            try:
                line = await reader.readline()
            except ValueError:
                emit({"reply": None, "ok": False, "error": f"line longer than {MAX_LINE} bytes"})
                continue
            if not line:
                break
            if not line.strip():
                continue
            # Each command in its own task: a call's set-up never holds up another call's hang-up.
            task = asyncio.ensure_future(_one(bridges, line, emit))
            pending.add(task)
            task.add_done_callback(pending.discard)
    finally:
        if pending:
            await asyncio.wait(pending, timeout=10)
        await bridges.close()


async def _one(bridges: Bridges, line: bytes, emit: Callable[[dict], None]) -> None:
    try:
        message = json.loads(line)
        if not isinstance(message, dict):
            raise ValueError("not an object")
    except ValueError as e:
        emit({"reply": None, "ok": False, "error": f"not a JSON object: {e}"})
        return
    try:
        emit({"reply": message.get("id"), "ok": True, **await bridges.handle(message)})
    except MediaBridgeError as e:
        emit({"reply": message.get("id"), "ok": False, "error": str(e)})
    except Exception as e:  # a fault of the bridge itself: said, logged, and the other calls go on
        log.exception("media bridge: %s failed", message.get("cmd"))
        emit({"reply": message.get("id"), "ok": False, "error": f"internal error: {type(e).__name__}: {e}"})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m appliance.webrtc", description=__doc__.split("\n")[0])
    parser.add_argument("--address", required=True, help="the box's LAN address: where engine workers send RTP")
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        asyncio.run(serve(args.address))
    except KeyboardInterrupt:
        pass
