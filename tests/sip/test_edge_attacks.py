"""The edge against the attacks seen on the office LAN, without a core: a SipEdge over a fake
UDP socket that records what it sends (tests/sip/edge_harness.py; TCP in test_edge_tcp.py)."""

from __future__ import annotations

import secrets
import time

import pytest

from appliance.sip import contact_rules as reg
from appliance.sip.digest import client_response
from appliance.sip.edge import SipEdge
from appliance.sip.edge_limits import EdgeLimits
from appliance.sip.parser import parse
from appliance.sip.security import SecurityPolicy
from appliance.sip.source import Source
from tests.sip.edge_harness import SECRET, answers, hdr, invite, make_edge, register, req, status


# ---- 1. unknown Authorization schemes -------------------------------------------------------------


@pytest.mark.parametrize("value", ["Foo bar=baz", "Basic MTAwMTpzZWNyZXQ=", "Bearer abc.def", "NTLM", "", "   "])
def test_an_unknown_authorization_scheme_is_challenged_not_counted(value):
    edge = make_edge()
    src = Source("udp", "127.0.0.2", 5070)
    for i in range(10):
        edge.handle(req("REGISTER", src=(src.ip, src.port), cseq=i + 1, extra=f"Authorization: {value}\r\n"), src)
        edge.handle(req("INVITE", "sip:1002@127.0.0.1", src=(src.ip, src.port),
                        extra=f"Proxy-Authorization: {value}\r\n"), src)
    sent = edge.udp.take()
    assert [status(d) for d, _ in sent] == [401, 407] * 10
    assert all(hdr(d, "WWW-Authenticate" if status(d) == 401 else "Proxy-Authenticate").startswith("Digest ")
               for d, _ in sent)
    assert edge.guard.failures("127.0.0.2") == 0
    assert not edge.guard.is_banned("127.0.0.2")
    assert register(edge, (src.ip, src.port)) == 200


def test_wrong_digest_credentials_still_count_and_ban():
    edge = make_edge()
    for _ in range(5):
        assert register(edge, secret="wrong") == 403
    assert edge.guard.is_banned("127.0.0.2")


# ---- 4. Max-Forwards ----------------------------------------------------------------------------------


@pytest.mark.parametrize("value,forwarded", [("0068", "67"), ("70", "69"), ("0000000000000000000001", "0"),
                                             ("99999999999999999999999", "254"), ("256", "254")])
def test_max_forwards_with_any_number_of_digits(value, forwarded):
    assert parse(req("OPTIONS", mf=value)).get("Max-Forwards") == value
    edge = make_edge(trunks=("127.0.0.9",))
    edge.handle(req("INVITE", "sip:100@127.0.0.1", src=("127.0.0.9", 5060), mf=value),
                Source("udp", "127.0.0.9", 5060))
    (data, addr), = edge.udp.take()
    assert addr == ("127.0.0.50", 5080)
    assert hdr(data, "Max-Forwards") == forwarded


@pytest.mark.parametrize("value", ["0", "000", "00000000000000"])
def test_max_forwards_of_zero_in_any_spelling_is_too_many_hops(value):
    edge = make_edge(trunks=("127.0.0.9",))
    edge.handle(req("INVITE", "sip:100@127.0.0.1", src=("127.0.0.9", 5060), mf=value),
                Source("udp", "127.0.0.9", 5060))
    assert answers(edge) == [483]


@pytest.mark.parametrize("value", ["-1", "7 0", "0x10", "seventy", ""])
def test_max_forwards_that_is_not_digits_is_refused(value):
    with pytest.raises(Exception):
        parse(req("OPTIONS", mf=value))


# ---- 5. Request-URI schemes ------------------------------------------------------------------------


@pytest.mark.parametrize("method,uri", [("OPTIONS", "tel:+48221234567"), ("INVITE", "tel:+48221234567"),
                                        ("REGISTER", "foo:bar"), ("MESSAGE", "im:a@b"), ("BYE", "urn:x:y"),
                                        ("OPTIONS", "mailto:a@b")])
def test_unknown_request_uri_schemes_get_416(method, uri):
    edge = make_edge()
    edge.handle(req(method, uri), Source("udp", "127.0.0.2", 5070))
    assert answers(edge) == [416]


