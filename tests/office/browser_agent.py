"""An agent's browser for tests: headless Chromium in a host of the test LAN, its WebRTC the test
page's (tests/webrtc/browser_page.py: a fake microphone playing a tone, FFT of what it hears), and
SIP over the page's own secure WebSocket to the box, opened with a ticket as the agent panel does.

The WebSocket and the RTCPeerConnection are Chromium's; the SIP on top is written here, in Python,
just enough for one call at a time (RFC 7118, RFC 3261): REGISTER, INVITE and its ACK, answering
an INVITE (180, 200, then the ACK), BYE both ways, with the route set that the box records.

    with agent_browser(desk, tone, tmp_path) as page:
        sip = BrowserSip(page, box_address, 7443, ticket, "1010")
        sip.register()
        offer = sip.wait_invite()
        sip.answer(page.evaluate("offer => phone.answer(offer)", offer))
"""

from __future__ import annotations

import contextlib
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tests.webrtc.browser_page import ARGS, CHROMIUM, PAGE_URL, PHONE_JS

REPO = Path(__file__).resolve().parents[2]
JSSIP = REPO / "web" / "static" / "jssip.min.js"

PIPE_JS = """
window.pipe = {
  inbox: [], closed: null,
  open(url) {
    return new Promise((done, fail) => {
      this.ws = new WebSocket(url, 'sip');
      this.ws.onopen = () => done(true);
      this.ws.onerror = () => fail(new Error('websocket error'));
      this.ws.onmessage = (e) => this.inbox.push(e.data);
      this.ws.onclose = (e) => { this.closed = e.code; };
    });
  },
  send(text) { this.ws.send(text); },
  take() { const out = this.inbox; this.inbox = []; return out; },
};
"""


# The agent panel's way with JsSIP (web/static/phone.js), without the panel: a UA on a ticket's
# URL, no STUN, no session timers, answering with the microphone; what it hears goes to `phone`.
JSSIP_AGENT_JS = """
window.agent = {
  events: [],
  start(url, ext, host) {
    const ua = new JsSIP.UA({sockets: [new JsSIP.WebSocketInterface(url)], uri: `sip:${ext}@${host}`,
        register: true, session_timers: false, connection_recovery_min_interval: 3600,
        connection_recovery_max_interval: 3600});
    ua.on('registered', () => this.events.push('registered'));
    ua.on('registrationFailed', (e) => this.events.push('registrationFailed ' + e.cause));
    ua.on('newRTCSession', (e) => {
      const s = this.session = e.session;
      this.events.push('session ' + e.originator);
      s.on('confirmed', () => {
        this.events.push('confirmed');
        phone.listen(new MediaStream(s.connection.getReceivers().map((r) => r.track)));
      });
      s.on('ended', (x) => this.events.push('ended ' + x.originator));
      s.on('hold', (x) => this.events.push('hold ' + x.originator));
      s.on('unhold', (x) => this.events.push('unhold ' + x.originator));
      s.on('failed', (x) => this.events.push('failed ' + x.cause));
    });
    this.ua = ua;
    ua.start();
  },
  options() {
    return {mediaConstraints: {audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false},
                               video: false}, pcConfig: {iceServers: []}};
  },
  answer() { this.session.answer(this.options()); },
  call(target) { this.ua.call(target, this.options()); },
  hangUp() { this.session.terminate(); },
  // JsSIP does nothing (false) while a re-INVITE is still under way.
  hold(on) { return on ? this.session.hold() : this.session.unhold(); },
  state() { return this.session && this.session.connection ? this.session.connection.connectionState : 'none'; },
};
"""


