"""Fuzzing a real `callbox core` over UDP and TCP: no mutated message leaves a traceback."""

from __future__ import annotations

import random
import socket
import time

import pytest

from tests.integration.attack_phone import (assert_no_traceback, authorized, exchange, register, request,
                                            status_of, udp)


INTERESTING = ["", " ", "0", "-1", "00000000000000000000068", "4294967296", "99999999999999999999", "%00",
               "\x00", "\xff", "é", "<>", "<sip:>", "sip:", "tel:", "foo:bar", ";;;", ",,,", '"', "\\", "a" * 5000,
               "SIP/2.0/UDP", "SIP/2.0/UDP 999.999.999.999:99999", "SIP/2.0/UDP [::1", "z9hG4bKcbx",
               "Digest", "Digest username=", 'Digest realm="callbox", nonce="x", response="y"', "Foo bar=baz",
               "*", "<sip:1001@127.0.0.1>;expires=-5", "1 INVITE", "2147483648 REGISTER", "\t\t", "\r", "\n"]


def mutate(seed: bytes, rng: random.Random) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(9)
        if kind == 0 and data:  # flip bytes
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 1:  # insert random bytes
            i = rng.randrange(len(data) + 1)
            data[i:i] = rng.randbytes(rng.randint(1, 40))
        elif kind == 2 and data:  # delete a range
            i = rng.randrange(len(data))
            del data[i:i + rng.randint(1, 60)]
        elif kind in (3, 4):  # replace a header value with something interesting
            lines = bytes(data).split(b"\r\n")
            i = rng.randrange(len(lines))
            name = lines[i].split(b":", 1)[0] if b":" in lines[i] else b"X-Fuzz"
            lines[i] = name + b": " + rng.choice(INTERESTING).encode("utf-8", "surrogateescape")
            data = bytearray(b"\r\n".join(lines))
        elif kind == 5:  # duplicate or drop a line
            lines = bytes(data).split(b"\r\n")
            i = rng.randrange(len(lines))
            if rng.random() < 0.5:
                lines.insert(i, lines[i])
            else:
                del lines[i]
            data = bytearray(b"\r\n".join(lines))
        elif kind == 6:  # swap two lines (the start line too)
            lines = bytes(data).split(b"\r\n")
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\r\n".join(lines))
        elif kind == 7:  # truncate
            data = data[:rng.randrange(len(data) + 1)]
        else:  # change the Content-Length
            text = bytes(data)
            at = text.find(b"Content-Length: ")
            if at >= 0:
                end = text.find(b"\r\n", at)
                value = rng.choice([b"0", b"1", b"100000", b"-3", b"16384", b"abc", str(rng.randrange(3000)).encode()])
                data = bytearray(text[:at + 16] + value + text[end if end >= 0 else len(text):])
    return bytes(data)


def _drain(sock: socket.socket) -> int:
    n = 0
    try:
        while True:
            sock.recv(65535)
            n += 1
    except (BlockingIOError, socket.timeout):
        return n


