"""The edge's sockets: one UDP socket read in batches, and TCP connections framed by
Content-Length, limited per address and in all, and timed out when a message stays incomplete or
a connection idles (unless a phone registered over it).

What arrives is handed on as bytes with its Source; what the edge decides is not made here.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Callable

from appliance.errors import SipParseError
from appliance.sip.edge_limits import EdgeLimits, EdgeStats
from appliance.sip.framing import StreamFramer
from appliance.sip.keepalive import is_nat_keepalive
from appliance.sip.source import Source

__all__ = ["UDP_RECEIVE_BUFFER", "UdpSocket", "TcpConnections", "TcpConnection", "widen_receive_buffer"]

log = logging.getLogger("callbox.sip.edge")

# Bytes of UDP receive buffer asked for (see widen_receive_buffer).
UDP_RECEIVE_BUFFER = 4 * 1024 * 1024
# A phone sends from one address again and again: its Source is made once.
_SOURCES_MAX = 4096


def widen_receive_buffer(sock: socket.socket) -> None:
    """Room for a burst of requests while the loop is busy or the CPU is taken by another process:
    the kernel's default (~200 kB, a few hundred datagrams) overflows within milliseconds at a few
    thousand requests a second, and every datagram lost costs a retransmission half a second later.
    The kernel caps the size at net.core.rmem_max."""
    try:
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < UDP_RECEIVE_BUFFER:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
    except OSError as e:
        log.debug("could not widen the UDP receive buffer: %s", e)


class UdpSocket:
    """The UDP socket, read in batches: one wake-up drains up to `batch` datagrams, so the
    kernel's buffer empties quickly under a flood, and the edge can then handle registered phones
    first (asyncio's datagram transport hands over one datagram per wake-up, in arrival order)."""

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop,
                 on_datagrams: Callable[[list[tuple[bytes, Source]]], None], batch: int):
        self.sock = sock
        self.loop = loop
        self.on_datagrams = on_datagrams
        self.batch = batch
        self.sources: dict[tuple, Source] = {}
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._readable)
        self._closed = False

    def get_extra_info(self, name: str):
        if name == "sockname":
            return self.sock.getsockname()
        if name == "socket":
            return self.sock
        return None

    def _readable(self) -> None:
        batch: list[tuple[bytes, Source]] = []
        recv = self.sock.recvfrom
        for _ in range(self.batch):
            try:
                data, addr = recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:  # an ICMP error reported on the socket
                log.debug("UDP error: %s", e)
                continue
            if is_nat_keepalive(data):
                continue
            source = self.sources.get(addr)
            if source is None:
                source = Source("udp", addr[0], addr[1])
                if len(self.sources) >= _SOURCES_MAX:
                    self.sources.clear()
                self.sources[addr] = source
            batch.append((data, source))
        if batch:
            self.on_datagrams(batch)

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._closed:
            return
        try:
            self.sock.sendto(data, addr)
        except (OSError, OverflowError, ValueError, TypeError) as e:
            # A full socket buffer (the datagram is lost, as on the wire) or an address that
            # cannot be sent to.
            log.debug("could not send to %r: %s", addr, e)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()


