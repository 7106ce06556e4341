"""The core's side of the engine protocol (asyncio; no pjsua2 here).

The core listens on a Unix socket and each worker connects to it:
``WorkerProcess.start()`` makes the socket, spawns the worker, accepts its
connection and waits for ``ready``; ``EngineClient`` then sends commands
(awaiting their replies) and hands out events in arrival order.
"""

from __future__ import annotations

import asyncio
import logging
import itertools
import os
import signal
import sys
import tempfile
from typing import Any, AsyncIterator

from appliance.engine.protocol import ProtocolError, decode_line, encode, parse_command, parse_event
from appliance.errors import EngineError

READY_TIMEOUT_S = 20.0


log = logging.getLogger("callbox.engine")


class EngineClient:
    """One control connection to one worker."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self._reader = reader
        self._writer = writer
        self._ids = itertools.count(1)
        self._pending: dict[Any, asyncio.Future] = {}
        self._events: asyncio.Queue[dict | None] = asyncio.Queue()
        # Replies nobody waits for (to lines sent raw, or after a timeout).
        self.unmatched_replies: list[dict] = []
        self.bad_events = 0
        self.closed = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def command(self, cmd: str, reply_timeout: float = 10.0, **args: Any) -> dict:
        """Send a command and return its reply; EngineError if the worker refused it."""
        if self.closed.is_set():
            raise EngineError("engine connection closed")
        cmd_id = next(self._ids)
        message = {"id": cmd_id, "cmd": cmd, **args}
        try:
            parse_command(message)  # what the worker would refuse never leaves: a bug says so here
        except ProtocolError as e:
            raise EngineError(str(e)) from None
        future = asyncio.get_running_loop().create_future()
        self._pending[cmd_id] = future
        try:
            self._writer.write(encode(message))
            await self._writer.drain()
            reply = await asyncio.wait_for(future, reply_timeout)
        except (ConnectionError, OSError) as e:
            raise EngineError(f"engine connection failed: {e}") from None
        except asyncio.TimeoutError:
            raise EngineError(f"engine did not answer {cmd} in {reply_timeout} s") from None
        finally:
            self._pending.pop(cmd_id, None)
        if not reply.get("ok"):
            raise EngineError(reply.get("error") or f"{cmd} failed")
        return reply

    async def send_raw(self, line: bytes) -> None:
        """Write bytes as they are (to test how a worker takes garbage)."""
        self._writer.write(line)
        await self._writer.drain()

    async def next_event(self, name: str | None = None, timeout_s: float = 10.0,
                         **match: Any) -> dict:
        """The next event (of this name and with these fields), skipping others."""
        async def wait() -> dict:
            while True:
                event = await self._events.get()
                if event is None:
                    self._events.put_nowait(None)  # keep later waiters informed
                    raise EngineError("engine connection closed")
                if (name is None or event["event"] == name) and all(
                        event.get(k) == v for k, v in match.items()):
                    return event
        try:
            return await asyncio.wait_for(wait(), timeout_s)
        except asyncio.TimeoutError:
            raise EngineError(f"no {name or 'event'} {match or ''} within {timeout_s} s") \
                from None

    async def events(self) -> AsyncIterator[dict]:
        """Every event until the connection closes."""
        while True:
            event = await self._events.get()
            if event is None:
                self._events.put_nowait(None)
                return
            yield event

    def abort(self) -> None:
        """Close the connection now, without waiting for the worker (it is gone)."""
        self._writer.close()

    async def close(self) -> None:
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass
        await self.closed.wait()

    async def _read(self) -> None:
        try:
            while True:
                line = await self._reader.readline()
                if not line:
                    break
                try:
                    message = decode_line(line)
                except ProtocolError:
                    continue
                if "reply" in message:
                    future = self._pending.get(message["reply"])
                    if future is not None and not future.done():
                        future.set_result(message)
                    else:
                        self.unmatched_replies.append(message)
                elif "event" in message:
                    try:
                        parse_event(message)
                    except ProtocolError as e:  # a worker of another version, or a bug: said, not acted on
                        self.bad_events += 1
                        log.warning("engine event dropped: %s", e)
                        continue
                    self._events.put_nowait(message)
        except (ConnectionError, OSError, ValueError):
            pass
        finally:
            self.closed.set()
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(EngineError("engine connection closed"))
            self._events.put_nowait(None)


class WorkerProcess:
    """Spawns one worker and holds its control connection."""

    def __init__(self, worker_id: str = "w0", bind: str = "127.0.0.1", sip_port: int = 0,
                 python: str = sys.executable, log_file: str | None = None,
                 log_level: int = 1, socket_dir: str | None = None, public_address: str = "",
                 edge_key_file: str = ""):
        self.worker_id = worker_id
        self.bind = bind
        self.sip_port = sip_port
        self.python = python
        self.log_file = log_file
        self.log_level = log_level
        self.public_address = public_address
        self.edge_key_file = edge_key_file
        self._socket_dir = socket_dir
        self._tmp: tempfile.TemporaryDirectory | None = None
        self.socket_path = ""
        self.process: asyncio.subprocess.Process | None = None
        self.client: EngineClient | None = None
        self.ready: dict = {}
        self._server: asyncio.AbstractServer | None = None

    async def start(self, timeout_s: float = READY_TIMEOUT_S) -> EngineClient:
        """Spawn the worker and wait for its `ready` event."""
        if self._socket_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="callbox-engine-")
            self._socket_dir = self._tmp.name
        self.socket_path = os.path.join(self._socket_dir, f"{self.worker_id}.sock")
        connected: asyncio.Future = asyncio.get_running_loop().create_future()

        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if connected.done():
                writer.close()  # one worker per socket
            else:
                connected.set_result((reader, writer))

        self._server = await asyncio.start_unix_server(on_connect, path=self.socket_path)
        args = [self.python, "-m", "appliance.engine.worker", "--control", self.socket_path,
                "--sip-port", str(self.sip_port), "--bind", self.bind, "--id",
                self.worker_id, "--log-level", str(self.log_level)]
        if self.log_file:
            args += ["--log-file", self.log_file]
        if self.public_address:
            args += ["--public-address", self.public_address]
        if self.edge_key_file:
            args += ["--edge-key-file", self.edge_key_file]
        self.process = await asyncio.create_subprocess_exec(*args)
        exited = asyncio.ensure_future(self.process.wait())
        try:
            done, _ = await asyncio.wait({connected, exited}, timeout=timeout_s,
                                         return_when=asyncio.FIRST_COMPLETED)
            if connected not in done:
                raise EngineError(f"worker {self.worker_id} did not connect "
                                  f"(exit {self.process.returncode})")
            self.client = EngineClient(*connected.result())
            self.ready = await self.client.next_event("ready", timeout_s=timeout_s)
        except EngineError as e:
            exited.cancel()
            code = await self.stop()
            raise EngineError(f"worker {self.worker_id} failed to start (exit {code}): {e}") \
                from None
        except BaseException:
            exited.cancel()
            await self.stop()
            raise
        exited.cancel()
        # No second connection is expected; close the listener.
        self._server.close()
        return self.client

    @property
    def sip_uri_host(self) -> str:
        return f"{self.bind}:{self.ready.get('sip_port', self.sip_port)}"

    async def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM, wait, SIGKILL if it hangs; returns the exit code."""
        if self.process is not None and self.process.returncode is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(self.process.wait(), timeout_s)
            except asyncio.TimeoutError:
                self.process.kill()
                await self.process.wait()
            except ProcessLookupError:
                pass
        if self.client is not None:
            self.client.abort()
        if self._server is not None:
            self._server.close()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        return self.process.returncode if self.process else None

    async def drop_connection(self) -> None:
        """Close the control connection as a crashed core would."""
        if self.client is not None:
            await self.client.close()
