"""The SIP edge: sockets, and the glue between the parser, the registrar,
digest authentication, the guard and stateless forwarding.

It is the only part of the box that a phone (or a scanner) talks to first.
What it decides lives in the pure modules next to it; this module turns
datagrams and TCP streams into calls of those and their answers into bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import logging
import socket
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from appliance.errors import SipParseError
from appliance.events import EventBus
from appliance.sip import message as sipmsg
from appliance.sip.digest import FOREIGN_NONCE, REPLAYED, DigestAuth
from appliance.sip.identity import sign_identity
from appliance.sip.registrar import ContactRequest, RegisterRequest, Registrar, Source, contact_refusal
from appliance.sip.security import Guard, Verdict

log = logging.getLogger("callbox.sip.edge")

ALLOW = "INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, REFER, NOTIFY, SUBSCRIBE, INFO, MESSAGE, UPDATE, PRACK"
# Our Via branches carry this mark so that we recognise responses to what we forwarded.
BRANCH_MARK = "z9hG4bKcbx"
# Headers a phone must never be able to set on what reaches the engine.
TRUSTED_HEADERS = ("X-Callbox-Auth", "P-Asserted-Identity")
# Methods that cannot be challenged: forwarded only for a call the edge placed, or dropped.
UNCHALLENGEABLE = ("ACK", "CANCEL")
# Methods a phone must authenticate every time, whatever its source address: they can place a call,
# transfer one, learn about someone's voicemail or send a message (Asterisk and FreePBX challenge
# them the same way). Trunks are still trusted by their address.
CHALLENGED = ("INVITE", "REFER", "SUBSCRIBE", "MESSAGE")


# RFC 3261 Timer J (64*T1): how long a server transaction's final answer is kept for retransmissions.
ANSWER_CACHE_S = 32.0
ANSWER_CACHE_MAX = 5000  # beyond it the registrar still recognises a re-sent REGISTER
# Bytes of UDP receive buffer asked for (see _widen_receive_buffer).
UDP_RECEIVE_BUFFER = 4 * 1024 * 1024
# The Request-URI schemes the edge serves; others get 416 (RFC 3261 §8.2.2.1).
URI_SCHEMES = ("sip", "sips")
# Max-Forwards above this is treated as this (any number of digits is legal, RFC 3261 §20.22).
MAX_FORWARDS_CAP = 255


@dataclass(frozen=True)
class EdgeLimits:
    """Limits of the edge's sockets that are not settings (yet): the defaults are what the box runs."""

    # A TCP message once begun (headers or body) must be complete within this (Kamailio: 20 s).
    tcp_message_timeout_s: float = 10.0
    # A TCP connection that sent nothing this long is closed, unless a live registration was made over it.
    tcp_idle_timeout_s: float = 120.0
    # TCP connections one address may hold (phones behind an office NAT share an address).
    tcp_per_address: int = 64
    # TCP connections in all (the process has 1,024 file descriptors by default).
    tcp_total: int = 512
    # Answers queued for a TCP peer that does not read them: beyond this it is cut off.
    tcp_write_buffer: int = 256 * 1024
    # Forwarded requests whose responses the edge will relay (where each must go).
    relay_paths: int = 20_000
    # How long a forwarded request's responses are relayed: an INVITE may ring for minutes.
    relay_invite_s: float = 300.0
    relay_other_s: float = 64.0
    # Datagrams read from the UDP socket per wake-up (then handled, registered phones first).
    udp_batch: int = 256


@dataclass(frozen=True)
class RelayPath:
    """Where the responses to one forwarded request go, and who may send them."""

    source: Source
    target_host: str
    expires: float


class RelayPaths:
    """The branches the edge created when forwarding, with where their responses go: a response
    is relayed only along such a path, never to a host named by a Via it carries. Bounded in size
    (oldest forgotten first) and in time."""

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


@dataclass(frozen=True)
class PlacedCall:
    """An INVITE the edge forwarded for an authenticated phone: who placed it, from which host."""

    ext: str
    ip: str
    expires: float


class PlacedCalls:
    """Call-IDs of the INVITEs the edge forwarded for phones, so that an ACK or a CANCEL (which
    cannot be challenged) is forwarded only for a call placed from the same host, in the name of
    the extension that placed it. Bounded in size (oldest forgotten first) and in time."""

    def __init__(self, clock: Callable[[], float], size: int, ttl: float):
        self.clock, self.size, self.ttl = clock, size, ttl
        self._items: OrderedDict[str, PlacedCall] = OrderedDict()

    def put(self, call_id: str, ext: str, ip: str) -> None:
        self._items.pop(call_id, None)
        self._items[call_id] = PlacedCall(ext, ip, self.clock() + self.ttl)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def get(self, call_id: str) -> PlacedCall | None:
        placed = self._items.get(call_id)
        if placed is not None and placed.expires < self.clock():
            del self._items[call_id]
            return None
        return placed

    def __len__(self) -> int:
        return len(self._items)