def _fuzz(core_factory, udp_count: int, tcp_count: int, seed: int) -> dict[str, int]:
    engine = udp()
    core = core_factory({"sip.forward_to": f"127.0.0.1:{engine.getsockname()[1]}",
                         "security.rate_limit_per_s": 100000, "security.rate_burst": 1000000,
                         "security.ban_failures": 1000, "security.ban_window_s": 1,
                         "security.scanner_user_agents": []})
    ext = core.add_extension("1001")
    phone = udp()
    assert status_of(register(phone, core.sip_port, "1001", ext["secret"])) == 200
    # Seeds: what phones, the engine and trunks really send, and a response to a forwarded request.
    sdp = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"
    seeds = [
        request("INVITE", "sip:1002@127.0.0.1", phone, body=sdp, extra="Content-Type: application/sdp\r\n"),
        request("REGISTER", "sip:127.0.0.1", phone, extra="Authorization: Digest username=\"1001\", "
                "realm=\"callbox\", nonce=\"abc\", uri=\"sip:127.0.0.1\", response=\"" + "0" * 32 + "\", "
                "qop=auth, nc=00000001, cnonce=\"x\"\r\nExpires: 300\r\n"),
        request("OPTIONS", "sip:127.0.0.1", phone),
        request("BYE", "sip:1002@127.0.0.1", phone),
        request("CANCEL", "sip:1002@127.0.0.1", phone),
        request("ACK", "sip:1002@127.0.0.1", phone),
        request("SUBSCRIBE", "sip:1001@127.0.0.1", phone, extra="Event: message-summary\r\nExpires: 60\r\n"),
        request("MESSAGE", "tel:+48221234567", phone, body=b"hello", extra="Content-Type: text/plain\r\n"),
        b"v: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKc\r\n",
        b"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcbx00112233445566778899\r\n"
        b"Via: SIP/2.0/UDP 127.0.0.1:5070;received=127.0.0.1;rport=5070\r\nFrom: <sip:a@b>;tag=1\r\n"
        b"To: <sip:c@d>;tag=2\r\nCall-ID: r1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
    ]
    seeds[8] = seeds[2].replace(b"Via: ", b"v: ").replace(b"Call-ID: ", b"i: ").replace(b"CSeq", b"cseq")
    # The INVITE as a phone sends it after the 407, with its credentials.
    seeds[0] = authorized(phone, core.sip_port, "INVITE", "sip:1002@127.0.0.1", "1001", ext["secret"], body=sdp,
                          extra="Content-Type: application/sdp\r\n")
    forwarded = engine.recv(65535)
    head = forwarded.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
    keep = [line for line in head if line.split(b":")[0] in (b"Via", b"From", b"To", b"Call-ID", b"CSeq")]
    response = b"SIP/2.0 180 Ringing\r\n" + b"\r\n".join(keep) + b"\r\nContent-Length: 0\r\n\r\n"
    seeds += [response, response.replace(b"180 Ringing", b"200 OK")]
    rng = random.Random(seed)
    phone.setblocking(False)
    engine.setblocking(False)
    target = ("127.0.0.1", core.sip_port)
    answers = 0
    started = time.monotonic()
    for i in range(udp_count):
        seed_msg = rng.choice(seeds)
        sender = engine if seed_msg.startswith(b"SIP/2.0 ") and rng.random() < 0.7 else phone
        try:
            sender.sendto(mutate(seed_msg, rng), target)
        except OSError:
            pass  # too large for a datagram
        if i % 100 == 99:
            answers += _drain(phone)
            _drain(engine)
            # About 4,000 a second: what the core handles without the kernel dropping most of them.
            time.sleep(max(0.0, started + (i + 1) / 4000 - time.monotonic()))
    tcp_answered = 0
    for i in range(tcp_count):
        conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        conn.bind((f"127.0.0.{20 + i % 200}", 0))
        conn.settimeout(2.0)
        try:
            conn.connect(target)
            stream = b"".join(mutate(rng.choice(seeds), rng) for _ in range(rng.randint(1, 3)))
            conn.sendall(stream)
            conn.shutdown(socket.SHUT_WR)
            while chunk := conn.recv(65535):
                tcp_answered += chunk.startswith(b"SIP/2.0 ")
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            pass
        finally:
            conn.close()
    time.sleep(0.5)
    answers += _drain(phone)
    assert core.alive()
    # Still serving: the phone's OPTIONS is answered.
    phone.settimeout(3)
    assert status_of(exchange(phone, request("OPTIONS", "sip:127.0.0.1", phone), core.sip_port)) == 200
    assert_no_traceback(core)
    return {"udp": udp_count, "tcp": tcp_count, "udp_answers": answers, "tcp_answers": tcp_answered}


def test_fuzz_10000_mutated_messages_leave_no_traceback(core_factory):
    counts = _fuzz(core_factory, 8000, 2000, seed=20261207)
    print("fuzz:", counts)
    assert counts["udp_answers"] > 1000 and counts["tcp_answers"] > 200


@pytest.mark.slow
def test_fuzz_100000_mutated_messages_leave_no_traceback(core_factory):
    counts = _fuzz(core_factory, 80000, 20000, seed=31337)
    print("fuzz:", counts)
    assert counts["udp_answers"] > 10000 and counts["tcp_answers"] > 2000
