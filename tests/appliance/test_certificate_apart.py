"""The core's certificate is made by a child process: the same pair, and the certificate
libraries never loaded into the core."""

from __future__ import annotations

import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.certificate import CERT_NAME, KEY_NAME, ensure_self_signed_apart
from appliance.errors import CallboxError


def test_the_child_makes_a_pair_that_serves(tmp_path):
    cert, key = ensure_self_signed_apart(tmp_path / "tls")
    assert (cert, key) == (tmp_path / "tls" / CERT_NAME, tmp_path / "tls" / KEY_NAME)
    assert key.stat().st_mode & 0o777 == 0o600
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)


def test_a_pair_that_is_there_is_kept(tmp_path):
    cert, key = ensure_self_signed_apart(tmp_path)
    before = (cert.read_bytes(), key.read_bytes())
    assert ensure_self_signed_apart(tmp_path) == (cert, key)
    assert (cert.read_bytes(), key.read_bytes()) == before


def test_a_child_that_cannot_write_is_a_clear_error(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    with pytest.raises(CallboxError):
        ensure_self_signed_apart(blocked / "tls")


def test_the_websocket_certificate_leaves_cryptography_out_of_the_process(tmp_path):
    code = ("import sys; from pathlib import Path; from appliance.sip.wss_certificate import WssCertificate; "
            f"assert WssCertificate(Path({str(tmp_path / 'tls')!r})).context() is not None; "
            "print('cryptography' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
    assert (tmp_path / "tls" / CERT_NAME).exists()