@contextlib.contextmanager
def agent_browser(host, tone_wav: Path, tmp: Path, jssip: bool = False) -> Iterator:
    """A page in headless Chromium inside `host`, with `phone` (WebRTC) and `pipe` (the WebSocket),
    or with `jssip` JsSIP as the agent panel loads it and `agent` (JSSIP_AGENT_JS). The box's certificate is the web page's self-signed one, which an agent accepts once; the
    test browser is told to accept it."""
    from playwright.sync_api import sync_playwright
    wrapper = tmp / "chromium-agent"
    wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {host.ns} {CHROMIUM} "$@"\n')
    os.chmod(wrapper, 0o755)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(wrapper), headless=True, args=ARGS + [
            f"--use-file-for-fake-audio-capture={tone_wav}", "--ignore-certificate-errors",
            # The test page comes from Playwright, not from the box: Chromium's local network
            # checks would take it for a public page reaching into the office LAN.
            "--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests"])
        try:
            page = browser.new_page(ignore_https_errors=True)
            page.set_default_timeout(20000)
            scripts = f"<script>{PHONE_JS}{PIPE_JS}</script>"
            if jssip:
                page.route(PAGE_URL + "/jssip.min.js", lambda route: route.fulfill(
                    content_type="text/javascript", body=JSSIP.read_text()))
                scripts += f'<script src="{PAGE_URL}/jssip.min.js"></script><script>{JSSIP_AGENT_JS}</script>'
            page.route(PAGE_URL, lambda route: route.fulfill(
                content_type="text/html", body=f"<!doctype html><title>agent</title>{scripts}"))
            page.goto(PAGE_URL)
            yield page
        finally:
            browser.close()


