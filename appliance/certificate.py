"""The box's own TLS certificate: a self-signed pair for the web page and the browser phone's WSS.

One pair, `web-cert.pem` and `web-key.pem` in the `tls` folder of the data directory, made at the
first start of whichever needs it first (`callbox web` or the core's WebSocket listener) and served
by both, so the browser accepts one certificate for the box. Made with the `cryptography` package
when it is installed, otherwise with `openssl req`; the key is 0600 and each file appears whole
(`appliance.atomicfile`), so a power cut leaves no pair or a whole one. Standard library only
besides those; the web page may import it.

The core makes the pair in a child process (`ensure_self_signed_apart`, `python -m
appliance.certificate DIR`): `cryptography` (its Rust code and its own OpenSSL, some 10 MB
resident) is then never loaded into the process that runs for months and needs it only once.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from appliance.atomicfile import atomic_write_bytes
from appliance.errors import CallboxError

__all__ = ["TLS_DIR", "CERT_NAME", "KEY_NAME", "CERT_DAYS", "ensure_self_signed", "ensure_self_signed_apart"]

log = logging.getLogger("callbox.certificate")

TLS_DIR = "tls"  # under the data directory
CERT_NAME, KEY_NAME = "web-cert.pem", "web-key.pem"
CERT_DAYS = 3650
# The one address the certificate names: the demo's, which binds only to loopback. It is a name in
# the certificate, not a socket; on the LAN the box is reached by name (see ensure_self_signed).
DEMO_ADDRESS = "127.0.0.1"


def ensure_self_signed(directory: str | Path) -> tuple[Path, Path]:
    """The (certificate, key) in `directory`, a self-signed pair made on first use for the box's
    mDNS name and host name (what LAN browsers use) and for localhost (the demo)."""
    directory = Path(directory)
    cert, key = directory / CERT_NAME, directory / KEY_NAME
    if cert.exists() and key.exists():
        return cert, key
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    # On the LAN the box is reached by its mDNS name (Avahi announces `<hostname>.local`, which stays
    # when DHCP moves its address); `localhost` and 127.0.0.1 are for the demo, which keeps to loopback.
    host = socket.gethostname()
    names = sorted({"localhost", host, f"{host.split('.')[0]}.local"})
    try:
        cert_pem, key_pem = _with_cryptography(names)
    except ImportError:
        cert_pem, key_pem = _with_openssl(names)
    atomic_write_bytes(key, key_pem, 0o600)
    atomic_write_bytes(cert, cert_pem, 0o644)
    log.info("created a self-signed certificate %s for %s", cert, ", ".join(names))
    return cert, key


def ensure_self_signed_apart(directory: str | Path, timeout: float = 120.0) -> tuple[Path, Path]:
    """ensure_self_signed, the pair made (when it is missing) by a child process: the same files,
    without the certificate libraries in this process. CallboxError when the child could not."""
    directory = Path(directory)
    cert, key = directory / CERT_NAME, directory / KEY_NAME
    if cert.exists() and key.exists():
        return cert, key
    try:
        done = subprocess.run([sys.executable, "-m", "appliance.certificate", str(directory)],
                              capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CallboxError(f"cannot create a certificate: {e}") from None
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    if done.returncode != 0 or not (cert.exists() and key.exists()):
        raise CallboxError(lines[-1] if lines else f"cannot create a certificate (exit {done.returncode})")
    log.info("%s", lines[-1] if lines else f"created a self-signed certificate {cert}")  # the child's word
    return cert, key


def _with_cryptography(names: list[str]) -> tuple[bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "callbox")])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt = [x509.DNSName(n) for n in names] + [x509.IPAddress(ipaddress.ip_address(DEMO_ADDRESS))]
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
    san = ",".join([f"DNS:{n}" for n in names] + [f"IP:{DEMO_ADDRESS}"])
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
        except subprocess.CalledProcessError as exc:
            raise CallboxError(f"openssl could not create a certificate: "
                               f"{exc.stderr.decode(errors='replace').strip()}") from None
        except subprocess.TimeoutExpired:
            raise CallboxError("openssl could not create a certificate in 60 s") from None
        return cert.read_bytes(), key.read_bytes()


def main(argv: list[str] | None = None) -> int:
    """`python -m appliance.certificate DIR`: make the pair in DIR (ensure_self_signed_apart's child)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m appliance.certificate DIR", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # what it made, for the parent's log
    try:
        ensure_self_signed(args[0])
    except CallboxError as e:
        print(str(e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
