"""Calls are placed only by someone who proved who they are, against a real `callbox core` over the wire."""

from __future__ import annotations

import secrets

import pytest

from appliance.sip.digest import client_response
from tests.integration.attack_phone import (GATEWAY, SDP, assert_no_traceback, authorized, banned, exchange,
                                            gateway, header, heard, register, register_contact, request,
                                            status_of, udp)


def test_an_invite_without_credentials_from_a_registered_phones_source_never_reaches_the_trunk(box):
    gw = gateway(box)
    ext = box.add_extension("1001")
    assert box.api("PATCH", "/api/extensions/1001", {"class_of_service": "international"})[0] == 200
    phone = udp("127.0.0.2")
    assert status_of(register(phone, box.sip_port, "1001", ext["secret"])) == 200
    # From the phone's own address and port (over UDP anybody can send that, or a program on the phone).
    answer = exchange(phone, request("INVITE", "sip:0088161234567@127.0.0.1", phone, body=SDP, to="0088161234567",
                                     extra="Content-Type: application/sdp\r\n"), box.sip_port)
    assert status_of(answer) == 407, answer
    assert header(answer, "Proxy-Authenticate").startswith("Digest ")
    assert heard(gw, 3.0) == []
    assert_no_traceback(box)


def test_a_register_authorization_replayed_from_another_host_gets_a_fresh_challenge(core):
    ext = core.add_extension("1001")
    phone, thief = udp("127.0.0.2"), udp("127.0.0.3")
    call_id = secrets.token_hex(6)
    first = exchange(phone, request("REGISTER", "sip:127.0.0.1", phone, call_id=call_id,
                                    extra="Expires: 300\r\n"), core.sip_port)
    auth = client_response("REGISTER", "sip:127.0.0.1", "1001", ext["secret"], header(first, "WWW-Authenticate"))
    answer = exchange(phone, request("REGISTER", "sip:127.0.0.1", phone, call_id=call_id, cseq=2,
                                     extra=f"Expires: 300\r\nAuthorization: {auth}\r\n"), core.sip_port)
    assert status_of(answer) == 200, answer
    before = core.registrations()
    # The header, captured on the LAN, sent again from another host with that host as the Contact.
    for call_id2, cseq in ((call_id, 3), ("stolen", 1)):
        answer = exchange(thief, request("REGISTER", "sip:127.0.0.1", thief, call_id=call_id2, cseq=cseq,
                                         extra=f"Expires: 300\r\nAuthorization: {auth}\r\n"), core.sip_port)
        assert status_of(answer) == 401, answer
        assert header(answer, "WWW-Authenticate").startswith("Digest ")
    assert core.registrations() == before
    assert banned(core) == []
    assert_no_traceback(core)


def test_a_captured_invite_authorization_places_no_second_call_but_a_retransmission_goes_through(core_factory):
    engine = udp()
    core = core_factory({"sip.forward_to": f"127.0.0.1:{engine.getsockname()[1]}"})
    ext = core.add_extension("1001")
    phone = udp("127.0.0.2")
    assert status_of(register(phone, core.sip_port, "1001", ext["secret"])) == 200
    sent = authorized(phone, core.sip_port, "INVITE", "sip:1002@127.0.0.1", "1001", ext["secret"], call_id="c1")
    assert b"INVITE sip:1002@127.0.0.1" in engine.recv(65535)
    # The phone's retransmission (the same Call-ID, CSeq and branch) is forwarded again.
    phone.sendto(sent, ("127.0.0.1", core.sip_port))
    assert b"Call-ID: c1" in engine.recv(65535)
    # The same credentials on another call (captured on the LAN, sent from the phone's address).
    auth = header(sent, "Proxy-Authorization")
    again = exchange(phone, request("INVITE", "sip:1002@127.0.0.1", phone, call_id="c2",
                                    extra=f"Proxy-Authorization: {auth}\r\n"), core.sip_port)
    assert status_of(again) == 407, again
    # ... and on a call to another number: the digest names the Request-URI it was made for.
    other = exchange(phone, request("INVITE", "sip:0088161234567@127.0.0.1", phone, call_id="c1", cseq=3,
                                    extra=f"Proxy-Authorization: {auth}\r\n"), core.sip_port)
    assert status_of(other) in (403, 407), other
    assert heard(engine, 1.0) == []
    assert_no_traceback(core)


def test_a_contact_pointing_at_a_gateway_is_refused_and_nothing_reaches_the_gateway(box, phones):
    from tests.integration.test_calls import registered_phone
    gw = gateway(box)
    ext = box.add_extension("1002")
    assert box.api("PATCH", "/api/extensions/1002", {"class_of_service": "internal"})[0] == 200
    attacker = udp("127.0.0.2")
    answer = register_contact(attacker, box.sip_port, "1002", ext["secret"],
                              f"<sip:0088161234567@{GATEWAY}:{gw.getsockname()[1]}>")
    assert status_of(answer) == 403, answer
    assert b"Contact must point at this phone" in answer.split(b"\r\n")[0]
    assert [r for r in box.registrations() if r["aor"] == "1002"] == []
    caller = registered_phone(box, phones, "1001")
    caller.call(f"sip:1002@127.0.0.1:{box.sip_port}")
    # 1002 is not registered anywhere: the box plays voicemail or gives up; nothing goes to the gateway.
    assert heard(gw, 4.0) == []
    caller.hangup()
    assert_no_traceback(box)


@pytest.mark.parametrize("method,header_line", [
    ("REGISTER", "To: *"),
    ("SUBSCRIBE", "From: *"),
])
def test_a_star_where_an_address_belongs_gets_400_not_a_traceback(core, method, header_line):
    """Found by the 100,000-message fuzz: `To: *` (a Contact's word) reached code that wanted a URI."""
    core.add_extension("1001")
    sock = udp()
    msg = request(method, f"sip:127.0.0.1:{core.sip_port}", sock, extra="Event: message-summary\r\n").decode()
    name = header_line.split(":")[0]
    msg = "\r\n".join(header_line if line.startswith(f"{name}:") else line for line in msg.split("\r\n"))
    answer = exchange(sock, msg.encode(), core.sip_port)
    assert status_of(answer) in (400, 401, 407)
    assert_no_traceback(core)
