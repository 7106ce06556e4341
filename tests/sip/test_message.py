"""The SIP parser against real-world captures, a malformed corpus and Hypothesis."""

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.errors import SipParseError
from appliance.sip import message as sm
from appliance.sip.headers import CANONICAL_NAMES
from appliance.sip.message import SipMessage, make_response, parse_auth, parse_name_addr, parse_via
from appliance.sip.parser import parse
from tests.sip.captures import (
    BARESIP_REGISTER,
    COMPACT,
    FOLDED_AND_MULTI_VIA,
    GRANDSTREAM_REGISTER,
    INVITE_SDP,
    IPV6,
    OK_RESPONSE_LOWER_VERSION,
    PJSUA_REGISTER,
    RESPONSE_401,
    STAR_CONTACT,
    YEALINK_REGISTER,
)
from tests.sip.strategies import FAST, sip_uris, tokens

CORPUS = Path(__file__).parent / "corpus"


# --------------------------------------------------------------------------
# real captures


@pytest.mark.parametrize(
    "data, start, header, expected",
    [
        (YEALINK_REGISTER, ("REGISTER", "sip:192.168.1.10:5060"), "User-Agent", "Yealink SIP-T46S 66.86.0.15"),
        (GRANDSTREAM_REGISTER, ("REGISTER", "sip:pbx.office.lan"), "x-gs-device-id", "000B82123456"),
        (BARESIP_REGISTER, ("REGISTER", "sip:127.0.0.1"), "Supported", "replaces,norefersub,gruu"),
        (PJSUA_REGISTER, ("REGISTER", "sip:127.0.0.1;transport=udp"), "Content-Length", "0"),
        (INVITE_SDP, ("INVITE", "sip:300@192.168.1.10"), "Content-Type", "application/sdp"),
        (COMPACT, ("INVITE", "sip:bob@biloxi.example.com"), "Call-ID", "3848276298220188511@atlanta.example.com"),
        (FOLDED_AND_MULTI_VIA, ("OPTIONS", "sip:carol@chicago.example.com"), "Subject",
         "I know you're there, pick up the phone and talk to me!"),
        (IPV6, ("REGISTER", "sip:[2001:db8::10]"), "Call-ID", "SSG9559905523997077@hlau_4100"),
        (STAR_CONTACT, ("REGISTER", "sip:192.168.1.10"), "Contact", "*"),
    ],
)
def test_captured_requests_parse(data, start, header, expected):
    msg = parse(data)
    assert msg.is_request
    assert (msg.method, msg.uri) == start
    assert msg.status is None
    assert msg.get(header) == expected
    again = parse(msg.to_bytes())
    assert again.headers == msg.headers and again.body == msg.body


def test_register_fields():
    msg = parse(YEALINK_REGISTER)
    assert msg.cseq == (2, "REGISTER")
    assert msg.call_id == "2016463352@192.168.1.51"
    contact = msg.contacts[0]
    assert contact.uri.user == "201" and contact.uri.port == 5062
    assert contact.params["reg-id"] == "1"
    assert contact.params["+sip.instance"] == '"<urn:uuid:00000000-0000-1000-8000-805ec0a1b2c3>"'
    assert msg.from_addr.display == "Reception" and msg.from_addr.tag == "1594843412"
    assert msg.to_addr.tag is None
    assert len(msg.get_all("Allow")) == 14
    scheme, creds = parse_auth(msg.get("Authorization"))
    assert scheme == "Digest" and creds["username"] == "201" and creds["nc"] == "00000001"
    assert msg.to_bytes() == YEALINK_REGISTER


def test_pjsua_register_route_and_rport_without_value():
    msg = parse(PJSUA_REGISTER)
    via = msg.top_via
    assert via.params["rport"] == "" and via.port == 5080
    assert str(via) == msg.get("Via")
    route = parse_name_addr(msg.get("Route"))
    assert route.uri.params == {"transport": "udp", "lr": ""}
    assert msg.contacts[0].uri.params == {"ob": ""}


def test_invite_with_sdp_body():
    msg = parse(INVITE_SDP)
    assert msg.body.startswith(b"v=0\r\no=alice")
    assert msg.body.endswith(b"telephone-event/8000\r\n")
    assert int(msg.get("Content-Length")) == len(msg.body)


