"""The box calls a browser phone: a worker's INVITE to the browser's route reaches the browser on
its own WebSocket, and only there; the dialog goes on through the edge both ways; a browser that
goes away in a call gets a BYE sent in its name. A real loopback TLS socket in this process; the
worker is the harness's recording UDP socket (the edge takes requests for browsers only from the
box's own addresses: loopback here)."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from appliance.sip.browser_routes import PARAM, connection_of
from appliance.sip.edge import SipEdge
from appliance.sip.identity import verify_identity
from appliance.sip.source import Source
from tests.conftest import free_port
from tests.sip.browser_client import WEBRTC_SDP, Browser, sip_request
from tests.sip.edge_harness import make_edge

WORKER = ("127.0.0.50", 5080)
PLAIN_SDP = b"v=0\r\no=- 1 1 IN IP4 127.0.0.50\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\nc=IN IP4 127.0.0.50\r\n"


@pytest.fixture(autouse=True)
def no_tracebacks(caplog):
    caplog.set_level(logging.INFO)
    yield
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], "an error was logged"


class Media:
    """The media bridge's place, recorded: what passed, and which calls it was told are over."""

    def __init__(self):
        self.seen, self.over = [], []

    def from_browser(self, msg, extension, go_on):
        self.seen.append(("from", msg.method or msg.status, extension))
        go_on(msg)

    def to_browser(self, msg, extension, go_on):
        self.seen.append(("to", msg.method or msg.status, extension))
        go_on(msg)

    def call_over(self, msg):
        self.over.append(msg.method or msg.status)


async def _edge_with_browser(tmp_path) -> tuple[SipEdge, Media, Browser]:
    edge = make_edge()
    edge.browser_media = media = Media()
    await edge.start_websockets("127.0.0.1", free_port(), tmp_path / "tls")
    browser = await Browser.open(edge.websockets.port, edge.browser_tickets.issue("1001").ticket)
    browser.send(sip_request("REGISTER"))
    assert (await browser.sip()).startswith(b"SIP/2.0 200 ")
    return edge, media, browser


def _worker_invite(uri: str, call_id: str = "box-1", route: str = "", method: str = "INVITE",
                   to_tag: str = "", cseq: int = 1, body: bytes = PLAIN_SDP) -> bytes:
    head = [f"{method} {uri} SIP/2.0", f"Via: SIP/2.0/UDP {WORKER[0]}:{WORKER[1]};branch=z9hG4bKw{call_id}{cseq}",
            "Max-Forwards: 70", "From: <sip:queue@127.0.0.50>;tag=worker", "To: <sip:1001@127.0.0.1>" + to_tag,
            f"Call-ID: {call_id}", f"CSeq: {cseq} {method}", f"Contact: <sip:w@{WORKER[0]}:{WORKER[1]}>"]
    if route:
        head.append(f"Route: {route}")
    if body:
        head.append("Content-Type: application/sdp")
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _header(data: bytes, name: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in data.decode().split("\r\n") if line.lower().startswith(name.lower() + ":")]


def _respond(req: bytes, status: str, to_tag: str = ";tag=browser", body: bytes = b"") -> bytes:
    keep = [line for line in req.decode().split("\r\n\r\n")[0].split("\r\n")[1:]
            if line.split(":")[0] in ("Via", "From", "Call-ID", "CSeq", "Record-Route")]
    to = _header(req, "To")[0]
    head = [f"SIP/2.0 {status}", *keep, f"To: {to}{to_tag if ';tag=' not in to else ''}",
            "Contact: <sip:agent@df7jal23ls0d.invalid;transport=ws>"]
    if body:
        head.append("Content-Type: application/sdp")
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _sent_to_worker(edge: SipEdge) -> list[bytes]:
    for _ in range(50):
        if edge.udp.sent:
            break
        await asyncio.sleep(0.02)
    return [data for data, target in edge.udp.take() if target == WORKER]