def test_ack_with_an_unknown_scheme_gets_no_answer():
    edge = make_edge()
    edge.handle(req("ACK", "tel:+4822"), Source("udp", "127.0.0.2", 5070))
    assert edge.udp.take() == []


def test_sip_and_sips_request_uris_are_served():
    edge = make_edge()
    edge.handle(req("OPTIONS", "sip:127.0.0.1"), Source("udp", "127.0.0.2", 5070))
    edge.handle(req("OPTIONS", "SIP:127.0.0.1"), Source("udp", "127.0.0.2", 5070))
    assert answers(edge) == [200, 200]


# ---- 6. responses are relayed only along paths the edge made ---------------------------------------


def _response_to(forwarded: bytes, status_line: str = "200 OK") -> bytes:
    msg = parse(forwarded)
    keep = [f"{n}: {v}" for n, v in msg.headers if n in ("Via", "From", "To", "Call-ID", "CSeq")]
    return (f"SIP/2.0 {status_line}\r\n" + "\r\n".join(keep) + "\r\nContent-Length: 0\r\n\r\n").encode()


def test_a_response_goes_back_to_where_the_request_came_from():
    edge = make_edge(trunks=("127.0.0.9",))
    edge.handle(req("INVITE", "sip:100@127.0.0.1", src=("127.0.0.9", 5099)), Source("udp", "127.0.0.9", 5099))
    (forwarded, _), = edge.udp.take()
    engine = Source("udp", "127.0.0.50", 5080)
    edge.handle(_response_to(forwarded, "180 Ringing"), engine)
    edge.handle(_response_to(forwarded), engine)
    sent = edge.udp.take()
    assert [(status(d), a) for d, a in sent] == [(180, ("127.0.0.9", 5099)), (200, ("127.0.0.9", 5099))]
    assert all(d.count(b"Via:") == 1 for d, _ in sent)
    # The same response from anywhere but the engine is not relayed.
    edge.handle(_response_to(forwarded), Source("udp", "127.0.0.66", 5080))
    assert edge.udp.take() == []


def test_a_response_is_relayed_along_the_recorded_path_even_if_its_via_was_rewritten():
    edge = make_edge(trunks=("127.0.0.9",))
    edge.handle(req("INVITE", "sip:100@127.0.0.1", src=("127.0.0.9", 5099)), Source("udp", "127.0.0.9", 5099))
    (forwarded, _), = edge.udp.take()
    forged = _response_to(forwarded).replace(b"127.0.0.9:5099", b"127.0.0.77:6000").replace(
        b"received=127.0.0.9", b"received=127.0.0.77")
    edge.handle(forged, Source("udp", "127.0.0.50", 5080))
    (data, addr), = edge.udp.take()
    assert addr == ("127.0.0.9", 5099)


@pytest.mark.parametrize("second_via", [
    "SIP/2.0/UDP 127.0.0.7:5060", "SIP/2.0/UDP 127.0.0.1:5060", "SIP/2.0/UDP 999.1.1.1:99999",
    "SIP/2.0/UDP h.invalid;rport=70000", "SIP/2.0/UDP 127.0.0.7;rport=abc", "SIP/2.0/TCP [::1]:5060",
    "garbage", "",
])
@pytest.mark.parametrize("branch", ["z9hG4bKcbx", "z9hG4bKcbx0123456789abcdef0123", "z9hG4bKcbx" + "f" * 200])
def test_forged_responses_with_our_branch_mark_are_dropped_without_a_trace(second_via, branch, caplog):
    edge = make_edge()
    forged = (f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch={branch}\r\n"
              + (f"Via: {second_via}\r\n" if second_via else "")
              + "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: f1\r\nCSeq: 1 INVITE\r\n"
              "Content-Length: 0\r\n\r\n").encode()
    with caplog.at_level("DEBUG"):
        edge.handle_safely(forged, Source("udp", "127.0.0.8", 5060), False)
    assert edge.udp.take() == []
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)