class AnswerCache:
    """Final answers the edge sent itself, so a retransmitted request gets the same bytes again
    (RFC 3261 §17.2) instead of being handled twice (a repeated REGISTER would look out of order)."""

    def __init__(self, clock: Callable[[], float], ttl: float = ANSWER_CACHE_S, size: int = ANSWER_CACHE_MAX):
        self.clock, self.ttl, self.size = clock, ttl, size
        self._items: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()

    def get(self, key: tuple) -> bytes | None:
        hit = self._items.get(key)
        if hit is None:
            return None
        if hit[0] < self.clock():
            del self._items[key]
            return None
        return hit[1]

    def put(self, key: tuple, data: bytes) -> None:
        self._items[key] = (self.clock() + self.ttl, data)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


@dataclass
class EdgeStats:
    received: int = 0
    malformed: int = 0
    dropped: int = 0
    forwarded: int = 0
    responses_relayed: int = 0
    retransmissions_answered: int = 0
    tcp_refused: int = 0
    tcp_timed_out: int = 0


class SipEdge:
    def __init__(
        self,
        *,
        registrar: Registrar,
        guard: Guard,
        auth: DigestAuth,
        events: EventBus,
        identity_key: bytes,
        forward_target: Callable[[sipmsg.SipMessage, str], tuple[str, int] | None],
        on_bindings_changed: Callable[[], None] = lambda: None,
        advertised_host: str = "127.0.0.1",
        clock: Callable[[], float] = time.time,
        registrar_clock: Callable[[], float] = time.monotonic,
        trunk_of: Callable[[Source, sipmsg.SipMessage], str | None] = lambda source, req: None,
        response_hook: Callable[[sipmsg.SipMessage], bool] = lambda msg: False,
        limits: EdgeLimits = EdgeLimits(),
    ):
        self.registrar = registrar
        self.guard = guard
        self.auth = auth
        self.events = events
        self.identity_key = identity_key
        self.forward_target = forward_target
        self.on_bindings_changed = on_bindings_changed
        self.advertised_host = advertised_host
        self.clock = clock
        self.registrar_clock = registrar_clock
        self.trunk_of = trunk_of
        self.mwi = None  # an MwiService when voicemail runs
        self.response_hook = response_hook
        self.stats = EdgeStats()
        self.limits = limits
        self.answers = AnswerCache(time.monotonic)
        self.paths = RelayPaths(time.monotonic, limits.relay_paths)
        # An ACK for a 200 comes after the ringing, which may last as long as the INVITE's path.
        self.placed = PlacedCalls(time.monotonic, limits.relay_paths, limits.relay_invite_s + ANSWER_CACHE_S)
        self.udp: _UdpEndpoint | None = None
        self.tcp_server: asyncio.base_events.Server | None = None
        self.tcp_conns: dict[tuple[str, int], asyncio.Transport] = {}
        self.tcp_per_ip: dict[str, int] = {}
        self.port = 0
        self._own_hosts: frozenset[str] = frozenset()
        self._own_loopback = False

    # --- sockets -------------------------------------------------------------

    async def start(self, host: str, port: int, tcp: bool = True) -> int:
        """Listen on UDP and TCP at the same port; port 0 picks one free for both."""
        loop = asyncio.get_running_loop()
        for attempt in range(20 if port == 0 else 1):
            # SO_REUSEADDR lets the plug-and-play listener bind the multicast group on the same port.
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                raise
            self.udp = _UdpEndpoint(self, sock, loop)
            self.port = sock.getsockname()[1]
            _widen_receive_buffer(sock)
            if not tcp:
                break
            try:
                self.tcp_server = await loop.create_server(lambda: _TcpProtocol(self), host, self.port)
                break
            except OSError:
                self.udp.close()
                if port != 0 or attempt == 19:
                    raise
        self._own_hosts = frozenset({host, self.advertised_host})
        self._own_loopback = _is_loopback(host) or host in ("0.0.0.0", "::", "")
        log.info("SIP edge listening on %s:%d (udp%s)", host, self.port, "+tcp" if tcp else "")
        return self.port

    def _is_own_address(self, ip: str, port: int) -> bool:
        """Whether ip:port is the edge's own socket: it never talks to itself."""
        return port == self.port and (ip in self._own_hosts or (self._own_loopback and _is_loopback(ip)))

    async def stop(self) -> None:
        if self.udp:
            self.udp.close()
        if self.tcp_server:
            self.tcp_server.close()
            for t in list(self.tcp_conns.values()):
                t.close()
            await self.tcp_server.wait_closed()

    def send(self, data: bytes, transport: str, addr: tuple[str, int]) -> None:
        if self._is_own_address(addr[0], addr[1]):
            log.debug("not sending to the edge's own address %s:%s", *addr)
            return
        if transport == "tcp":
            conn = self.tcp_conns.get(addr)
            if conn is not None and not conn.is_closing():
                conn.write(data)
                if conn.get_write_buffer_size() > self.limits.tcp_write_buffer:
                    # A peer that sends requests and never reads the answers would fill our memory.
                    log.info("cutting off TCP %s:%d: it does not read its answers", *addr)
                    conn.abort()
                return
            log.debug("no TCP connection to %s:%d; answering over UDP", *addr)
        if self.udp is not None:
            self.udp.sendto(data, addr)

    # --- messages --------------------------------------------------------------

    def handle_batch(self, batch: list[tuple[bytes, Source]]) -> None:
        """Datagrams read in one go: those from registered phones first, so a flood queued with
        them cannot delay or starve them."""
        registered = self.registrar.is_registered_source
        later = []
        for data, source in batch:
            if registered(source) is not None:
                self._handle_safely(data, source, True)
            else:
                later.append((data, source))
        for data, source in later:
            self._handle_safely(data, source, False)

    def _handle_safely(self, data: bytes, source: Source, registered: bool) -> None:
        try:
            self.handle(data, source, registered)
        except Exception:  # a bug must not take the edge down for every other phone
            log.exception("error handling a message from %s:%d", source.ip, source.port)

    def handle(self, data: bytes, source: Source, registered: bool | None = None) -> None:
        self.stats.received += 1
        if self._is_own_address(source.ip, source.port):
            self.stats.dropped += 1  # forged: the edge never sends to itself
            return
        if registered is None:
            registered = self.registrar.is_registered_source(source) is not None
        # Responses from where we forwarded requests (the engine) are never rate-limited;
        # everything else is checked by its address before it costs a parse.
        if not (_looks_like_response(data) and self.paths.is_target(source.ip)):
            if self.guard.check_address(source.ip, source if registered else None).verdict is not Verdict.ALLOW:
                self.stats.dropped += 1
                return
        try:
            msg = sipmsg.parse(data)
        except SipParseError as e:
            self.stats.malformed += 1
            log.info("malformed SIP from %s:%d: %s", source.ip, source.port, e.reason)
            self._answer_malformed(data, e, source)
            return
        if not msg.is_request:
            self._on_response(msg, source)
            return
        if self.guard.check_agent(msg.get("User-Agent") or "").verdict is not Verdict.ALLOW:
            self.stats.dropped += 1
            return
        try:
            self._on_request(msg, source)
        except (SipParseError, ValueError) as e:
            # A header parsed only when somebody needs it (From, To, Contact, Event ...) was bad.
            self._refuse_malformed(msg, source, getattr(e, "reason", None) or str(e))

    def _refuse_malformed(self, req: sipmsg.SipMessage, source: Source, reason: str) -> None:
        self.stats.malformed += 1
        log.info("malformed %s from %s:%d: %s", req.method, source.ip, source.port, reason)
        if req.method == "ACK":
            return
        warning = reason.replace("\"", "'")[:100]
        try:
            self._reply(req, source, 400, "Bad Request", [("Warning", f'399 callbox "{warning}"')])
        except (SipParseError, ValueError) as e:
            log.info("no answer possible to a malformed request from %s:%d: %s", source.ip, source.port, e)

    def malformed_stream(self, rest: bytes, err: SipParseError, source: Source) -> None:
        """Bytes on a TCP connection that fail to frame: a 400 (or 413) when they begin like a
        request, before the connection is closed."""
        self.stats.malformed += 1
        log.info("closing TCP connection from %s:%d: %s", source.ip, source.port, err.reason)
        if self.guard.check_address(source.ip).verdict is Verdict.ALLOW:
            self._answer_malformed(rest[:sipmsg.MAX_MESSAGE_BYTES], err, source)

    def _answer_malformed(self, data: bytes, err: SipParseError, source: Source) -> None:
        # Only answer what is recognisably a request with the headers a response needs;
        # anything else is dropped (answering junk would make us a reflector).
        try:
            head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8")
        except UnicodeDecodeError:
            return
        lines = head.split("\r\n")
        if not lines or lines[0].startswith("SIP/2.0") or " SIP/2.0" not in lines[0]:
            return
        keep = {"via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"}
        copied = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep and name.strip().lower() in keep:
                copied.append(f"{name.strip()}: {value.strip()}")
        if not any(c.lower().startswith(("via", "v:")) for c in copied):
            return
        reason = err.reason.replace("\r", " ").replace("\n", " ")[:100]
        status = err.status if err.status in (400, 413, 414, 505) else 400
        text = "Bad Request" if status == 400 else "Request Entity Too Large" if status == 413 else "Error"
        resp = f"SIP/2.0 {status} {text}\r\n" + "\r\n".join(copied) + \
            f"\r\nWarning: 399 callbox \"{reason}\"\r\nContent-Length: 0\r\n\r\n"
        self.send(resp.encode(), source.transport, (source.ip, source.port))

    def _reply(self, req: sipmsg.SipMessage, source: Source, status: int, reason: str | None = None,
               headers: list[tuple[str, str]] | tuple = ()) -> None:
        resp = sipmsg.make_response(req, status, reason, to_tag=_to_tag(req) if status >= 200 else None,
                                    headers=list(headers) + [("Server", "Callbox")])
        if not _stamp_response(resp, req, source):
            self._stamp_received(resp, source)
        data = resp.to_bytes()
        if status >= 200:
            key = _transaction_key(req, source)
            if key is not None:
                self.answers.put(key, data)
        self.send(data, source.transport, self._response_address(resp, source))

    def _on_request(self, req: sipmsg.SipMessage, source: Source) -> None:
        method = req.method
        key = _transaction_key(req, source)
        if key is not None:
            again = self.answers.get(key)
            if again is not None:
                self.stats.retransmissions_answered += 1
                self.send(again, source.transport, (source.ip, source.port))
                return
        if req.uri.partition(":")[0].lower() not in URI_SCHEMES:
            # tel:, urn:, im: ... (RFC 3261 §8.2.2.1): nothing here serves them.
            if method != "ACK":
                self._reply(req, source, 416, "Unsupported URI Scheme")
            return
        if method == "REGISTER":
            self._on_register(req, source)
        elif method == "OPTIONS" and _addressed_to_us(req):
            self._reply(req, source, 200, headers=[("Allow", ALLOW), ("Accept", "application/sdp"),
                                                   ("Supported", "replaces, timer")])
        else:
            self._on_other(req, source)

    def _authenticate(self, req: sipmsg.SipMessage, source: Source, header: str,
                      challenge_status: int) -> str | None:
        """The authenticated user, or None after answering with a challenge or a failure."""
        value = req.get(header)
        challenge_header = "WWW-Authenticate" if challenge_status == 401 else "Proxy-Authenticate"
        if value is None or _auth_scheme(value) != "digest":
            # No credentials, or of a scheme we do not speak (a phone configured for something
            # else): not a failed login — a guesser cannot gain anything from it.
            if value is not None:
                log.info("%s with a %s scheme from %s:%d: challenged", header, _auth_scheme(value)[:20] or "blank",
                         source.ip, source.port)
            self._reply(req, source, challenge_status,
                        headers=[(challenge_header, c) for c in self.auth.challenge(client=source.ip)])
            return None
        if self.registrar.is_registered_source(source) is None and not self.guard.admit_credentials(source.ip):
            # A protected address that kept failing: dropped, a real phone sends it again. The
            # exact source of a live registration is not slowed: failures forged from its address
            # must not keep the phone from calling (a forger there gets no nonce for it anyway).
            self.stats.dropped += 1
            return None
        # The nonce must have been issued to this address, the digest must name this Request-URI,
        # and its nonce count must not have answered another request (a retransmission may repeat it).
        key = _transaction_key(req, source)
        result = self.auth.verify(req.method, value, client=source.ip, uri=req.uri,
                                  request=(req.call_id, req.cseq[0], req.method, key[3] if key else ""))
        if result.ok:
            # Phones behind one NAT share an address: a success forgives earlier typos.
            self.guard.auth_succeeded(source.ip)
            return result.user
        if result.stale:
            if result.reason in (FOREIGN_NONCE, REPLAYED):
                log.info("%s from %s:%d: %s; challenged afresh", req.method, source.ip, source.port, result.reason)
            self._reply(req, source, challenge_status,
                        headers=[(challenge_header, c) for c in self.auth.challenge(stale=True, client=source.ip)])
            return None
        log.info("%s from %s:%d failed authentication: %s", req.method, source.ip, source.port, result.reason)
        ban = self.guard.auth_failed(source.ip, protected=self._protected(source, req))
        if ban is not None:
            log.warning("banned %s: %s", source.ip, ban.reason)
            self.events.publish("ban", **ban.to_dict())
        # The same answer for a wrong password and an unknown user: no enumeration.
        self._reply(req, source, 403, "Forbidden")
        return None

    def _protected(self, source: Source, req: sipmsg.SipMessage) -> bool:
        """An address a live registration or a trunk uses: failures slow it down, never ban it
        (over UDP anybody can forge them)."""
        if self.registrar.is_registered_address(source.ip):
            return True
        try:
            return self.trunk_of(source, req) is not None
        except Exception:
            log.exception("identifying a trunk for %s", source.ip)
            return False

    def _on_register(self, req: sipmsg.SipMessage, source: Source) -> None:
        try:
            aor = _aor_of(req.get("To") or "")
            contacts = [_contact_request(v) for v in req.get_all("Contact")]
            expires_header = _int_or_none(req.get("Expires"))
        except (SipParseError, ValueError) as e:
            self._reply(req, source, 400, f"Bad Request ({getattr(e, 'reason', e)})"[:80])
            return
        user = self._authenticate(req, source, "Authorization", 401)
        if user is None:
            return
        if user != aor:
            # Authenticated, but for someone else's extension: same failure as a wrong password.
            self._reply(req, source, 403, "Forbidden")
            return
        refusal = self._contact_refusal(req, source, contacts, expires_header)
        if refusal is not None:
            self._reply(req, source, 403, refusal)
            return
        cseq, _ = req.cseq
        result = self.registrar.register(RegisterRequest(
            aor=aor, call_id=req.call_id, cseq=cseq, contacts=contacts, expires_header=expires_header,
            source=source, user_agent=req.get("User-Agent") or ""))
        headers: list[tuple[str, str]] = []
        if result.status == 200:
            now = self.registrar_clock()
            for b in result.bindings:
                headers.append(("Contact", f"<{b.contact}>;expires={b.expires_in(now)}"))
            headers.append(("Date", _http_date()))
        elif result.status == 423 and result.min_expires:
            headers.append(("Min-Expires", str(result.min_expires)))
        self._reply(req, source, result.status, result.reason, headers)
        if result.changed:
            self.on_bindings_changed()
            if any(c.star or c.expires == 0 for c in contacts) or expires_header == 0:
                self.events.publish("unregistration", aor=aor, source=_source_text(source))
            else:
                self.events.publish("registration", aor=aor, source=_source_text(source),
                                    contacts=[b.contact for b in result.bindings],
                                    user_agent=req.get("User-Agent") or "")

    def _contact_refusal(self, req: sipmsg.SipMessage, source: Source, contacts: list[ContactRequest],
                         expires_header: int | None) -> str | None:
        """Why a REGISTER's contacts may not be bound (see registrar.contact_refusal), or None.
        Removing a contact (expires 0, or *) is always allowed."""

        def is_trunk(ip: str, port: int) -> bool:
            try:
                return self.trunk_of(Source(source.transport, ip, port), req) is not None
            except Exception:
                log.exception("identifying a trunk at %s", ip)
                return True

        for contact in contacts:
            expiry = contact.expires if contact.expires is not None else expires_header
            if contact.star or expiry == 0:
                continue
            refusal = contact_refusal(contact.uri, source, is_own=self._is_own_address, is_trunk=is_trunk)
            if refusal is not None:
                log.warning("refused a REGISTER of %s from %s:%d: %s (%s)", req.get("To"), source.ip, source.port,
                            refusal, contact.uri[:120])
                return refusal
        return None

    def _on_other(self, req: sipmsg.SipMessage, source: Source) -> None:
        method = req.method
        ext = self.registrar.is_registered_source(source)
        if ext is None:
            trunk = self.trunk_of(source, req)
            if trunk is not None:
                # A configured provider or gateway: trusted by its address, never challenged.
                self._forward(req, source, f"trunk:{trunk}")
                return
        if method in UNCHALLENGEABLE:
            self._on_ack_or_cancel(req, source)
            return
        # A registration's source address is no proof of identity: anybody can send from it over
        # UDP. It still vouches for in-dialog requests (BYE, INFO, ...), which cannot start a call.
        if ext is None or method in CHALLENGED:
            ext = self._authenticate(req, source, "Proxy-Authorization", 407)
            if ext is None:
                return
        if method == "SUBSCRIBE" and self.mwi is not None and \
                (req.get("Event") or "").split(";")[0].strip().lower() == "message-summary":
            self._subscribe_mwi(req, source, ext)
            return
        call_id = req.call_id
        if self._forward(req, source, ext) and method == "INVITE":
            self.placed.put(call_id, ext, source.ip)

    def _on_ack_or_cancel(self, req: sipmsg.SipMessage, source: Source) -> None:
        """ACK and CANCEL cannot be challenged: forwarded only for a call the edge placed for a
        phone on the same host, in the name of the extension that placed it."""
        key = _transaction_key(req, source)
        if key is not None and self.answers.get(key[:4] + ("INVITE",)) is not None:
            # The ACK of (or a CANCEL for) an INVITE the edge answered itself (its 407): nothing
            # to forward. A CANCEL after the final answer changes nothing (RFC 3261 §9.2).
            if req.method == "CANCEL":
                self._reply(req, source, 200)
            return
        placed = self.placed.get(req.call_id)
        if placed is None or placed.ip != source.ip:
            self.stats.dropped += 1
            return
        self._forward(req, source, placed.ext)

    def _subscribe_mwi(self, req: sipmsg.SipMessage, source: Source, ext: str) -> None:
        resp, notify = self.mwi.subscribe(req, ext, (source.ip, source.port), f"{self.advertised_host}:{self.port}")
        self._stamp_received(resp, source)
        self.send(resp.to_bytes(), source.transport, (source.ip, source.port))
        if notify is not None:
            self.send(notify, source.transport, (source.ip, source.port))

    def notify_mwi(self, aor: str, unsolicited: bool = False) -> int:
        """Tell the phones of `aor` about their voicemail; the number of NOTIFYs sent."""
        if self.mwi is None:
            return 0
        local = f"{self.advertised_host}:{self.port}"
        sent = 0
        for data, target in self.mwi.changed(aor, local):
            self.send(data, "udp", target)
            sent += 1
        if unsolicited and not sent:
            for b in self.registrar.lookup(aor):
                self.send(self.mwi.unsolicited(aor, b.contact, (b.source.ip, b.source.port), local),
                          b.source.transport, (b.source.ip, b.source.port))
                sent += 1
        return sent

    # --- stateless forwarding (RFC 3261 §16.11) ---------------------------------

    def _forward(self, req: sipmsg.SipMessage, source: Source, ext: str) -> bool:
        """Forward a request to the engine (or sip.forward_to); False when it was answered here instead."""
        target = self.forward_target(req, ext)
        if target is None:
            if req.method != "ACK":
                self._reply(req, source, 503, "Service Unavailable", [("Retry-After", "5")])
            return False
        mf = _max_forwards(req.get("Max-Forwards"))
        if mf is not None and mf <= 0:
            if req.method != "ACK":
                self._reply(req, source, 483)
            return False
        req.set("Max-Forwards", str(70 if mf is None else mf - 1))
        for name in TRUSTED_HEADERS:
            req.remove(name)
        req.remove("Proxy-Authorization")
        self._stamp_received(req, source)
        top = req.get_all("Via")[0]
        # The same branch for retransmissions and the CANCEL/ACK of the same request.
        key = f"{top}|{req.call_id}|{req.cseq[0]}".encode()
        branch = BRANCH_MARK + hashlib.blake2s(key, digest_size=10).hexdigest()
        ttl = self.limits.relay_invite_s if req.method == "INVITE" else self.limits.relay_other_s
        self.paths.put(branch, source, target[0], ttl)
        req.add("Via", f"SIP/2.0/UDP {self.advertised_host}:{self.port};branch={branch};rport", first=True)
        req.set("X-Callbox-Auth", sign_identity(self.identity_key, req.call_id, ext, self.clock()))
        self.stats.forwarded += 1
        self.send(req.to_bytes(), "udp", target)
        return True

    def _on_response(self, resp: sipmsg.SipMessage, source: Source) -> None:
        if self.response_hook(resp):
            return  # an answer to our own request (a registration to a provider)
        # Relayed only along a path the edge made when it forwarded the request, to where that
        # request came from: never to a host named by the response's own Vias.
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

    def _stamp_received(self, msg: sipmsg.SipMessage, source: Source) -> None:
        """RFC 3261 §18.2.1 received= and RFC 3581 rport= on the top Via of a request (or its response)."""
        vias = msg.get_all("Via")
        if not vias:
            return
        try:
            via = sipmsg.parse_via(vias[0])
        except SipParseError:
            return
        if _stamp_via(via, source):
            msg.remove_first("Via")
            msg.add("Via", str(via), first=True)

    def _response_address(self, resp: sipmsg.SipMessage, source: Source) -> tuple[str, int]:
        # Answer where the request came from (rport behaviour) — what every phone behind NAT needs.
        return (source.ip, source.port)


