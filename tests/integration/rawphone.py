"""A few hand-made SIP requests over a plain UDP socket, for tests that need exact bytes."""

from __future__ import annotations

import secrets
import socket

from appliance.sip.digest import client_response


def register(sock: socket.socket, core_port: int, user: str, secret: str, box: str = "127.0.0.1",
             expires: int | None = None) -> str:
    local, port = sock.getsockname()[:2]
    call_id = secrets.token_hex(6)
    def register(cseq: int, auth: str = "") -> str:
        msg = (f"REGISTER sip:{box}:{core_port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {local}:{port};branch=z9hG4bKr{call_id}{cseq}\r\n"
               f"From: <sip:{user}@{box}>;tag=r\r\nTo: <sip:{user}@{box}>\r\nCall-ID: reg-{call_id}\r\n"
               f"CSeq: {cseq} REGISTER\r\nContact: <sip:{user}@{local}:{port}>\r\n{auth}"
               + (f"Expires: {expires}\r\n" if expires is not None else "") +
               "Content-Length: 0\r\n\r\n")
        sock.sendto(msg.encode(), (box, core_port))
        return sock.recv(65535).decode()
    challenge = register(1)
    value = next(line.split(":", 1)[1].strip() for line in challenge.split("\r\n")
                 if line.startswith("WWW-Authenticate:"))
    answer = client_response("REGISTER", f"sip:{box}:{core_port}", user, secret, value)
    return register(2, f"Authorization: {answer}\r\n")


def invite(target: str, src: socket.socket, number: str, call_id: str, extra: str = "") -> bytes:
    """An INVITE for `number` at `target` (host:port) from `src`, with no credentials unless `extra`
    brings some (or other headers)."""
    host, port = src.getsockname()[:2]
    return (f"INVITE sip:{number}@{target} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK{secrets.token_hex(6)};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:1001@{target}>;tag={secrets.token_hex(4)}\r\n"
            f"To: <sip:{number}@{target}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n"
            f"Contact: <sip:1001@{host}:{port}>\r\n{extra}Content-Length: 0\r\n\r\n").encode()


def final_statuses(sock: socket.socket, seconds: float, final_only: bool = False) -> list[int]:
    """The SIP statuses answered on `sock` within `seconds`."""
    import re
    import time
    out, deadline = [], time.monotonic() + seconds
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65535)
        except socket.timeout:
            continue
        m = re.match(rb"SIP/2.0 (\d{3})", data)
        if m and (not final_only or int(m.group(1)) >= 200):
            out.append(int(m.group(1)))
    return out
