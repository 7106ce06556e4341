"""A caller's phone for the call benchmarks: registers with digest and places calls over one UDP socket.

sipp cannot answer the edge's 407 for an INVITE: it puts the remote address in
the digest's uri instead of the Request-URI, which the edge refuses (403). This
small user agent does what a desk phone does: INVITE, 407, ACK, INVITE with
Proxy-Authorization (digest over the Request-URI), then 180, 200, ACK, and BYE
when told. One thread reads the socket and stamps each message as it arrives
(time.perf_counter, before parsing); each call is driven by the thread that
placed it. Retransmissions after 500 ms (RFC 3261 T1), as a phone does.
"""

from __future__ import annotations

import itertools
import queue
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field

from appliance.errors import SipParseError
from appliance.sip.digest import client_response
from appliance.sip.message import make_response
from appliance.sip.parser import parse

T1 = 0.5


class CallFailed(Exception):
    """The box answered something other than the call going through."""


@dataclass
class Placed:
    """One call: what it took and how it went."""

    callee: str
    call_id: str
    challenged: bool = False
    invite_at: float = 0.0          # when the INVITE that got through was sent (the authenticated one)
    ringing_at: float | None = None
    answered_at: float | None = None
    retransmissions: int = 0
    from_tag: str = ""
    to_tag: str = ""
    cseq: int = 0
    error: str = ""
    answer_sdp: bytes = b""
    responses: list[int] = field(default_factory=list)

    @property
    def setup_ms(self) -> float | None:
        """The INVITE that got through (after the 407) to the 180 Ringing, in ms."""
        return None if self.ringing_at is None else (self.ringing_at - self.invite_at) * 1000


