"""Serve the admin page with cheroot: HTTPS with a self-signed certificate by default.

Plain HTTP is allowed only on a loopback address, where nothing crosses the
network; anywhere else passwords and session cookies would travel in clear.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import sys
from pathlib import Path

from cheroot import wsgi

from appliance.certificate import CERT_NAME, KEY_NAME, ensure_self_signed  # noqa: F401 (the names of the pair)
from appliance.errors import ApiError, CallboxError, ValidationError
from appliance.sdnotify import SystemdNotifier

log = logging.getLogger(__name__)

TLS_DIR = "tls"  # under the data directory; callbox-web.service makes it writable


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
    """The (certificate, key) in directory, creating the box's self-signed pair on first use
    (`appliance.certificate`, the same pair the browser phone's WebSocket serves)."""
    return ensure_self_signed(directory)


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