def _is_ip(host: str) -> bool:
    """Whether responses must come from exactly this host: an IP address, not a wildcard
    (a worker bound to 0.0.0.0 answers from a real address) and not a name."""
    try:
        return not ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _looks_like_response(data: bytes) -> bool:
    if data.startswith(b"SIP/2.0 "):
        return True
    return data.startswith(b"\r\n") and data.lstrip(b"\r\n").startswith(b"SIP/2.0 ")


def _auth_scheme(value: str) -> str:
    """The scheme of an Authorization value, lowercase ("digest")."""
    parts = value.split(None, 1)
    return parts[0].lower() if parts else ""


def _max_forwards(value: str | None) -> int | None:
    """Max-Forwards as a number (the parser checked it is digits), capped at MAX_FORWARDS_CAP."""
    if value is None:
        return None
    digits = value.strip().lstrip("0")
    if not digits.isdigit():
        return 0 if value.strip().isdigit() else None
    return MAX_FORWARDS_CAP if len(digits) > 3 else min(int(digits), MAX_FORWARDS_CAP)


def _widen_receive_buffer(sock: socket.socket) -> None:
    """Room for a burst of requests while the loop is busy or the CPU is taken by another process:
    the kernel's default (~200 kB, a few hundred datagrams) overflows within milliseconds at a few
    thousand requests a second, and every datagram lost costs a retransmission half a second later.
    The kernel caps the size at net.core.rmem_max."""
    try:
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) < UDP_RECEIVE_BUFFER:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
    except OSError as e:
        log.debug("could not widen the UDP receive buffer: %s", e)