def test_relay_paths_are_bounded_in_number_and_time():
    edge = make_edge(trunks=("127.0.0.9",), limits=EdgeLimits(relay_paths=3, relay_other_s=0.05))
    forwarded = []
    for i in range(5):
        edge.handle(req("MESSAGE", "sip:100@127.0.0.1", src=("127.0.0.9", 5099), call_id=f"m{i}"),
                    Source("udp", "127.0.0.9", 5099))
        forwarded.append(edge.udp.take()[0][0])
    assert len(edge.paths) == 3
    engine = Source("udp", "127.0.0.50", 5080)
    edge.handle(_response_to(forwarded[0]), engine)
    assert edge.udp.take() == []  # forgotten: the oldest went first
    time.sleep(0.1)
    edge.handle(_response_to(forwarded[4]), engine)
    assert edge.udp.take() == []  # expired


def test_the_edge_never_talks_to_itself():
    edge = make_edge()
    edge.own_hosts = frozenset({"127.0.0.1"})
    edge.handle(req("OPTIONS", src=("127.0.0.1", 5060)), Source("udp", "127.0.0.1", 5060))
    assert edge.udp.take() == []
    edge.send(b"x", "udp", ("127.0.0.1", 5060))
    assert edge.udp.take() == []


# ---- 7. failures from a protected address -------------------------------------------------------------


def test_failures_from_a_registered_address_slow_it_down_but_never_ban_it():
    edge = make_edge()
    assert register(edge, ("127.0.0.5", 5070)) == 200
    for _ in range(20):
        register(edge, ("127.0.0.5", 6000 + _), secret="wrong")
    assert not edge.guard.is_banned("127.0.0.5")
    assert edge.guard.is_slowed("127.0.0.5")
    # Slowed: more wrong guesses in the same second are dropped unchecked.
    results = [register(edge, ("127.0.0.5", 7000 + i), secret="wrong") for i in range(5)]
    assert results.count(0) >= 4
    # Its calls still go through (the phone proves who it is, and its exact source is not slowed
    # down), and it re-registers.
    for _ in range(3):
        (data, addr), = invite(edge, ("127.0.0.5", 5070))
        assert data.startswith(b"INVITE ") and addr == ("127.0.0.50", 5080)
        assert register(edge, ("127.0.0.5", 5070)) == 200


def test_failures_from_a_trunk_address_never_ban_it():
    edge = make_edge(trunks=("127.0.0.9",))
    for _ in range(12):
        register(edge, ("127.0.0.9", 5060), secret="wrong")
    assert not edge.guard.is_banned("127.0.0.9")


def test_failures_from_an_unknown_address_still_ban_it():
    edge = make_edge()
    assert register(edge, ("127.0.0.5", 5070)) == 200
    for _ in range(5):
        register(edge, ("127.0.0.6", 5070), secret="wrong")
    assert edge.guard.is_banned("127.0.0.6")


# ---- 9. registered phones first ------------------------------------------------------------------------


def test_a_registered_source_has_its_own_bucket_and_is_served_first():
    edge = make_edge(SecurityPolicy(rate_limit_per_s=10, rate_burst=10))
    assert register(edge, ("127.0.0.5", 5070)) == 200
    phone = Source("udp", "127.0.0.5", 5070)
    flood = [(req("OPTIONS", src=("127.0.0.5", 9000)), Source("udp", "127.0.0.5", 9000)) for _ in range(50)]
    edge.handle_batch(flood + [(req("OPTIONS", src=("127.0.0.5", 5070), call_id="phone"), phone)])
    sent = edge.udp.take()
    # The phone's request was handled before the flood queued ahead of it, and the flood got 10 answers.
    assert sent[0][1] == ("127.0.0.5", 5070)
    assert len(sent) == 1 + 10 - 2  # the phone's two REGISTERs took two of the address's tokens


def test_the_overall_limit_caps_unregistered_traffic_but_not_registered_phones():
    edge = make_edge(SecurityPolicy(rate_limit_per_s=1000, rate_burst=1000, overall_rate_per_s=20))
    assert register(edge, ("127.0.0.5", 5070)) == 200
    for i in range(100):
        edge.handle(req("OPTIONS", src=(f"127.0.1.{i}", 5070)), Source("udp", f"127.0.1.{i}", 5070))
    assert len(edge.udp.take()) == 20 - 2
    for _ in range(30):
        edge.handle(req("OPTIONS", src=("127.0.0.5", 5070)), Source("udp", "127.0.0.5", 5070))
    assert len(edge.udp.take()) == 30


