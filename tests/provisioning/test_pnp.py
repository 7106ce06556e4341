"""Plug and play: the ua-profile SUBSCRIBE answered, purely and over real multicast on lo."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

import pytest

from appliance.provisioning.macs import Vendor
from appliance.provisioning.pnp import (
    MAX_NOTIFY_SENDS,
    PNP_GROUP,
    PnpResponder,
    build_notify,
    read_ua_profile,
)
from appliance.provisioning.pnp_socket import start_pnp_listener
from appliance.provisioning.registry import PhoneRegistry
from appliance.sip.message import make_response
from appliance.sip.parser import parse

BASE = "http://192.0.2.10:8088/p/"


def snom_subscribe(mac: str = "000413874B49", host: str = "192.0.2.67", port: int = 5060,
                   accept: str = "application/url", call_id: str = "1930770594@192.0.2.67") -> bytes:
    # After Snom's published capture of its PnP request.
    return (
        f"SUBSCRIBE sip:MAC%3a{mac}@intern.snom.de SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-1a2b3c;rport\r\n"
        f"From: <sip:MAC%3a{mac}@intern.snom.de>;tag=658512961\r\n"
        f"To: <sip:MAC%3a{mac}@intern.snom.de>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 SUBSCRIBE\r\n"
        'Event: ua-profile;profile-type="device";vendor="snom";model="snomD785";version="10.1.54.13"\r\n'
        "Expires: 0\r\n"
        f"Accept: {accept}\r\n"
        f"Contact: <sip:{host}:{port}>\r\n"
        "User-Agent: snomD785/10.1.54.13\r\n"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def yealink_subscribe(mac: str = "001565aabbcc") -> bytes:
    return (
        f"SUBSCRIBE sip:MAC%3A{mac}@224.0.1.75 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 192.0.2.80:5060;branch=z9hG4bK11\r\n"
        f"From: <sip:MAC%3A{mac}@224.0.1.75>;tag=99\r\n"
        f"To: <sip:MAC%3A{mac}@224.0.1.75>\r\n"
        "Call-ID: yl-1@192.0.2.80\r\nCSeq: 1 SUBSCRIBE\r\n"
        'Event: ua-profile;profile-type="device";vendor="Yealink";model="SIP-T46U";version="108.86.0.20"\r\n'
        "Expires: 0\r\nAccept: application/url\r\nContact: <sip:192.0.2.80:5060>\r\n"
        "User-Agent: Yealink SIP-T46U 108.86.0.20 00:15:65:aa:bb:cc\r\nContent-Length: 0\r\n\r\n"
    ).encode()


@pytest.fixture
def registry(clock) -> PhoneRegistry:
    reg = PhoneRegistry()
    reg.bind("000413874b49", "1001", Vendor.SNOM, now=clock())
    reg.bind("001565aabbcc", "1002", Vendor.YEALINK, now=clock())
    return reg


def test_what_a_subscribe_says_about_the_phone():
    snom = read_ua_profile(parse(snom_subscribe()))
    assert (snom.mac, snom.vendor, snom.model, snom.accept) == (
        "000413874b49", Vendor.SNOM, "snomD785", ("application/url",))
    yealink = read_ua_profile(parse(yealink_subscribe()))
    assert (yealink.mac, yealink.vendor) == ("001565aabbcc", Vendor.YEALINK)


def test_a_bound_phone_gets_200_then_a_notify_with_its_url(registry, clock):
    responder = PnpResponder(registry, BASE, ("192.0.2.10", 5062), clock)
    ok, notify = responder.receive(snom_subscribe(), ("192.0.2.67", 5060))
    assert ok.to == ("192.0.2.67", 5060) and notify.to == ("192.0.2.67", 5060)
    response = parse(ok.data)
    assert response.status == 200 and response.get("Expires") == "0"
    assert response.to_addr.tag
    assert response.top_via.params["received"] == "192.0.2.67"
    assert response.top_via.params["rport"] == "5060"
    request = parse(notify.data)
    assert request.method == "NOTIFY" and request.uri == "sip:192.0.2.67:5060"
    assert request.get("Subscription-State").startswith("terminated")
    assert request.get("Event").startswith("ua-profile")
    assert request.get("Content-Type") == "application/url"
    assert request.call_id == "1930770594@192.0.2.67"
    assert request.from_addr.tag == response.to_addr.tag
    assert request.to_addr.tag == "658512961"
    url = urlsplit(request.body.decode())
    binding = registry.binding("000413874b49")
    assert (url.scheme, url.hostname, url.port, url.path) == ("http", "192.0.2.10", 8088, "/p/000413874b49.xml")
    assert (url.username, url.password) == (None, None)
    assert binding.password not in request.to_bytes().decode()


def test_a_yealink_is_told_the_directory(registry, clock):
    responder = PnpResponder(registry, BASE, ("192.0.2.10", 5062), clock)
    _, notify = responder.receive(yealink_subscribe(), ("192.0.2.80", 5060))
    url = urlsplit(parse(notify.data).body.decode())
    assert url.path == "/p/" and url.username is None


def test_a_phone_that_accepts_only_external_body_gets_the_rfc_6080_form(registry, clock):
    subscribe = parse(snom_subscribe(accept="message/external-body"))
    notify = build_notify(subscribe, "http://192.0.2.10:8088/p/", ("192.0.2.10", 5062), "t1",
                          target="sip:192.0.2.67:5060")
    content_type = notify.get("Content-Type")
    assert content_type.startswith("message/external-body")
    assert 'access-type="URL"' in content_type and 'URL="http://192.0.2.10:8088/p/"' in content_type


def test_an_unbound_phone_is_pending_and_gets_no_answer(registry, clock):
    responder = PnpResponder(registry, BASE, ("192.0.2.10", 5062), clock)
    assert responder.receive(snom_subscribe(mac="000413111111"), ("192.0.2.68", 5060)) == []
    [pending] = registry.pending()
    assert (pending.mac, pending.vendor, pending.ip) == ("000413111111", Vendor.SNOM, "192.0.2.68")


def test_other_requests_and_garbage_are_ignored(registry, clock):
    responder = PnpResponder(registry, BASE, ("192.0.2.10", 5062), clock)
    other = snom_subscribe().replace(b"Event: ua-profile", b"Event: message-summary")
    assert responder.receive(other, ("192.0.2.67", 5060)) == []
    assert responder.receive(b"\x00garbage", ("192.0.2.67", 5060)) == []


def test_the_notify_is_resent_until_answered_and_not_forever(registry, clock):
    responder = PnpResponder(registry, BASE, ("192.0.2.10", 5062), clock)
    _, notify = responder.receive(snom_subscribe(), ("192.0.2.67", 5060))
    assert responder.due() == []
    sends = 1
    for _ in range(20):
        clock.advance(4.0)
        sends += len(responder.due())
    assert sends == MAX_NOTIFY_SENDS and responder.waiting() == 0
    # A second phone answers at once: nothing is resent.
    _, notify = responder.receive(snom_subscribe(call_id="second@192.0.2.67"), ("192.0.2.67", 5060))
    responder.receive(make_response(parse(notify.data), 200).to_bytes(), ("192.0.2.67", 5060))
    clock.advance(4.0)
    assert responder.due() == [] and responder.waiting() == 0


def test_a_retransmitted_subscribe_gets_the_same_200_and_no_second_notify(registry, clock):
    responder = PnpResponder(registry, BASE, ("192.0.2.10", 5062), clock)
    first = responder.receive(snom_subscribe(), ("192.0.2.67", 5060))
    again = responder.receive(snom_subscribe(), ("192.0.2.67", 5060))
    assert len(first) == 2 and len(again) == 1
    assert parse(again[0].data).to_addr.tag == parse(first[0].data).to_addr.tag
    assert responder.waiting() == 1


def test_a_forged_subscribe_naming_a_bound_mac_gets_the_url_and_no_credentials(registry, clock):
    """An attacker on the LAN names a freshly approved phone's MAC: plug and play tells it
    where the box is (no secret) and never the phone's password; the file needs the password."""
    from appliance.provisioning.service import ProvisioningService, ProvisioningSettings
    responder = PnpResponder(registry, BASE, ("192.0.2.10", 5062), clock)
    binding = registry.binding("001565aabbcc")
    replies = responder.receive(yealink_subscribe(), ("192.0.2.66", 5060))  # the attacker's address
    assert replies, "a bound phone is still told where the box is"
    for datagram in replies:
        assert binding.password.encode() not in datagram.data
    url = urlsplit(parse(replies[1].data).body.decode())
    assert (url.username, url.password) == (None, None)
    # Following the URL gets a challenge, not the file with the SIP secret.
    service = ProvisioningService(registry, ProvisioningSettings(box_address="192.0.2.10"),
                                  lambda ext: {"number": ext, "name": "Anna", "secret": "sip-secret-1002"},
                                  clock=clock)
    reply = service.fetch("192.168.1.66", "GET", "001565aabbcc.cfg", {})
    assert reply.status == 401 and b"sip-secret-1002" not in reply.body
    # The phone with its own password (entered by the admin) gets it.
    import base64
    auth = "Basic " + base64.b64encode(f"001565aabbcc:{binding.password}".encode()).decode()
    reply = service.fetch("192.168.1.80", "GET", "001565aabbcc.cfg", {"Authorization": auth})
    assert reply.status == 200 and b"sip-secret-1002" in reply.body


