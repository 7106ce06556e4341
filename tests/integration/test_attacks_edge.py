"""Attacks on the SIP edge seen on an office LAN, each against a real `callbox core` over the wire.

Every source address used here is on loopback: all of 127.0.0.0/8 is, so 127.0.0.2 .. 127.0.0.20
stand in for other hosts of the LAN (a phone, an attacker, the office NAT).
"""

from __future__ import annotations

import multiprocessing
import random
import secrets
import socket
import threading
import time
from pathlib import Path

import pytest

from appliance.sip.digest import client_response

# ---- a small hand-made phone ----------------------------------------------------------------


def udp(ip: str = "127.0.0.1", timeout: float = 2.0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind((ip, 0))
    sock.settimeout(timeout)
    return sock


def request(method: str, uri: str, sock_or_addr, *, call_id: str | None = None, cseq: int = 1,
            branch: str | None = None, user: str = "1001", extra: str = "", body: bytes = b"",
            transport: str = "UDP", content_length: int | None = None, to: str | None = None) -> bytes:
    ip, port = sock_or_addr.getsockname() if isinstance(sock_or_addr, socket.socket) else sock_or_addr
    call_id = call_id or secrets.token_hex(6)
    branch = branch or "z9hG4bK" + secrets.token_hex(6)
    length = len(body) if content_length is None else content_length
    return (f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/{transport} {ip}:{port};branch={branch};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:{user}@127.0.0.1>;tag=f{call_id}\r\nTo: <sip:{to or user}@127.0.0.1>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContact: <sip:{user}@{ip}:{port}>\r\n{extra}"
            f"Content-Length: {length}\r\n\r\n").encode() + body


def status_of(answer: bytes | None) -> int | None:
    if not answer:
        return None
    return int(answer.split(b" ", 2)[1])


def header(answer: bytes, name: str) -> str | None:
    for line in answer.decode(errors="replace").split("\r\n"):
        n, sep, v = line.partition(":")
        if sep and n.strip().lower() == name.lower():
            return v.strip()
    return None


def exchange(sock: socket.socket, data: bytes, port: int) -> bytes | None:
    sock.sendto(data, ("127.0.0.1", port))
    try:
        return sock.recv(65535)
    except socket.timeout:
        return None


def register(sock: socket.socket, port: int, user: str, secret: str, *, expires: int = 300) -> bytes | None:
    call_id = secrets.token_hex(6)
    first = exchange(sock, request("REGISTER", "sip:127.0.0.1", sock, call_id=call_id, user=user,
                                   extra=f"Expires: {expires}\r\n"), port)
    assert status_of(first) == 401, first
    auth = client_response("REGISTER", "sip:127.0.0.1", user, secret, header(first, "WWW-Authenticate"))
    return exchange(sock, request("REGISTER", "sip:127.0.0.1", sock, call_id=call_id, cseq=2, user=user,
                                  extra=f"Expires: {expires}\r\nAuthorization: {auth}\r\n"), port)


def wrong_password(sock: socket.socket, port: int, user: str = "1001") -> bytes | None:
    call_id = secrets.token_hex(6)
    first = exchange(sock, request("REGISTER", "sip:127.0.0.1", sock, call_id=call_id, user=user), port)
    assert status_of(first) == 401, first
    auth = client_response("REGISTER", "sip:127.0.0.1", user, "not-the-password", header(first, "WWW-Authenticate"))
    return exchange(sock, request("REGISTER", "sip:127.0.0.1", sock, call_id=call_id, cseq=2, user=user,
                                  extra=f"Authorization: {auth}\r\n"), port)


def banned(core) -> list[str]:
    status, body = core.api("GET", "/api/bans")
    assert status == 200
    return [b["ip"] for b in body["bans"]]


def full_log(core) -> str:
    return Path(core.log_path).read_text(errors="replace")


def assert_no_traceback(core) -> None:
    text = full_log(core)
    assert "Traceback" not in text, text[text.find("Traceback") - 500:][:4000]


# ---- 1. an unknown Authorization scheme is not a failed login ---------------------------------


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


# ---- 2. TCP: a message that never completes, and too many connections ------------------------


def _closed_within(conn: socket.socket, seconds: float) -> bool:
    conn.settimeout(seconds)
    try:
        while conn.recv(65535):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_tcp_message_that_never_completes_is_closed(core):
    conn = socket.create_connection(("127.0.0.1", core.sip_port), timeout=3)
    local = conn.getsockname()
    conn.sendall(request("OPTIONS", "sip:127.0.0.1", local, transport="TCP", content_length=500) + b"v=0\r\n")
    started = time.monotonic()
    assert _closed_within(conn, 25.0), "the box kept an incomplete message's connection open"
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
        closed = sum(1 for c in held if _closed_within(c, 0.05))
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


# ---- 3. TCP: complete messages before garbage are handled ---------------------------------------


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


# ---- 4. Max-Forwards with leading zeros ----------------------------------------------------------


def test_max_forwards_with_any_number_of_digits_is_accepted(core):
    sock = udp()
    for value in ("0068", "00000000000000070", "70"):
        data = request("OPTIONS", "sip:127.0.0.1", sock).replace(b"Max-Forwards: 70", f"Max-Forwards: {value}".encode())
        answer = exchange(sock, data, core.sip_port)
        assert status_of(answer) == 200, (value, answer)
    assert_no_traceback(core)


# ---- 5. unknown Request-URI schemes ----------------------------------------------------------------


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


# ---- 6. forged responses ------------------------------------------------------------------------------

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


# ---- 7. failures with a forged source address ----------------------------------------------------


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


# ---- 8. size limits ---------------------------------------------------------------------------------------


def test_oversized_bodies_are_refused_over_udp_and_tcp(core):
    sock = udp()
    big = b"x" * 20000
    answer = exchange(sock, request("MESSAGE", "sip:1001@127.0.0.1", sock, body=big), core.sip_port)
    assert status_of(answer) == 413, answer
    conn = socket.create_connection(("127.0.0.1", core.sip_port), timeout=3)
    conn.sendall(request("MESSAGE", "sip:1001@127.0.0.1", conn.getsockname(), body=big, transport="TCP"))
    assert _closed_within(conn, 3.0)
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


# ---- 9. a flood must not starve a registered phone --------------------------------------------------

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


# ---- 10. fuzzing a real core over UDP and TCP ------------------------------------------------------

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


# ---- 11. calls are placed only by someone who proved who they are ---------------------------------

GATEWAY = "127.0.0.5"
SDP = (b"v=0\r\no=- 1 1 IN IP4 127.0.0.2\r\ns=-\r\nc=IN IP4 127.0.0.2\r\nt=0 0\r\n"
       b"m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def authorized(sock: socket.socket, port: int, method: str, uri: str, user: str, secret: str, *,
               call_id: str | None = None, body: bytes = b"", extra: str = "") -> bytes:
    """Send `method` as a phone does: without credentials, then again answering the 407. Returns the
    request sent with credentials (its answers are left on the socket)."""
    call_id = call_id or secrets.token_hex(6)
    first = exchange(sock, request(method, uri, sock, call_id=call_id, user=user, body=body, extra=extra), port)
    assert status_of(first) == 407, first
    auth = client_response(method, uri, user, secret, header(first, "Proxy-Authenticate"))
    data = request(method, uri, sock, call_id=call_id, cseq=2, user=user, body=body,
                   extra=f"{extra}Proxy-Authorization: {auth}\r\n")
    sock.sendto(data, ("127.0.0.1", port))
    return data


def heard(sock: socket.socket, seconds: float) -> list[bytes]:
    """Everything that reached `sock` within `seconds`."""
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            got.append(sock.recv(65535))
        except socket.timeout:
            break
    return got


def gateway(box) -> socket.socket:
    """An IP gateway on the LAN that trusts the box by its address (a peer trunk), with a route for
    international numbers. It never answers: the tests only look at what reaches it."""
    gw = udp(GATEWAY)
    status, body = box.api("POST", "/api/trunks", {"name": "gw", "kind": "peer", "host": GATEWAY,
                                                   "port": gw.getsockname()[1], "peer_networks": [f"{GATEWAY}/32"]})
    assert status == 201, body
    status, body = box.api("PUT", "/api/routes", {"outbound": [
        {"name": "world", "patterns": ["00X."], "trunks": ["gw"]}]})
    assert status == 200, body
    return gw


def test_an_invite_without_credentials_from_a_registered_phones_source_never_reaches_the_trunk(box):
    gw = gateway(box)
    ext = box.add_extension("1001")
    assert box.api("PATCH", "/api/extensions/1001", {"class_of_service": "international"})[0] == 200
    phone = udp("127.0.0.2")
    assert status_of(register(phone, box.sip_port, "1001", ext["secret"])) == 200
    # From the phone's own address and port (over UDP anybody can send that, or a program on the phone).
    answer = exchange(phone, request("INVITE", "sip:0088161234567@127.0.0.1", phone, body=SDP, to="0088161234567",
                                     extra="Content-Type: application/sdp\r\n"), box.sip_port)
    assert status_of(answer) == 407, answer
    assert header(answer, "Proxy-Authenticate").startswith("Digest ")
    assert heard(gw, 3.0) == []
    assert_no_traceback(box)


def test_a_register_authorization_replayed_from_another_host_gets_a_fresh_challenge(core):
    ext = core.add_extension("1001")
    phone, thief = udp("127.0.0.2"), udp("127.0.0.3")
    call_id = secrets.token_hex(6)
    first = exchange(phone, request("REGISTER", "sip:127.0.0.1", phone, call_id=call_id,
                                    extra="Expires: 300\r\n"), core.sip_port)
    auth = client_response("REGISTER", "sip:127.0.0.1", "1001", ext["secret"], header(first, "WWW-Authenticate"))
    answer = exchange(phone, request("REGISTER", "sip:127.0.0.1", phone, call_id=call_id, cseq=2,
                                     extra=f"Expires: 300\r\nAuthorization: {auth}\r\n"), core.sip_port)
    assert status_of(answer) == 200, answer
    before = core.registrations()
    # The header, captured on the LAN, sent again from another host with that host as the Contact.
    for call_id2, cseq in ((call_id, 3), ("stolen", 1)):
        answer = exchange(thief, request("REGISTER", "sip:127.0.0.1", thief, call_id=call_id2, cseq=cseq,
                                         extra=f"Expires: 300\r\nAuthorization: {auth}\r\n"), core.sip_port)
        assert status_of(answer) == 401, answer
        assert header(answer, "WWW-Authenticate").startswith("Digest ")
    assert core.registrations() == before
    assert banned(core) == []
    assert_no_traceback(core)


def test_a_captured_invite_authorization_places_no_second_call_but_a_retransmission_goes_through(core_factory):
    engine = udp()
    core = core_factory({"sip.forward_to": f"127.0.0.1:{engine.getsockname()[1]}"})
    ext = core.add_extension("1001")
    phone = udp("127.0.0.2")
    assert status_of(register(phone, core.sip_port, "1001", ext["secret"])) == 200
    sent = authorized(phone, core.sip_port, "INVITE", "sip:1002@127.0.0.1", "1001", ext["secret"], call_id="c1")
    assert b"INVITE sip:1002@127.0.0.1" in engine.recv(65535)
    # The phone's retransmission (the same Call-ID, CSeq and branch) is forwarded again.
    phone.sendto(sent, ("127.0.0.1", core.sip_port))
    assert b"Call-ID: c1" in engine.recv(65535)
    # The same credentials on another call (captured on the LAN, sent from the phone's address).
    auth = header(sent, "Proxy-Authorization")
    again = exchange(phone, request("INVITE", "sip:1002@127.0.0.1", phone, call_id="c2",
                                    extra=f"Proxy-Authorization: {auth}\r\n"), core.sip_port)
    assert status_of(again) == 407, again
    # ... and on a call to another number: the digest names the Request-URI it was made for.
    other = exchange(phone, request("INVITE", "sip:0088161234567@127.0.0.1", phone, call_id="c1", cseq=3,
                                    extra=f"Proxy-Authorization: {auth}\r\n"), core.sip_port)
    assert status_of(other) in (403, 407), other
    assert heard(engine, 1.0) == []
    assert_no_traceback(core)


def register_contact(sock: socket.socket, port: int, user: str, secret: str, contact: str) -> bytes | None:
    """A REGISTER with digest whose Contact is `contact` (not the sending socket)."""
    call_id = secrets.token_hex(6)

    def send(cseq: int, extra: str) -> bytes | None:
        data = request("REGISTER", "sip:127.0.0.1", sock, call_id=call_id, cseq=cseq, user=user,
                       extra=f"Expires: 300\r\n{extra}")
        own = f"Contact: <sip:{user}@{sock.getsockname()[0]}:{sock.getsockname()[1]}>".encode()
        return exchange(sock, data.replace(own, f"Contact: {contact}".encode()), port)

    first = send(1, "")
    assert status_of(first) == 401, first
    auth = client_response("REGISTER", "sip:127.0.0.1", user, secret, header(first, "WWW-Authenticate"))
    return send(2, f"Authorization: {auth}\r\n")


def test_a_contact_pointing_at_a_gateway_is_refused_and_nothing_reaches_the_gateway(box, phones):
    from tests.integration.test_calls import registered_phone
    gw = gateway(box)
    ext = box.add_extension("1002")
    assert box.api("PATCH", "/api/extensions/1002", {"class_of_service": "internal"})[0] == 200
    attacker = udp("127.0.0.2")
    answer = register_contact(attacker, box.sip_port, "1002", ext["secret"],
                              f"<sip:0088161234567@{GATEWAY}:{gw.getsockname()[1]}>")
    assert status_of(answer) == 403, answer
    assert b"Contact must point at this phone" in answer.split(b"\r\n")[0]
    assert [r for r in box.registrations() if r["aor"] == "1002"] == []
    caller = registered_phone(box, phones, "1001")
    caller.call(f"sip:1002@127.0.0.1:{box.sip_port}")
    # 1002 is not registered anywhere: the box plays voicemail or gives up; nothing goes to the gateway.
    assert heard(gw, 4.0) == []
    caller.hangup()
    assert_no_traceback(box)


@pytest.mark.parametrize("method,header_line", [
    ("REGISTER", "To: *"),
    ("SUBSCRIBE", "From: *"),
])
def test_a_star_where_an_address_belongs_gets_400_not_a_traceback(core, method, header_line):
    """Found by the 100,000-message fuzz: `To: *` (a Contact's word) reached code that wanted a URI."""
    core.add_extension("1001")
    sock = udp()
    msg = request(method, f"sip:127.0.0.1:{core.sip_port}", sock, extra="Event: message-summary\r\n").decode()
    name = header_line.split(":")[0]
    msg = "\r\n".join(header_line if line.startswith(f"{name}:") else line for line in msg.split("\r\n"))
    answer = exchange(sock, msg.encode(), core.sip_port)
    assert status_of(answer) in (400, 401, 407)
    assert_no_traceback(core)
