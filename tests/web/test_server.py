"""The cheroot server: HTTPS with a self-signed certificate, plain HTTP only on loopback."""

from __future__ import annotations

import socket
import ssl
import stat
import subprocess
import threading
import urllib.request

import pytest

from appliance.errors import ValidationError
from web.server import ensure_self_signed_cert, main, make_server


def _hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


@pytest.fixture(scope="module")
def cert_pair(tmp_path_factory):
    return ensure_self_signed_cert(tmp_path_factory.mktemp("tls"))


def test_self_signed_certificate_is_created_once_with_a_private_key(cert_pair):
    cert, key = cert_pair
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    text = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "CN = callbox" in text and "DNS:localhost" in text and "IP Address:127.0.0.1" in text
    assert f"DNS:{socket.gethostname().split('.')[0]}.local" in text  # the name LAN browsers use
    before = cert.read_bytes()
    assert ensure_self_signed_cert(cert.parent) == (cert, key)
    assert cert.read_bytes() == before


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "::", "callbox.local"])
def test_plain_http_is_refused_off_loopback(host):
    with pytest.raises(ValidationError, match="refusing plain HTTP"):
        make_server(_hello, host, 0)


def test_insecure_http_flag_is_refused_off_loopback(tmp_path, capsys):
    assert main(["--data", str(tmp_path), "--host", "0.0.0.0", "--insecure-http"]) == 2
    assert "refusing plain HTTP" in capsys.readouterr().err


def _running(server):
    server.prepare()
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    return thread


def test_https_is_served_with_the_certificate(cert_pair):
    cert, key = cert_pair
    server = make_server(_hello, "127.0.0.1", 0, str(cert), str(key))
    thread = _running(server)
    try:
        port = server.bind_addr[1]
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"https://localhost:{port}/", context=context, timeout=10) as r:
            assert r.read() == b"hello"
        with pytest.raises(Exception):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
    finally:
        server.stop()
        thread.join(10)


def test_systemd_hears_ready_only_once_the_https_port_answers(cert_pair, tmp_path):
    # callbox-web.service is Type=notify: without READY=1 systemd would kill the
    # web after the start timeout; sent too early, "active" would not mean "answers".
    import socket

    from appliance.sdnotify import SystemdNotifier
    from web.server import run_server

    cert, key = cert_pair
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify"))
    listener.settimeout(10)
    server = make_server(_hello, "127.0.0.1", 0, str(cert), str(key))
    notifier = SystemdNotifier({"NOTIFY_SOCKET": str(tmp_path / "notify")})
    thread = threading.Thread(target=run_server, args=(server, notifier), daemon=True)
    thread.start()
    try:
        messages = []
        while "READY=1" not in messages:
            messages.append(listener.recv(4096).decode())
        port = server.bind_addr[1]
        assert f"STATUS=admin page on https://127.0.0.1:{port}/" in messages
        context = ssl.create_default_context(cafile=str(cert))
        with urllib.request.urlopen(f"https://localhost:{port}/", context=context, timeout=10) as r:
            assert r.read() == b"hello"
        server.stop()
        thread.join(10)
        assert not thread.is_alive()
        assert listener.recv(4096) == b"STOPPING=1"
    finally:
        server.stop()
        listener.close()