def test_an_unapproved_mac_gets_no_answer_at_all(registry, clock):
    responder = PnpResponder(registry, BASE, ("192.0.2.10", 5062), clock)
    assert responder.receive(yealink_subscribe(mac="001565ddeeff"), ("192.0.2.66", 5060)) == []
    assert [p.mac for p in registry.pending()] == ["001565ddeeff"]


# ---- for real: multicast on the loopback interface --------------------------------


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_subscribe_to_the_multicast_group_on_lo_is_answered(registry, clock):
    async def scenario():
        port = _free_udp_port()
        responder = PnpResponder(registry, "http://127.0.0.1:8088/p/", ("127.0.0.1", 0), clock)
        listener = await start_pnp_listener(responder, "127.0.0.1", port=port)
        phone = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            phone.bind(("127.0.0.1", 0))
            phone.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
            phone.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            phone.setblocking(False)
            phone_port = phone.getsockname()[1]
            loop = asyncio.get_running_loop()
            await loop.sock_sendto(phone, snom_subscribe(host="127.0.0.1", port=phone_port), (PNP_GROUP, port))
            got = []
            while len(got) < 2:
                data, source = await asyncio.wait_for(loop.sock_recvfrom(phone, 65535), 10)
                got.append((parse(data), source))
            (ok, _), (notify, notify_source) = got
            assert ok.status == 200 and notify.method == "NOTIFY"
            # The phone answers the NOTIFY where its Via says; the box stops resending.
            via = notify.top_via
            await loop.sock_sendto(phone, make_response(notify, 200).to_bytes(), (via.host, via.port))
            for _ in range(100):
                if responder.waiting() == 0:
                    break
                await asyncio.sleep(0.05)
            return notify, notify_source, responder.waiting()
        finally:
            phone.close()
            listener.close()

    notify, source, waiting = asyncio.run(scenario())
    assert source[0] == "127.0.0.1"
    url = urlsplit(notify.body.decode())
    assert url.username is None and url.password is None and url.path == "/p/000413874b49.xml"
    assert waiting == 0
