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
import time
from pathlib import Path
from typing import Iterator

from appliance.sip.message import SipMessage
from tests.sip import ws_sip
from tests.sip.ws_sip import Dialog
from tests.webrtc.browser_page import PAGE_URL, chromium_in

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
    or with `jssip` JsSIP as the agent panel loads it and `agent` (JSSIP_AGENT_JS). The test browser
    accepts the box's certificate, the web page's self-signed one, as an agent does once."""
    scripts, files = f"<script>{PIPE_JS}</script>", {}
    if jssip:
        files[PAGE_URL + "/jssip.min.js"] = ("text/javascript", JSSIP.read_text())
        scripts += f'<script src="{PAGE_URL}/jssip.min.js"></script><script>{JSSIP_AGENT_JS}</script>'
    with chromium_in(host, tone_wav, tmp, scripts=scripts, files=files, reaches_the_box=True) as page:
        yield page


class BrowserSip:
    """SIP over the page's WebSocket, as extension `ext` (the ticket's)."""

    def __init__(self, page, box: str, port: int, ticket: str, ext: str):
        self.page, self.box, self.ext = page, box, ext
        self.page.evaluate("url => pipe.open(url)", f"wss://{box}:{port}/?ticket={ticket}")
        self.contact = ws_sip.new_contact()
        self.inbox: list[SipMessage] = []
        self.dialog: Dialog | None = None
        self.invite: SipMessage | None = None

    # --- the wire ---------------------------------------------------------------------------

    def send(self, text: str) -> None:
        self.page.evaluate("m => pipe.send(m)", text)

    def next(self, want: ws_sip.Wanted, timeout: float = 15.0) -> SipMessage:
        """The first message `want(msg)` accepts; the others stay for later."""
        deadline = time.monotonic() + timeout
        while True:
            for i, msg in enumerate(self.inbox):
                if want(msg):
                    return self.inbox.pop(i)
            if time.monotonic() > deadline:
                had = [ws_sip.first_line(m) for m in self.inbox]
                raise AssertionError(f"nothing wanted within {timeout}s; had {had}")
            self.inbox += [m for m in map(ws_sip.read, self.page.evaluate("pipe.take()")) if m is not None]
            time.sleep(0.05)

    # --- what an agent's phone does ------------------------------------------------------------

    def register(self) -> None:
        call_id, text = ws_sip.register(self.ext, self.box, self.contact)
        self.send(text)
        assert self.next(ws_sip.reply_to("REGISTER", call_id)).status == 200

    def wait_invite(self, timeout: float = 20.0) -> str:
        """The box rings: 180 Ringing; the offer (WebRTC SDP) for the page."""
        self.invite = invite = self.next(ws_sip.request_of("INVITE"), timeout)
        self.dialog = Dialog.called(invite)
        self.send(ws_sip.reply(invite, 180, "Ringing", to=self.dialog.local, extra=[("Contact", self.contact)]))
        return invite.body.decode()

    def answer(self, sdp: str) -> None:
        assert self.invite is not None and self.dialog is not None
        self.send(ws_sip.reply(self.invite, 200, "OK", to=self.dialog.local, body=sdp,
                               extra=[("Contact", self.contact)]))
        self.next(ws_sip.request_of("ACK", self.dialog.call_id))

    def call(self, number: str, sdp: str) -> None:
        """Call `number` with the page's offer (`answered()` waits for the answer)."""
        self.dialog = Dialog.calling(self.ext, number, self.box)
        self.send(ws_sip.request("INVITE", self.dialog, self.contact, sdp))

    def answered(self, timeout: float = 20.0) -> str:
        """The 200 to our INVITE, ACKed along its route set: the answer (WebRTC SDP)."""
        d = self.dialog
        assert d is not None
        final = self.next(ws_sip.final_reply(d.call_id), timeout)
        assert final.status == 200, ws_sip.first_line(final)
        d.answered(final)
        self.send(ws_sip.request("ACK", d, self.contact))
        return final.body.decode()

    def hang_up(self) -> int:
        d = self.dialog
        assert d is not None
        d.cseq += 1
        self.send(ws_sip.request("BYE", d, self.contact))
        return self.next(ws_sip.reply_to("BYE", d.call_id)).status

    def wait_bye(self, timeout: float = 15.0) -> None:
        d = self.dialog
        assert d is not None
        self.send(ws_sip.reply(self.next(ws_sip.request_of("BYE", d.call_id), timeout), 200, "OK"))
