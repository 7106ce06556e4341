"""The WebSocket protocol (RFC 6455) as a browser phone speaks it to the edge: the opening
handshake read and answered, and frames read and written. Pure: bytes in, events out, no I/O.

Only what SIP over WebSocket (RFC 7118) needs, and strictly: the `sip` subprotocol, version 13,
no extensions (a frame with an RSV bit set is an error), masked frames from the client, control
frames of at most 125 bytes, unfragmented. A data message (one SIP message) is at most
`max_message` bytes, checked from the frame header before its payload is awaited, so a peer that
announces a huge frame is cut off without a byte of it being buffered.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from enum import IntEnum
from urllib.parse import parse_qs

__all__ = [
    "GUID", "SUBPROTOCOL", "MAX_HANDSHAKE_BYTES", "CloseCode", "Opcode", "Handshake", "HandshakeError",
    "read_handshake", "accept_key", "switching_protocols", "refusal", "Message", "Ping", "Close",
    "FrameError", "FrameReader", "frame", "close_frame",
]

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SUBPROTOCOL = "sip"
# The opening handshake of a browser is well under 2 KiB; more is not a browser.
MAX_HANDSHAKE_BYTES = 8 * 1024
_MAX_CONTROL = 125
_KEY = re.compile(r"[A-Za-z0-9+/]{22}==")


class Opcode(IntEnum):
    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


class CloseCode(IntEnum):
    """Status codes of a Close frame (RFC 6455 §7.4.1)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    INVALID_DATA = 1007
    POLICY = 1008
    TOO_BIG = 1009


# ---- the opening handshake ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Handshake:
    """A valid opening handshake: the key to answer and the ticket it carries ("" when none)."""

    key: str
    ticket: str
    origin: str = ""


class HandshakeError(Exception):
    """An opening handshake that cannot be accepted; `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def read_handshake(head: bytes) -> Handshake:
    """The client's opening handshake (RFC 6455 §4.2.1), up to and without its blank line.

    Raises HandshakeError: 400 when it is not a WebSocket upgrade for the `sip` subprotocol,
    426 for another WebSocket version, 404 for another path than `/`.
    """
    if len(head) > MAX_HANDSHAKE_BYTES:
        raise HandshakeError(431, "Request Header Fields Too Large")
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise HandshakeError(400, "Bad Request") from None
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[0] != "GET" or parts[2] != "HTTP/1.1" or not parts[1].startswith("/"):
        raise HandshakeError(400, "Bad Request")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or not name.isascii():
            raise HandshakeError(400, "Bad Request")
        key = name.lower()
        value = value.strip(" \t")
        # Repeated headers are joined as a list (RFC 9110 §5.3): a repeated key then fails its check.
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    path, _, query = parts[1].partition("?")
    if path != "/":
        raise HandshakeError(404, "Not Found")
    if "websocket" not in _tokens(headers.get("upgrade", "")) or "upgrade" not in _tokens(headers.get("connection", "")):
        raise HandshakeError(400, "Bad Request")
    if not headers.get("host"):
        raise HandshakeError(400, "Bad Request")
    if headers.get("sec-websocket-version", "").strip() != "13":
        raise HandshakeError(426, "Upgrade Required")
    key = headers.get("sec-websocket-key", "")
    if not _KEY.fullmatch(key):
        raise HandshakeError(400, "Bad Request")
    if SUBPROTOCOL not in _tokens(headers.get("sec-websocket-protocol", "")):
        raise HandshakeError(400, "Bad Request")
    tickets = parse_qs(query, keep_blank_values=True, max_num_fields=8).get("ticket", [])
    return Handshake(key=key, ticket=tickets[0] if len(tickets) == 1 else "", origin=headers.get("origin", ""))


def _tokens(value: str) -> list[str]:
    return [t.strip().lower() for t in value.split(",")]


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2)."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode("ascii")).digest()).decode("ascii")


def switching_protocols(handshake: Handshake) -> bytes:
    """The server's answer that opens the connection, with the `sip` subprotocol."""
    return ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {accept_key(handshake.key)}\r\nSec-WebSocket-Protocol: {SUBPROTOCOL}\r\n"
            "\r\n").encode("ascii")


def refusal(status: int, reason: str) -> bytes:
    """An HTTP answer that refuses the upgrade; the connection is closed after it."""
    extra = ""
    if status == 401:
        extra = 'WWW-Authenticate: Ticket realm="callbox"\r\n'
    elif status == 426:
        extra = "Sec-WebSocket-Version: 13\r\n"
    return (f"HTTP/1.1 {status} {reason}\r\n{extra}Connection: close\r\nContent-Length: 0\r\n\r\n").encode("ascii")


# ---- frames -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A whole data message: one SIP message (RFC 7118 §5)."""

    data: bytes
    text: bool


@dataclass(frozen=True)
class Ping:
    data: bytes


@dataclass(frozen=True)
class Close:
    """The peer's Close frame (answer it with the same code, then close)."""

    code: int
    reason: str = ""


@dataclass(frozen=True)
class FrameError:
    """The peer broke the protocol: close with this code; nothing after it is read."""

    code: CloseCode
    reason: str