@dataclass
class Sip:
    first: str
    headers: list[tuple[str, str]]
    body: str

    @classmethod
    def parse(cls, text: str) -> "Sip":
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        return cls(lines[0], [(k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])], body)

    def get(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def status(self) -> int:
        return int(self.first.split()[1]) if self.first.startswith("SIP/2.0") else 0

    @property
    def method(self) -> str:
        return "" if self.status else self.first.split()[0]


@dataclass
class Dialog:
    call_id: str
    local: str            # our From/To value, with our tag
    remote: str           # theirs, with their tag
    target: str           # their Contact
    routes: list[str] = field(default_factory=list)
    cseq: int = 1


def _tagged(value: str) -> str:
    return value if ";tag=" in value else f"{value};tag={secrets.token_hex(4)}"


def _uri(value: str) -> str:
    return value.split("<", 1)[1].split(">", 1)[0] if "<" in value else value.split(";")[0]


class BrowserSip:
    """SIP over the page's WebSocket, as extension `ext` (the ticket's)."""

    def __init__(self, page, box: str, port: int, ticket: str, ext: str):
        self.page, self.box, self.ext = page, box, ext
        self.page.evaluate("url => pipe.open(url)", f"wss://{box}:{port}/?ticket={ticket}")
        self.contact = f"<sip:{secrets.token_hex(4)}@{secrets.token_hex(6)}.invalid;transport=ws>"
        self.inbox: list[Sip] = []
        self.dialog: Dialog | None = None
        self.invite: Sip | None = None

    # --- the wire ---------------------------------------------------------------------------

    def send(self, first: str, headers: list[tuple[str, str]], body: str = "") -> None:
        lines = [first] + [f"{k}: {v}" for k, v in headers]
        if body:
            lines.append("Content-Type: application/sdp")
        lines.append(f"Content-Length: {len(body.encode())}")
        self.page.evaluate("m => pipe.send(m)", "\r\n".join(lines) + "\r\n\r\n" + body)

    def next(self, want, timeout: float = 15.0) -> Sip:
        """The first message `want(msg)` accepts; the others stay for later."""
        deadline = time.monotonic() + timeout
        while True:
            for i, msg in enumerate(self.inbox):
                if want(msg):
                    return self.inbox.pop(i)
            if time.monotonic() > deadline:
                raise AssertionError(f"nothing wanted within {timeout}s; had {[m.first for m in self.inbox]}")
            self.inbox += [Sip.parse(t) for t in self.page.evaluate("pipe.take()")]
            time.sleep(0.05)

    def _via(self) -> str:
        return f"SIP/2.0/WSS {secrets.token_hex(5)}.invalid;branch=z9hG4bK{secrets.token_hex(8)}"

    def _request(self, method: str, uri: str, d: Dialog, body: str = "", cseq: int | None = None) -> None:
        headers = [("Via", self._via()), ("Max-Forwards", "70")] + [("Route", r) for r in d.routes]
        headers += [("From", d.local), ("To", d.remote), ("Call-ID", d.call_id),
                    ("CSeq", f"{cseq or d.cseq} {method}"), ("Contact", self.contact)]
        self.send(f"{method} {uri} SIP/2.0", headers, body)

    def _reply(self, req: Sip, status: int, reason: str, to: str | None = None, body: str = "",
               extra: list[tuple[str, str]] = ()) -> None:
        headers = [("Via", v) for v in req.all("Via")] + [("Record-Route", r) for r in req.all("Record-Route")]
        headers += [("From", req.get("From")), ("To", to or req.get("To")), ("Call-ID", req.get("Call-ID")),
                    ("CSeq", req.get("CSeq")), *extra]
        self.send(f"SIP/2.0 {status} {reason}", headers, body)

    # --- what an agent's phone does ------------------------------------------------------------

    def register(self) -> None:
        d = Dialog(secrets.token_hex(8), f"<sip:{self.ext}@{self.box}>;tag={secrets.token_hex(4)}",
                   f"<sip:{self.ext}@{self.box}>", "")
        headers = [("Via", self._via()), ("Max-Forwards", "70"), ("From", d.local), ("To", d.remote),
                   ("Call-ID", d.call_id), ("CSeq", "1 REGISTER"), ("Contact", self.contact), ("Expires", "600")]
        self.send(f"REGISTER sip:{self.box} SIP/2.0", headers)
        assert self.next(lambda m: "REGISTER" in m.get("CSeq")).status == 200

    def wait_invite(self, timeout: float = 20.0) -> str:
        """The box rings: 180 Ringing; the offer (WebRTC SDP) for the page."""
        self.invite = invite = self.next(lambda m: m.method == "INVITE", timeout)
        local = _tagged(invite.get("To"))
        self.dialog = Dialog(invite.get("Call-ID"), local, invite.get("From"), _uri(invite.get("Contact")),
                             invite.all("Record-Route"), cseq=int(secrets.randbelow(1000)) + 1)
        self._reply(invite, 180, "Ringing", to=local, extra=[("Contact", self.contact)])
        return invite.body

    def answer(self, sdp: str) -> None:
        assert self.invite is not None and self.dialog is not None
        self._reply(self.invite, 200, "OK", to=self.dialog.local, body=sdp, extra=[("Contact", self.contact)])
        self.next(lambda m: m.method == "ACK" and m.get("Call-ID") == self.dialog.call_id)

    def call(self, number: str, sdp: str) -> None:
        """Call `number` with the page's offer (`answered()` waits for the answer)."""
        d = Dialog(secrets.token_hex(8), f"<sip:{self.ext}@{self.box}>;tag={secrets.token_hex(4)}",
                   f"<sip:{number}@{self.box}>", f"sip:{number}@{self.box}", cseq=int(secrets.randbelow(1000)) + 1)
        self._request("INVITE", d.target, d, sdp)
        self.dialog = d

    def answered(self, timeout: float = 20.0) -> str:
        """The 200 to our INVITE, ACKed along its route set: the answer (WebRTC SDP)."""
        d = self.dialog
        assert d is not None
        final = self.next(lambda m: m.status >= 200 and m.get("Call-ID") == d.call_id, timeout)
        assert final.status == 200, final.first
        d.remote, d.target = final.get("To"), _uri(final.get("Contact"))
        d.routes = list(reversed(final.all("Record-Route")))
        self._request("ACK", d.target, d)
        return final.body

    def hang_up(self) -> int:
        d = self.dialog
        assert d is not None
        d.cseq += 1
        self._request("BYE", d.target, d)
        return self.next(lambda m: m.status and "BYE" in m.get("CSeq") and m.get("Call-ID") == d.call_id).status

    def wait_bye(self, timeout: float = 15.0) -> None:
        d = self.dialog
        assert d is not None
        bye = self.next(lambda m: m.method == "BYE" and m.get("Call-ID") == d.call_id, timeout)
        self._reply(bye, 200, "OK")
