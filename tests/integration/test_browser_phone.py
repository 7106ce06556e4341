"""Browser phones against a real `callbox core`: a ticket from the control API opens a SIP WebSocket
over TLS (aiohttp's client, as a browser would), which registers without a password; a replayed
ticket, no ticket, another extension's From, garbage and huge frames and a flood of bad tickets
each get their refusal, and the box stays up without a traceback."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import aiohttp

from tests.conftest import free_port
from tests.sip.browser_client import Browser, client_tls, sip_request


def _ticket(core, extension: str = "1001") -> str:
    status, body = core.api("POST", "/api/browser-phone/ticket", {"extension": extension})
    assert status == 201, body
    assert body["extension"] == extension and body["port"] == core.wss_port and 0 < body["expires_in"] <= 60
    return body["ticket"]


async def _status(ws: aiohttp.ClientWebSocketResponse) -> bytes:
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type == aiohttp.WSMsgType.TEXT, msg
    return msg.data.encode()


def test_a_browser_registers_over_wss_with_a_ticket_and_every_misuse_is_refused(core_factory):
    port = free_port()
    core = core_factory({"sip.wss_port": port})
    core.wss_port = port
    core.add_extension("1001", "browser-secret-1")
    core.add_extension("1002", "browser-secret-2")
    assert core.api("POST", "/api/browser-phone/ticket", {"extension": "1999"})[0] == 404
    assert core.api("POST", "/api/browser-phone/ticket", {})[0] == 400
    assert (core.data_dir / "tls" / "web-key.pem").stat().st_mode & 0o077 == 0  # made by the core, private

    async def main():
        ticket = _ticket(core)
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"wss://127.0.0.1:{port}/?ticket={ticket}", protocols=("sip",),
                                          ssl=client_tls()) as ws:
                assert ws.protocol == "sip"
                await ws.send_str(sip_request("REGISTER").decode())
                assert (await _status(ws)).startswith(b"SIP/2.0 200 ")
                [reg] = [r for r in core.registrations() if r["aor"] == "1001"]
                assert reg["source"].startswith("wss:127.0.0.1:") and reg["contact"].endswith(";transport=ws")

                # Another extension's From on this connection: 403, nothing registered for 1002.
                await ws.send_str(sip_request("REGISTER", from_user="1002", to_user="1002").decode())
                assert (await _status(ws)).startswith(b"SIP/2.0 403 ")
                assert not [r for r in core.registrations() if r["aor"] == "1002"]

                # The same ticket again: 401 before any SIP is read.
                replayed = await Browser.open(port, ticket)
                assert replayed.status == 401
                assert (await Browser.open(port, None)).status == 401

                # Garbage and a huge frame each end their own connection; this one goes on.
                garbage = await Browser.open(port, _ticket(core))
                garbage.send_raw(bytes((0x81, 5)) + b"hello")  # unmasked
                assert await garbage.closed() == 1002
                huge = await Browser.open(port, _ticket(core))
                huge.send_raw(bytes((0x82, 0xFF)) + (1 << 40).to_bytes(8, "big") + b"mask")
                assert await huge.closed() == 1009
                await ws.send_str(sip_request("OPTIONS", to_user="1001").replace(
                    b"OPTIONS sip:1001@callbox", b"OPTIONS sip:callbox").decode())
                assert (await _status(ws)).startswith(b"SIP/2.0 200 ")
            # The browser went: so did its registration.
            core.wait_registered("1001", present=False)

        # A flood of made-up tickets bans the address like wrong passwords do.
        for i in range(5):
            assert (await Browser.open(port, f"guess{i}")).status == 401
        bans = core.api("GET", "/api/bans")[1]["bans"]
        assert [b["ip"] for b in bans] == ["127.0.0.1"]

    asyncio.run(main())
    assert core.api("GET", "/api/health")[0] == 200 and core.alive()
    assert "Traceback" not in core.log_path.read_text(errors="replace")


def test_with_the_port_at_zero_there_is_no_browser_phone(core_factory):
    core = core_factory({"sip.wss_port": 0})
    core.add_extension("1001", "browser-secret-1")
    status, body = core.api("POST", "/api/browser-phone/ticket", {"extension": "1001"})
    assert status == 409 and "sip.wss_port" in body["error"]


def test_the_malformed_corpus_and_mutations_over_a_browser_connection_leave_no_traceback(core_factory):
    """Over an open connection, each malformed message gets 400/413 or silence, as over UDP."""
    port = free_port()
    core = core_factory({"sip.wss_port": port})
    core.wss_port = port
    core.add_extension("1001", "browser-secret-1")
    corpus = [p.read_bytes() for p in sorted((Path(__file__).parents[1] / "sip" / "corpus").glob("*.sip"))]
    corpus = [data for data in corpus if len(data) <= 60_000]  # larger is a frame too big: tested above
    rng = random.Random(7118)
    valid = sip_request("REGISTER")

    async def main():
        browser = await Browser.open(port, _ticket(core))
        assert browser.status == 101
        for data in corpus:
            browser.send(data, opcode=2)
        for _ in range(150):
            data = bytearray(valid)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            browser.send(bytes(data), opcode=2)
        browser.send(sip_request("OPTIONS", to_user="1001").replace(b"OPTIONS sip:1001@callbox",
                                                                     b"OPTIONS sip:callbox"))
        statuses = []
        while True:
            answer = await browser.sip(timeout=10)
            assert answer, "the connection ended"
            if not answer.strip():
                continue  # the pong of a message that was only CRLFs (a keep-alive)
            assert answer.startswith(b"SIP/2.0 "), answer[:200]
            statuses.append(answer.split(b" ", 2)[1])
            if b"CSeq: 1 OPTIONS" in answer:
                break
        assert set(statuses) <= {b"200", b"400", b"401", b"403", b"413", b"416", b"423", b"500"}, statuses
        await browser.close()

    asyncio.run(main())
    assert core.alive() and "Traceback" not in core.log_path.read_text(errors="replace")