def test_response_and_repeated_headers():
    msg = parse(RESPONSE_401)
    assert not msg.is_request
    assert (msg.status, msg.reason, msg.method, msg.uri) == (401, "Unauthorized", None, None)
    challenges = msg.get_all("www-authenticate")
    assert [parse_auth(c)[1]["algorithm"] for c in challenges] == ["SHA-256", "MD5"]
    assert msg.cseq == (1, "REGISTER")


def test_compact_forms_are_expanded():
    msg = parse(COMPACT)
    names = [n for n, _ in msg.headers]
    for name in ("Via", "From", "To", "Call-ID", "Contact", "Supported", "Subject", "Event",
                 "Content-Type", "Content-Length"):
        assert name in names
    assert msg.get("v") == msg.get("VIA")
    assert msg.get_all("Supported") == ["timer", "100rel"]
    assert msg.body == b"v=0\r\n"
    assert msg.top_via.transport == "TCP"


def test_vias_on_one_line_and_several_lines_keep_order():
    msg = parse(FOLDED_AND_MULTI_VIA)
    hosts = [parse_via(v).host for v in msg.get_all("Via")]
    assert hosts == ["proxy2.example.com", "proxy1.example.com", "pc33.example.com"]
    assert parse_via(msg.get_all("Via")[2]).params["received"] == "192.0.2.101"
    assert [parse_name_addr(r).uri.host for r in msg.get_all("Route")] == ["p1.example.com", "p2.example.com"]


def test_ipv6_hosts():
    msg = parse(IPV6)
    assert msg.request_uri.host == "[2001:db8::10]"
    via = msg.top_via
    assert (via.host, via.port) == ("[2001:db8::9:1]", 5062)
    contact = msg.contacts[0]
    assert contact.display == "Desk 201"
    assert contact.uri.host == "[2001:db8::9:1]" and contact.uri.params["transport"] == "udp"


def test_star_contact_and_space_before_colon():
    # RFC 3261 §25.1: HCOLON = *( SP / HTAB ) ":" SWS, so "Via : ..." is legal.
    msg = parse(STAR_CONTACT)
    assert msg.get("Via").startswith("SIP/2.0/UDP")
    assert msg.contacts[0].star and msg.contacts[0].uri is None


def test_version_is_case_insensitive():
    # RFC 3261 §7.1: "The SIP-Version string is case-insensitive".
    msg = parse(OK_RESPONSE_LOWER_VERSION)
    assert msg.status == 200
    assert msg.to_bytes().startswith(b"SIP/2.0 200 OK\r\n")


def test_leading_crlf_is_ignored_and_extra_body_is_truncated():
    data = b"\r\n\r\n" + INVITE_SDP + b"trailing junk"
    msg = parse(data)
    assert msg.body.endswith(b"telephone-event/8000\r\n")


def test_missing_content_length_takes_the_whole_datagram():
    data = BARESIP_REGISTER.replace(b"Content-Length: 0\r\n", b"") + b"hello"
    assert parse(data).body == b"hello"


def test_max_forwards_may_be_absent():
    msg = parse(BARESIP_REGISTER.replace(b"Max-Forwards: 70\r\n", b""))
    assert msg.get("Max-Forwards") is None


# --------------------------------------------------------------------------
# the malformed corpus

CORPUS_REASONS = {
    "100kB-line": "too large", "200-headers": "too many headers", "5000-byte-line": "too long",
    "bad-header-name": "header name", "bad-method-chars": "method", "bad-request-uri": "URI",
    "bad-start-line": "start line", "bad-via": "Via", "bare-lf-line-endings": "not terminated",
    "body-shorter-than-content-length": "shorter", "body-too-large": "too large",
    "continuation-before-any-header": "continuation", "cseq-method-mismatch": "does not match",
    "cseq-not-a-number": "CSeq", "cseq-too-large": "CSeq", "empty-message": "empty",
    "header-without-colon": "colon", "http-request": "version", "huge-content-length": "too large",
    "lone-lf-in-header": "control character", "max-forwards-not-a-number": "Max-Forwards",
    "missing-call-id": "missing Call-ID", "missing-cseq": "missing CSeq", "missing-from": "missing From",
    "missing-via": "missing Via", "negative-content-length": "Content-Length",
    "non-utf8-header": "UTF-8", "nul-byte": "control character", "only-crlf": "empty",
    "request-uri-bad-port": "port", "request-uri-without-scheme": "Request-URI",
    "response-wrong-version": "version", "start-line-double-space": "start line",
    "status-700": "status", "status-99": "status", "status-not-digits": "status",
    "two-call-ids": "twice", "unterminated-header-section": "not terminated",
    "via-bad-ipv6": "IPv6", "via-wrong-protocol": "SIP/2.0", "wrong-sip-version": "version",
}


