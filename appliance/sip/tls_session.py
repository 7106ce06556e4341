"""The server side of one TLS connection over memory buffers: bytes from the wire in, plaintext and
bytes for the wire out. No I/O: the transport moves the bytes.

The WebSocket listener does TLS this way rather than with asyncio's `start_tls`, so that the same
code runs on asyncio's loop and on uvloop (which the core uses), and so that a connection is
counted and checked by the guard before its handshake costs anything.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

__all__ = ["TlsSession", "Received"]

_READ = 64 * 1024


@dataclass(frozen=True)
class Received:
    """What one piece of wire data gave: plaintext for the application, bytes to send back, and
    whether the peer ended TLS (close_notify)."""

    plaintext: bytes
    to_send: bytes
    ended: bool = False


class TlsSession:
    """One server-side TLS session. `receive()` and `send()` raise ssl.SSLError on a broken peer."""

    def __init__(self, context: ssl.SSLContext):
        self._incoming, self._outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_side=True)
        self.secured = False

    def receive(self, data: bytes) -> Received:
        self._incoming.write(data)
        if not self.secured:
            try:
                self._tls.do_handshake()
                self.secured = True
            except ssl.SSLWantReadError:
                return Received(b"", self._outgoing.read())
        chunks, ended = [], False
        while True:
            try:
                chunk = self._tls.read(_READ)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                ended = True
                break
            if not chunk:
                ended = True
                break
            chunks.append(chunk)
        return Received(b"".join(chunks), self._outgoing.read(), ended)

    def send(self, plaintext: bytes) -> bytes:
        """The bytes for the wire that carry `plaintext` (the handshake must be done)."""
        view = memoryview(plaintext)
        while view:
            view = view[self._tls.write(view):]
        return self._outgoing.read()

    def close(self) -> bytes:
        """A close_notify for the wire (nothing when the session cannot say it any more)."""
        try:
            self._tls.unwrap()
        except (ssl.SSLError, ValueError):
            pass
        return self._outgoing.read()
