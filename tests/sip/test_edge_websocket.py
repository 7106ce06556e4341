"""Browser phones on the edge: SIP over WebSocket over TLS, opened with a ticket, against a real
loopback socket in this process (the engine is the harness's recording UDP socket)."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from appliance.sip.browser_phones import FROM_ANOTHER
from appliance.sip.edge import SipEdge
from appliance.sip.identity import verify_identity
from appliance.sip.security import SecurityPolicy
from appliance.sip.source import Source
from appliance.sip.websocket_transport import WebSocketLimits
from tests.conftest import free_port
from tests.sip.browser_client import WEBRTC_SDP, Browser, masked, sip_request
from tests.sip.edge_harness import make_edge


@pytest.fixture(autouse=True)
def no_tracebacks(caplog):
    caplog.set_level(logging.INFO)
    yield
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], "an error was logged"


async def _edge(tmp_path, policy: SecurityPolicy | None = None, **limits) -> SipEdge:
    edge = make_edge(policy)
    edge.websockets.limits = WebSocketLimits(**limits)
    edge.port = 5060
    await edge.start_websockets("127.0.0.1", free_port(), tmp_path / "tls")
    return edge


def _status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1]) if data.startswith(b"SIP/2.0 ") else 0


class Recorder:
    """The media bridge's place, recorded: what it was handed, passed on unchanged."""

    def __init__(self):
        self.offers, self.answers = [], []

    def from_browser(self, msg, extension, go_on):
        self.offers.append((msg.method, extension))
        go_on(msg)

    def to_browser(self, msg, extension, go_on):
        self.answers.append((msg.status, extension))
        go_on(msg)


def test_a_ticket_opens_a_connection_as_its_extension_that_registers_and_calls_without_a_password(tmp_path):
    async def main():
        edge = await _edge(tmp_path)
        edge.browser_media = media = Recorder()
        port = edge.websockets.port
        try:
            browser = await Browser.open(port, edge.browser_tickets.issue("1001").ticket)
            assert browser.status == 101 and b"Sec-WebSocket-Protocol: sip" in browser.head
            browser.send(sip_request("REGISTER"))
            answer = await browser.sip()
            assert _status(answer) == 200, answer
            [binding] = edge.registrar.lookup("1001")
            assert binding.source.transport == "wss" and binding.contact.endswith(".invalid;transport=ws")

            # An INVITE with WebRTC SDP goes to the engine in 1001's name, through the media hook.
            edge.udp.take()
            browser.send(sip_request("INVITE", call_id="call-1", body=WEBRTC_SDP))
            for _ in range(50):
                if edge.udp.sent:
                    break
                await asyncio.sleep(0.02)
            [(data, target)] = edge.udp.take()
            assert data.startswith(b"INVITE sip:1002@callbox") and target == ("127.0.0.50", 5080)
            auth = next(line for line in data.split(b"\r\n") if line.startswith(b"X-Callbox-Auth:"))
            assert verify_identity(b"k" * 32, "call-1", auth.split(b": ", 1)[1].decode(), edge.clock()) == "1001"
            assert media.offers == [("INVITE", "1001")]

            # The engine's answer (with SDP) comes back on the same connection, through the hook.
            via = [line for line in data.split(b"\r\n") if line.startswith(b"Via:")]
            answer = (b"SIP/2.0 200 OK\r\n" + b"\r\n".join(via) + b"\r\nFrom: <sip:1001@callbox>;tag=a\r\n"
                      b"To: <sip:1002@callbox>;tag=b\r\nCall-ID: call-1\r\nCSeq: 1 INVITE\r\n"
                      b"Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n")
            edge.handle(answer, Source("udp", "127.0.0.50", 5080))
            relayed = await browser.sip()
            assert _status(relayed) == 200 and b"Call-ID: call-1" in relayed
            assert media.answers == [(200, "1001")]

            # When the browser goes, so does its registration: nothing else can reach it.
            await browser.close()
            for _ in range(100):
                if not edge.registrar.lookup("1001"):
                    break
                await asyncio.sleep(0.02)
            assert edge.registrar.lookup("1001") == [] and edge.websockets.connections() == 0
        finally:
            await edge.stop()

    asyncio.run(main())