# ---- 11. calls are placed only by someone who proved who they are ----------------------------------


@pytest.mark.parametrize("method", ["INVITE", "REFER", "SUBSCRIBE", "MESSAGE"])
def test_a_registered_source_proves_who_it_is_for_every_invite_refer_subscribe_and_message(method):
    edge = make_edge()
    assert register(edge) == 200
    for i in range(3):
        edge.handle(req(method, "sip:0088161234567@127.0.0.1", cseq=i + 1), Source("udp", "127.0.0.2", 5070))
        (data, addr), = edge.udp.take()
        assert status(data) == 407 and addr == ("127.0.0.2", 5070)
        assert hdr(data, "Proxy-Authenticate").startswith("Digest ")
    assert edge.stats.forwarded == 0
    assert edge.guard.failures("127.0.0.2") == 0
    # With credentials it goes through, in the name of the authenticated extension.
    (data, addr), = invite(edge, uri="sip:0088161234567@127.0.0.1", method=method)
    assert data.startswith(method.encode() + b" ") and addr == ("127.0.0.50", 5080)
    assert b"X-Callbox-Auth: 1001;" in data and b"Proxy-Authorization" not in data


@pytest.mark.parametrize("method", ["BYE", "INFO", "NOTIFY", "UPDATE", "PRACK", "OPTIONS"])
def test_in_dialog_requests_from_a_registered_source_are_forwarded_as_before(method):
    edge = make_edge()
    assert register(edge) == 200
    edge.handle(req(method, "sip:1002@127.0.0.1"), Source("udp", "127.0.0.2", 5070))
    (data, addr), = edge.udp.take()
    assert data.startswith(method.encode() + b" ") and addr == ("127.0.0.50", 5080)
    # From anywhere else they are challenged, as before.
    edge.handle(req(method, "sip:1002@127.0.0.1", src=("127.0.0.2", 5071)), Source("udp", "127.0.0.2", 5071))
    assert answers(edge) == [407]


def test_a_trunk_is_still_trusted_by_its_address():
    edge = make_edge(trunks=("127.0.0.9",))
    for method in ("INVITE", "REFER", "MESSAGE", "ACK", "CANCEL", "BYE"):
        edge.handle(req(method, "sip:100@127.0.0.1", src=("127.0.0.9", 5060)), Source("udp", "127.0.0.9", 5060))
        (data, addr), = edge.udp.take()
        assert data.startswith(method.encode() + b" ") and addr == ("127.0.0.50", 5080)
        assert b"X-Callbox-Auth: trunk:provider;" in data


def _take_forwarded(edge: SipEdge) -> list[bytes]:
    return [d for d, addr in edge.udp.take() if addr == ("127.0.0.50", 5080)]


def test_ack_and_cancel_are_forwarded_only_for_a_call_the_edge_placed():
    edge = make_edge()
    assert register(edge) == 200
    phone = Source("udp", "127.0.0.2", 5070)
    # The ACK of the edge's own 407 goes nowhere; a CANCEL for that INVITE gets its 200 here.
    edge.handle(req("INVITE", "sip:1002@127.0.0.1", call_id="c1", branch="z9hG4bKone"), phone)
    assert answers(edge) == [407]
    edge.handle(req("ACK", "sip:1002@127.0.0.1", call_id="c1", branch="z9hG4bKone"), phone)
    edge.handle(req("CANCEL", "sip:1002@127.0.0.1", call_id="c1", branch="z9hG4bKone"), phone)
    assert answers(edge) == [200]
    assert edge.stats.forwarded == 0
    # An ACK or CANCEL for a call nobody placed through the edge: dropped, even from the phone.
    for method in ("ACK", "CANCEL"):
        edge.handle(req(method, "sip:1002@127.0.0.1", call_id="nobody"), phone)
    assert edge.udp.take() == []
    # The call placed with credentials: its CANCEL and ACK go through, from the same host only.
    invite(edge, call_id="c2")
    edge.handle(req("CANCEL", "sip:1002@127.0.0.1", call_id="c2", cseq=2), phone)
    (cancel,) = _take_forwarded(edge)
    assert cancel.startswith(b"CANCEL ") and b"X-Callbox-Auth: 1001;" in cancel
    elsewhere = Source("udp", "127.0.0.66", 5070)
    for method in ("ACK", "CANCEL"):
        edge.handle(req(method, "sip:1002@127.0.0.1", call_id="c2", cseq=2, src=("127.0.0.66", 5070)), elsewhere)
    assert edge.udp.take() == []
    edge.handle(req("ACK", "sip:1002@127.0.0.1", call_id="c2", cseq=2, src=("127.0.0.2", 5999)),
                Source("udp", "127.0.0.2", 5999))
    assert _take_forwarded(edge)[0].startswith(b"ACK ")


