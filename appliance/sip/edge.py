"""The SIP edge: the part of the box that a phone (or a scanner) talks to first.

It puts the edge's parts together and dispatches what arrives: sockets (transport.py), the guard
(security.py), the parser, retransmissions and its own answers (answers.py), OPTIONS pings and
keep-alives (keepalive.py), phones registering (phone_registration.py), authentication of
requests (request_auth.py), the calls it placed (placed_calls.py), forwarding to the engine
workers (forwarding.py) and MWI (mwi.py); browser phones over WebSocket (websocket_transport.py,
browser_tickets.py, browser_phones.py, browser_routes.py, browser_dialogs.py; the edge's side of
them in edge_browsers.py, mixed in). What each decides lives in those modules; this one
turns datagrams, TCP and WebSocket messages into calls of them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from pathlib import Path
from typing import Callable

from appliance.errors import SipParseError
from appliance.events import EventBus
from appliance.sip.answers import ANSWER_CACHE_S, Answers, answer_to_garbage
from appliance.sip.browser_phones import UNCHANGED, BrowserMedia
from appliance.sip.browser_dialogs import BrowserDialogs
from appliance.sip.browser_routes import route_of_request
from appliance.sip.browser_tickets import BrowserTickets
from appliance.sip.edge_browsers import BrowserPhonesOnEdge
from appliance.sip.digest import DigestAuth
from appliance.sip.edge_limits import EdgeLimits, EdgeStats
from appliance.sip.forwarding import Forwarding, RelayPaths
from appliance.sip.identity import sign_identity
from appliance.sip.keepalive import PING_ANSWER_HEADERS, is_ping_for_the_box
from appliance.sip.message import SipMessage
from appliance.sip.parser import MAX_MESSAGE_BYTES, parse
from appliance.sip.phone_registration import PhoneRegistration
from appliance.sip.placed_calls import PlacedCalls
from appliance.sip.registrar import Registrar
from appliance.sip.request_auth import RequestAuthentication
from appliance.sip.security import Guard, Verdict
from appliance.sip.source import Source
from appliance.sip.transport import TcpConnections, UdpSocket, widen_receive_buffer
from appliance.sip.via_stamping import stamp_received
from appliance.sip.websocket_transport import WSS, WebSocketLimits, WebSocketListener
from appliance.sip.wss_certificate import WssCertificate

__all__ = ["SipEdge", "EdgeLimits", "EdgeStats", "CHALLENGED", "UNCHALLENGEABLE", "URI_SCHEMES"]

log = logging.getLogger("callbox.sip.edge")

# Methods that cannot be challenged: forwarded only for a call the edge placed, or dropped.
UNCHALLENGEABLE = ("ACK", "CANCEL")
# Methods a phone must authenticate every time, whatever its source address: they can place a call,
# transfer one, learn about someone's voicemail or send a message (Asterisk and FreePBX challenge
# them the same way). Trunks are still trusted by their address.
CHALLENGED = ("INVITE", "REFER", "SUBSCRIBE", "MESSAGE")
# The Request-URI schemes the edge serves; others get 416 (RFC 3261 §8.2.2.1).
URI_SCHEMES = ("sip", "sips")


class SipEdge(BrowserPhonesOnEdge):
    def __init__(
        self,
        *,
        registrar: Registrar,
        guard: Guard,
        auth: DigestAuth,
        events: EventBus,
        identity_key: bytes,
        forward_target: Callable[[SipMessage, str], tuple[str, int] | None],
        on_bindings_changed: Callable[[], None] = lambda: None,
        advertised_host: str = "127.0.0.1",
        clock: Callable[[], float] = time.time,
        registrar_clock: Callable[[], float] = time.monotonic,
        trunk_of: Callable[[Source, SipMessage], str | None] = lambda source, req: None,
        response_hook: Callable[[SipMessage], bool] = lambda msg: False,
        limits: EdgeLimits = EdgeLimits(),
        browser_media: BrowserMedia = UNCHANGED,
        websocket_limits: WebSocketLimits = WebSocketLimits(),
    ):
        self.registrar = registrar
        self.guard = guard
        self.auth = auth
        self.events = events
        self.identity_key = identity_key
        self.clock = clock
        self.trunk_of = trunk_of
        self.advertised_host = advertised_host
        self.mwi = None  # an MwiService when voicemail runs
        self.response_hook = response_hook
        self.stats = EdgeStats()
        self.limits = limits
        self.udp: UdpSocket | None = None
        self.tcp_server: asyncio.base_events.Server | None = None
        self.port = 0
        self.wss_port = 0
        self.own_hosts: frozenset[str] = frozenset()
        self._own_loopback = False

        self.answers = Answers(self.send)
        self.paths = RelayPaths(time.monotonic, limits.relay_paths)
        # An ACK for a 200 comes after the ringing, which may last as long as the INVITE's path.
        self.placed = PlacedCalls(time.monotonic, limits.relay_paths, limits.relay_invite_s + ANSWER_CACHE_S)
        self.forwarding = Forwarding(
            target=forward_target, reply=self.answers.reply, send=self.send, via_host=self.local_address,
            sign=lambda call_id, ext: sign_identity(self.identity_key, call_id, ext, self.clock()),
            paths=self.paths, limits=limits, stats=self.stats)
        self.authentication = RequestAuthentication(
            auth=auth, guard=guard, registered_at=registrar.is_registered_source,
            registered_from=registrar.is_registered_address, trunk_of=trunk_of, reply=self.answers.reply,
            publish=events.publish, stats=self.stats)
        self.registration = PhoneRegistration(
            registrar=registrar, registrar_clock=registrar_clock, authenticate=self._authenticate,
            reply=self.answers.reply, is_own_address=self.is_own_address, trunk_of=trunk_of,
            bindings_changed=on_bindings_changed, publish=events.publish)
        self.tcp = TcpConnections(
            limits=limits, stats=self.stats,
            allow_address=lambda ip: guard.check_address(ip).verdict is Verdict.ALLOW,
            on_message=self.handle_safely, on_garbage=self.malformed_stream,
            keep_open=lambda source: registrar.is_registered_source(source) is not None)
        # Browser phones: a WebSocket opened with a ticket is that extension's (docs/browser-phone.md).
        self.browser_media = browser_media
        self.browser_dialogs = BrowserDialogs()
        self.browser_tickets = BrowserTickets(time.monotonic)
        self.websockets = WebSocketListener(
            allow_address=lambda ip: guard.check_address(ip).verdict is Verdict.ALLOW,
            redeem_ticket=self.browser_tickets.redeem, ticket_refused=self._ticket_refused,
            ticket_accepted=guard.auth_succeeded, on_message=self.handle_safely,
            keep_open=lambda source: registrar.is_registered_source(source) is not None,
            on_closed=self._browser_gone, limits=websocket_limits)

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
            self.udp = UdpSocket(sock, loop, self.handle_batch, self.limits.udp_batch)
            self.port = sock.getsockname()[1]
            widen_receive_buffer(sock)
            if not tcp:
                break
            try:
                self.tcp_server = await loop.create_server(self.tcp.connection, host, self.port)
                break
            except OSError:
                self.udp.close()
                if port != 0 or attempt == 19:
                    raise
        self.own_hosts = frozenset({host, self.advertised_host})
        self._own_loopback = _is_loopback(host) or host in ("0.0.0.0", "::", "")
        log.info("SIP edge listening on %s:%d (udp%s)", host, self.port, "+tcp" if tcp else "")
        return self.port

    def is_own_address(self, ip: str, port: int) -> bool:
        """Whether ip:port is the edge's own socket: it never talks to itself."""
        return port == self.port and (ip in self.own_hosts or (self._own_loopback and _is_loopback(ip)))

    def local_address(self) -> str:
        """host:port where phones reach the edge (its Via, MWI's Contact)."""
        return f"{self.advertised_host}:{self.port}"

    async def start_websockets(self, host: str, port: int, tls_directory: Path) -> int:
        """Listen for browser phones (SIP over WebSocket, TLS) at host:port with the certificate in
        `tls_directory` (the web page's, wss_certificate.py); port 0 leaves them off. Registrations
        made over WebSockets before a restart lost their connections: they go. A port another program
        holds leaves browser phones off (logged), never the rest of the box."""
        for b in self.registrar.all_bindings():
            if b.source.transport == WSS:
                self._unbind(b)
        if not port:
            return 0
        certificate = WssCertificate(tls_directory)
        certificate.context()  # made now if the web page has not made it yet, so that both serve the same
        try:
            self.wss_port = await self.websockets.start(host, port, certificate.context)
            return self.wss_port
        except OSError as e:
            log.error("browser phones are off: cannot listen on %s:%d: %s", host, port, e)
            return 0

    async def stop(self) -> None:
        await self.websockets.stop()
        if self.udp:
            self.udp.close()
        if self.tcp_server:
            self.tcp_server.close()
            self.tcp.close_all()
            await self.tcp_server.wait_closed()

    def send(self, data: bytes, transport: str, addr: tuple[str, int]) -> None:
        if self.is_own_address(addr[0], addr[1]):
            log.debug("not sending to the edge's own address %s:%s", *addr)
            return
        if transport == WSS:
            self._to_browser(data, addr)  # only ever on its connection: no other way reaches a browser
            return
        if transport == "tcp":
            conn = self.tcp.open_to(addr)
            if conn is not None:
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
                self.handle_safely(data, source, True)
            else:
                later.append((data, source))
        for data, source in later:
            self.handle_safely(data, source, False)

    def handle_safely(self, data: bytes, source: Source, registered: bool | None = None) -> None:
        """handle(), where a bug is logged instead of taking the edge down for every other phone."""
        try:
            self.handle(data, source, registered)
        except Exception:
            log.exception("error handling a message from %s:%d", source.ip, source.port)

    def handle(self, data: bytes, source: Source, registered: bool | None = None) -> None:
        self.stats.received += 1
        if self.is_own_address(source.ip, source.port):
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
            msg = parse(data)
        except SipParseError as e:
            self.stats.malformed += 1
            log.info("malformed SIP from %s:%d: %s", source.ip, source.port, e.reason)
            self._answer_garbage(data, e, source)
            return
        if not msg.is_request:
            if not self.response_hook(msg):  # else an answer to our own request (a registration to a provider)
                self._relay(msg, source)
            return
        if self.guard.check_agent(msg.get("User-Agent") or "").verdict is not Verdict.ALLOW:
            self.stats.dropped += 1
            return
        try:
            self._on_request(msg, source)
        except (SipParseError, ValueError) as e:
            # A header parsed only when somebody needs it (From, To, Contact, Event ...) was bad.
            self._refuse_malformed(msg, source, getattr(e, "reason", None) or str(e))

    def _refuse_malformed(self, req: SipMessage, source: Source, reason: str) -> None:
        self.stats.malformed += 1
        log.info("malformed %s from %s:%d: %s", req.method, source.ip, source.port, reason)
        if req.method == "ACK":
            return
        warning = reason.replace("\"", "'")[:100]
        try:
            self.answers.reply(req, source, 400, "Bad Request", [("Warning", f'399 callbox "{warning}"')])
        except (SipParseError, ValueError) as e:
            log.info("no answer possible to a malformed request from %s:%d: %s", source.ip, source.port, e)

    def malformed_stream(self, rest: bytes, err: SipParseError, source: Source) -> None:
        """Bytes on a TCP connection that fail to frame: a 400 (or 413) when they begin like a
        request, before the connection is closed."""
        self.stats.malformed += 1
        log.info("closing TCP connection from %s:%d: %s", source.ip, source.port, err.reason)
        if self.guard.check_address(source.ip).verdict is Verdict.ALLOW:
            self._answer_garbage(rest[:MAX_MESSAGE_BYTES], err, source)

    def _answer_garbage(self, data: bytes, err: SipParseError, source: Source) -> None:
        answer = answer_to_garbage(data, err)
        if answer is not None:
            self.send(answer, source.transport, (source.ip, source.port))

    def _on_request(self, req: SipMessage, source: Source) -> None:
        if self.answers.send_again(req, source):
            self.stats.retransmissions_answered += 1
            return
        if req.uri.partition(":")[0].lower() not in URI_SCHEMES:
            # tel:, urn:, im: ... (RFC 3261 §8.2.2.1): nothing here serves them.
            if req.method != "ACK":
                self.answers.reply(req, source, 416, "Unsupported URI Scheme")
            return
        if req.method == "REGISTER":
            self.registration.on_register(req, source)
        elif is_ping_for_the_box(req):
            self.answers.reply(req, source, 200, headers=list(PING_ANSWER_HEADERS))
        else:
            self._on_other(req, source)

    def _on_other(self, req: SipMessage, source: Source) -> None:
        """Who may place a call (or transfer one, subscribe, send a message): a trunk by its
        address, a phone by digest, an ACK or a CANCEL only for a call the edge placed."""
        method = req.method
        if source.transport == WSS:
            self._on_browser_request(req, source)
            return
        routed = route_of_request(self.identity_key, req) if self._is_box(source.ip) else None
        if routed is not None:
            self._toward_browser(req, source, *routed)  # a worker calls a browser phone
            return
        ext = self.registrar.is_registered_source(source)
        if ext is None:
            trunk = self.trunk_of(source, req)
            if trunk is not None:
                # A configured provider or gateway: trusted by its address, never challenged.
                self.forwarding.forward(req, source, f"trunk:{trunk}")
                return
        if method in UNCHALLENGEABLE:
            self._on_ack_or_cancel(req, source)
            return
        # A registration's source address is no proof of identity: anybody can send from it over
        # UDP. It still vouches for in-dialog requests (BYE, INFO, ...), which cannot start a call.
        if ext is None or method in CHALLENGED:
            ext = self.authentication.authenticate(req, source, "Proxy-Authorization", 407)
            if ext is None:
                return
        if method == "SUBSCRIBE" and self.mwi is not None and \
                (req.get("Event") or "").split(";")[0].strip().lower() == "message-summary":
            self._subscribe_mwi(req, source, ext)
            return
        call_id = req.call_id
        if self.forwarding.forward(req, source, ext) and method == "INVITE":
            self.placed.put(call_id, ext, source.ip)

    def _on_ack_or_cancel(self, req: SipMessage, source: Source) -> None:
        """ACK and CANCEL cannot be challenged: forwarded only for a call the edge placed for a
        phone on the same host, in the name of the extension that placed it."""
        if self.answers.answered_its_invite(req, source):
            # The ACK of (or a CANCEL for) an INVITE the edge answered itself (its 407): nothing
            # to forward. A CANCEL after the final answer changes nothing (RFC 3261 §9.2).
            if req.method == "CANCEL":
                self.answers.reply(req, source, 200)
            return
        placed = self.placed.get(req.call_id)
        if placed is None or placed.ip != source.ip or \
                (source.transport == WSS and placed.ext != self.websockets.extension_of(source)):
            self.stats.dropped += 1
            return
        self.forwarding.forward(req, source, placed.ext)

    # --- message waiting (MWI) -------------------------------------------------

    def _subscribe_mwi(self, req: SipMessage, source: Source, ext: str) -> None:
        resp, notify = self.mwi.subscribe(req, ext, (source.ip, source.port), self.local_address())
        stamp_received(resp, source)
        self.send(resp.to_bytes(), source.transport, (source.ip, source.port))
        if notify is not None:
            self.send(notify, source.transport, (source.ip, source.port))

    def notify_mwi(self, aor: str, unsolicited: bool = False) -> int:
        """Tell the phones of `aor` about their voicemail; the number of NOTIFYs sent."""
        if self.mwi is None:
            return 0
        local = self.local_address()
        sent = 0
        for data, target in self.mwi.changed(aor, local):
            # A browser that subscribed is reached on its connection; a desk phone over UDP.
            browser = self.websockets.extension_of(Source(WSS, *target)) is not None
            self.send(data, WSS if browser else "udp", target)
            sent += 1
        if unsolicited and not sent:
            for b in self.registrar.lookup(aor):
                self.send(self.mwi.unsolicited(aor, b.contact, (b.source.ip, b.source.port), local),
                          b.source.transport, (b.source.ip, b.source.port))
                sent += 1
        return sent


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _looks_like_response(data: bytes) -> bool:
    if data.startswith(b"SIP/2.0 "):
        return True
    return data.startswith(b"\r\n") and data.lstrip(b"\r\n").startswith(b"SIP/2.0 ")
