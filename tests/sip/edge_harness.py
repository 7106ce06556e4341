"""A SipEdge without a core, over a fake UDP socket that records what it sends, and the requests
that phones (and attackers) send it."""

from __future__ import annotations

import secrets
import time

from appliance.events import EventBus
from appliance.sip.digest import DigestAuth, client_response
from appliance.sip.edge import SipEdge
from appliance.sip.edge_limits import EdgeLimits
from appliance.sip.parser import parse
from appliance.sip.registrar import Registrar
from appliance.sip.security import Guard, SecurityPolicy
from appliance.sip.source import Source

SECRET = "s3cret-1001"


class FakeClock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


class RecordingUdp:
    """Stands in for the edge's UDP socket: what was sent, to where."""

    def __init__(self):
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def sendto(self, data: bytes, addr) -> None:
        self.sent.append((data, tuple(addr)))

    def close(self) -> None:
        pass

    def take(self) -> list[tuple[bytes, tuple[str, int]]]:
        out, self.sent = self.sent, []
        return out


def make_edge(policy: SecurityPolicy | None = None, *, forward_to=("127.0.0.50", 5080), trunks=(),
              limits: EdgeLimits = EdgeLimits()) -> SipEdge:
    clock = FakeClock()
    guard = Guard(policy or SecurityPolicy(ban_failures=5), clock)
    registrar = Registrar(time.monotonic)
    auth = DigestAuth("callbox", {"1001": SECRET}.get, algorithms=("MD5",))
    edge = SipEdge(registrar=registrar, guard=guard, auth=auth, events=EventBus(), identity_key=b"k" * 32,
                   forward_target=lambda req, ext: forward_to, clock=time.time,
                   trunk_of=lambda src, req: "provider" if src.ip in trunks else None, limits=limits)
    edge.udp = RecordingUdp()  # type: ignore[assignment]
    edge.port = 5060
    edge.clock_for_tests = clock  # type: ignore[attr-defined]
    return edge


def req(method: str, uri: str = "sip:127.0.0.1", *, src=("127.0.0.2", 5070), call_id: str | None = None,
        cseq: int = 1, user: str = "1001", extra: str = "", branch: str | None = None, mf: str = "70",
        contact: str | None = None) -> bytes:
    call_id = call_id or secrets.token_hex(5)
    branch = branch or "z9hG4bK" + secrets.token_hex(5)
    return (f"{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP {src[0]}:{src[1]};branch={branch};rport\r\n"
            f"Max-Forwards: {mf}\r\nFrom: <sip:{user}@127.0.0.1>;tag=a\r\nTo: <sip:{user}@127.0.0.1>\r\n"
            f"Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContact: {contact or f'<sip:{user}@{src[0]}:{src[1]}>'}\r\n"
            f"{extra}Content-Length: 0\r\n\r\n").encode()


def status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1])


def answers(edge: SipEdge) -> list[int]:
    return [status(d) for d, _ in edge.udp.take() if d.startswith(b"SIP/2.0 ")]


def hdr(data: bytes, name: str) -> str:
    return parse(data).get(name) or ""


def register(edge: SipEdge, src=("127.0.0.2", 5070), secret: str = SECRET, contact: str | None = None) -> int:
    source = Source("udp", *src)
    call_id = secrets.token_hex(5)
    edge.handle(req("REGISTER", src=src, call_id=call_id, contact=contact), source)
    (challenge, _), = edge.udp.take()
    assert status(challenge) == 401
    auth = client_response("REGISTER", "sip:127.0.0.1", "1001", secret, hdr(challenge, "WWW-Authenticate"))
    edge.handle(req("REGISTER", src=src, call_id=call_id, cseq=2, extra=f"Authorization: {auth}\r\n",
                    contact=contact), source)
    sent = edge.udp.take()
    return status(sent[0][0]) if sent else 0


def invite(edge: SipEdge, src=("127.0.0.2", 5070), uri: str = "sip:1002@127.0.0.1", secret: str = SECRET,
           call_id: str | None = None, user: str = "1001", method: str = "INVITE", extra: str = "",
           ) -> list[tuple[bytes, tuple[str, int]]]:
    """A phone's request: without credentials, the 407, then with them. What the edge sent after that."""
    source = Source("udp", *src)
    call_id = call_id or secrets.token_hex(5)
    edge.handle(req(method, uri, src=src, call_id=call_id, user=user, extra=extra), source)
    (challenge, _), = edge.udp.take()
    assert status(challenge) == 407, challenge
    auth = client_response(method, uri, user, secret, hdr(challenge, "Proxy-Authenticate"))
    edge.handle(req(method, uri, src=src, call_id=call_id, cseq=2, user=user,
                    extra=f"{extra}Proxy-Authorization: {auth}\r\n"), source)
    return edge.udp.take()