def test_a_captured_authorization_is_worthless_from_another_host_or_for_another_request():
    edge = make_edge()
    assert register(edge) == 200
    phone = Source("udp", "127.0.0.2", 5070)
    edge.handle(req("INVITE", "sip:1002@127.0.0.1", call_id="c1"), phone)
    (challenge, _), = edge.udp.take()
    auth = client_response("INVITE", "sip:1002@127.0.0.1", "1001", SECRET, hdr(challenge, "Proxy-Authenticate"))
    sent = req("INVITE", "sip:1002@127.0.0.1", call_id="c1", cseq=2, extra=f"Proxy-Authorization: {auth}\r\n")
    edge.handle(sent, phone)
    assert len(_take_forwarded(edge)) == 1
    edge.handle(sent, phone)  # a retransmission: forwarded again
    assert len(_take_forwarded(edge)) == 1
    # Another call with the same credentials, from the phone's address or from another host.
    for src in (("127.0.0.2", 5070), ("127.0.0.66", 5070)):
        edge.handle(req("INVITE", "sip:1002@127.0.0.1", call_id="c9", src=src,
                        extra=f"Proxy-Authorization: {auth}\r\n"), Source("udp", *src))
        (data, _), = edge.udp.take()
        assert status(data) == 407 and "stale=true" in hdr(data, "Proxy-Authenticate")
    # Another number with the same credentials: the digest names the Request-URI it was made for.
    edge.handle(req("INVITE", "sip:0088161234567@127.0.0.1", call_id="c1", cseq=3,
                    extra=f"Proxy-Authorization: {auth}\r\n"), phone)
    assert answers(edge) == [403]
    assert edge.stats.forwarded == 1 + 1 and edge.guard.failures("127.0.0.2") == 1


def test_a_register_replayed_from_another_host_changes_nothing():
    edge = make_edge()
    phone = Source("udp", "127.0.0.2", 5070)
    edge.handle(req("REGISTER", call_id="r1"), phone)
    (challenge, _), = edge.udp.take()
    auth = client_response("REGISTER", "sip:127.0.0.1", "1001", SECRET, hdr(challenge, "WWW-Authenticate"))
    edge.handle(req("REGISTER", call_id="r1", cseq=2, extra=f"Authorization: {auth}\r\n"), phone)
    assert answers(edge) == [200]
    before = [b.to_dict() for b in edge.registrar.all_bindings()]
    thief = ("127.0.0.66", 5070)
    for call_id, cseq in (("r1", 3), ("r2", 1)):
        edge.handle(req("REGISTER", call_id=call_id, cseq=cseq, src=thief, extra=f"Authorization: {auth}\r\n"),
                    Source("udp", *thief))
        assert answers(edge) == [401]
    assert [b.to_dict() for b in edge.registrar.all_bindings()] == before
    assert edge.guard.failures("127.0.0.66") == 0


