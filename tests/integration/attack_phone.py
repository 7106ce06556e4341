"""A small hand-made phone for the attacks on a real `callbox core`: raw SIP over UDP and TCP.

Every source address used is on loopback: all of 127.0.0.0/8 is, so 127.0.0.2 .. 127.0.0.20
stand in for other hosts of the LAN (a phone, an attacker, the office NAT).
"""

from __future__ import annotations

import secrets
import socket
import time
from pathlib import Path


from appliance.sip.digest import client_response


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


def closed_within(conn: socket.socket, seconds: float) -> bool:
    conn.settimeout(seconds)
    try:
        while conn.recv(65535):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


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