def test_without_a_valid_ticket_the_upgrade_is_refused_before_any_sip_and_a_ticket_works_once(tmp_path):
    async def main():
        edge = await _edge(tmp_path)
        port = edge.websockets.port
        try:
            assert (await Browser.open(port, None)).status == 401
            assert (await Browser.open(port, "made-up")).status == 401
            ticket = edge.browser_tickets.issue("1001").ticket
            assert (await Browser.open(port, ticket, protocol="chat")).status == 400  # RFC 7118: sip only
            first = await Browser.open(port, ticket)
            assert first.status == 101
            assert (await Browser.open(port, ticket)).status == 401  # replayed
            assert edge.websockets.stats.tickets_refused == 2
            # No ticket at all is not a failure; bad ones are, and a good one forgives those before it.
            assert edge.guard.failures("127.0.0.1") == 1  # the replay
            await first.close()
        finally:
            await edge.stop()

    asyncio.run(main())


def test_a_flood_of_bad_tickets_bans_the_address_like_wrong_passwords(tmp_path):
    async def main():
        edge = await _edge(tmp_path, SecurityPolicy(ban_failures=5))
        port = edge.websockets.port
        try:
            for i in range(5):
                assert (await Browser.open(port, f"guess-{i}")).status == 401
            assert edge.guard.is_banned("127.0.0.1")
            # Banned: the connection is cut before TLS, even with a good ticket.
            with pytest.raises((ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.TimeoutError)):
                await Browser.open(port, edge.browser_tickets.issue("1001").ticket)
        finally:
            await edge.stop()

    asyncio.run(main())


def test_a_request_that_claims_another_extension_gets_403(tmp_path):
    async def main():
        edge = await _edge(tmp_path)
        try:
            browser = await Browser.open(edge.websockets.port, edge.browser_tickets.issue("1001").ticket)
            browser.send(sip_request("REGISTER", to_user="1002"))
            assert _status(await browser.sip()) == 403
            browser.send(sip_request("REGISTER", from_user="1002"))
            assert b"403 " + FROM_ANOTHER.encode() in await browser.sip()
            edge.udp.take()
            browser.send(sip_request("INVITE", from_user="1002", body=WEBRTC_SDP))
            assert _status(await browser.sip()) == 403
            # A Contact at a host of its choosing is refused, as for a desk phone.
            browser.send(sip_request("REGISTER", contact="<sip:0088161234567@192.168.1.5:5060>"))
            assert b"403 Contact must point at this phone" in await browser.sip()
            assert edge.udp.take() == [] and edge.registrar.lookup("1001") == []
            await browser.close()

            # An extension deleted since its ticket was issued is nobody any more.
            gone = await Browser.open(edge.websockets.port, edge.browser_tickets.issue("1005").ticket)
            gone.send(sip_request("REGISTER", "1005"))
            assert _status(await gone.sip()) == 403 and edge.registrar.lookup("1005") == []
            await gone.close()
        finally:
            await edge.stop()

    asyncio.run(main())