def _corpus():
    files = sorted(CORPUS.glob("*.sip"))
    return [pytest.param(f, id=f.stem) for f in files]


def test_corpus_is_large_and_fully_described():
    names = {f.name.split(".")[0] for f in CORPUS.glob("*.sip")}
    assert len(names) >= 25
    assert names == set(CORPUS_REASONS)


@pytest.mark.parametrize("path", _corpus())
def test_malformed_message_is_refused(path):
    name, status, _ = path.name.split(".")
    with pytest.raises(SipParseError) as err:
        parse(path.read_bytes())
    assert err.value.status == int(status)
    assert CORPUS_REASONS[name].lower() in err.value.reason.lower()


# --------------------------------------------------------------------------
# editing and building


def test_header_editing():
    msg = parse(FOLDED_AND_MULTI_VIA)
    top = msg.remove_first("Via")
    assert parse_via(top).host == "proxy2.example.com"
    assert [parse_via(v).host for v in msg.get_all("Via")] == ["proxy1.example.com", "pc33.example.com"]
    assert msg.remove_first("Via") is not None and msg.remove_first("Via") is not None
    assert msg.get("Via") is None and msg.remove_first("Via") is None

    msg.add("Via", "SIP/2.0/UDP edge.lan;branch=z9hG4bKa")
    msg.add("Via", "SIP/2.0/UDP edge2.lan;branch=z9hG4bKb", first=True)
    msg.add("Via", "SIP/2.0/UDP edge3.lan;branch=z9hG4bKc")
    assert [parse_via(v).host for v in msg.get_all("Via")] == ["edge2.lan", "edge.lan", "edge3.lan"]

    msg.set("max-forwards", "67")
    assert msg.get("Max-Forwards") == "67"
    assert [n for n, _ in msg.headers].count("Max-Forwards") == 1
    msg.set("X-New", "1")
    assert msg.headers[-1] == ("X-New", "1")
    msg.remove("x-new")
    assert msg.get("X-New") is None
    msg.remove("Route")
    assert msg.get_all("Route") == []


def test_to_bytes_sets_content_length():
    msg = parse(INVITE_SDP)
    msg.body = b"v=0\r\n"
    data = msg.to_bytes()
    assert b"\r\nContent-Length: 5\r\n\r\nv=0\r\n" in data
    assert data.count(b"Content-Length") == 1
    msg.remove("Content-Length")
    assert parse(msg.to_bytes()).get("Content-Length") == "5"


def test_built_request_round_trips():
    msg = SipMessage.request("OPTIONS", "sip:gw.lan", [
        ("v", f"SIP/2.0/UDP 127.0.0.1:5060;branch={sm.new_branch()}"),
        ("From", f"<sip:callbox@127.0.0.1>;tag={sm.new_tag()}"),
        ("To", "<sip:gw.lan>"), ("Call-ID", sm.new_call_id()), ("CSeq", "1 OPTIONS"),
    ])
    again = parse(msg.to_bytes())
    assert again.get("Via") == msg.get("Via")
    assert again.top_via.branch.startswith("z9hG4bK")
    assert sm.new_branch() != sm.new_branch()


def test_make_response_copies_the_dialog_headers():
    req = parse(FOLDED_AND_MULTI_VIA)
    resp = make_response(req, 200, to_tag="srv1", headers=[("Allow", "INVITE, ACK")],
                         body=b"x", content_type="text/plain")
    assert resp.status == 200 and resp.reason == "OK"
    assert resp.get_all("Via") == req.get_all("Via")
    assert resp.get("To") == "<sip:carol@chicago.example.com>;tag=srv1"
    assert resp.get("From") == req.get("From") and resp.call_id == req.call_id
    assert resp.cseq == (63104, "OPTIONS")
    assert resp.get("Content-Type") == "text/plain" and resp.get("Allow") == "INVITE, ACK"
    assert resp.get("Route") is None and resp.get("Subject") is None
    back = parse(resp.to_bytes())
    assert back.body == b"x" and back.status == 200