def _stamp_via(via: sipmsg.Via, source: Source) -> bool:
    """Add received= and fill in an empty rport= for where the message came from; whether anything changed."""
    changed = False
    if via.host != source.ip:
        via.params["received"] = source.ip
        changed = True
    if "rport" in via.params and not via.params["rport"]:
        via.params["rport"] = str(source.port)
        via.params["received"] = source.ip
        changed = True
    return changed


def _stamp_response(resp: sipmsg.SipMessage, req: sipmsg.SipMessage, source: Source) -> bool:
    """_stamp_received for a response of make_response(req), without parsing its Via again: the
    request's top Via was parsed with the request. False when the response is not of that shape."""
    headers = resp.headers
    top = req.get("Via")
    if not headers or headers[0] != ("Via", top):
        return False
    vias = 1
    while vias < len(headers) and headers[vias][0] == "Via":
        if "," in headers[vias][1]:
            return False  # get_all would split it, and may refuse it
        vias += 1
    if any(n.lower() == "via" for n, _ in headers[vias:]):
        return False
    try:
        via = req.top_via
    except SipParseError:
        return False
    if _stamp_via(via, source):
        # As remove_first("Via") and add("Via", ..., first=True) would: the rest of a comma-joined line stays.
        items = sipmsg.split_header_list(top) if "," in top else ()
        rest = [("Via", ", ".join(items[1:]))] if len(items) > 1 else []
        resp.headers = [("Via", str(via)), *rest, *headers[1:]]
    return True


