"""The certificate of the browser phone's WebSocket (WSS): the web page's own.

The browser has accepted the web page's certificate (self-signed unless the owner installed
another); the WebSocket on the same host serves the same pair, `DATA/tls/web-cert.pem` and
`web-key.pem`, so that it needs no second exception. `callbox web` makes that pair at its first
start (web/server.py); both services run as the `callbox` user, so the core reads it. When the
core starts first (the first boot, or a demo whose page is plain HTTP on loopback) it makes the
pair there itself, with the same recipe (`appliance.certificate`, in a child process so that the
core never holds the certificate libraries), and the web page then finds and serves it.

The pair is read again when its files change, at the next connection: a certificate the owner
replaces needs no restart.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

from appliance.certificate import CERT_DAYS, CERT_NAME, KEY_NAME, TLS_DIR, ensure_self_signed_apart
from appliance.errors import CallboxError

__all__ = ["TLS_DIR", "CERT_NAME", "KEY_NAME", "CERT_DAYS", "WssCertificate", "make_self_signed"]

log = logging.getLogger("callbox.sip.edge")


class WssCertificate:
    """The TLS context of the WebSocket listener, made from the web page's pair."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.cert, self.key = self.directory / CERT_NAME, self.directory / KEY_NAME
        self._context: ssl.SSLContext | None = None
        self._stamp: tuple[float, float] | None = None

    def context(self) -> ssl.SSLContext | None:
        """The context for a new connection; None (logged) when there is no usable pair."""
        try:
            if not (self.cert.exists() and self.key.exists()):
                make_self_signed(self.directory)
            stamp = (self.cert.stat().st_mtime, self.key.stat().st_mtime)
            if self._context is None or stamp != self._stamp:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.load_cert_chain(self.cert, self.key)
                self._context, self._stamp = context, stamp
        except (OSError, ssl.SSLError, CallboxError) as e:
            log.error("the browser phone's WebSocket has no certificate: %s", e)
            return None
        return self._context


def make_self_signed(directory: Path) -> None:
    """The web page's pair, made here when the core starts first (`appliance.certificate`, apart)."""
    ensure_self_signed_apart(directory)