@pytest.mark.parametrize("contact, source, reason", [
    ("sip:1001@192.168.1.21:5060", "192.168.1.21", None),
    ("sip:1001@192.168.1.21;transport=tcp;ob", "192.168.1.21", None),
    ("sips:1001@192.168.1.21:5061", "192.168.1.21", None),
    ("sip:1001@[2001:db8::5]:5060", "2001:db8::5", None),
    ("sip:1001@192.168.1.21", "::ffff:192.168.1.21", None),
    ("sip:1001@127.0.0.1:5070", "127.0.0.1", None),
    # somewhere else than the phone that registered
    ("sip:0088161234567@192.168.1.30:5099", "192.168.1.21", reg.CONTACT_ELSEWHERE),
    ("sip:1001@127.0.0.1:5070", "192.168.1.21", reg.CONTACT_ELSEWHERE),
    ("sip:1001@10.0.0.7:5060", "203.0.113.9", reg.CONTACT_ELSEWHERE),  # behind NAT: refused for now
    ("sip:1001@phone.example.com", "192.168.1.21", reg.CONTACT_ELSEWHERE),
    ("sip:1001@192.168.1.21;maddr=192.168.1.30", "192.168.1.21", reg.CONTACT_ELSEWHERE),
    ("tel:+48221234567", "192.168.1.21", reg.CONTACT_ELSEWHERE),
    ("sip:1001@192.168.1.21?Route=%3Csip:192.168.1.30%3E", "192.168.1.21", reg.CONTACT_WITH_HEADERS),
    # what the box must never call on a phone's word
    ("sip:1001@192.168.1.10:5060", "192.168.1.10", reg.CONTACT_IS_THE_BOX),
    ("sip:1001@192.168.1.10", "192.168.1.10", reg.CONTACT_IS_THE_BOX),
    ("sip:0088161234567@192.168.1.40:5060", "192.168.1.40", reg.CONTACT_IS_A_TRUNK),
    ("sip:0088161234567@127.0.1.1:5062", "127.0.1.1", reg.CONTACT_IS_A_LINE),
    ("sip:0088161234567@127.0.1.1:5062", "127.0.0.1", reg.CONTACT_IS_A_LINE),
    ("sip:1001@224.0.1.75", "192.168.1.21", reg.CONTACT_NOT_UNICAST),
    ("sip:1001@255.255.255.255", "192.168.1.21", reg.CONTACT_NOT_UNICAST),
    ("sip:1001@0.0.0.0", "192.168.1.21", reg.CONTACT_NOT_UNICAST),
])
def test_a_contact_points_at_the_phone_that_registered(contact, source, reason):
    own = lambda ip, port: ip == "192.168.1.10" and port == 5060  # noqa: E731
    trunk = lambda ip, port: ip == "192.168.1.40"  # noqa: E731
    assert reg.contact_refusal(contact, Source("udp", source, 5070), is_own=own, is_trunk=trunk) == reason


def test_a_register_with_a_contact_elsewhere_is_refused_and_changes_nothing():
    edge = make_edge(trunks=("127.0.0.9",))
    assert register(edge) == 200
    before = [b.to_dict() for b in edge.registrar.all_bindings()]
    for contact, reason in (("<sip:0088161234567@127.0.0.9:5099>", b"Contact must point at this phone"),
                            ("<sip:1001@127.0.0.2:5070>, <sip:1001@127.0.0.5:5070>", b"Contact must point at this phone"),
                            ("<sip:1001@127.0.0.1:5060>", b"Contact must point at this phone")):
        source = Source("udp", "127.0.0.2", 5070)
        call_id = secrets.token_hex(4)
        edge.handle(req("REGISTER", call_id=call_id, contact=contact), source)
        (challenge, _), = edge.udp.take()
        auth = client_response("REGISTER", "sip:127.0.0.1", "1001", SECRET, hdr(challenge, "WWW-Authenticate"))
        edge.handle(req("REGISTER", call_id=call_id, cseq=2, contact=contact,
                        extra=f"Authorization: {auth}\r\n"), source)
        (data, _), = edge.udp.take()
        assert data.split(b"\r\n")[0] == b"SIP/2.0 403 " + reason
    assert [b.to_dict() for b in edge.registrar.all_bindings()] == before
    # From the trunk's own address, a Contact there is refused too.
    assert register(edge, ("127.0.0.9", 5070)) == 403
    # Taking a binding away is always allowed.
    assert register(edge, contact="<sip:1001@127.0.0.2:5070>;expires=0") == 200
    assert edge.registrar.all_bindings() == []