def test_a_worker_rings_a_browser_through_its_route_and_the_dialog_goes_on_through_the_edge(tmp_path):
    async def main():
        edge, media, browser = await _edge_with_browser(tmp_path)
        try:
            [route] = edge.contacts_to_call("1001")
            assert route.startswith("sip:1001@127.0.0.1:5060;") and PARAM in route
            [binding] = edge.registrar.lookup("1001")

            edge.handle(_worker_invite(route), Source("udp", *WORKER))
            invite = await browser.sip()
            assert invite.startswith(f"INVITE {binding.contact} SIP/2.0".encode())   # its own Contact
            [record_route] = _header(invite, "Record-Route")
            assert PARAM in record_route and record_route.endswith(";lr>")
            assert _header(invite, "Via")[0].startswith("SIP/2.0/WSS ")
            assert ("to", "INVITE", "1001") in media.seen

            # The browser answers with WebRTC SDP: back to the worker through the media hook.
            browser.send(_respond(invite, "200 OK", body=WEBRTC_SDP))
            [ok] = await _sent_to_worker(edge)
            assert ok.startswith(b"SIP/2.0 200 ") and _header(ok, "Via")[0].startswith(f"SIP/2.0/UDP {WORKER[0]}")
            assert ("from", 200, "1001") in media.seen

            # The browser's re-INVITE (hold) and its ACK go to the worker's Contact, inside the dialog.
            for method in ("INVITE", "ACK"):
                browser.send(sip_request(method, call_id="box-1", to_tag="worker", cseq=300,
                                         body=WEBRTC_SDP if method == "INVITE" else b"").replace(
                    f"{method} sip:1002@callbox".encode(), f"{method} sip:w@{WORKER[0]}:{WORKER[1]}".encode()))
                [sent] = await _sent_to_worker(edge)
                assert sent.startswith(f"{method} sip:w@{WORKER[0]}:{WORKER[1]} ".encode())

            # Inside the dialog the worker sends to the recorded route; the edge takes it off.
            edge.handle(_worker_invite(binding.contact, method="BYE", route=record_route, to_tag=";tag=browser",
                                       cseq=2, body=b""), Source("udp", *WORKER))
            bye = await browser.sip()
            assert bye.startswith(f"BYE {binding.contact} SIP/2.0".encode()) and not _header(bye, "Route")
            assert media.over == ["BYE"]
        finally:
            await browser.close()
            await edge.stop()

    asyncio.run(main())


def test_a_forged_or_stale_route_reaches_no_browser(tmp_path):
    async def main():
        edge, media, browser = await _edge_with_browser(tmp_path)
        try:
            [route] = edge.contacts_to_call("1001")
            forged = route[:-4] + ("0000" if not route.endswith("0000") else "1111")
            assert connection_of(b"k" * 32, forged.split(f"{PARAM}=")[1]) is None
            edge.handle(_worker_invite(forged), Source("udp", *WORKER))
            [challenged] = [d for d, _ in edge.udp.take()]
            assert challenged.startswith(b"SIP/2.0 407 ")    # an INVITE like any other: prove who you are
            assert not edge._is_box("192.0.2.7")             # and from the LAN never taken for a worker

            await browser.close()
            for _ in range(100):
                if not edge.registrar.lookup("1001"):
                    break
                await asyncio.sleep(0.02)
            edge.handle(_worker_invite(route, call_id="box-2"), Source("udp", *WORKER))
            [gone] = [d for d, _ in edge.udp.take()]
            assert gone.startswith(b"SIP/2.0 480 ")
            assert edge.contacts_to_call("1001") == []
        finally:
            await edge.stop()

    asyncio.run(main())


def test_a_browser_that_goes_away_in_a_call_gets_a_bye_sent_in_its_name(tmp_path):
    async def main():
        edge, media, browser = await _edge_with_browser(tmp_path)
        try:
            # The browser calls; the worker answers with its Contact.
            browser.send(sip_request("INVITE", call_id="call-9", cseq=7, body=WEBRTC_SDP))
            [invite] = await _sent_to_worker(edge)
            assert PARAM in _header(invite, "Record-Route")[0]
            edge.handle(_respond(invite, "200 OK", to_tag=";tag=worker", body=PLAIN_SDP).replace(
                b"df7jal23ls0d.invalid;transport=ws", b"127.0.0.50:5080"), Source("udp", *WORKER))
            assert (await browser.sip()).startswith(b"SIP/2.0 200 ")

            # The browser goes without a BYE: the worker gets one in its name, signed, at its Contact.
            await browser.close()
            [bye] = await _sent_to_worker(edge)
            assert bye.startswith(b"BYE sip:agent@127.0.0.50:5080 SIP/2.0")
            assert _header(bye, "To")[0].endswith(";tag=worker") and _header(bye, "CSeq") == ["8 BYE"]
            signed = verify_identity(b"k" * 32, "call-9", _header(bye, "X-Callbox-Auth")[0], edge.clock())
            assert signed == "1001" and "BYE" in media.over
        finally:
            await edge.stop()

    asyncio.run(main())


def test_inside_a_dialog_a_browser_reaches_a_worker_of_the_box_and_no_other_host(tmp_path):
    async def main():
        edge, media, browser = await _edge_with_browser(tmp_path)
        try:
            for uri, target in (("sip:w@127.0.0.50:5090", ("127.0.0.50", 5090)),      # a worker's Contact
                                ("sip:0088161234567@192.0.2.9:5060", WORKER)):       # a gateway: never
                bye = sip_request("BYE", to_tag="worker").replace(b"BYE sip:1002@callbox", f"BYE {uri}".encode())
                browser.send(bye)
                for _ in range(50):
                    if edge.udp.sent:
                        break
                    await asyncio.sleep(0.02)
                [(data, sent_to)] = edge.udp.take()
                assert sent_to == target and data.startswith(f"BYE {uri}".encode())
                assert _header(data, "X-Callbox-Auth")    # signed, in 1001's name, like every forwarded request
        finally:
            await browser.close()
            await edge.stop()

    asyncio.run(main())


