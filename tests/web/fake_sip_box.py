"""The box's SIP WebSocket as the agent panel's phone sees it, played by a test.

    box = FakeSipBox(tmp_path / "tls").start()       # wss://127.0.0.1:<box.port>/, subprotocol sip
    box.wait_registered("1001")
    call = box.ring(offer_sdp, caller="+48601234567")  # an INVITE to the panel's Contact
    answer_sdp = box.wait_answer(call)                 # its 200 OK (the box sends the ACK)
    box.hang_up(call)                                  # a BYE from the box's side
    box.wait_request("REFER")                          # what the panel sent, recorded

It answers what the panel sends (REGISTER 200, REFER 202, BYE and the rest 200) and records it.
No ticket is checked: the tickets are the core's (tests/integration/test_browser_phone.py).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import WSMsgType, web

from appliance.browser_media import direction_of, with_direction
from appliance.sip.wss_certificate import WssCertificate

ANSWERING = {"sendonly": "recvonly", "recvonly": "sendonly", "inactive": "inactive", "sendrecv": "sendrecv"}


@dataclass
class Sip:
    """One SIP message as text: the first line, headers in order, the body."""

    first: str
    headers: list[tuple[str, str]]
    body: str = ""

    @classmethod
    def parse(cls, text: str) -> "Sip":
        head, _, body = text.partition("\r\n\r\n")
        lines = head.split("\r\n")
        headers = [(k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in lines[1:])]
        return cls(lines[0], headers, body)

    def get(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    @property
    def method(self) -> str:
        return "" if self.first.startswith("SIP/2.0") else self.first.split(" ")[0]

    @property
    def status(self) -> int:
        return int(self.first.split(" ")[1]) if self.first.startswith("SIP/2.0") else 0

    def text(self) -> str:
        head = [self.first] + [f"{k}: {v}" for k, v in self.headers if k.lower() != "content-length"]
        return "\r\n".join(head + [f"Content-Length: {len(self.body.encode())}", "", ""]) + self.body


@dataclass
class Call:
    call_id: str
    from_: str
    to: str = ""
    contact: str = ""
    cseq: int = 1
    responses: list[Sip] = field(default_factory=list)
    offer: str = ""       # the SDP the box's INVITE carried


class FakeSipBox:
    def __init__(self, tls_dir: Path):
        self.tls_dir = Path(tls_dir)
        self.port = 0
        self.requests: list[Sip] = []   # what the panel sent, in order
        self.contacts: dict[str, str] = {}  # extension -> its registered Contact URI
        self.calls: dict[str, Call] = {}
        self._cond = threading.Condition()
        self._ws: web.WebSocketResponse | None = None
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> "FakeSipBox":
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True, name="fake-sip-box").start()
        assert ready.wait(10), "the fake box did not start"
        return self

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/", self._socket)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=WssCertificate(self.tls_dir).context())
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    # -- the connection ---------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=("sip",))
        await ws.prepare(request)
        self._ws = ws
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            if msg.data.strip() == "":
                continue
            sip = Sip.parse(msg.data)
            with self._cond:
                if sip.method:
                    self.requests.append(sip)
                    if sip.method != "ACK":
                        await ws.send_str(self._answer(sip))
                else:
                    call = self.calls.get(sip.get("Call-ID"))
                    if call is not None:
                        call.responses.append(sip)
                        if sip.status == 200 and "INVITE" in sip.get("CSeq"):
                            call.to, call.contact = sip.get("To"), _uri(sip.get("Contact"))
                            await ws.send_str(self._in_dialog(call, "ACK", cseq=1).text())
                self._cond.notify_all()
        return ws

    def _answer(self, req: Sip) -> str:
        status = {"REGISTER": "200 OK", "REFER": "202 Accepted"}.get(req.method, "200 OK")
        headers = [(k, v) for k, v in req.headers if k.lower() in ("via", "from", "call-id", "cseq")]
        to = req.get("To")
        headers.insert(2, ("To", to if "tag=" in to else f"{to};tag={secrets.token_hex(4)}"))
        call = self.calls.get(req.get("Call-ID"))
        if req.method == "INVITE" and call is not None and call.offer:
            # A re-INVITE (hold, resume): answered as the box does, with the SDP it gave before in
            # the direction that answers the offer's, and the DTLS role the call has.
            answered = next((r.body for r in call.responses if r.status == 200), "")
            role = "passive" if "a=setup:active" in answered else "active"
            body = with_direction(call.offer, ANSWERING.get(direction_of(req.body), "sendrecv"), role)
            headers.append(("Content-Type", "application/sdp"))
            return Sip(f"SIP/2.0 {status}", headers + [("Contact", "<sip:box@box.invalid;transport=ws>")], body).text()
        if req.method == "REGISTER":
            contact = req.get("Contact")
            expires = "0" if "expires=0" in contact or req.get("Expires") == "0" else "300"
            user = _uri(to).split("@")[0].removeprefix("sip:")
            if expires == "0":
                self.contacts.pop(user, None)
            else:
                self.contacts[user] = _uri(contact)
            headers.append(("Contact", f"{contact.split(';expires')[0]};expires={expires}"))
        return Sip(f"SIP/2.0 {status}", headers).text()

    def _send(self, sip: Sip) -> None:
        assert self._ws is not None, "no panel connected"
        asyncio.run_coroutine_threadsafe(self._ws.send_str(sip.text()), self._loop).result(5)

    def _in_dialog(self, call: Call, method: str, cseq: int) -> Sip:
        return Sip(f"{method} {call.contact} SIP/2.0", [
            ("Via", f"SIP/2.0/WSS box.invalid;branch=z9hG4bK{secrets.token_hex(6)}"), ("Max-Forwards", "70"),
            ("From", call.from_), ("To", call.to), ("Call-ID", call.call_id), ("CSeq", f"{cseq} {method}")])

    # -- what a test does --------------------------------------------------------------------------

    def wait_registered(self, extension: str, timeout: float = 15) -> str:
        return self._until(lambda: self.contacts.get(extension), f"{extension} registered", timeout)

    def ring(self, offer: str, extension: str = "1001", caller: str = "+48601234567") -> Call:
        contact = self.wait_registered(extension)
        call = Call(secrets.token_hex(8), f'"Caller" <sip:{caller}@box.invalid>;tag={secrets.token_hex(4)}',
                    f"<sip:{extension}@box.invalid>", contact)
        call.offer = offer
        self.calls[call.call_id] = call
        self._send(Sip(f"INVITE {contact} SIP/2.0", [
            ("Via", f"SIP/2.0/WSS box.invalid;branch=z9hG4bK{secrets.token_hex(6)}"), ("Max-Forwards", "70"),
            ("From", call.from_), ("To", call.to), ("Call-ID", call.call_id), ("CSeq", "1 INVITE"),
            ("Contact", "<sip:box@box.invalid;transport=ws>"), ("Content-Type", "application/sdp")], offer))
        return call

    def wait_answer(self, call: Call, timeout: float = 20) -> Sip:
        return self._until(lambda: next((r for r in call.responses if r.status >= 200), None),
                           "the panel's final answer", timeout)

    def hang_up(self, call: Call) -> None:
        call.cseq += 1
        self._send(self._in_dialog(call, "BYE", call.cseq))

    def wait_request(self, method: str, timeout: float = 15) -> Sip:
        return self._until(lambda: next((r for r in self.requests if r.method == method), None),
                           f"a {method} from the panel", timeout)

    def _until(self, found, what: str, timeout: float):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = found()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not within {timeout}s: {what}; the panel sent "
                                         f"{[r.first for r in self.requests]}")
                self._cond.wait(left)


def _uri(value: str) -> str:
    """The URI of a name-addr (`"x" <sip:a@b>;tag=1` → `sip:a@b`)."""
    return value.split("<", 1)[1].split(">", 1)[0] if "<" in value else value.split(";")[0]