def test_make_response_keeps_an_existing_to_tag_and_knows_reasons():
    req = parse(RESPONSE_401.replace(b"SIP/2.0 401 Unauthorized", b"REGISTER sip:callbox SIP/2.0"))
    resp = make_response(req, 423, to_tag="other")
    assert resp.get("To").endswith(";tag=as1a2b3c4d")
    assert resp.reason == "Interval Too Brief"
    for code in (100, 180, 183, 200, 202, 400, 401, 403, 404, 405, 407, 408, 413, 415, 416, 420,
                 423, 480, 481, 482, 483, 486, 487, 488, 500, 501, 503, 504, 513, 603):
        assert make_response(req, code).reason
    assert make_response(req, 486, "Agent Busy").reason == "Agent Busy"


def test_make_response_to_a_request_with_an_unparsable_to():
    req = parse(BARESIP_REGISTER.replace(b"To: <sip:alice@127.0.0.1>", b"To: <<junk>>"))
    assert make_response(req, 400, to_tag="t1").get("To") == "<<junk>>;tag=t1"


def test_header_values_cannot_smuggle_line_breaks():
    msg = parse(BARESIP_REGISTER)
    for bad in ("x\r\nVia: SIP/2.0/UDP evil", "x\nInjected: 1"):
        with pytest.raises(SipParseError):
            msg.set("Subject", bad)
        with pytest.raises(SipParseError):
            msg.add("Subject", bad)
    assert msg.get("Subject") is None


# --------------------------------------------------------------------------
# Hypothesis

VALID = [YEALINK_REGISTER, GRANDSTREAM_REGISTER, BARESIP_REGISTER, PJSUA_REGISTER, INVITE_SDP,
         RESPONSE_401, COMPACT, FOLDED_AND_MULTI_VIA, IPV6, STAR_CONTACT]


def _parse_or_refuse(data: bytes) -> None:
    try:
        msg = parse(data)
    except SipParseError as e:
        assert e.status in (400, 413)
        return
    # Whatever parses must render and parse again.
    parse(msg.to_bytes())


@FAST
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_crash(data):
    _parse_or_refuse(data)
    _parse_or_refuse(b"INVITE sip:a@b SIP/2.0\r\n" + data)


@FAST
@given(st.sampled_from(VALID), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255),
                                                    st.sampled_from(["replace", "insert", "delete"])),
                                          min_size=1, max_size=8))
def test_mutated_messages_never_crash(base, edits):
    data = bytearray(base)
    for pos, byte, kind in edits:
        pos %= len(data) + 1
        if kind == "insert":
            data[pos:pos] = bytes([byte])
        elif pos < len(data):
            if kind == "replace":
                data[pos] = byte
            else:
                del data[pos]
    _parse_or_refuse(bytes(data))


@FAST
@given(
    method=tokens,
    ruri=sip_uris(),
    from_uri=sip_uris(),
    tag=tokens,
    call_id=st.text(alphabet="abcdef0123456789@.-", min_size=1, max_size=30),
    seq=st.integers(0, 2**31 - 1),
    extra=st.lists(st.tuples(tokens.filter(lambda t: t.lower() not in CANONICAL_NAMES),
                             st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF,
                                                            blacklist_characters="\x7f"), max_size=40)
                             .map(str.strip)), max_size=6),
    body=st.binary(max_size=300),
)
def test_generated_requests_round_trip(method, ruri, from_uri, tag, call_id, seq, extra, body):
    msg = SipMessage.request(method, str(ruri), [
        ("Via", f"SIP/2.0/UDP 127.0.0.1:5060;branch={sm.new_branch()}"),
        ("From", f"<{from_uri}>;tag={tag}"),
        ("To", f"<{ruri}>"),
        ("Call-ID", call_id),
        ("CSeq", f"{seq} {method}"),
        *extra,
    ], body)
    again = parse(msg.to_bytes())
    assert (again.method, again.uri, again.body) == (method, str(ruri), body)
    assert again.headers[:-1] == msg.headers
    assert again.cseq == (seq, method)
    assert again.from_addr.uri == from_uri and again.from_addr.tag == tag
    assert parse(again.to_bytes()).headers == again.headers
