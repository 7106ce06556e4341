"""The edge's TCP side against slow, greedy and garbled peers: a real loopback socket in this process."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from appliance.sip.edge import SipEdge
from appliance.sip.edge_limits import EdgeLimits
from appliance.sip.framing import StreamFramer
from appliance.sip.source import Source
from tests.sip.edge_harness import answers, make_edge, req


# ---- 2, 3, 8. TCP over loopback in this process --------------------------------------------------------


async def _tcp_edge(limits: EdgeLimits) -> SipEdge:
    edge = make_edge(limits=limits)
    await edge.start("127.0.0.1", 0)
    return edge


def _read_all(conn: socket.socket, timeout: float) -> tuple[bytes, bool]:
    """What the peer sent until it closed (True) or the timeout (False)."""
    conn.settimeout(timeout)
    data = b""
    try:
        while chunk := conn.recv(65535):
            data += chunk
        return data, True
    except ConnectionResetError:
        return data, True
    except socket.timeout:
        return data, False


def _run(coro):
    return asyncio.run(coro)


def test_tcp_incomplete_message_times_out_and_idle_connections_close():
    async def main():
        edge = await _tcp_edge(EdgeLimits(tcp_message_timeout_s=0.3, tcp_idle_timeout_s=0.8))
        loop = asyncio.get_running_loop()
        try:
            partial = socket.create_connection(("127.0.0.1", edge.port))
            partial.sendall(req("OPTIONS").replace(b"Content-Length: 0", b"Content-Length: 100") + b"v=0")
            idle = socket.create_connection(("127.0.0.1", edge.port))
            started = time.monotonic()
            closed, _ = await loop.run_in_executor(None, _read_all, partial, 3.0)
            assert time.monotonic() - started < 1.0
            _, closed = await loop.run_in_executor(None, _read_all, idle, 3.0)
            assert closed and time.monotonic() - started < 2.5
            assert edge.stats.tcp_timed_out == 2
            # A slow drip that never completes a message is cut too.
            drip = socket.create_connection(("127.0.0.1", edge.port))
            started = time.monotonic()
            try:
                for b in req("OPTIONS")[:60]:
                    drip.send(bytes([b]))
                    await asyncio.sleep(0.05)
                cut = (await loop.run_in_executor(None, _read_all, drip, 2.0))[1]
            except (BrokenPipeError, ConnectionResetError):
                cut = True
            assert cut and time.monotonic() - started < 2.0
        finally:
            await edge.stop()
    _run(main())


def test_tcp_connections_per_address_are_limited():
    async def main():
        edge = await _tcp_edge(EdgeLimits(tcp_per_address=3, tcp_total=5))
        loop = asyncio.get_running_loop()
        held = []
        try:
            for _ in range(5):
                c = socket.socket()
                c.bind(("127.0.0.3", 0))
                c.connect(("127.0.0.1", edge.port))
                held.append(c)
            await asyncio.sleep(0.2)
            results = [await loop.run_in_executor(None, _read_all, c, 0.1) for c in held]
            assert [closed for _, closed in results] == [False, False, False, True, True]
            others = []
            for i in range(3):
                c = socket.socket()
                c.bind((f"127.0.0.{4 + i}", 0))
                c.connect(("127.0.0.1", edge.port))
                others.append(c)
            await asyncio.sleep(0.2)
            results = [await loop.run_in_executor(None, _read_all, c, 0.1) for c in others]
            assert [closed for _, closed in results] == [False, False, True]  # 5 in all
            held[0].close()
            await asyncio.sleep(0.2)
            assert edge.tcp.per_ip.get("127.0.0.3") == 2
            for c in held + others:
                c.close()
        finally:
            await edge.stop()
    _run(main())


def test_tcp_messages_before_garbage_are_handled_then_the_garbage_answered():
    async def main():
        edge = await _tcp_edge(EdgeLimits())
        loop = asyncio.get_running_loop()
        try:
            conn = socket.create_connection(("127.0.0.1", edge.port))
            bad = req("OPTIONS", call_id="bad").replace(b"Content-Length: 0", b"Content-Length: zero")
            conn.sendall(req("OPTIONS", call_id="one") + b"\r\n" + req("OPTIONS", call_id="two") + bad)
            data, closed = await loop.run_in_executor(None, _read_all, conn, 3.0)
            assert closed
            parts = [p for p in data.split(b"SIP/2.0 ") if p]
            assert [p[:3] for p in parts] == [b"200", b"200", b"400"], data
            assert b"Call-ID: one" in parts[0] and b"Call-ID: two" in parts[1] and b"Call-ID: bad" in parts[2]
        finally:
            await edge.stop()
    _run(main())


def test_tcp_oversized_body_gets_413_and_is_closed():
    async def main():
        edge = await _tcp_edge(EdgeLimits())
        loop = asyncio.get_running_loop()
        try:
            conn = socket.create_connection(("127.0.0.1", edge.port))
            conn.sendall(req("MESSAGE").replace(b"Content-Length: 0", b"Content-Length: 20000"))
            data, closed = await loop.run_in_executor(None, _read_all, conn, 3.0)
            assert closed and data.startswith(b"SIP/2.0 413 ")
        finally:
            await edge.stop()
    _run(main())


def test_stream_framer_returns_the_messages_before_the_error():
    framer = StreamFramer()
    messages, error = framer.read(req("OPTIONS", call_id="a") + b"junk without end\r\n\r\n")
    assert len(messages) == 1 and b"Call-ID: a" in messages[0]
    assert error is not None and framer.rest().startswith(b"junk")
    assert framer.read(req("OPTIONS")) == ([], error)  # broken for good
    with pytest.raises(Exception):
        StreamFramer().feed(b"junk\r\n\r\n")


def test_udp_datagram_over_the_size_limit_gets_413():
    edge = make_edge()
    big = req("MESSAGE", "sip:1001@127.0.0.1").replace(b"Content-Length: 0\r\n\r\n",
                                                        b"Content-Length: 20000\r\n\r\n" + b"x" * 20000)
    edge.handle(big, Source("udp", "127.0.0.2", 5070))
    assert answers(edge) == [413]
    edge.handle(b"x" * 70000, Source("udp", "127.0.0.2", 5070))
    assert edge.udp.take() == []
