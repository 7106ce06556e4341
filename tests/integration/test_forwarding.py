"""Calls from phones that prove who they are are forwarded statelessly to the engine, answers come
back; every INVITE is challenged; the identity the edge vouches for cannot be forged."""

from __future__ import annotations

import socket
import subprocess
import time

import pytest

from appliance.sip.digest import client_response
from tests.conftest import free_port
from tests.integration.rawphone import register
from tests.integration.sipp import SCENARIOS, credentials_file, run_sipp, sipp_available

pytestmark = [pytest.mark.peers, pytest.mark.skipif(not sipp_available(), reason="sipp is not installed")]


def start_uas(port: int, tmp_path) -> subprocess.Popen:
    proc = subprocess.Popen(["sipp", "-sf", str(SCENARIOS / "uas_check_identity.xml"), "-i", "127.0.0.1",
                             "-p", str(port), "-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error",
                             "-trace_err"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    time.sleep(0.3)
    return proc


def test_call_from_registered_phone_reaches_the_engine_and_back(core_factory, tmp_path):
    uas_port = free_port()
    core = core_factory({"sip.forward_to": f"127.0.0.1:{uas_port}"})
    ext = core.add_extension("1001")
    uas = start_uas(uas_port, tmp_path)
    try:
        inf = credentials_file(tmp_path / "users.csv", [("1001", ext["secret"])])
        result = run_sipp("register_invite.xml", f"127.0.0.1:{core.sip_port}", inf=inf, cwd=tmp_path)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        out, _ = uas.communicate(timeout=30)
        # The UAS checked the edge's signed identity (and that the forged one was replaced).
        assert uas.returncode == 0, out[-3000:]
    finally:
        if uas.poll() is None:
            uas.kill()


def _invite(port: int, call_id: str = "c1", cseq: int = 1, auth: str = "") -> bytes:
    return (f"INVITE sip:0048221234567@127.0.0.1 SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id}{cseq}\r\n"
            f"From: <sip:1001@127.0.0.1>;tag=a\r\nTo: <sip:0048221234567@127.0.0.1>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} INVITE\r\nMax-Forwards: 70\r\nContact: <sip:1001@127.0.0.1:{port}>\r\n"
            f"{auth}Content-Length: 0\r\n\r\n").encode()


def test_unregistered_source_is_challenged_and_never_forwarded(core_factory):
    engine = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    engine.bind(("127.0.0.1", 0))
    engine.settimeout(0.5)
    core = core_factory({"sip.forward_to": f"127.0.0.1:{engine.getsockname()[1]}"})
    core.add_extension("1001")
    caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    caller.bind(("127.0.0.1", 0))
    caller.settimeout(3)
    caller.sendto(_invite(caller.getsockname()[1]), ("127.0.0.1", core.sip_port))
    answer = caller.recv(65535).decode()
    assert answer.startswith("SIP/2.0 407 ")
    assert "Proxy-Authenticate: Digest" in answer
    with pytest.raises(socket.timeout):
        engine.recv(65535)  # toll fraud starts with an INVITE nobody vouched for: it never got through
    caller.close()
    engine.close()


def test_without_an_engine_a_registered_phone_gets_503(core):
    ext = core.add_extension("1001")
    phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    phone.bind(("127.0.0.1", 0))
    phone.settimeout(3)
    assert register(phone, core.sip_port, "1001", ext["secret"]).startswith("SIP/2.0 200 ")
    phone.sendto(_invite(phone.getsockname()[1], "c2"), ("127.0.0.1", core.sip_port))
    challenge = phone.recv(65535).decode()
    assert challenge.startswith("SIP/2.0 407 ")
    value = next(line.split(":", 1)[1].strip() for line in challenge.split("\r\n")
                 if line.startswith("Proxy-Authenticate:"))
    auth = client_response("INVITE", "sip:0048221234567@127.0.0.1", "1001", ext["secret"], value)
    phone.sendto(_invite(phone.getsockname()[1], "c2", 2, f"Proxy-Authorization: {auth}\r\n"),
                 ("127.0.0.1", core.sip_port))
    answer = phone.recv(65535).decode()
    assert answer.startswith("SIP/2.0 503 ") and "Retry-After:" in answer
    phone.close()
