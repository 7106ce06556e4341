"""The core's side of the media bridge process: start it, ask it, hear when a browser call ends.

    bridge = BridgeClient(address="192.168.1.10", on_ended=lambda call, reason: ...)
    await bridge.start()
    answer, engine_offer = await bridge.browser_calls("c1", offer)
    await bridge.engine_answers("c1", engine_answer)
    await bridge.hang_up("c1")
    await bridge.stop()

It imports neither aiortc nor av: the process (`python -m appliance.webrtc`, process.py) does.
A refusal comes back as MediaBridgeError with the process's words. If the process dies, every
command waiting fails, and every call it carried is reported ended ("media bridge stopped").
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any, Callable

from appliance.webrtc.errors import MediaBridgeError

log = logging.getLogger(__name__)
START_TIMEOUT_S = 30.0
COMMAND_TIMEOUT_S = 20.0
LINE_LIMIT = 1024 * 1024


class BridgeClient:
    """One media bridge process for the box, driven over its stdin and stdout."""

    def __init__(self, address: str, on_ended: Callable[[str, str], Any] | None = None,
                 python: str = sys.executable, log_level: str = "WARNING"):
        self.address = address
        self.on_ended = on_ended
        self._args = [python, "-m", "appliance.webrtc", "--address", address, "--log-level", log_level]
        self._proc: asyncio.subprocess.Process | None = None
        self._waiting: dict[int, asyncio.Future] = {}
        self._next = 0
        self._calls: set[str] = set()
        self._reader: asyncio.Task | None = None
        self._ready: asyncio.Future | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._proc = await asyncio.create_subprocess_exec(
            *self._args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=LINE_LIMIT)
        self._reader = asyncio.ensure_future(self._read())
        try:
            await asyncio.wait_for(asyncio.shield(self._ready), START_TIMEOUT_S)
        except (asyncio.TimeoutError, MediaBridgeError):
            await self.stop()
            raise MediaBridgeError("the media bridge process did not start") from None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    async def _command(self, cmd: str, **args: Any) -> dict:
        proc = self._proc
        if proc is None or proc.returncode is not None or proc.stdin is None:
            raise MediaBridgeError("the media bridge process is not running")
        self._next += 1
        cmd_id = self._next
        reply = asyncio.get_running_loop().create_future()
        self._waiting[cmd_id] = reply
        try:
            proc.stdin.write((json.dumps({"id": cmd_id, "cmd": cmd, **args}) + "\n").encode())
            await proc.stdin.drain()
            answer = await asyncio.wait_for(reply, COMMAND_TIMEOUT_S)
        except (ConnectionError, asyncio.TimeoutError) as e:
            raise MediaBridgeError(f"media bridge: no answer to {cmd} ({type(e).__name__})") from None
        finally:
            self._waiting.pop(cmd_id, None)
        if not answer.get("ok"):
            raise MediaBridgeError(answer.get("error") or f"media bridge refused {cmd}")
        return answer

    async def browser_calls(self, call: str, offer: str) -> tuple[str, str]:
        """The browser's offer; the answer for it and the plain offer for the engine."""
        reply = await self._command("browser_calls", call=call, offer=offer)
        self._calls.add(call)
        return reply["answer"], reply["engine_offer"]

    async def engine_answers(self, call: str, answer: str) -> None:
        await self._command("engine_answers", call=call, answer=answer)

    async def ring_browser(self, call: str, engine_offer: str) -> str:
        reply = await self._command("ring_browser", call=call, engine_offer=engine_offer)
        self._calls.add(call)
        return reply["offer"]

    async def browser_answers(self, call: str, answer: str) -> str:
        return (await self._command("browser_answers", call=call, answer=answer))["engine_answer"]

    async def hang_up(self, call: str) -> None:
        self._calls.discard(call)
        await self._command("hang_up", call=call)

    async def stats(self) -> dict:
        reply = await self._command("stats")
        return {"calls": reply["calls"], "cpu_s": reply["cpu_s"]}

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        try:
            while True:
                try:
                    line = await self._proc.stdout.readline()
                except ValueError:          # a line over the limit: not the process's protocol
                    log.warning("media bridge: an over-long line from the process was dropped")
                    continue
                if not line:
                    break
                try:
                    message = json.loads(line)
                except ValueError:
                    log.warning("media bridge: not JSON from the process: %r", line[:80])
                    continue
                self._take(message)
        finally:
            self._gone()

    def _take(self, message: dict) -> None:
        if message.get("event") == "ready" and self._ready is not None and not self._ready.done():
            self._ready.set_result(True)
        elif message.get("event") == "ended":
            self._ended(str(message.get("call")), str(message.get("reason")))
        elif "reply" in message:
            waiting = self._waiting.get(message["reply"])
            if waiting is not None and not waiting.done():
                waiting.set_result(message)

    def _ended(self, call: str, reason: str) -> None:
        self._calls.discard(call)
        if self.on_ended is not None:
            try:
                self.on_ended(call, reason)
            except Exception:
                log.exception("media bridge: on_ended failed for %s", call)

    def _gone(self) -> None:
        """The process's stdout closed: it stopped, or died."""
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(MediaBridgeError("the media bridge process stopped"))
            self._ready.exception()     # retrieved: start() reports it in its own words
        for waiting in self._waiting.values():
            if not waiting.done():
                waiting.set_exception(MediaBridgeError("the media bridge process stopped"))
        for call in sorted(self._calls):
            self._ended(call, "media bridge stopped")

    async def stopped(self) -> None:
        """Return once the process has stopped or died (its calls reported ended by then)."""
        if self._reader is not None:
            await asyncio.shield(self._reader)

    async def stop(self) -> None:
        """Close its stdin (it hangs up every call and exits); kill it if it does not."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.returncode is None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
        if self._reader is not None:
            await self._reader
