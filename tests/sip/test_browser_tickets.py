"""Browser phone tickets: bound to one extension, single use, short-lived, bounded in number;
and what a request on a ticket-opened connection may say."""

from __future__ import annotations

import pytest

from appliance.sip.browser_phones import FROM_ANOTHER, identity_refusal, is_webrtc_sdp
from appliance.sip.browser_tickets import MAX_TICKET_CHARS, BrowserTickets
from appliance.sip.contact_rules import CONTACT_ELSEWHERE, contact_refusal
from appliance.sip.parser import parse
from appliance.sip.source import Source
from tests.sip.browser_client import WEBRTC_SDP, sip_request
from tests.sip.edge_harness import FakeClock


def test_a_ticket_names_its_extension_once():
    tickets = BrowserTickets(FakeClock())
    one, two = tickets.issue("1001"), tickets.issue("1002")
    assert one.ticket != two.ticket and len(one.ticket) <= MAX_TICKET_CHARS
    assert tickets.redeem(two.ticket) == "1002"
    assert tickets.redeem(one.ticket) == "1001"
    assert tickets.redeem(one.ticket) is None  # replayed
    assert tickets.redeem("") is None and tickets.redeem("x" * 10_000) is None
    assert len(tickets) == 0


def test_a_ticket_expires_and_is_gone_once_tried():
    clock = FakeClock()
    tickets = BrowserTickets(clock, ttl_s=60)
    late = tickets.issue("1001")
    clock.advance(60)
    assert tickets.redeem(late.ticket) is None
    assert len(tickets) == 0
    for _ in range(3):
        tickets.issue("1001")
    clock.advance(61)
    tickets.issue("1001")  # issuing forgets the expired ones
    assert len(tickets) == 1


def test_tickets_waiting_are_bounded_the_oldest_forgotten_first():
    tickets = BrowserTickets(FakeClock(), size=3)
    issued = [tickets.issue("1001").ticket for _ in range(5)]
    assert len(tickets) == 3
    assert tickets.redeem(issued[0]) is None and tickets.redeem(issued[4]) == "1001"


@pytest.mark.parametrize("method, kwargs, refused", [
    ("REGISTER", {}, False),
    ("REGISTER", {"to_user": "1002"}, True),
    ("REGISTER", {"from_user": "1002"}, True),
    ("INVITE", {}, False),
    ("INVITE", {"from_user": "1002"}, True),
    ("MESSAGE", {"from_user": "1002"}, True),
    ("BYE", {"from_user": "1002", "to_tag": "x"}, False),  # in a dialog: the connection proves who
    ("SUBSCRIBE", {"from_user": "10011"}, True),
])
def test_a_request_on_a_browser_connection_may_not_claim_another_extension(method, kwargs, refused):
    req = parse(sip_request(method, "1001", **kwargs))
    assert identity_refusal(req, "1001") == (FROM_ANOTHER if refused else None)


@pytest.mark.parametrize("contact, transport, refused", [
    ("sip:a1b2@df7jal23ls0d.invalid;transport=ws", "wss", False),
    ("sip:a1b2@DF7JAL23LS0D.INVALID;transport=WSS", "wss", False),
    ("sip:a1b2@df7jal23ls0d.invalid;transport=ws", "udp", True),      # only over a WebSocket
    ("sip:a1b2@df7jal23ls0d.invalid;transport=ws", "tcp", True),
    ("sip:a1b2@df7jal23ls0d.invalid", "wss", True),                   # no transport=ws: could be dialled
    ("sip:a1b2@df7jal23ls0d.invalid;transport=udp", "wss", True),
    ("sip:a1b2@x.invalid;transport=ws;maddr=192.168.1.5", "wss", True),
    ("sip:0088161234567@gateway.example;transport=ws", "wss", True),  # a name that resolves
    ("sip:0088161234567@192.168.1.5;transport=ws", "wss", True),      # another host
    ("sip:a1b2@x.invalid;transport=ws?Route=%3Csip:evil%3E", "wss", True),
])
def test_a_browser_contact_is_reachable_only_over_its_websocket(contact, transport, refused):
    refusal = contact_refusal(contact, Source(transport, "192.168.1.30", 50000))
    assert (refusal is not None) == refused, refusal
    if refused and "?" not in contact:
        assert refusal == CONTACT_ELSEWHERE


def test_webrtc_sdp_is_told_from_plain_rtp():
    assert is_webrtc_sdp(WEBRTC_SDP)
    assert not is_webrtc_sdp(b"v=0\r\nm=audio 4000 RTP/AVP 0 8 101\r\n")
    assert not is_webrtc_sdp(b"a=x UDP/TLS/RTP/SAVPF\r\n")