_date_cache: tuple[int, str] = (-1, "")


def _http_date() -> str:
    """The Date header value for now (RFC 3261 §20.17), made once a second."""
    global _date_cache
    now = time.time()
    second = int(now)
    if _date_cache[0] != second:
        _date_cache = (second, time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now)))
    return _date_cache[1]


def _transaction_key(req: sipmsg.SipMessage, source: Source) -> tuple | None:
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


def _to_tag(req: sipmsg.SipMessage) -> str:
    # Deterministic per request so retransmitted requests get identical answers.
    return hashlib.blake2s(f"{req.call_id}|{req.cseq[0]}".encode(), digest_size=6).hexdigest()


def _addressed_to_us(req: sipmsg.SipMessage) -> bool:
    """OPTIONS for a user goes to that user (forwarded); OPTIONS for the box is answered here."""
    try:
        return not sipmsg.parse_uri(req.uri or "").user
    except SipParseError:
        return True


# A phone sends the same To and Contact with every REGISTER: what they came to is remembered
# (only what parsed; a bad one is refused afresh each time).
_REMEMBERED_MAX = 4096
_aors: dict[str, str] = {}
_contacts: dict[str, tuple[str, int | None, float | None]] = {}


def _remember(cache: dict, key: str, value) -> None:
    if len(cache) >= _REMEMBERED_MAX:
        cache.clear()
    cache[key] = value