Event = Message | Ping | Close


@dataclass
class FrameReader:
    """Frames from a client, as `feed(bytes) -> (events, error)`.

    Pongs are swallowed. After an error or a Close, nothing more is read. `pending` says whether a
    frame or a fragmented message has begun and is not complete (the transport times that out).
    """

    max_message: int
    _buffer: bytearray = field(default_factory=bytearray)
    _fragments: list[bytes] = field(default_factory=list)
    _fragment_size: int = 0
    _fragment_text: bool = False
    _done: bool = False

    @property
    def pending(self) -> bool:
        return bool(self._buffer) or bool(self._fragments)

    def feed(self, data: bytes) -> tuple[list[Event], FrameError | None]:
        if self._done:
            return [], None
        self._buffer += data
        events: list[Event] = []
        while True:
            try:
                got = self._next_frame()
                if got is None:
                    return events, None
                event = self._on_frame(*got)
            except _Broken as e:
                self._done = True
                self._buffer.clear()
                self._fragments.clear()
                return events, FrameError(e.code, e.reason)
            if event is not None:
                events.append(event)
                if isinstance(event, Close):
                    self._done = True
                    self._buffer.clear()
                    return events, None

    def _next_frame(self) -> tuple[int, bool, bytes] | None:
        buf = self._buffer
        if len(buf) < 2:
            return None
        b0, b1 = buf[0], buf[1]
        fin, opcode = bool(b0 & 0x80), b0 & 0x0F
        if b0 & 0x70:
            raise _Broken(CloseCode.PROTOCOL_ERROR, "reserved bits set")
        if not b1 & 0x80:
            raise _Broken(CloseCode.PROTOCOL_ERROR, "unmasked frame from a client")
        if opcode not in _OPCODES:
            raise _Broken(CloseCode.PROTOCOL_ERROR, f"unknown opcode {opcode}")
        length, at = b1 & 0x7F, 2
        if length == 126:
            if len(buf) < 4:
                return None
            length, at = int.from_bytes(buf[2:4], "big"), 4
        elif length == 127:
            if len(buf) < 10:
                return None
            length, at = int.from_bytes(buf[2:10], "big"), 10
        if opcode >= Opcode.CLOSE:
            if length > _MAX_CONTROL or not fin:
                raise _Broken(CloseCode.PROTOCOL_ERROR, "control frame too long or fragmented")
        elif length + self._fragment_size > self.max_message:
            raise _Broken(CloseCode.TOO_BIG, f"message larger than {self.max_message} bytes")
        if len(buf) < at + 4 + length:
            return None
        mask = bytes(buf[at:at + 4])
        payload = _unmask(bytes(buf[at + 4:at + 4 + length]), mask)
        del buf[:at + 4 + length]
        return opcode, fin, payload

    def _on_frame(self, opcode: int, fin: bool, payload: bytes) -> Event | None:
        if opcode == Opcode.PING:
            return Ping(payload)
        if opcode == Opcode.PONG:
            return None
        if opcode == Opcode.CLOSE:
            return _close_of(payload)
        if opcode == Opcode.CONTINUATION:
            if not self._fragments:
                raise _Broken(CloseCode.PROTOCOL_ERROR, "continuation without a message")
        elif self._fragments:
            raise _Broken(CloseCode.PROTOCOL_ERROR, "new message inside a fragmented one")
        else:
            self._fragment_text = opcode == Opcode.TEXT
        self._fragments.append(payload)
        self._fragment_size += len(payload)
        if not fin:
            return None
        data = b"".join(self._fragments)
        self._fragments.clear()
        self._fragment_size = 0
        if self._fragment_text:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                raise _Broken(CloseCode.INVALID_DATA, "text message that is not UTF-8") from None
        return Message(data, self._fragment_text)


_OPCODES = frozenset(int(o) for o in Opcode)


class _Broken(Exception):
    def __init__(self, code: CloseCode, reason: str):
        self.code, self.reason = code, reason


def _close_of(payload: bytes) -> Close:
    if not payload:
        return Close(CloseCode.NORMAL)
    if len(payload) == 1:
        raise _Broken(CloseCode.PROTOCOL_ERROR, "close frame with a one-byte body")
    code = int.from_bytes(payload[:2], "big")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise _Broken(CloseCode.INVALID_DATA, "close reason that is not UTF-8") from None
    if code < 1000 or code in (1004, 1005, 1006, 1015) or 1016 <= code < 3000 or code >= 5000:
        raise _Broken(CloseCode.PROTOCOL_ERROR, f"close code {code}")
    return Close(code, reason)


def _unmask(data: bytes, mask: bytes) -> bytes:
    n = len(data)
    if not n:
        return data
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


def frame(opcode: Opcode, payload: bytes = b"") -> bytes:
    """One unfragmented, unmasked frame from the server."""
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, n))
    elif n < 1 << 16:
        head = bytes((0x80 | opcode, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 127)) + n.to_bytes(8, "big")
    return head + payload


def close_frame(code: int, reason: str = "") -> bytes:
    return frame(Opcode.CLOSE, code.to_bytes(2, "big") + reason.encode("utf-8")[:_MAX_CONTROL - 2])