class CallerPhone:
    """An extension's phone on 127.0.0.1: one socket, any number of calls at once."""

    def __init__(self, box_port: int, user: str, secret: str):
        self.box = ("127.0.0.1", box_port)
        self.user, self.secret = user, secret
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.port = self.sock.getsockname()[1]
        self._waiting: dict[str, queue.Queue] = {}
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._closed = False
        self.stray = 0
        self._reader = threading.Thread(target=self._read, name=f"sipua-{user}", daemon=True)
        self._reader.start()

    # -- the socket -----------------------------------------------------------------------

    def _read(self) -> None:
        while not self._closed:
            try:
                data, _ = self.sock.recvfrom(65535)
            except OSError:
                return
            at = time.perf_counter()
            try:
                msg = parse(data)
            except SipParseError:
                continue
            if msg.method is not None:
                self._answer_request(msg)
                continue
            with self._lock:
                box = self._waiting.get(msg.call_id or "")
            if box is None:
                self.stray += 1
            else:
                box.put((at, msg))

    def _answer_request(self, msg) -> None:
        # What the box may send in a dialog of ours: BYE (it hung up), OPTIONS, INFO, NOTIFY.
        if msg.method == "ACK":
            return
        self.sock.sendto(make_response(msg, 200, headers=[("Content-Length", "0")]).to_bytes(), self.box)

    def close(self) -> None:
        self._closed = True
        self.sock.close()

    # -- messages ---------------------------------------------------------------------------

    def _headers(self, method: str, uri: str, call_id: str, cseq: int, from_tag: str, to_tag: str = "",
                 branch: str | None = None, extra: list[str] | None = None, body: bytes = b"") -> bytes:
        to = f"<{uri}>" + (f";tag={to_tag}" if to_tag else "")
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};branch={branch or 'z9hG4bK' + secrets.token_hex(8)};rport",
                 "Max-Forwards: 70",
                 f"From: <sip:{self.user}@127.0.0.1>;tag={from_tag}",
                 f"To: {to}",
                 f"Call-ID: {call_id}",
                 f"CSeq: {cseq} {method}",
                 f"Contact: <sip:{self.user}@127.0.0.1:{self.port}>",
                 "User-Agent: Callbox-bench"]
        lines += extra or []
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def _transaction(self, box: queue.Queue, data: bytes, cseq: int, want_final: bool = True,
                     timeout: float = 15.0, record: Placed | None = None):
        """Send a request and yield (time, response) for its CSeq until a final one, retransmitting
        until anything is heard."""
        self.sock.sendto(data, self.box)
        deadline = time.monotonic() + timeout
        next_retrans, interval, heard = time.monotonic() + T1, T1, False
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise CallFailed("no answer in time")
            try:
                at, msg = box.get(timeout=max(0.001, min(deadline, next_retrans if not heard else deadline) - now))
            except queue.Empty:
                if not heard and time.monotonic() >= next_retrans:
                    self.sock.sendto(data, self.box)
                    if record is not None:
                        record.retransmissions += 1
                    interval = min(interval * 2, 4.0)
                    next_retrans = time.monotonic() + interval
                continue
            if msg.cseq[0] != cseq:
                continue       # a retransmitted answer to an earlier request of this call
            heard = True
            yield at, msg
            if msg.status >= 200 or not want_final:
                return

    # -- what a user does -------------------------------------------------------------------------

    def register(self, expires: int = 3600) -> None:
        call_id = f"reg-{secrets.token_hex(6)}"
        box = queue.Queue()
        with self._lock:
            self._waiting[call_id] = box
        uri = f"sip:127.0.0.1:{self.box[1]}"
        try:
            extra = [f"Expires: {expires}"]
            for cseq in (1, 2):
                data = self._headers("REGISTER", uri, call_id, cseq, "r" + call_id[-6:], extra=extra)
                data = data.replace(f"To: <{uri}>".encode(), f"To: <sip:{self.user}@127.0.0.1>".encode())
                final = None
                for _, msg in self._transaction(box, data, cseq):
                    final = msg
                if final.status == 200:
                    return
                if final.status != 401 or cseq == 2:
                    raise CallFailed(f"REGISTER answered {final.status} {final.reason}")
                answer = client_response("REGISTER", uri, self.user, self.secret, final.get("WWW-Authenticate"))
                extra = [f"Expires: {expires}", f"Authorization: {answer}"]
        finally:
            with self._lock:
                self._waiting.pop(call_id, None)

    def call(self, callee: str, media_port: int) -> Placed:
        """Place a call and return once it is answered (raises CallFailed otherwise); hang up with bye()."""
        call_id = f"bench-{next(self._seq)}-{secrets.token_hex(4)}@127.0.0.1"
        placed = Placed(callee, call_id)
        box: queue.Queue = queue.Queue()
        with self._lock:
            self._waiting[call_id] = box
        uri = f"sip:{callee}@127.0.0.1:{self.box[1]}"
        from_tag = placed.from_tag = secrets.token_hex(4)
        sdp = (f"v=0\r\no=bench {next(self._seq)} 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {media_port} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\na=ptime:20\r\na=sendrecv\r\n").encode()
        extra: list[str] = []
        try:
            for cseq in (1, 2):
                branch = "z9hG4bK" + secrets.token_hex(8)
                data = self._headers("INVITE", uri, call_id, cseq, from_tag, branch=branch, extra=extra, body=sdp)
                placed.cseq = cseq
                placed.invite_at = time.perf_counter()
                final = None
                for at, msg in self._transaction(box, data, cseq, record=placed):
                    placed.responses.append(msg.status)
                    if msg.status == 180 and placed.ringing_at is None:
                        placed.ringing_at = at
                    final = msg
                to_tag = _tag(final.get("To") or "")
                if final.status == 407 and cseq == 1:
                    # ACK the 407 in its own transaction (same branch), then again with credentials.
                    self.sock.sendto(self._headers("ACK", uri, call_id, cseq, from_tag, to_tag, branch=branch),
                                     self.box)
                    placed.challenged = True
                    answer = client_response("INVITE", uri, self.user, self.secret, final.get("Proxy-Authenticate"))
                    extra = [f"Proxy-Authorization: {answer}"]
                    continue
                if final.status >= 300:
                    self.sock.sendto(self._headers("ACK", uri, call_id, cseq, from_tag, to_tag, branch=branch),
                                     self.box)
                    raise CallFailed(f"{final.status} {final.reason}")
                placed.answered_at = time.perf_counter()
                placed.to_tag = to_tag
                placed.answer_sdp = final.body
                self.sock.sendto(self._headers("ACK", uri, call_id, cseq, from_tag, to_tag), self.box)
                return placed
            raise CallFailed("challenged twice")
        except CallFailed as e:
            placed.error = str(e)
            with self._lock:
                self._waiting.pop(call_id, None)
            raise

    def bye(self, placed: Placed, timeout: float = 10.0) -> int:
        """Hang up an answered call; the status of the BYE's answer."""
        with self._lock:
            box = self._waiting.get(placed.call_id)
        if box is None:
            return 0
        uri = f"sip:{placed.callee}@127.0.0.1:{self.box[1]}"
        cseq = placed.cseq + 1
        data = self._headers("BYE", uri, placed.call_id, cseq, placed.from_tag, placed.to_tag)
        status = 0
        try:
            for _, msg in self._transaction(box, data, cseq, timeout=timeout):
                status = msg.status
        except CallFailed:
            status = 408
        finally:
            with self._lock:
                self._waiting.pop(placed.call_id, None)
        return status


def _tag(header: str) -> str:
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "tag":
            return value
    return ""
