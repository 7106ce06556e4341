"""The certificate of the browser phone's WebSocket (WSS): the web page's own.

The browser has accepted the web page's certificate (self-signed unless the owner installed
another); the WebSocket on the same host serves the same pair, `DATA/tls/web-cert.pem` and
`web-key.pem`, so that it needs no second exception. `callbox web` makes that pair at its first
start (web/server.py); both services run as the `callbox` user, so the core reads it. When the
core starts first (the first boot, or a demo whose page is plain HTTP on loopback) it makes the
pair there itself, with the same recipe, and the web page then finds and serves it.

The pair is read again when its files change, at the next connection: a certificate the owner
replaces needs no restart.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
import ssl
import subprocess
import tempfile
from pathlib import Path

from appliance.errors import CallboxError

__all__ = ["TLS_DIR", "CERT_NAME", "KEY_NAME", "CERT_DAYS", "WssCertificate", "make_self_signed"]

log = logging.getLogger("callbox.sip.edge")

TLS_DIR = "tls"  # under the data directory, as web/server.py has it
CERT_NAME, KEY_NAME = "web-cert.pem", "web-key.pem"
CERT_DAYS = 3650


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
    """A self-signed pair for localhost and the host name, as web/server.py makes it: the key 0600,
    each file written aside and renamed, so a power cut leaves no half-written file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    names = sorted({"localhost", socket.gethostname()})
    try:
        cert_pem, key_pem = _with_cryptography(names)
    except ImportError:
        cert_pem, key_pem = _with_openssl(names)
    _write_atomically(directory / KEY_NAME, key_pem, 0o600)
    _write_atomically(directory / CERT_NAME, cert_pem, 0o644)
    log.info("created a self-signed certificate in %s for %s", directory, ", ".join(names))


def _with_cryptography(names: list[str]) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "callbox")])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=CERT_DAYS))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def _with_openssl(names: list[str]) -> tuple[bytes, bytes]:
    san = ",".join([f"DNS:{n}" for n in names] + ["IP:127.0.0.1"])
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = Path(tmp) / "c.pem", Path(tmp) / "k.pem"
        cmd = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
               "-nodes", "-sha256", "-days", str(CERT_DAYS), "-subj", "/CN=callbox",
               "-addext", f"subjectAltName={san}", "-keyout", str(key), "-out", str(cert)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        except FileNotFoundError:
            raise CallboxError("cannot create a certificate: neither the cryptography "
                               "package nor the openssl command is installed") from None
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            raise CallboxError(f"openssl could not create a certificate: {exc}") from None
        return cert.read_bytes(), key.read_bytes()


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
