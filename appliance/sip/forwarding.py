"""Stateless forwarding between phones and the engine workers (RFC 3261 §16.11).

A request the edge admitted goes to the engine worker that `forward_target` names, signed with
the name of whoever asked for it (sip/identity.py: engine workers obey only the edge) and with
every header a phone could use to pass itself off as the edge removed. Its responses come back
along the path the edge made when it forwarded it, and only along such a path: never to a host
named by a Via that the response carries.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from appliance.errors import SipParseError
from appliance.sip.edge_limits import EdgeLimits, EdgeStats
from appliance.sip.message import SipMessage
from appliance.sip.source import Source
from appliance.sip.via_stamping import stamp_received

__all__ = ["BRANCH_MARK", "TRUSTED_HEADERS", "MAX_FORWARDS_CAP", "RelayPath", "RelayPaths", "Forwarding",
           "max_forwards"]

# Our Via branches carry this mark so that we recognise responses to what we forwarded.
BRANCH_MARK = "z9hG4bKcbx"
# Headers a phone must never be able to set on what reaches the engine.
TRUSTED_HEADERS = ("X-Callbox-Auth", "P-Asserted-Identity")
# Max-Forwards above this is treated as this (any number of digits is legal, RFC 3261 §20.22).
MAX_FORWARDS_CAP = 255


@dataclass(frozen=True)
class RelayPath:
    """Where the responses to one forwarded request go, and who may send them."""

    source: Source
    target_host: str
    expires: float


class RelayPaths:
    """The branches the edge created when forwarding, with where their responses go. Bounded in
    size (oldest forgotten first) and in time."""

    def __init__(self, clock: Callable[[], float], size: int):
        self.clock, self.size = clock, size
        self._items: OrderedDict[str, RelayPath] = OrderedDict()
        # target host -> how many paths lead there: responses from those hosts are not rate-limited
        self._targets: dict[str, int] = {}

    def put(self, branch: str, source: Source, target_host: str, ttl: float) -> None:
        old = self._items.pop(branch, None)
        if old is not None:
            self._untarget(old.target_host)
        self._items[branch] = RelayPath(source, target_host, self.clock() + ttl)
        self._targets[target_host] = self._targets.get(target_host, 0) + 1
        while len(self._items) > self.size:
            _, gone = self._items.popitem(last=False)
            self._untarget(gone.target_host)

    def get(self, branch: str) -> RelayPath | None:
        path = self._items.get(branch)
        if path is None:
            return None
        if path.expires < self.clock():
            del self._items[branch]
            self._untarget(path.target_host)
            return None
        return path

    def is_target(self, host: str) -> bool:
        return host in self._targets

    def __len__(self) -> int:
        return len(self._items)

    def _untarget(self, host: str) -> None:
        n = self._targets.get(host, 0) - 1
        if n > 0:
            self._targets[host] = n
        else:
            self._targets.pop(host, None)


class Forwarding:
    """Requests out to the engine workers, their responses back to whoever sent the request.

    `target(req, ext)`: the engine worker's address, None when there is none (503);
    `reply(req, source, status, reason, headers)`: answer a request here;
    `send(data, transport, addr)`: put bytes on the wire;
    `via_host()`: the host:port the edge puts in its own Via;
    `sign(call_id, ext)`: the X-Callbox-Auth value that proves the request came through the edge.
    """

    def __init__(self, *, target: Callable[[SipMessage, str], tuple[str, int] | None],
                 reply: Callable[..., None], send: Callable[[bytes, str, tuple[str, int]], None],
                 via_host: Callable[[], str], sign: Callable[[str, str], str],
                 paths: RelayPaths, limits: EdgeLimits, stats: EdgeStats):
        self.target, self.reply, self.send = target, reply, send
        self.via_host, self.sign = via_host, sign
        self.paths, self.limits, self.stats = paths, limits, stats

    def forward(self, req: SipMessage, source: Source, ext: str, target: tuple[str, int] | None = None) -> bool:
        """Forward a request to the engine (or sip.forward_to), or to `target` (a worker's Contact
        inside a dialog); False when it was answered here instead."""
        target = target or self.target(req, ext)
        if target is None:
            if req.method != "ACK":
                self.reply(req, source, 503, "Service Unavailable", [("Retry-After", "5")])
            return False
        if not self._on_its_way(req, source, target[0], f"SIP/2.0/UDP {self.via_host()}"):
            return False
        req.set("X-Callbox-Auth", self.sign(req.call_id, ext))
        self.stats.forwarded += 1
        self.send(req.to_bytes(), "udp", target)
        return True

    def to_browser(self, req: SipMessage, source: Source, connection: Source, sent_by: str) -> bool:
        """A worker's request on a browser phone's connection (sip/browser_routes.py); its
        responses come back to the worker like any others. `sent_by`: the edge's WebSocket host:port."""
        if not self._on_its_way(req, source, connection.ip, f"SIP/2.0/WSS {sent_by}"):
            return False
        self.stats.forwarded += 1
        self.send(req.to_bytes(), connection.transport, (connection.ip, connection.port))
        return True

    def _on_its_way(self, req: SipMessage, source: Source, target_host: str, via: str) -> bool:
        """Max-Forwards, the headers nobody may bring, the edge's Via and the way back; False when
        the request was answered here instead (483)."""
        mf = max_forwards(req.get("Max-Forwards"))
        if mf is not None and mf <= 0:
            if req.method != "ACK":
                self.reply(req, source, 483)
            return False
        req.set("Max-Forwards", str(70 if mf is None else mf - 1))
        for name in TRUSTED_HEADERS:
            req.remove(name)
        req.remove("Proxy-Authorization")
        stamp_received(req, source)
        top = req.get_all("Via")[0]
        # The same branch for retransmissions and the CANCEL/ACK of the same request.
        key = f"{top}|{req.call_id}|{req.cseq[0]}".encode()
        branch = BRANCH_MARK + hashlib.blake2s(key, digest_size=10).hexdigest()
        ttl = self.limits.relay_invite_s if req.method == "INVITE" else self.limits.relay_other_s
        self.paths.put(branch, source, target_host, ttl)
        req.add("Via", f"{via};branch={branch};rport", first=True)
        return True

    def relay(self, resp: SipMessage, source: Source) -> None:
        """A response to a request the edge forwarded: back along that request's path, or dropped."""
        try:
            path = self.paths.get(resp.top_via.params.get("branch") or "")
            if path is None or (source.ip != path.target_host and _is_ip(path.target_host)) \
                    or len(resp.get_all("Via")) < 2:
                self.stats.dropped += 1
                return
            resp.remove_first("Via")
        except SipParseError:
            self.stats.dropped += 1
            return
        self.stats.responses_relayed += 1
        self.send(resp.to_bytes(), path.source.transport, (path.source.ip, path.source.port))


def max_forwards(value: str | None) -> int | None:
    """Max-Forwards as a number (the parser checked it is digits), capped at MAX_FORWARDS_CAP."""
    if value is None:
        return None
    digits = value.strip().lstrip("0")
    if not digits.isdigit():
        return 0 if value.strip().isdigit() else None
    return MAX_FORWARDS_CAP if len(digits) > 3 else min(int(digits), MAX_FORWARDS_CAP)


def _is_ip(host: str) -> bool:
    """Whether responses must come from exactly this host: an IP address, not a wildcard
    (a worker bound to 0.0.0.0 answers from a real address) and not a name."""
    try:
        return not ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False
