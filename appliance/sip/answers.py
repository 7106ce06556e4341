"""The edge's own answers to requests: built from the request (RFC 3261 §8.2.6), stamped with
where it came from, sent back there, and kept so that a retransmitted request gets the same bytes
again (§17.2) instead of being handled twice. Bytes that do not parse get a 400 only when they
look like a request with the headers an answer needs; anything else gets nothing, so that the
edge cannot be used as a reflector."""

from __future__ import annotations

import hashlib
import struct
import time
from typing import Callable

from appliance.errors import SipParseError
from appliance.sip.message import SipMessage, make_response
from appliance.sip.source import Source
from appliance.sip.via_stamping import stamp_received, stamp_response

__all__ = ["ANSWER_CACHE_S", "ANSWER_CACHE_MAX", "AnswerCache", "Answers", "answer_to_garbage",
           "http_date", "transaction_key"]

# RFC 3261 Timer J (64*T1): how long a server transaction's final answer is kept for retransmissions.
ANSWER_CACHE_S = 32.0
ANSWER_CACHE_MAX = 5000  # beyond it the registrar still recognises a re-sent REGISTER

Send = Callable[[bytes, str, tuple[str, int]], None]


# An answer is kept as one bytes object: when it expires (a double), then the answer; thousands are
# kept under load, and a tuple and a float each would cost more than most answers' headers.
_EXPIRES = struct.Struct("<d")


class AnswerCache:
    """Final answers the edge sent itself, by transaction, for a while (RFC 3261 §17.2)."""

    def __init__(self, clock: Callable[[], float], ttl: float = ANSWER_CACHE_S, size: int = ANSWER_CACHE_MAX):
        self.clock, self.ttl, self.size = clock, ttl, size
        # Oldest first: a plain dict keeps its insertion order (an OrderedDict's links would cost 45
        # bytes more per answer, thousands of them under load).
        self._items: dict[tuple, bytes] = {}

    def get(self, key: tuple) -> bytes | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        if _EXPIRES.unpack_from(hit)[0] < self.clock():
            del self._items[key]
            return None
        return hit[_EXPIRES.size:]

    def put(self, key: tuple, data: bytes) -> None:
        items = self._items
        items.pop(key, None)  # an answer given again goes to the end
        items[key] = _EXPIRES.pack(self.clock() + self.ttl) + data
        while len(items) > self.size:
            del items[next(iter(items))]


class Answers:
    """Answer requests, and answer their retransmissions with the same bytes."""

    def __init__(self, send: Send, clock: Callable[[], float] = time.monotonic):
        self.send = send
        self.cache = AnswerCache(clock)

    def reply(self, req: SipMessage, source: Source, status: int, reason: str | None = None,
              headers: list[tuple[str, str]] | tuple = ()) -> None:
        resp = make_response(req, status, reason, to_tag=_to_tag(req) if status >= 200 else None,
                             headers=list(headers) + [("Server", "Callbox")])
        if not stamp_response(resp, req, source):
            stamp_received(resp, source)
        data = resp.to_bytes()
        if status >= 200:
            key = transaction_key(req, source)
            if key is not None:
                self.cache.put(key, data)
        # Where the request came from (rport behaviour): what every phone behind a NAT needs.
        self.send(data, source.transport, (source.ip, source.port))

    def send_again(self, req: SipMessage, source: Source) -> bool:
        """Whether `req` is a retransmission of a request answered here; if so the answer went again."""
        key = transaction_key(req, source)
        if key is None:
            return False
        again = self.cache.get(key)
        if again is None:
            return False
        self.send(again, source.transport, (source.ip, source.port))
        return True

    def answered_its_invite(self, req: SipMessage, source: Source) -> bool:
        """Whether the INVITE that this ACK or CANCEL belongs to was answered here (a 407, say)."""
        key = transaction_key(req, source)
        return key is not None and self.cache.get(key[:4] + ("INVITE",)) is not None


def transaction_key(req: SipMessage, source: Source) -> tuple | None:
    """RFC 3261 §17.2.3: the top Via's branch (with the method and where it came from)."""
    lines = req.get_lines("Via")
    if not lines:
        return None
    top = lines[0]
    if len(lines) > 1 or "," in top or not top.strip():
        # Several lines or comma-joined ones: split as get_all does, refusing what it refuses
        # (an empty first line stands for the first item of the next one).
        vias = req.get_all("Via")
        if not vias:
            return None
        top = vias[0]
    else:
        top = top.strip()
    i = top.find("branch=")
    if i < 0:
        return None
    branch = top[i + 7:].split(";", 1)[0].split(",", 1)[0].strip()
    return (source.transport, source.ip, source.port, branch, req.method)


def _to_tag(req: SipMessage) -> str:
    # Deterministic per request so retransmitted requests get identical answers.
    return hashlib.blake2s(f"{req.call_id}|{req.cseq[0]}".encode(), digest_size=6).hexdigest()


_date_cache: tuple[int, str] = (-1, "")


def http_date() -> str:
    """The Date header value for now (RFC 3261 §20.17), made once a second."""
    global _date_cache
    now = time.time()
    second = int(now)
    if _date_cache[0] != second:
        _date_cache = (second, time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)))
    return _date_cache[1]


def answer_to_garbage(data: bytes, err: SipParseError) -> bytes | None:
    """The 400 (or 413) for bytes that failed to parse, or None when they deserve no answer: only
    what is recognisably a request with the headers a response needs is answered (answering junk
    would make the box a reflector)."""
    try:
        head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = head.split("\r\n")
    if not lines or lines[0].startswith("SIP/2.0") or " SIP/2.0" not in lines[0]:
        return None
    keep = {"via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"}
    copied = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in keep:
            copied.append(f"{name.strip()}: {value.strip()}")
    if not any(c.lower().startswith(("via", "v:")) for c in copied):
        return None
    reason = err.reason.replace("\r", " ").replace("\n", " ")[:100]
    status = err.status if err.status in (400, 413, 414, 505) else 400
    text = "Bad Request" if status == 400 else "Request Entity Too Large" if status == 413 else "Error"
    resp = f"SIP/2.0 {status} {text}\r\n" + "\r\n".join(copied) + \
        f"\r\nWarning: 399 callbox \"{reason}\"\r\nContent-Length: 0\r\n\r\n"
    return resp.encode()
