"""The SIP edge's side for browser phones (SIP over WebSocket, docs/browser-phone.md): requests on a
browser's connection, calls to a browser through the edge (browser_routes.py), the SDP through the
media bridge's hook (browser_phones.py), and a browser that goes away (browser_dialogs.py).

A part of `SipEdge` (edge.py), which it is mixed into: it uses the edge's registrar, forwarding,
answers, websockets and keys as the edge made them.
"""

from __future__ import annotations

import ipaddress
import logging

from appliance.errors import SipParseError
from appliance.sip.bindings import Binding, ContactRequest, RegisterRequest
from appliance.sip.browser_dialogs import BrowserDialog, bye_for, bye_to_browser
from appliance.sip.browser_phones import carries_sdp, ends_a_call, identity_refusal, is_webrtc_sdp
from appliance.sip.browser_routes import browser_route, names_edge_route
from appliance.sip.identity import sign_identity
from appliance.sip.message import SipMessage, parse_name_addr
from appliance.sip.parser import parse
from appliance.sip.source import Source
from appliance.sip.websocket_transport import WSS

__all__ = ["BrowserPhonesOnEdge"]

log = logging.getLogger("callbox.sip.edge")


class BrowserPhonesOnEdge:
    """Mixed into SipEdge: everything the edge does for and with browser phones."""

    def _authenticate(self, req: SipMessage, source: Source, header: str, challenge_status: int) -> str | None:
        """Who sent a request: for a browser phone the extension its ticket opened the connection
        for (and the request must not claim another); for anybody else, digest."""
        if source.transport != WSS:
            return self.authentication.authenticate(req, source, header, challenge_status)
        ext = self.websockets.extension_of(source)
        if ext is None:  # the connection has gone meanwhile
            self.stats.dropped += 1
            return None
        if self.auth.lookup_secret(ext) is None:  # the extension was deleted since its ticket
            self.answers.reply(req, source, 403, "Forbidden")
            return None
        refusal = identity_refusal(req, ext)
        if refusal is not None:
            log.info("%s from browser phone %s at %s:%d: %s", req.method, ext, source.ip, source.port, refusal)
            self.answers.reply(req, source, 403, refusal)
            return None
        return ext

    def _on_browser_request(self, req: SipMessage, source: Source) -> None:
        """A request on a browser phone's connection: in its extension's name, never a trunk's,
        never by its source address; ACK and CANCEL only for a call it placed, or an ACK inside a
        dialog, to the worker."""
        routes = req.get_all("Route")
        if routes and names_edge_route(routes[0]):
            req.remove_first("Route")  # the edge's own, recorded in the dialog (browser_routes.py)
        if ends_a_call(req) and self.browser_dialogs.is_of(req.call_id or "", source):
            self.browser_media.call_over(req)
        self.browser_dialogs.browser_sent(req, source)
        if req.method in ("ACK", "CANCEL"):  # never challenged
            # An ACK inside a dialog (of a re-INVITE, or of a call the box placed) goes to the
            # worker's Contact like the dialog's other requests; else only for a call it placed.
            worker = self._worker_of_dialog(req) if req.method == "ACK" and _in_dialog(req) else None
            ext = self.websockets.extension_of(source) if worker is not None else None
            if worker is not None and ext is not None:
                self.forwarding.forward(req, source, ext, worker)
            else:
                self._on_ack_or_cancel(req, source)
            return
        ext = self._authenticate(req, source, "Proxy-Authorization", 407)
        if ext is None:
            return
        if req.method == "SUBSCRIBE" and self.mwi is not None and \
                (req.get("Event") or "").split(";")[0].strip().lower() == "message-summary":
            self._subscribe_mwi(req, source, ext)
            return

        in_dialog = _in_dialog(req)
        if req.method == "INVITE" and not in_dialog:
            # The worker reaches the browser again through the edge, never at its .invalid Contact.
            req.add("Record-Route", f"<{self.browser_route(source)};lr>", first=True)
            self.browser_dialogs.browser_invites(req, source, ext)
        worker = self._worker_of_dialog(req) if in_dialog else None

        def forward(msg: SipMessage) -> None:
            if self.forwarding.forward(msg, source, ext, worker) and msg.method == "INVITE" and not in_dialog:
                self.placed.put(msg.call_id, ext, source.ip)

        if carries_sdp(req) and is_webrtc_sdp(req.body):
            self.browser_media.from_browser(req, ext, forward)  # the media bridge's hook
        else:
            forward(req)

    def browser_route(self, connection: Source, user: str = "") -> str:
        """The edge's URI that leads to one browser's connection (sip/browser_routes.py)."""
        return browser_route(self.identity_key, connection, self.local_address(), user)

    def contacts_to_call(self, aor: str) -> list[str]:
        """Where the engine calls an extension's phones: a desk phone at its Contact, a browser
        phone at its route through the edge."""
        return [self.browser_route(b.source, aor) if b.source.transport == WSS else b.contact
                for b in self.registrar.lookup(aor)]

    def _is_box(self, ip: str) -> bool:
        """One of the box's own addresses, where its workers are (never a source from the LAN)."""
        return ip in self.own_hosts or ip == self.advertised_host or _loopback(ip)

    def _worker_of_dialog(self, req: SipMessage) -> tuple[str, int] | None:
        """Inside a dialog a browser sends to the worker's Contact, as a desk phone would; only a
        worker's (the box's own address), never another host of the browser's choosing."""
        try:
            uri = req.request_uri
        except (SipParseError, ValueError):
            return None
        if self._is_box(uri.host) and uri.port and uri.port != self.port:
            return uri.host, uri.port
        return None

    def _toward_browser(self, req: SipMessage, source: Source, connection: Source, new_call: bool) -> None:
        """A worker's request for a browser phone: on that browser's connection, and only there."""
        ext = self.websockets.extension_of(connection)
        binding = next((b for b in self.registrar.bindings(ext) if b.source == connection), None) if ext else None
        if ext is None or (new_call and binding is None):
            if req.method != "ACK":
                self.answers.reply(req, source, 480, "Temporarily Unavailable")
            return
        if new_call:
            req.uri = binding.contact
            if req.method == "INVITE":
                req.add("Record-Route", f"<{self.browser_route(connection)};lr>", first=True)
                self.browser_dialogs.worker_invites(req, connection, ext)
        else:
            req.remove_first("Route")
        self.browser_dialogs.worker_sent(req)
        if ends_a_call(req):
            self.browser_media.call_over(req)
        self.forwarding.to_browser(req, source, connection, f"{self.advertised_host}:{self.wss_port}")

    def _relay(self, resp: SipMessage, source: Source) -> None:
        """A response back along its path; a browser's answer (WebRTC SDP) through the media bridge."""
        if source.transport == WSS:
            if ends_a_call(resp) and self.browser_dialogs.is_of(resp.call_id or "", source):
                self.browser_media.call_over(resp)
            self.browser_dialogs.browser_sent(resp, source)
            ext = self.websockets.extension_of(source)
            if ext is not None and carries_sdp(resp) and is_webrtc_sdp(resp.body):
                self.browser_media.from_browser(resp, ext, lambda m: self.forwarding.relay(m, source))
                return
        self.forwarding.relay(resp, source)

    def _to_browser(self, data: bytes, addr: tuple[str, int]) -> None:
        ext = self.websockets.extension_of(Source(WSS, addr[0], addr[1]))
        if ext is None:
            log.debug("no browser connection at %s:%d any more", *addr)
            return
        if data.startswith(b"SIP/2.0 ") or b"application/sdp" in data.split(b"\r\n\r\n", 1)[0].lower():
            try:
                msg = parse(data)
            except SipParseError:
                msg = None
            if msg is not None and not msg.is_request:  # a worker's answer: the call may be set up, or over
                self.browser_dialogs.worker_sent(msg)
                if ends_a_call(msg):
                    self.browser_media.call_over(msg)
            if msg is not None and carries_sdp(msg):
                self.browser_media.to_browser(msg, ext, lambda m: self.websockets.send(addr, m.to_bytes()))
                return
        self.websockets.send(addr, data)

    def _ticket_refused(self, ip: str) -> None:
        """A bad ticket counts like a wrong password. Over TLS the address cannot be forged, so
        it is counted against that address even where a phone is registered."""
        ban = self.guard.auth_failed(ip)
        if ban is not None:
            log.warning("banned %s: %s (browser phone tickets)", ip, ban.reason)
            self.events.publish("ban", **ban.to_dict())

    def _browser_gone(self, source: Source, extension: str, said_goodbye: bool = False) -> None:
        """A browser's connection ended: nothing can reach its registrations any more. The reason
        says whether the page closed it ("page closed") or the network lost it."""
        for dialog in self.browser_dialogs.gone(source):
            self._bye_for_browser(dialog)  # its calls end, rather than leave their callers in silence
        gone = [b for b in self.registrar.bindings(extension) if b.source == source]
        for b in gone:
            self._unbind(b, "page closed" if said_goodbye else "connection closed")
        if gone:
            log.info("browser phone %s at %s:%d went away", extension, source.ip, source.port)

    def hang_up_browser_call(self, call_id: str) -> None:
        """A browser call's media ended without a BYE (the browser or its network went, or the
        bridge stopped): the worker gets one in the browser's name, the browser one too if it is there."""
        dialog = self.browser_dialogs.take(call_id)
        if dialog is None:
            return
        self._bye_for_browser(dialog)
        if dialog.browser_contact and self.websockets.extension_of(dialog.connection) is not None:
            bye = bye_to_browser(dialog, f"{self.advertised_host}:{self.wss_port}")
            self.websockets.send((dialog.connection.ip, dialog.connection.port), bye.to_bytes())

    def _bye_for_browser(self, dialog: BrowserDialog) -> None:
        try:
            uri = SipMessage.request("BYE", dialog.worker_contact).request_uri
        except (SipParseError, ValueError):
            return
        if not (self._is_box(uri.host) and uri.port):
            return  # only ever to a worker of this box
        bye = bye_for(dialog, self.local_address())
        bye.set("X-Callbox-Auth", sign_identity(self.identity_key, dialog.call_id, dialog.extension, self.clock()))
        log.info("browser phone %s gone: BYE for its call %s", dialog.extension, dialog.call_id)
        self.browser_media.call_over(bye)
        self.send(bye.to_bytes(), "udp", (uri.host, uri.port))

    def _unbind(self, b: Binding, reason: str = "connection closed") -> None:
        result = self.registrar.register(RegisterRequest(
            aor=b.aor, call_id=b.call_id, cseq=b.cseq + 1, expires_header=0, source=b.source,
            contacts=[ContactRequest(uri=b.contact, expires=0, q=None, raw=b.contact)]))
        if result.changed:
            self.registration.bindings_changed()
            self.events.publish("unregistration", aor=b.aor, contact=b.contact, reason=reason)


def _in_dialog(req: SipMessage) -> bool:
    """Whether a request belongs to a dialog (its To has a tag)."""
    return bool(parse_name_addr(req.get("To") or "").params.get("tag"))


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