def test_garbage_huge_and_unmasked_frames_end_the_connection_and_bad_sip_gets_400(tmp_path):
    async def main():
        edge = await _edge(tmp_path)
        port = edge.websockets.port
        issue = edge.browser_tickets.issue
        try:
            browser = await Browser.open(port, issue("1001").ticket)
            browser.send(b"INVITE sip:1002@callbox SIP/2.0\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\n"
                         b"From: <sip:1001@callbox>;tag=1\r\nTo: <sip:1002@callbox>\r\nCall-ID: c\r\n"
                         b"CSeq: x INVITE\r\nContent-Length: 0\r\n\r\n")
            assert _status(await browser.sip()) == 400  # malformed SIP in a good frame: 400, still open
            browser.send(b"\x00\xff garbage", opcode=2)
            browser.send(b"\r\n\r\n")
            assert await browser.sip() == b"\r\n"  # the keep-alive's pong: the garbage got silence
            await browser.close()

            unmasked = await Browser.open(port, issue("1001").ticket)
            unmasked.send_raw(bytes((0x81, 5)) + b"hello")
            assert await unmasked.closed() == 1002

            huge = await Browser.open(port, issue("1001").ticket)
            huge.send_raw(bytes((0x82, 0x80 | 127)) + (1 << 40).to_bytes(8, "big") + b"mask")
            assert await huge.closed() == 1009

            big = await Browser.open(port, issue("1001").ticket)
            big.send(b"A" * (64 * 1024 + 1), opcode=2)
            assert await big.closed() == 1009

            not_utf8 = await Browser.open(port, issue("1001").ticket)
            not_utf8.send_raw(masked(1, b"\xff\xfe"))
            assert await not_utf8.closed() == 1007

            # The edge is still there for the next browser.
            ok = await Browser.open(port, issue("1001").ticket)
            ok.send(sip_request("REGISTER"))
            assert _status(await ok.sip()) == 200
            await ok.close()
        finally:
            await edge.stop()

    asyncio.run(main())


def test_connections_are_limited_and_unregistered_idle_or_slow_ones_close(tmp_path):
    async def main():
        edge = await _edge(tmp_path, per_address=2, idle_timeout_s=0.5, message_timeout_s=0.3, handshake_s=0.5)
        port = edge.websockets.port
        issue = edge.browser_tickets.issue
        try:
            a = await Browser.open(port, issue("1001").ticket)
            b = await Browser.open(port, issue("1001").ticket)
            with pytest.raises((ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.TimeoutError)):
                await Browser.open(port, issue("1001").ticket)  # a third from the same address
            assert edge.websockets.stats.refused == 1
            b.send(sip_request("REGISTER"))
            assert _status(await b.sip()) == 200
            # a, idle and unregistered, is closed; b, registered over its connection, stays.
            assert await a.closed(timeout=3) == 1001
            await a.close()
            await asyncio.sleep(0.3)
            assert edge.websockets.connections() == 1

            # A frame begun and never finished; a handshake never sent.
            slow = await Browser.open(port, issue("1001").ticket)
            slow.send_raw(masked(1, b"REGISTER")[:6])
            assert await slow.closed(timeout=3) == 1008
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert await asyncio.wait_for(reader.read(), 3) == b""  # no TLS hello: cut after handshake_s
            writer.close()
            await b.close()
        finally:
            await edge.stop()

    asyncio.run(main())


def test_a_port_another_program_holds_leaves_browser_phones_off_and_the_edge_up(tmp_path, caplog):
    async def main():
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        edge = make_edge()
        try:
            assert await edge.start_websockets("127.0.0.1", holder.getsockname()[1], tmp_path) == 0
            assert edge.websockets.port == 0
        finally:
            holder.close()
            await edge.stop()

    asyncio.run(main())
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "browser phones are off" in error.getMessage()
    caplog.clear()


def test_registrations_over_websockets_from_before_a_restart_are_dropped(tmp_path):
    async def main():
        edge = make_edge()
        from appliance.sip.bindings import ContactRequest, RegisterRequest
        edge.registrar.register(RegisterRequest(
            aor="1001", call_id="old", cseq=1, expires_header=600, source=Source("wss", "127.0.0.9", 40000),
            contacts=[ContactRequest(uri="sip:a@b.invalid;transport=ws", expires=None, q=None, raw="")]))
        assert edge.registrar.lookup("1001")
        await edge.start_websockets("127.0.0.1", 0, tmp_path)  # off: no listener, but the old ones go
        assert edge.registrar.lookup("1001") == [] and edge.websockets.server is None

    asyncio.run(main())