def _aor_of(to: str) -> str:
    """The extension a REGISTER's To names."""
    aor = _aors.get(to)
    if aor is None:
        uri = sipmsg.parse_name_addr(to).uri
        if uri is None:  # "To: *" is a Contact's word, not an address
            raise ValueError("To must name an address")
        aor = uri.user or ""
        _remember(_aors, to, aor)
    return aor


def _contact_request(value: str) -> ContactRequest:
    if value.strip() == "*":
        return ContactRequest(uri="*", expires=None, q=None, raw=value, star=True)
    known = _contacts.get(value)
    if known is None:
        na = sipmsg.parse_name_addr(value)
        expires = na.params.get("expires")
        q = na.params.get("q")
        known = (str(na.uri), int(expires) if expires not in (None, "") else None,
                 float(q) if q not in (None, "") else None)
        _remember(_contacts, value, known)
    return ContactRequest(uri=known[0], expires=known[1], q=known[2], raw=value)


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit() or len(value) > 10:
        raise ValueError(f"not a number: {value!r}")
    return int(value)


def _source_text(source: Source) -> str:
    return f"{source.transport}:{source.ip}:{source.port}"


class _UdpEndpoint:
    """The UDP socket, read in batches: one wake-up drains up to `udp_batch` datagrams, so the
    kernel's buffer empties quickly under a flood, and the edge then handles registered phones
    first (asyncio's datagram transport hands over one datagram per wake-up, in arrival order)."""

    def __init__(self, edge: SipEdge, sock: socket.socket, loop: asyncio.AbstractEventLoop):
        self.edge = edge
        self.sock = sock
        self.loop = loop
        self.sources: dict[tuple, Source] = {}  # a phone sends from one address again and again
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._readable)
        self._closed = False

    def get_extra_info(self, name: str):
        if name == "sockname":
            return self.sock.getsockname()
        if name == "socket":
            return self.sock
        return None

    def _readable(self) -> None:
        batch: list[tuple[bytes, Source]] = []
        recv = self.sock.recvfrom
        for _ in range(self.edge.limits.udp_batch):
            try:
                data, addr = recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:  # an ICMP error reported on the socket
                log.debug("UDP error: %s", e)
                continue
            if data in (b"\r\n\r\n", b"\r\n", b"\x00\x00\x00\x00"):
                continue  # NAT keep-alives
            source = self.sources.get(addr)
            if source is None:
                source = Source("udp", addr[0], addr[1])
                _remember(self.sources, addr, source)
            batch.append((data, source))
        if batch:
            self.edge.handle_batch(batch)

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._closed:
            return
        try:
            self.sock.sendto(data, addr)
        except (OSError, OverflowError, ValueError, TypeError) as e:
            # A full socket buffer (the datagram is lost, as on the wire) or an address that
            # cannot be sent to.
            log.debug("could not send to %r: %s", addr, e)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()


