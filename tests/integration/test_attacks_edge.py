"""Attacks on the SIP edge seen on an office LAN, each against a real `callbox core` over the wire.

Every source address used here is on loopback (see attack_phone.py)."""

from __future__ import annotations

import multiprocessing
import random
import secrets
import socket
import time

import pytest

from appliance.sip.digest import client_response
from tests.integration.attack_phone import (assert_no_traceback, authorized, banned, closed_within, exchange,
                                            header, register, request, status_of, udp, wrong_password)


def test_unknown_authorization_scheme_gets_a_fresh_challenge_and_never_a_ban(core_factory):
    core = core_factory({"security.ban_failures": 5})
    ext = core.add_extension("1001")
    broken = udp("127.0.0.2")
    for i in range(8):
        answer = exchange(broken, request("REGISTER", "sip:127.0.0.1", broken, cseq=i + 1,
                                          extra="Authorization: Foo bar=baz\r\n"), core.sip_port)
        assert status_of(answer) == 401, answer
        assert header(answer, "WWW-Authenticate").startswith("Digest ")
        answer = exchange(broken, request("INVITE", "sip:1002@127.0.0.1", broken, cseq=1,
                                          extra="Proxy-Authorization: Foo bar=baz\r\n"), core.sip_port)
        assert status_of(answer) == 407, answer
        assert header(answer, "Proxy-Authenticate").startswith("Digest ")
    assert banned(core) == []
    # The rest of the office behind the same address still gets in.
    phone = udp("127.0.0.2")
    assert status_of(register(phone, core.sip_port, "1001", ext["secret"])) == 200
    assert_no_traceback(core)


def test_tcp_message_that_never_completes_is_closed(core):
    conn = socket.create_connection(("127.0.0.1", core.sip_port), timeout=3)
    local = conn.getsockname()
    conn.sendall(request("OPTIONS", "sip:127.0.0.1", local, transport="TCP", content_length=500) + b"v=0\r\n")
    started = time.monotonic()
    assert closed_within(conn, 25.0), "the box kept an incomplete message's connection open"
    # The edge's limit is 10 s for a message once begun.
    assert time.monotonic() - started < 20
    conn.close()
    assert_no_traceback(core)


def test_tcp_connections_per_address_are_limited(core):
    held = []
    try:
        for _ in range(80):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.bind(("127.0.0.3", 0))
            c.connect(("127.0.0.1", core.sip_port))
            held.append(c)
        time.sleep(0.5)
        closed = sum(1 for c in held if closed_within(c, 0.05))
        # 64 per address; the rest are closed at once.
        assert closed == 80 - 64, closed
        # Another address is not affected.
        other = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        other.bind(("127.0.0.4", 0))
        other.connect(("127.0.0.1", core.sip_port))
        other.settimeout(3)
        other.sendall(request("OPTIONS", "sip:127.0.0.1", other, transport="TCP"))
        assert other.recv(65535).startswith(b"SIP/2.0 200 ")
        other.close()
    finally:
        for c in held:
            c.close()
    assert_no_traceback(core)


def test_tcp_messages_before_garbage_are_answered_then_the_garbage_gets_400(core):
    conn = socket.create_connection(("127.0.0.1", core.sip_port), timeout=3)
    local = conn.getsockname()
    good = request("OPTIONS", "sip:127.0.0.1", local, call_id="good1", transport="TCP") + \
        request("OPTIONS", "sip:127.0.0.1", local, call_id="good2", transport="TCP")
    garbage = request("OPTIONS", "sip:127.0.0.1", local, call_id="bad", transport="TCP").replace(
        b"Content-Length: 0", b"Content-Length: zero")
    conn.sendall(good + garbage)
    data = b""
    try:
        while chunk := conn.recv(65535):
            data += chunk
    except socket.timeout:
        pytest.fail(f"the connection stayed open after garbage: {data!r}")
    answers = [a for a in data.split(b"SIP/2.0 ") if a]
    assert [a[:3] for a in answers] == [b"200", b"200", b"400"], data
    assert b"Call-ID: good1" in answers[0] and b"Call-ID: good2" in answers[1]
    assert_no_traceback(core)


def test_max_forwards_with_any_number_of_digits_is_accepted(core):
    sock = udp()
    for value in ("0068", "00000000000000070", "70"):
        data = request("OPTIONS", "sip:127.0.0.1", sock).replace(b"Max-Forwards: 70", f"Max-Forwards: {value}".encode())
        answer = exchange(sock, data, core.sip_port)
        assert status_of(answer) == 200, (value, answer)
    assert_no_traceback(core)


@pytest.mark.parametrize("method,uri", [
    ("OPTIONS", "tel:+48221234567"),
    ("OPTIONS", "foo:bar"),
    ("INVITE", "tel:+48221234567"),
    ("REGISTER", "urn:service:sos"),
    ("MESSAGE", "im:1001@127.0.0.1"),
])
def test_unknown_request_uri_scheme_gets_416(core, method, uri):
    sock = udp()
    answer = exchange(sock, request(method, uri, sock), core.sip_port)
    assert status_of(answer) == 416, answer
    assert_no_traceback(core)