class TcpConnections:
    """The open TCP connections, by peer address and counted per IP address.

    `allow_address(ip)`: whether the guard lets that address in at all;
    `on_message(data, source)`: one whole message received;
    `on_garbage(rest, error, source)`: bytes that failed to frame (the connection is then closed);
    `keep_open(source)`: whether an idle connection must stay (a phone registered over it).
    """

    def __init__(self, *, limits: EdgeLimits, stats: EdgeStats, allow_address: Callable[[str], bool],
                 on_message: Callable[[bytes, Source], None],
                 on_garbage: Callable[[bytes, SipParseError, Source], None],
                 keep_open: Callable[[Source], bool]):
        self.limits, self.stats = limits, stats
        self.allow_address, self.on_message, self.on_garbage = allow_address, on_message, on_garbage
        self.keep_open = keep_open
        self.by_addr: dict[tuple[str, int], asyncio.Transport] = {}
        self.per_ip: dict[str, int] = {}

    def connection(self) -> TcpConnection:
        """A protocol for a new connection (asyncio's protocol factory)."""
        return TcpConnection(self)

    def open_to(self, addr: tuple[str, int]) -> asyncio.Transport | None:
        conn = self.by_addr.get(addr)
        return conn if conn is not None and not conn.is_closing() else None

    def close_all(self) -> None:
        for t in list(self.by_addr.values()):
            t.close()

    def admit(self, addr: tuple[str, int], transport: asyncio.Transport) -> bool:
        """Count a new connection in, or say no (the caller closes it)."""
        ip = addr[0]
        if self.per_ip.get(ip, 0) >= self.limits.tcp_per_address or len(self.by_addr) >= self.limits.tcp_total:
            self.stats.tcp_refused += 1
            log.info("refusing TCP connection from %s:%d: too many connections", *addr)
            return False
        self.per_ip[ip] = self.per_ip.get(ip, 0) + 1
        self.by_addr[addr] = transport
        return True

    def gone(self, addr: tuple[str, int], transport: asyncio.Transport | None, counted: bool) -> None:
        if self.by_addr.get(addr) is transport:
            del self.by_addr[addr]
        if counted:
            n = self.per_ip.get(addr[0], 0) - 1
            if n > 0:
                self.per_ip[addr[0]] = n
            else:
                self.per_ip.pop(addr[0], None)


class TcpConnection(asyncio.Protocol):
    """One TCP connection: framed by Content-Length, timed out when a message stays incomplete or
    the connection idles (unless a phone registered over it)."""

    def __init__(self, table: TcpConnections):
        self.table = table
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.addr: tuple[str, int] | None = None
        self.source: Source | None = None
        self.counted = False
        self.timer: asyncio.TimerHandle | None = None
        self.last_data = 0.0
        self.begun_at: float | None = None  # when the incomplete message in the framer began

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.addr = (peer[0], peer[1])
        self.source = Source("tcp", peer[0], peer[1])
        if not self.table.allow_address(peer[0]):
            transport.close()
            return
        if not self.table.admit(self.addr, self.transport):  # type: ignore[arg-type]
            transport.abort()  # type: ignore[attr-defined]
            return
        self.counted = True
        self.last_data = time.monotonic()
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        now = time.monotonic()
        self.last_data = now
        messages, error = self.framer.read(data)
        for m in messages:
            self.table.on_message(m, self.source)  # type: ignore[arg-type]
        if error is not None:
            try:
                self.table.on_garbage(self.framer.rest(), error, self.source)  # type: ignore[arg-type]
            except Exception:
                log.exception("error answering bad bytes from %s:%d", *self.addr)  # type: ignore[misc]
            self.transport.close()
            return
        if self.framer.pending:
            if self.begun_at is None or messages:
                self.begun_at = now
        else:
            self.begun_at = None
        self._arm()

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        limits = self.table.limits
        if self.begun_at is not None:
            due = self.begun_at + limits.tcp_message_timeout_s
        else:
            due = self.last_data + limits.tcp_idle_timeout_s
        self.timer = asyncio.get_running_loop().call_at(
            asyncio.get_running_loop().time() + max(0.0, due - time.monotonic()), self._due)

    def _due(self) -> None:
        self.timer = None
        if self.transport is None or self.transport.is_closing():
            return
        limits, stats = self.table.limits, self.table.stats
        now = time.monotonic()
        if self.begun_at is not None:
            if now - self.begun_at >= limits.tcp_message_timeout_s:
                stats.tcp_timed_out += 1
                log.info("closing TCP connection from %s:%d: a message stayed incomplete for %g s",
                         *self.addr, limits.tcp_message_timeout_s)  # type: ignore[misc]
                self.transport.abort()
                return
        elif now - self.last_data >= limits.tcp_idle_timeout_s:
            if not self.table.keep_open(self.source):  # type: ignore[arg-type]
                stats.tcp_timed_out += 1
                log.info("closing idle TCP connection from %s:%d", *self.addr)  # type: ignore[misc]
                self.transport.close()
                return
            self.last_data = now  # a phone registered over it: calls may come to it this way
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.addr:
            self.table.gone(self.addr, self.transport, self.counted)
            self.counted = False