class _TcpProtocol(asyncio.Protocol):
    """One TCP connection: framed by Content-Length, limited per address, timed out when a
    message stays incomplete or the connection idles (unless a phone registered over it)."""

    def __init__(self, edge: SipEdge):
        self.edge = edge
        self.framer = sipmsg.StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.addr: tuple[str, int] | None = None
        self.source: Source | None = None
        self.counted = False
        self.timer: asyncio.TimerHandle | None = None
        self.last_data = 0.0
        self.begun_at: float | None = None  # when the incomplete message in the framer began

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.addr = (peer[0], peer[1])
        self.source = Source("tcp", peer[0], peer[1])
        edge, limits = self.edge, self.edge.limits
        if edge.guard.check_address(peer[0]).verdict is not Verdict.ALLOW:
            transport.close()
            return
        if edge.tcp_per_ip.get(peer[0], 0) >= limits.tcp_per_address or len(edge.tcp_conns) >= limits.tcp_total:
            edge.stats.tcp_refused += 1
            log.info("refusing TCP connection from %s:%d: too many connections", *self.addr)
            transport.abort()
            return
        edge.tcp_per_ip[peer[0]] = edge.tcp_per_ip.get(peer[0], 0) + 1
        self.counted = True
        edge.tcp_conns[self.addr] = self.transport  # type: ignore[assignment]
        self.last_data = time.monotonic()
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        now = time.monotonic()
        self.last_data = now
        messages, error = self.framer.read(data)
        for m in messages:
            self.edge._handle_safely(m, self.source, None)  # type: ignore[arg-type]
        if error is not None:
            try:
                self.edge.malformed_stream(self.framer.rest(), error, self.source)  # type: ignore[arg-type]
            except Exception:
                log.exception("error answering bad bytes from %s:%d", *self.addr)  # type: ignore[misc]
            self.transport.close()
            return
        if self.framer.pending:
            if self.begun_at is None or messages:
                self.begun_at = now
        else:
            self.begun_at = None
        self._arm()

    def _arm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        limits = self.edge.limits
        if self.begun_at is not None:
            due = self.begun_at + limits.tcp_message_timeout_s
        else:
            due = self.last_data + limits.tcp_idle_timeout_s
        self.timer = asyncio.get_running_loop().call_at(
            asyncio.get_running_loop().time() + max(0.0, due - time.monotonic()), self._due)

    def _due(self) -> None:
        self.timer = None
        if self.transport is None or self.transport.is_closing():
            return
        limits = self.edge.limits
        now = time.monotonic()
        if self.begun_at is not None:
            if now - self.begun_at >= limits.tcp_message_timeout_s:
                self.edge.stats.tcp_timed_out += 1
                log.info("closing TCP connection from %s:%d: a message stayed incomplete for %g s",
                         *self.addr, limits.tcp_message_timeout_s)  # type: ignore[misc]
                self.transport.abort()
                return
        elif now - self.last_data >= limits.tcp_idle_timeout_s:
            if self.edge.registrar.is_registered_source(self.source) is None:  # type: ignore[arg-type]
                self.edge.stats.tcp_timed_out += 1
                log.info("closing idle TCP connection from %s:%d", *self.addr)  # type: ignore[misc]
                self.transport.close()
                return
            self.last_data = now  # a phone registered over it: calls may come to it this way
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.addr and self.edge.tcp_conns.get(self.addr) is self.transport:
            del self.edge.tcp_conns[self.addr]
        if self.counted and self.addr:
            self.counted = False
            n = self.edge.tcp_per_ip.get(self.addr[0], 0) - 1
            if n > 0:
                self.edge.tcp_per_ip[self.addr[0]] = n
            else:
                self.edge.tcp_per_ip.pop(self.addr[0], None)