FORGED = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKcbx{branch}\r\nVia: {via}\r\n" \
    "From: <sip:1001@127.0.0.1>;tag=a\r\nTo: <sip:1002@127.0.0.1>;tag=b\r\nCall-ID: forged{n}\r\n" \
    "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"


def test_forged_responses_are_never_relayed_to_a_host_named_in_their_via(core_factory):
    engine = udp()
    core = core_factory({"sip.forward_to": f"127.0.0.1:{engine.getsockname()[1]}"})
    victim = udp("127.0.0.7", timeout=0.5)
    attacker = udp("127.0.0.8")
    vport = victim.getsockname()[1]
    vias = [f"SIP/2.0/UDP 127.0.0.7:{vport}", f"SIP/2.0/UDP 127.0.0.9;received=127.0.0.7;rport={vport}",
            f"SIP/2.0/TCP 127.0.0.7:{vport}", f"SIP/2.0/UDP 127.0.0.1:{core.sip_port}",
            "SIP/2.0/UDP 999.999.1.1:99999", "SIP/2.0/UDP host.invalid;rport=70000",
            "SIP/2.0/UDP [::1]:5060", "SIP/2.0/UDP 127.0.0.7;rport=abc", "SIP/2.0/SCTP 127.0.0.7:1",
            "SIP/2.0/UDP 0.0.0.0:0", "SIP/2.0/UDP 255.255.255.255:5060"]
    for n, via in enumerate(vias):
        for branch in ("", "0123456789abcdef0123", secrets.token_hex(10)):
            attacker.sendto(FORGED.format(port=core.sip_port, branch=branch, via=via, n=n).encode(),
                            ("127.0.0.1", core.sip_port))
    with pytest.raises(socket.timeout):
        victim.recv(65535)
    time.sleep(0.3)
    assert core.alive()
    assert_no_traceback(core)


