"""Serve the admin page with cheroot: HTTPS with a self-signed certificate by default.

Plain HTTP is allowed only on a loopback address, where nothing crosses the
network; anywhere else passwords and session cookies would travel in clear.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from cheroot import wsgi

from appliance.errors import ApiError, CallboxError, ValidationError
from appliance.sdnotify import SystemdNotifier

log = logging.getLogger(__name__)

TLS_DIR = "tls"  # under the data directory; callbox-web.service makes it writable
CERT_NAME, KEY_NAME = "web-cert.pem", "web-key.pem"
CERT_DAYS = 3650


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(app, host: str, port: int, certfile: str | None = None,
                keyfile: str | None = None, threads: int = 20) -> wsgi.Server:
    """A cheroot server for app, not yet started; refuses plain HTTP off loopback."""
    if bool(certfile) != bool(keyfile):
        raise ValidationError("give both a certificate and its key, or neither")
    if not certfile and not is_loopback(host):
        raise ValidationError(
            f"refusing plain HTTP on {host}: passwords would cross the network in clear. "
            "Serve HTTPS (the default) or bind to 127.0.0.1.")
    # Live-event relays hold a thread each, so keep more than a handful.
    server = wsgi.Server((host, port), app, numthreads=threads, server_name="callbox-web")
    # The app caps each route's body (web/app.py); this refuses more than the largest
    # cap, and huge headers, before a thread reads them.
    from web.kit import MAX_HEADER, SERVER_MAX_BODY
    server.max_request_body_size = SERVER_MAX_BODY
    server.max_request_header_size = MAX_HEADER
    if certfile:
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        server.ssl_adapter = BuiltinSSLAdapter(certfile, keyfile)
    return server


def serve(app, host: str, port: int, certfile: str | None = None, keyfile: str | None = None,
          notifier: SystemdNotifier | None = None) -> None:
    """Serve app until interrupted (HTTPS when a certificate is given).

    Under systemd (callbox-web.service is Type=notify) READY=1 goes out once
    the port is open, so the unit is active exactly when the page can answer.
    """
    run_server(make_server(app, host, port, certfile, keyfile), notifier)


def run_server(server: wsgi.Server, notifier: SystemdNotifier | None = None) -> None:
    """Open the server's port, tell systemd it is ready, serve until stopped or interrupted."""
    notifier = notifier or SystemdNotifier()
    scheme = "https" if server.ssl_adapter else "http"
    try:
        server.prepare()  # binds and listens
        host, port = server.bind_addr[:2]
        log.info("admin page on %s://%s:%d/", scheme, host, port)
        notifier.status(f"admin page on {scheme}://{host}:{port}/")
        notifier.ready()
        server.serve()
    finally:
        notifier.stopping()
        server.stop()
        notifier.close()


def ensure_self_signed_cert(directory: str | Path) -> tuple[Path, Path]:
    """The (certificate, key) in directory, creating a self-signed pair on first use.

    Made with the `cryptography` package when it is installed, otherwise with
    `openssl req`. The key is written with mode 0600 and both files appear
    atomically (written aside, then renamed), so a power cut leaves either
    no pair or a whole one.
    """
    directory = Path(directory)
    cert, key = directory / CERT_NAME, directory / KEY_NAME
    if cert.exists() and key.exists():
        return cert, key
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    names = sorted({"localhost", socket.gethostname()})
    try:
        cert_pem, key_pem = _make_with_cryptography(names)
    except ImportError:
        cert_pem, key_pem = _make_with_openssl(names)
    _write_atomically(key, key_pem, 0o600)
    _write_atomically(cert, cert_pem, 0o644)
    log.info("created a self-signed certificate %s for %s", cert, ", ".join(names))
    return cert, key


def _make_with_cryptography(names: list[str]) -> tuple[bytes, bytes]:
    import datetime

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


def _make_with_openssl(names: list[str]) -> tuple[bytes, bytes]:
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
        except subprocess.CalledProcessError as exc:
            raise CallboxError(f"openssl could not create a certificate: "
                               f"{exc.stderr.decode(errors='replace').strip()}") from None
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
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def announce_setup_code(data_dir: str | Path, where: str) -> None:
    """While the box has no admin, print the first-run set-up code on this console.

    The core made it (appliance/setup_code.py) and deletes it once an admin
    exists, so a code on file means it is still needed.
    """
    from appliance import setup_code
    try:
        code = setup_code.read(data_dir)
    except OSError as exc:
        print(f"callbox web: cannot read the set-up code ({exc}); `callbox check` shows it", file=sys.stderr)
        return
    if code is not None:
        setup_code.announce(code, where=where)


def main(argv: list[str] | None = None) -> int:
    """`callbox web --data DIR [--host H] [--port P] [--insecure-http]`."""
    parser = argparse.ArgumentParser(prog="callbox web", description="Serve the admin web page.")
    parser.add_argument("--data", required=True, help="the core's data directory")
    parser.add_argument("--host", default=None,
                        help="address to listen on (default 0.0.0.0, or 127.0.0.1 with --insecure-http)")
    parser.add_argument("--port", type=int, default=None,
                        help="port (default 8443, or 8080 with --insecure-http)")
    parser.add_argument("--insecure-http", action="store_true",
                        help="serve plain HTTP; only allowed on a loopback address")
    args = parser.parse_args(argv)

    from web.api_client import ApiClient
    from web.app import WebSettings, create_app

    host = args.host or ("127.0.0.1" if args.insecure_http else "0.0.0.0")
    port = args.port or (8080 if args.insecure_http else 8443)
    try:
        if args.insecure_http and not is_loopback(host):
            raise ValidationError(f"refusing plain HTTP on {host}: use HTTPS or bind to 127.0.0.1")
        certfile = keyfile = None
        if not args.insecure_http:
            cert, key = ensure_self_signed_cert(Path(args.data) / TLS_DIR)
            certfile, keyfile = str(cert), str(key)
        api = ApiClient.from_data_dir(args.data)
        shown = "<the box's address>" if host in ("0.0.0.0", "::") else host
        announce_setup_code(args.data, f"{'http' if args.insecure_http else 'https'}://{shown}:{port}/setup")
        app = create_app(WebSettings(secure_cookie=not args.insecure_http, data_dir=args.data), api)
        serve(app, host, port, certfile, keyfile)
    except (ApiError, CallboxError) as exc:
        print(f"callbox web: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(main())
