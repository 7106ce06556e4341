"""The browser phones' socket: SIP over WebSocket (RFC 7118) over TLS, one extension per connection.

A connection goes through the states of `TRANSITIONS`:

- **accepted**: counted per address and in all, and checked by the guard (allow-list, bans, the
  rate limit) *before* the TLS handshake costs anything; refused connections are aborted at once;
- **tls**: the handshake with the web page's certificate (`wss_certificate.py`), done over memory
  buffers (`tls_session.py`) so that asyncio's loop and uvloop behave the same;
- **upgrade**: the HTTP opening handshake (at most 8 KiB); it must carry a ticket
  (`browser_tickets.py`), redeemed once. Without a valid one the answer is `401` and the
  connection closes: no SIP is read from anybody who has not proven who they are. Accept to
  `101` must take at most `handshake_s`;
- **open**: each WebSocket message is one SIP message, handed to the edge with the Source
  `wss:IP:PORT`; answers go back on the same connection. A frame once begun must complete within
  `message_timeout_s`; a connection silent for `idle_timeout_s` closes unless a registration was
  made over it. A broken frame (unmasked, reserved bits, too big, bad UTF-8 in a text message)
  gets a Close frame with the reason and the connection ends;
- **closed**.

Why RFC 6455 here and not aiohttp's server: the limits above (counting a connection and asking the
guard before the TLS handshake, a frame's size refused from its header, the same timeouts as the
TCP transport) need the raw connection, which aiohttp's server does not hand over, and the part of
RFC 6455 that SIP needs is small and pure (`websocket_frames.py`).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Callable

from appliance.sip.parser import MAX_MESSAGE_BYTES
from appliance.sip.source import Source
from appliance.sip.tls_session import TlsSession
from appliance.sip.websocket_frames import (MAX_HANDSHAKE_BYTES, Close, CloseCode, FrameReader, HandshakeError,
                                            Message, Opcode, Ping, close_frame, frame, read_handshake, refusal,
                                            switching_protocols)

__all__ = ["WSS", "WebSocketLimits", "WebSocketStats", "WebSocketListener", "WebSocketConnection", "State",
           "TRANSITIONS"]

log = logging.getLogger("callbox.sip.edge")

WSS = "wss"  # the transport of a Source, and the Via transport browsers write (RFC 7118 §5.2)
# How long a connection we ended may still take to read our last words and close its side.
LINGER_S = 1.0


@dataclass(frozen=True)
class WebSocketLimits:
    """Limits of the browser phones' socket (constants, like the TCP transport's)."""

    # Connections one address may hold (a browser tab each) and in all.
    per_address: int = 16
    total: int = 256
    # From the TCP accept to the 101: the TLS handshake and the HTTP upgrade together.
    handshake_s: float = 10.0
    # A frame (or a fragmented message) once begun must be complete within this.
    message_timeout_s: float = 10.0
    # A connection that sent nothing this long closes, unless a live registration was made over it.
    idle_timeout_s: float = 120.0
    # Answers queued for a browser that does not read them: beyond this it is cut off.
    write_buffer: int = 256 * 1024
    # One SIP message per WebSocket message: the parser's own limit.
    max_message: int = MAX_MESSAGE_BYTES


@dataclass
class WebSocketStats:
    refused: int = 0
    tls_failed: int = 0
    upgrades_refused: int = 0
    tickets_refused: int = 0
    opened: int = 0
    bad_frames: int = 0
    timed_out: int = 0


class State(StrEnum):
    ACCEPTED = "accepted"
    TLS = "tls"
    UPGRADE = "upgrade"
    OPEN = "open"
    CLOSED = "closed"


# How a connection ends, from whichever state it is in.
_ENDINGS = {event: State.CLOSED for event in ("refused", "failed", "timeout", "close", "cut off", "bad frame", "lost")}
TRANSITIONS: dict[State, dict[str, State]] = {
    State.ACCEPTED: {"admitted": State.TLS, **_ENDINGS},
    State.TLS: {"secured": State.UPGRADE, **_ENDINGS},
    State.UPGRADE: {"ticket valid": State.OPEN, **_ENDINGS},
    State.OPEN: {**_ENDINGS},
    State.CLOSED: {**_ENDINGS},
}


class WebSocketListener:
    """The listening socket and its connections, by peer address.

    `allow_address(ip)`: whether the guard lets the address in at all (checked per connection);
    `redeem_ticket(ticket)`: the extension a ticket was issued for, once, or None;
    `ticket_refused(ip)`: a bad ticket from that address (counted like a wrong password);
    `ticket_accepted(ip)`: a good one (forgives earlier failures, like a good password);
    `on_message(data, source)`: one SIP message from an open connection;
    `keep_open(source)`: whether an idle connection must stay (a registration was made over it);
    `on_closed(source, extension, said_goodbye)`: an open connection ended (its registrations go
    with it); `said_goodbye` when the browser closed it (a Close frame: the page was closed or
    left), not when the network lost it.
    """

    def __init__(self, *, allow_address: Callable[[str], bool],
                 redeem_ticket: Callable[[str], str | None], ticket_refused: Callable[[str], None],
                 ticket_accepted: Callable[[str], None], on_message: Callable[[bytes, Source], None],
                 keep_open: Callable[[Source], bool], on_closed: Callable[[Source, str, bool], None],
                 limits: WebSocketLimits = WebSocketLimits()):
        self.allow_address = allow_address
        self.tls_context: Callable[[], ssl.SSLContext | None] = lambda: None
        self.redeem_ticket, self.ticket_refused, self.ticket_accepted = redeem_ticket, ticket_refused, ticket_accepted
        self.on_message, self.keep_open, self.on_closed = on_message, keep_open, on_closed
        self.limits = limits
        self.stats = WebSocketStats()
        self.server: asyncio.base_events.Server | None = None
        self.port = 0
        self.by_addr: dict[tuple[str, int], WebSocketConnection] = {}
        self.per_ip: dict[str, int] = {}

    async def start(self, host: str, port: int, tls_context: Callable[[], ssl.SSLContext | None]) -> int:
        """Listen; `tls_context()` is asked for the certificate at each connection (None: refused)."""
        self.tls_context = tls_context
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(lambda: WebSocketConnection(self), host, port)
        self.port = self.server.sockets[0].getsockname()[1]
        log.info("browser phones (SIP over WebSocket, TLS) on %s:%d", host, self.port)
        return self.port

    async def stop(self) -> None:
        if self.server is None:
            return
        self.server.close()
        for conn in list(self.by_addr.values()):
            conn.close(CloseCode.GOING_AWAY, "the box is stopping")
        await self.server.wait_closed()
        self.server = None

    def extension_of(self, source: Source) -> str | None:
        """The extension whose ticket opened the connection at `source`, while it is open."""
        conn = self.by_addr.get((source.ip, source.port))
        return conn.extension if conn is not None and conn.state is State.OPEN else None

    def send(self, addr: tuple[str, int], data: bytes) -> bool:
        """One SIP message to the browser at `addr`; False when no connection is open there."""
        conn = self.by_addr.get(addr)
        return conn is not None and conn.send(data)

    def connections(self) -> int:
        return len(self.by_addr)

    # --- counting --------------------------------------------------------------------------------

    def admit(self, conn: WebSocketConnection) -> bool:
        ip = conn.addr[0]
        if not self.allow_address(ip):
            self.stats.refused += 1
            return False
        if self.per_ip.get(ip, 0) >= self.limits.per_address or len(self.by_addr) >= self.limits.total:
            self.stats.refused += 1
            log.info("refusing a browser phone connection from %s:%d: too many connections", *conn.addr)
            return False
        self.per_ip[ip] = self.per_ip.get(ip, 0) + 1
        self.by_addr[conn.addr] = conn
        return True

    def forget(self, conn: WebSocketConnection) -> None:
        if self.by_addr.get(conn.addr) is conn:
            del self.by_addr[conn.addr]
        n = self.per_ip.get(conn.addr[0], 0) - 1
        if n > 0:
            self.per_ip[conn.addr[0]] = n
        else:
            self.per_ip.pop(conn.addr[0], None)


class WebSocketConnection(asyncio.Protocol):
    """One browser's connection, from the TCP accept to its end (see the module notes)."""

    def __init__(self, listener: WebSocketListener):
        self.listener = listener
        self.limits = listener.limits
        self.state = State.ACCEPTED
        self.transport: asyncio.Transport | None = None
        self.tls: TlsSession | None = None
        self.addr: tuple[str, int] = ("", 0)
        self.source = Source(WSS, "", 0)
        self.extension: str | None = None
        self.counted = False
        self.head = bytearray()
        self.reader = FrameReader(self.limits.max_message)
        self.timer: asyncio.TimerHandle | None = None
        self.last_data = time.monotonic()
        self.begun_at: float | None = None
        self.said_goodbye = False  # the browser closed it (a Close frame), not a network that vanished

    # --- the state machine -------------------------------------------------------------------------

    def _on(self, event: str) -> None:
        new = TRANSITIONS[self.state].get(event)
        if new is None:
            raise RuntimeError(f"browser connection {self.addr}: no transition from {self.state} on {event!r}")
        if new is not self.state:
            log.debug("browser connection %s:%d: %s -> %s (%s)", *self.addr, self.state, new, event)
        was_open = self.state is State.OPEN
        self.state = new
        if new is State.CLOSED:
            self._gone(was_open)

    def _gone(self, was_open: bool) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if was_open and self.extension is not None:
            try:
                self.listener.on_closed(self.source, self.extension, self.said_goodbye)
            except Exception:
                log.exception("error after the browser connection %s:%d closed", *self.addr)

    # --- accepted, then TLS -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.addr = (peer[0], peer[1])
        self.source = Source(WSS, peer[0], peer[1])
        if not self.listener.admit(self):
            self._on("refused")
            transport.abort()  # type: ignore[attr-defined]
            return
        self.counted = True
        context = self.listener.tls_context()
        if context is None:
            self.listener.stats.tls_failed += 1
            transport.abort()  # type: ignore[attr-defined]
            self._on("refused")
            return
        self.tls = TlsSession(context)
        self._on("admitted")
        self.timer = asyncio.get_running_loop().call_later(self.limits.handshake_s, self._handshake_too_slow)

    def data_received(self, data: bytes) -> None:
        if self.tls is None or self.state is State.CLOSED:
            return
        try:
            got = self.tls.receive(data)
        except ssl.SSLError as e:
            self.listener.stats.tls_failed += 1
            log.info("browser connection from %s:%d: TLS failed: %s", *self.addr, e.reason or e)
            self.transport.abort()  # type: ignore[union-attr]
            self._on("failed")
            return
        if got.to_send:
            self.transport.write(got.to_send)  # type: ignore[union-attr]
        if self.state is State.TLS and self.tls.secured:
            self._on("secured")
        try:
            if got.plaintext:
                if self.state is State.UPGRADE:
                    self._upgrade(got.plaintext)
                elif self.state is State.OPEN:
                    self._frames(got.plaintext)
        except Exception:  # a bug here ends this connection, never the edge
            log.exception("error on the browser connection from %s:%d", *self.addr)
            self._abort("cut off")
            return
        if got.ended and self.state is not State.CLOSED:
            self._abort("lost")

    def _handshake_too_slow(self) -> None:
        self.timer = None
        if self.state in (State.TLS, State.UPGRADE):
            self.listener.stats.timed_out += 1
            log.info("browser connection from %s:%d did not open within %g s", *self.addr, self.limits.handshake_s)
            self._abort("timeout")

    # --- the opening handshake and the ticket --------------------------------------------------

    def _upgrade(self, data: bytes) -> None:
        self.head += data
        end = self.head.find(b"\r\n\r\n")
        if end < 0:
            if len(self.head) > MAX_HANDSHAKE_BYTES:
                self._refuse(431, "Request Header Fields Too Large", "an opening handshake too long")
            return
        head, rest = bytes(self.head[:end]), bytes(self.head[end + 4:])
        self.head.clear()
        try:
            handshake = read_handshake(head)
        except HandshakeError as e:
            self._refuse(e.status, e.reason, "not a WebSocket upgrade for SIP")
            return
        if not handshake.ticket:
            # No credentials at all is not a failed login (like a REGISTER before its challenge).
            self._refuse(401, "Unauthorized", "no ticket")
            return
        extension = self.listener.redeem_ticket(handshake.ticket)
        if extension is None:
            self.listener.stats.tickets_refused += 1
            self.listener.ticket_refused(self.addr[0])
            self._refuse(401, "Unauthorized", "an unknown, used or expired ticket")
            return
        self.listener.ticket_accepted(self.addr[0])
        self.extension = extension
        self._on("ticket valid")
        self._write(switching_protocols(handshake))
        self.listener.stats.opened += 1
        log.info("browser phone %s connected from %s:%d", extension, *self.addr)
        self.last_data = time.monotonic()
        self._arm()
        if rest:
            self._frames(rest)

    def _refuse(self, status: int, reason: str, why: str) -> None:
        self.listener.stats.upgrades_refused += 1
        log.info("refused a browser connection from %s:%d: %s (%d)", *self.addr, why, status)
        self._write(refusal(status, reason), force=True)
        self._end("refused")

    # --- open: frames, one SIP message each -------------------------------------------------------

    def _frames(self, data: bytes) -> None:
        now = time.monotonic()
        self.last_data = now
        events, error = self.reader.feed(data)
        for event in events:
            if self.state is not State.OPEN:
                return
            if isinstance(event, Message):
                if not event.data.strip(b"\r\n"):
                    self.send(b"\r\n")  # a CRLF keep-alive (RFC 5626 §4.4.1) gets its pong
                else:
                    self.listener.on_message(event.data, self.source)
            elif isinstance(event, Ping):
                self._write(frame(Opcode.PONG, event.data))
            elif isinstance(event, Close):
                self.said_goodbye = True  # a page closed or left: only a page sends a Close frame
                self.close(event.code, "")  # echoed, as RFC 6455 §5.5.1 has it
                return
        if error is not None:
            self.listener.stats.bad_frames += 1
            log.info("closing the browser connection from %s:%d: %s", *self.addr, error.reason)
            self.close(error.code, error.reason, event="bad frame")
            return
        if self.state is not State.OPEN:
            return
        if self.reader.pending:
            if self.begun_at is None or events:
                self.begun_at = now
        else:
            self.begun_at = None
        self._arm()

    def send(self, data: bytes) -> bool:
        if self.state is not State.OPEN:
            return False
        try:
            data.decode("utf-8")
            opcode = Opcode.TEXT
        except UnicodeDecodeError:
            opcode = Opcode.BINARY  # RFC 7118 §5: a message that is not UTF-8 goes as binary
        self._write(frame(opcode, data))
        return True

    def _write(self, plaintext: bytes, force: bool = False) -> None:
        transport = self.transport
        if self.tls is None or transport is None or transport.is_closing() or \
                (self.state is not State.OPEN and not force):
            return
        try:
            transport.write(self.tls.send(plaintext))
        except ssl.SSLError as e:
            log.info("browser connection from %s:%d: TLS failed: %s", *self.addr, e)
            self._abort("cut off")
            return
        if transport.get_write_buffer_size() > self.limits.write_buffer:
            # A browser that sends requests but never reads its answers would fill our memory.
            log.info("cutting off the browser connection from %s:%d: it does not read its answers", *self.addr)
            self._abort("cut off")

    def close(self, code: int, reason: str, event: str = "close") -> None:
        """A Close frame with `code` (on an open connection), then the end of the connection."""
        if self.state is State.OPEN:
            self._write(close_frame(code, reason))
        self._end(event)

    def _end(self, event: str) -> None:
        """Say goodbye to TLS and end our side once the last bytes are out; the peer has
        `LINGER_S` to read them and close its side (closing at once, with its data unread, would
        make the kernel reset the connection and lose our last words)."""
        transport = self.transport
        if self.tls is not None and self.tls.secured and transport is not None and not transport.is_closing():
            transport.write(self.tls.close())
            if transport.can_write_eof():
                transport.write_eof()
                asyncio.get_running_loop().call_later(LINGER_S, transport.abort)
            else:
                transport.close()
        elif transport is not None:
            transport.abort()
        self._on(event)

    def _abort(self, event: str) -> None:
        if self.transport is not None:
            self.transport.abort()
        self._on(event)

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.begun_at is not None:
            due = self.begun_at + self.limits.message_timeout_s
        else:
            due = self.last_data + self.limits.idle_timeout_s
        self.timer = asyncio.get_running_loop().call_later(max(0.0, due - time.monotonic()), self._due)

    def _due(self) -> None:
        self.timer = None
        if self.state is not State.OPEN:
            return
        now = time.monotonic()
        if self.begun_at is not None:
            if now - self.begun_at >= self.limits.message_timeout_s:
                self.listener.stats.timed_out += 1
                log.info("closing the browser connection from %s:%d: a frame stayed incomplete for %g s",
                         *self.addr, self.limits.message_timeout_s)
                self.close(CloseCode.POLICY, "frame incomplete", event="timeout")
                return
        elif now - self.last_data >= self.limits.idle_timeout_s:
            if not self.listener.keep_open(self.source):
                self.listener.stats.timed_out += 1
                log.info("closing the idle browser connection from %s:%d", *self.addr)
                self.close(CloseCode.GOING_AWAY, "idle", event="timeout")
                return
            self.last_data = now  # registered over it: calls may come to it this way
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.counted:  # counted until the socket is gone, lingering included
            self.counted = False
            self.listener.forget(self)
        self._on("lost")