def test_responses_to_forwarded_requests_still_reach_the_phone(core_factory):
    engine = udp()
    core = core_factory({"sip.forward_to": f"127.0.0.1:{engine.getsockname()[1]}"})
    ext = core.add_extension("1001")
    phone = udp("127.0.0.5")
    assert status_of(register(phone, core.sip_port, "1001", ext["secret"])) == 200
    authorized(phone, core.sip_port, "INVITE", "sip:1002@127.0.0.1", "1001", ext["secret"], call_id="fw1")
    forwarded, edge_addr = engine.recvfrom(65535)
    text = forwarded.decode()
    vias = [line for line in text.split("\r\n") if line.startswith("Via:")]
    assert len(vias) == 2
    head = text.split("\r\n\r\n")[0].split("\r\n")[1:]
    keep = [line for line in head if line.split(":")[0] in ("Via", "From", "To", "Call-ID", "CSeq")]
    for status in ("180 Ringing", "200 OK"):
        engine.sendto((f"SIP/2.0 {status}\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(),
                      edge_addr)
        answer = phone.recv(65535)
        assert answer.startswith(f"SIP/2.0 {status}".encode()), answer
        assert answer.count(b"Via:") == 1
    # The same response from somewhere other than where the request went is not relayed.
    intruder = udp("127.0.0.8")
    intruder.sendto((f"SIP/2.0 200 OK\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode(),
                    ("127.0.0.1", core.sip_port))
    phone.settimeout(0.5)
    with pytest.raises(socket.timeout):
        phone.recv(65535)
    assert_no_traceback(core)


def test_failures_from_a_registered_phones_address_do_not_ban_it(core_factory):
    core = core_factory({"security.ban_failures": 5})
    ext = core.add_extension("1001")
    phone = udp("127.0.0.5")
    assert status_of(register(phone, core.sip_port, "1001", ext["secret"])) == 200
    forger = udp("127.0.0.5", timeout=0.5)
    answered = 0
    for _ in range(12):
        try:
            answer = wrong_password(forger, core.sip_port)
        except AssertionError:
            continue  # slowed down: the challenge itself was not answered
        answered += answer is not None
    assert banned(core) == []
    # Slowed down: not every wrong guess got checked and answered.
    assert answered < 12
    # The phone itself still re-registers (with retransmissions, as a phone does).
    phone.settimeout(0.5)
    ok = False
    for _ in range(20):
        try:
            if status_of(register(phone, core.sip_port, "1001", ext["secret"])) == 200:
                ok = True
                break
        except (AssertionError, TypeError):
            time.sleep(0.5)
    assert ok
    # An address without a registration is banned as before.
    guesser = udp("127.0.0.6")
    for _ in range(5):
        wrong_password(guesser, core.sip_port)
    assert banned(core) == ["127.0.0.6"]
    assert_no_traceback(core)


def test_oversized_bodies_are_refused_over_udp_and_tcp(core):
    sock = udp()
    big = b"x" * 20000
    answer = exchange(sock, request("MESSAGE", "sip:1001@127.0.0.1", sock, body=big), core.sip_port)
    assert status_of(answer) == 413, answer
    conn = socket.create_connection(("127.0.0.1", core.sip_port), timeout=3)
    conn.sendall(request("MESSAGE", "sip:1001@127.0.0.1", conn.getsockname(), body=big, transport="TCP"))
    assert closed_within(conn, 3.0)
    conn.close()
    assert_no_traceback(core)


def test_a_tcp_client_that_never_reads_its_answers_is_cut_off(core_factory):
    # Without the rate limit in the way: what is measured is the queue of answers.
    core = core_factory({"security.rate_limit_per_s": 100000, "security.rate_burst": 1000000})
    conn = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    conn.bind(("127.0.0.12", 0))
    conn.connect(("127.0.0.1", core.sip_port))
    local = conn.getsockname()
    one = request("OPTIONS", "sip:127.0.0.1", local, transport="TCP")
    conn.settimeout(0.5)
    sent = 0
    cut = False
    deadline = time.monotonic() + 20
    while not cut and time.monotonic() < deadline:
        try:
            conn.sendall(one * 50)
            sent += 50
        except socket.timeout:
            pass
        except (BrokenPipeError, ConnectionResetError):
            cut = True
    assert cut, f"the box queued answers to {sent} requests for a client that never reads"
    conn.close()
    assert core.alive()
    assert_no_traceback(core)


FLOOD_SOURCES = [f"127.0.0.{i}" for i in range(2, 12)]


def _flood(port: int, rate: int, seconds: float, stop: multiprocessing.Event) -> None:
    socks = []
    for ip in FLOOD_SOURCES:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((ip, 0))
        s.setblocking(False)
        socks.append(s)
    rng = random.Random(7)
    kinds = [
        lambda s, n: request("REGISTER", "sip:127.0.0.1", s, call_id=f"j{n}", user=str(1000 + n % 50)),
        lambda s, n: request("INVITE", f"sip:00{n}@127.0.0.1", s, call_id=f"j{n}"),
        lambda s, n: request("OPTIONS", "sip:127.0.0.1", s, call_id=f"j{n}"),
        lambda s, n: b"REGISTER sip:x SIP/2.0\r\nVia: bogus\r\n\r\n",
        lambda s, n: rng.randbytes(200),
    ]
    target = ("127.0.0.1", port)
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    n = 0
    start = time.monotonic()
    while not stop.is_set() and time.monotonic() - start < seconds:
        for _ in range(per_tick):
            s = socks[n % len(socks)]
            try:
                s.sendto(kinds[n % len(kinds)](s, n), target)
            except (BlockingIOError, OSError):
                pass
            n += 1
        next_tick = start + (n / rate)
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def test_a_junk_flood_from_ten_addresses_does_not_starve_a_registered_phone(core):
    ext = core.add_extension("1001")
    # The phone shares its address with one of the flooders (the office NAT, or a forged source).
    phone = udp(FLOOD_SOURCES[0], timeout=0.5)
    assert status_of(register(phone, core.sip_port, "1001", ext["secret"])) == 200
    # Later REGISTERs answer the first challenge again (nonce counts go up), as phones do.
    challenge_answer = exchange(phone, request("REGISTER", "sip:127.0.0.1", phone), core.sip_port)
    challenge = header(challenge_answer, "WWW-Authenticate")
    stop = multiprocessing.Event()
    flood = multiprocessing.Process(target=_flood, args=(core.sip_port, 5000, 20.0, stop), daemon=True)
    flood.start()
    time.sleep(1.0)  # the flood is running
    attempts = successes = 0
    call_id = secrets.token_hex(6)
    deadline = time.monotonic() + 15.0
    try:
        while time.monotonic() < deadline:
            attempts += 1
            cseq = attempts + 10
            auth = client_response("REGISTER", "sip:127.0.0.1", "1001", ext["secret"], challenge, nc=attempts)
            data = request("REGISTER", "sip:127.0.0.1", phone, call_id=call_id, cseq=cseq,
                           extra=f"Expires: 300\r\nAuthorization: {auth}\r\n")
            started = time.monotonic()
            # RFC 3261 Timer E: retransmit at 0.5, 1, 2, 4 s, up to Timer F (here cut at 8 s).
            wait = 0.5
            ok = False
            while time.monotonic() - started < 8.0 and not ok:
                phone.sendto(data, ("127.0.0.1", core.sip_port))
                phone.settimeout(wait)
                end = time.monotonic() + wait
                try:
                    while time.monotonic() < end:
                        answer = phone.recv(65535)
                        if f"CSeq: {cseq} REGISTER".encode() in answer and answer.startswith(b"SIP/2.0 200 "):
                            ok = True
                            break
                except socket.timeout:
                    pass
                wait = min(wait * 2, 4.0)
            successes += ok
            time.sleep(max(0.0, 0.5 - (time.monotonic() - started)))
    finally:
        stop.set()
        flood.join(5)
    rate = successes / attempts
    print(f"flood: {successes}/{attempts} re-registrations succeeded ({rate:.1%})")
    assert rate >= 0.99, (successes, attempts)
    assert attempts >= 20
    assert core.alive()
    assert_no_traceback(core)
