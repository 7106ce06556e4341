"""Malformed SIP on the wire: every message of the corpus gets a 400/413 or silence, never a crash,
and the box keeps serving real phones afterwards."""

from __future__ import annotations

import random
import socket
import time
from pathlib import Path

import pytest

from tests.integration.rawphone import register

CORPUS = sorted((Path(__file__).parent.parent / "sip" / "corpus").glob("*.sip"))


def _exchange(sock: socket.socket, data: bytes, port: int) -> bytes | None:
    sock.sendto(data, ("127.0.0.1", port))
    try:
        return sock.recv(65535)
    except socket.timeout:
        return None


def test_corpus_over_udp_gets_an_error_or_silence(core):
    assert CORPUS, "the malformed corpus is missing"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.3)
    answered = 0
    for path in CORPUS:
        data = path.read_bytes()[:65000]
        answer = _exchange(sock, data, core.sip_port)
        if answer is not None:
            answered += 1
            status = answer.split(b" ", 2)[1]
            assert status in (b"400", b"413"), (path.name, answer[:200])
            assert b"Warning: 399 callbox" in answer
        assert core.alive(), f"core died on {path.name}"
    # A recognisable request with broken details is answered, not ignored.
    assert answered >= 5
    sock.close()


def test_garbage_and_mutations_never_take_the_edge_down(core):
    ext = core.add_extension("1001")
    rng = random.Random(1234)
    valid = (b"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKx\r\n"
             b"From: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: m1\r\n"
             b"CSeq: 1 REGISTER\r\nContact: <sip:1001@127.0.0.1:5070>\r\nContent-Length: 0\r\n\r\n")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    for _ in range(300):
        data = bytearray(valid)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        sock.sendto(bytes(data), ("127.0.0.1", core.sip_port))
        sock.sendto(rng.randbytes(rng.randint(1, 1500)), ("127.0.0.1", core.sip_port))
    sock.close()
    assert core.alive()
    # 600 datagrams from one address went over the per-address rate limit; let the bucket refill.
    time.sleep(3)
    phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    phone.bind(("127.0.0.1", 0))
    phone.settimeout(3)
    assert register(phone, core.sip_port, "1001", ext["secret"]).startswith("SIP/2.0 200 ")
    phone.close()


@pytest.mark.parametrize("payload", [
    b"REGISTER sip:x SIP/2.0\r\nContent-Length: 99999999\r\n\r\n",
    b"REGISTER sip:x SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:1;branch=z9hG4bKt\r\n\r\n",
    b"X" * 70000,
])
def test_tcp_stream_with_bad_framing_is_closed(core, payload):
    with socket.create_connection(("127.0.0.1", core.sip_port), timeout=3) as conn:
        conn.sendall(payload)
        conn.settimeout(3)
        data = b""
        try:
            while chunk := conn.recv(65535):
                data += chunk
        except (socket.timeout, ConnectionResetError):
            pytest.fail("the box kept a connection open after a framing error")
    assert core.alive()


def test_a_retransmitted_register_gets_the_same_answer_not_an_error(core):
    """A lost 200 makes the phone send the same REGISTER again: it must get the 200 again (RFC 3261 §17.2)."""
    from appliance.sip.digest import client_response
    ext = core.add_extension("1001")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(3)
    port = sock.getsockname()[1]

    def register(cseq: int, branch: str, auth: str = "") -> bytes:
        return (f"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch={branch}\r\n"
                f"From: <sip:1001@127.0.0.1>;tag=1\r\nTo: <sip:1001@127.0.0.1>\r\nCall-ID: rx1\r\n"
                f"CSeq: {cseq} REGISTER\r\nContact: <sip:1001@127.0.0.1:{port}>\r\n{auth}"
                f"Content-Length: 0\r\n\r\n").encode()

    first = _exchange(sock, register(1, "z9hG4bKa"), core.sip_port).decode()
    challenge = next(line.split(":", 1)[1].strip() for line in first.split("\r\n")
                     if line.startswith("WWW-Authenticate:"))
    authed = register(2, "z9hG4bKb", f"Authorization: {client_response('REGISTER', 'sip:127.0.0.1', '1001', ext['secret'], challenge)}\r\n")
    answers = [_exchange(sock, authed, core.sip_port) for _ in range(3)]
    assert all(a.startswith(b"SIP/2.0 200 ") for a in answers), answers
    assert answers[0] == answers[1] == answers[2]
    sock.close()