def test_a_ring_the_worker_gives_up_is_cancelled_on_the_browsers_connection(tmp_path):
    async def main():
        edge, media, browser = await _edge_with_browser(tmp_path)
        try:
            [route] = edge.contacts_to_call("1001")
            edge.handle(_worker_invite(route, call_id="ring-1"), Source("udp", *WORKER))
            invite = await browser.sip()
            cancel = _worker_invite(route, call_id="ring-1", method="CANCEL", body=b"")
            edge.handle(cancel, Source("udp", *WORKER))
            cancelled = await browser.sip()
            assert cancelled.startswith(b"CANCEL sip:") and b".invalid;transport=ws" in cancelled.split(b"\r\n")[0]
            assert _header(cancelled, "Via")[0] == _header(invite, "Via")[0]   # matches its INVITE (RFC 3261 §9.1)
            assert media.over == ["CANCEL"]
            browser.send(_respond(invite, "487 Request Terminated"))
            [terminated] = await _sent_to_worker(edge)
            assert terminated.startswith(b"SIP/2.0 487 ") and media.over == ["CANCEL", 487]
        finally:
            await browser.close()
            await edge.stop()

    asyncio.run(main())


def test_media_that_ended_by_itself_ends_the_call_on_both_sides(tmp_path):
    """The bridge lost the browser's media (or stopped): the worker and the browser each get a BYE."""
    async def main():
        edge, media, browser = await _edge_with_browser(tmp_path)
        try:
            [route] = edge.contacts_to_call("1001")
            [binding] = edge.registrar.lookup("1001")
            edge.handle(_worker_invite(route, call_id="box-7", cseq=41), Source("udp", *WORKER))
            invite = await browser.sip()
            browser.send(_respond(invite, "200 OK", body=WEBRTC_SDP))
            await _sent_to_worker(edge)
            edge.hang_up_browser_call("box-7")
            [to_worker] = await _sent_to_worker(edge)
            assert to_worker.startswith(f"BYE sip:w@{WORKER[0]}:{WORKER[1]} SIP/2.0".encode())
            assert _header(to_worker, "From")[0].endswith(";tag=browser") and _header(to_worker, "CSeq") == ["1 BYE"]
            to_browser = await browser.sip()
            assert to_browser.startswith(f"BYE {binding.contact} SIP/2.0".encode())
            assert _header(to_browser, "From")[0].endswith(";tag=worker") and _header(to_browser, "CSeq") == ["42 BYE"]
            edge.hang_up_browser_call("box-7")            # once
            assert await _sent_to_worker(edge) == []
        finally:
            await browser.close()
            await edge.stop()

    asyncio.run(main())


def test_a_browser_cannot_end_another_browsers_call(tmp_path):
    async def main():
        edge, media, browser = await _edge_with_browser(tmp_path)
        other = await Browser.open(edge.websockets.port, edge.browser_tickets.issue("1002").ticket)
        try:
            [route] = edge.contacts_to_call("1001")
            edge.handle(_worker_invite(route, call_id="box-3"), Source("udp", *WORKER))
            invite = await browser.sip()
            browser.send(_respond(invite, "200 OK", body=WEBRTC_SDP))
            await _sent_to_worker(edge)
            other.send(sip_request("BYE", ext="1002", call_id="box-3", to_tag="worker", cseq=99))
            await asyncio.sleep(0.2)
            assert media.over == [] and edge.browser_dialogs.is_of("box-3", edge.registrar.lookup("1001")[0].source)
        finally:
            await other.close()
            await browser.close()
            await edge.stop()

    asyncio.run(main())


def test_a_browser_that_subscribed_to_its_voicemail_is_told_on_its_connection(tmp_path):
    async def main():
        from appliance.sip.mwi import MwiService
        edge, media, browser = await _edge_with_browser(tmp_path)
        counts = {"1001": (0, 0)}
        edge.mwi = MwiService(time.time, lambda box: counts[box], "127.0.0.1")
        try:
            browser.send(sip_request("SUBSCRIBE", to_user="1001").replace(
                b"Content-Length: 0", b"Event: message-summary\r\nExpires: 600\r\nContent-Length: 0"))
            assert (await browser.sip()).startswith(b"SIP/2.0 200 ")
            assert (await browser.sip()).startswith(b"NOTIFY ")
            counts["1001"] = (1, 0)
            edge.udp.take()
            assert edge.notify_mwi("1001") == 1
            notify = await browser.sip()
            assert notify.startswith(b"NOTIFY ") and b"Messages-Waiting: yes" in notify
            assert edge.udp.take() == []
        finally:
            await browser.close()
            await edge.stop()

    asyncio.run(main())
