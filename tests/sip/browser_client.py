"""A browser phone's side of SIP over WebSocket, raw enough to misbehave: TLS, the opening
handshake, masked frames (or unmasked, or huge), and frames read back."""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import ssl


def client_tls() -> ssl.SSLContext:
    """The box's certificate is self-signed: the browser was told to trust it; the test trusts anything."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def masked(opcode: int, payload: bytes, fin: bool = True, mask: bytes | None = None) -> bytes:
    mask = mask or os.urandom(4)
    n = len(payload)
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        head = bytes((first, 0x80 | n))
    elif n < 1 << 16:
        head = bytes((first, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((first, 0x80 | 127)) + n.to_bytes(8, "big")
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + body


class Browser:
    """One connection to the edge's WebSocket port."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int, head: bytes):
        self.reader, self.writer, self.status, self.head = reader, writer, status, head

    @classmethod
    async def open(cls, port: int, ticket: str | None, host: str = "127.0.0.1", protocol: str = "sip",
                   path: str = "/") -> Browser:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=client_tls()), 5)
        query = f"?ticket={ticket}" if ticket is not None else ""
        key = base64.b64encode(secrets.token_bytes(16)).decode()
        writer.write((f"GET {path}{query} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Sec-WebSocket-Protocol: {protocol}\r\nOrigin: https://{host}:8443\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        return cls(reader, writer, int(head.split(b" ", 2)[1]), head)

    def send(self, sip: bytes, opcode: int = 1) -> None:
        self.writer.write(masked(opcode, sip))

    def send_raw(self, data: bytes) -> None:
        self.writer.write(data)

    async def frame(self, timeout: float = 5.0) -> tuple[int, bytes]:
        """The next frame from the edge: (opcode, payload); (-1, b"") when the connection ended."""
        try:
            b0, b1 = await asyncio.wait_for(self.reader.readexactly(2), timeout)
            n = b1 & 0x7F
            if n == 126:
                n = int.from_bytes(await self.reader.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await self.reader.readexactly(8), "big")
            return b0 & 0x0F, await self.reader.readexactly(n)
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            return -1, b""

    async def sip(self, timeout: float = 5.0) -> bytes:
        """The next SIP message (pongs and keep-alives skipped); b"" when the connection ended or closed."""
        while True:
            opcode, payload = await self.frame(timeout)
            if opcode in (1, 2):
                return payload
            if opcode in (-1, 8):
                return b""

    async def closed(self, timeout: float = 5.0) -> int | None:
        """The close code the edge sent (None when it just went), reading past anything else."""
        while True:
            opcode, payload = await self.frame(timeout)
            if opcode == 8:
                return int.from_bytes(payload[:2], "big") if payload else 1005
            if opcode == -1:
                return None

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


def sip_request(method: str, ext: str = "1001", *, from_user: str | None = None, to_user: str | None = None,
                call_id: str | None = None, cseq: int = 1, to_tag: str = "", body: bytes = b"",
                contact: str | None = None) -> bytes:
    """A request as JsSIP writes it: Via WSS and a Contact under .invalid. From is `ext` unless
    told; To is `ext` for a REGISTER and 1002 otherwise."""
    host = "df7jal23ls0d.invalid"
    from_user = from_user or ext
    to_user = to_user or (ext if method == "REGISTER" else "1002")
    uri = "sip:callbox" if method == "REGISTER" else f"sip:{to_user}@callbox"
    headers = [
        f"{method} {uri} SIP/2.0",
        f"Via: SIP/2.0/WSS {host};branch=z9hG4bK{secrets.token_hex(6)}",
        "Max-Forwards: 70",
        f"From: <sip:{from_user}@callbox>;tag={secrets.token_hex(4)}",
        f"To: <sip:{to_user}@callbox>" + (f";tag={to_tag}" if to_tag else ""),
        f"Call-ID: {call_id or secrets.token_hex(6)}",
        f"CSeq: {cseq} {method}",
        f"Contact: {contact or f'<sip:{secrets.token_hex(4)}@{host};transport=ws>'}",
        "User-Agent: JsSIP 3.10.0",
    ]
    if body:
        headers.append("Content-Type: application/sdp")
    headers.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body


WEBRTC_SDP = (b"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
              b"m=audio 9 UDP/TLS/RTP/SAVPF 9 0 8 101\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
              b"a=fingerprint:sha-256 AB:CD\r\na=setup:actpass\r\na=ice-ufrag:x\r\na=ice-pwd:y\r\n"
              b"a=rtpmap:101 telephone-event/8000\r\n")
