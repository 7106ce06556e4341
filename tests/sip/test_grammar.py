"""The grammar of SIP header values: URIs, name-addrs, Via, parameters, credentials."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.errors import SipParseError
from appliance.sip.grammar import (
    Via,
    parse_auth,
    parse_name_addr,
    parse_params,
    parse_uri,
    parse_via,
    split_header_list,
)
from tests.sip.strategies import FAST, hosts, params, ports, sip_uris


@pytest.mark.parametrize(
    "text, fields",
    [
        ("sip:alice@atlanta.com", ("sip", "alice", None, "atlanta.com", None, {}, {})),
        ("sip:alice:secretword@atlanta.com;transport=tcp",
         ("sip", "alice", "secretword", "atlanta.com", None, {"transport": "tcp"}, {})),
        ("sips:alice@atlanta.com?subject=project%20x&priority=urgent",
         ("sips", "alice", None, "atlanta.com", None, {}, {"subject": "project%20x", "priority": "urgent"})),
        ("sip:+1-212-555-1212:1234@gateway.com;user=phone",
         ("sip", "+1-212-555-1212", "1234", "gateway.com", None, {"user": "phone"}, {})),
        ("sip:alice@192.0.2.4:5070", ("sip", "alice", None, "192.0.2.4", 5070, {}, {})),
        ("sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
         ("sip", None, None, "atlanta.com", None, {"method": "REGISTER"}, {"to": "alice%40atlanta.com"})),
        ("sip:alice;day=tuesday@atlanta.com", ("sip", "alice;day=tuesday", None, "atlanta.com", None, {}, {})),
        ("sip:*97#@pbx.lan", ("sip", "*97#", None, "pbx.lan", None, {}, {})),
        ("sip:[2001:db8::1]:5061;LR", ("sip", None, None, "[2001:db8::1]", 5061, {"lr": ""}, {})),
        ("tel:+48-601-234-567;phone-context=example.com",
         ("tel", "+48-601-234-567", None, "", None, {"phone-context": "example.com"}, {})),
    ],
)
def test_parse_uri(text, fields):
    uri = parse_uri(text)
    assert (uri.scheme, uri.user, uri.password, uri.host, uri.port, uri.params, uri.headers) == fields
    assert parse_uri(str(uri)) == uri


@pytest.mark.parametrize("text", [
    "", "sip:", "http://example.com", "sip:alice@", "sip:@host", "sip:host:0", "sip:host:99999",
    "sip:host:5060x", "sip:[::1", "sip:[zz::1]", "sip:a b@host", "sip:host;a=1;a=2", "sip:host;=x",
    "sip:host?noequals", "tel:", "tel:abc xyz", "sip:-host.", "sip:host;p=<x>",
])
def test_parse_uri_refuses_junk(text):
    with pytest.raises(SipParseError):
        parse_uri(text)


@pytest.mark.parametrize(
    "text, display, uri, params",
    [
        ('"Alice Liddell" <sip:alice@atlanta.com>;tag=1928301774', "Alice Liddell",
         "sip:alice@atlanta.com", {"tag": "1928301774"}),
        ("Bob <sips:bob@biloxi.com> ;tag=a48s", "Bob", "sips:bob@biloxi.com", {"tag": "a48s"}),
        ("Anonymous Caller <sip:c8oqz84zk7z@privacy.org>", "Anonymous Caller",
         "sip:c8oqz84zk7z@privacy.org", {}),
        ("sip:+12125551212@server.phone2net.com;tag=887s", None,
         "sip:+12125551212@server.phone2net.com", {"tag": "887s"}),
        ('"Say \\"hi\\"" <sip:a@b>;expires=60;q=0.7', 'Say "hi"', "sip:a@b", {"expires": "60", "q": "0.7"}),
        ("<sip:a@b;transport=tcp>;methods=\"INVITE, BYE\"", None, "sip:a@b;transport=tcp",
         {"methods": '"INVITE, BYE"'}),
    ],
)
def test_parse_name_addr(text, display, uri, params):
    na = parse_name_addr(text)
    assert (na.display, str(na.uri), na.params, na.star) == (display, uri, params, False)
    assert parse_name_addr(str(na)) == na


@pytest.mark.parametrize("text", [
    "", '"unterminated <sip:a@b>', '"Name" sip:a@b', "<sip:a@b", "<sip:a@b> junk",
    "Name With @ <sip:a@b>", "not a uri", "<sip:a@b>;tag=1;tag=2", "<sip:a@b>;bad param",
])
def test_parse_name_addr_refuses_junk(text):
    with pytest.raises(SipParseError):
        parse_name_addr(text)


@pytest.mark.parametrize(
    "text, transport, host, port, params",
    [
        ("SIP/2.0/UDP erlang.bell-telephone.com:5060;branch=z9hG4bK87asdks7", "UDP",
         "erlang.bell-telephone.com", 5060, {"branch": "z9hG4bK87asdks7"}),
        ("SIP/2.0/UDP 192.0.2.1:5060 ;received=192.0.2.207;branch=z9hG4bK77asjd", "UDP", "192.0.2.1",
         5060, {"received": "192.0.2.207", "branch": "z9hG4bK77asjd"}),
        ("SIP / 2.0 / tcp   host.lan;rport;branch=z9hG4bKx", "TCP", "host.lan", None,
         {"rport": "", "branch": "z9hG4bKx"}),
        ("SIP/2.0/WSS [2001:db8::5]:443;branch=z9hG4bKw;received=2001:db8::6", "WSS", "[2001:db8::5]", 443,
         {"branch": "z9hG4bKw", "received": "2001:db8::6"}),
        ("SIP/2.0/TLS pbx.lan;rport=5061;branch=z9hG4bKt", "TLS", "pbx.lan", None,
         {"rport": "5061", "branch": "z9hG4bKt"}),
    ],
)
def test_parse_via(text, transport, host, port, params):
    via = parse_via(text)
    assert (via.protocol, via.transport, via.host, via.port, via.params) == ("SIP/2.0", transport, host, port, params)
    assert parse_via(str(via)) == via


@pytest.mark.parametrize("text", [
    "", "SIP/2.0", "SIP/2.0/UDP", "SIP/3.0/UDP host", "HTTP/2.0/UDP host", "SIP/2.0/U@P host",
    "SIP/2.0/UDP host:port", "SIP/2.0/UDP host;rport=abc", "SIP/2.0/UDP host;branch=a;branch=b",
    "SIP/2.0/UDP host junk", "SIP/2.0/UDP [::1]x",
])
def test_parse_via_refuses_junk(text):
    with pytest.raises(SipParseError):
        parse_via(text)


def test_parse_params_and_split_header_list():
    assert parse_params(";tag=1; lr ;Expires = 60") == {"tag": "1", "lr": "", "expires": "60"}
    assert parse_params('x="a;b"') == {"x": '"a;b"'}
    assert split_header_list('"Doe, John" <sip:j@d>, <sip:a@b;x=1>,sip:c@d') == [
        '"Doe, John" <sip:j@d>', "<sip:a@b;x=1>", "sip:c@d"]
    assert split_header_list("  ") == []
    with pytest.raises(SipParseError):
        split_header_list('"open, <sip:a@b>')


def test_parse_auth():
    scheme, p = parse_auth('Digest realm="a \\"b\\"", nonce="n,1" , algorithm=SHA-256,qop="auth,auth-int"')
    assert scheme == "Digest"
    assert p == {"realm": 'a "b"', "nonce": "n,1", "algorithm": "SHA-256", "qop": "auth,auth-int"}
    assert parse_auth("Digest") == ("Digest", {})
    for junk in ('Digest realm="a", realm="b"', "Digest realm", 'Digest realm="open', "Digest a=b,",
                 "Digest a=b c=d", "", "Di@gest a=b", "Digest =x"):
        with pytest.raises(SipParseError):
            parse_auth(junk)



@FAST
@given(st.text(max_size=200))
def test_structure_parsers_only_raise_parse_errors(text):
    for fn in (parse_uri, parse_name_addr, parse_via, parse_params, parse_auth, split_header_list):
        try:
            fn(text)
        except SipParseError:
            pass


@FAST
@given(sip_uris())
def test_uri_round_trip(uri):
    assert parse_uri(str(uri)) == uri
    assert str(parse_uri(str(uri))) == str(uri)


@FAST
@given(st.sampled_from(["UDP", "TCP", "TLS", "WS", "WSS"]), hosts, ports, params)
def test_via_round_trip(transport, host, port, p):
    p.pop("rport", None)  # validated as a port number; covered by the table above
    via = Via(transport, host, port, {"branch": "z9hG4bK1", **p})
    assert parse_via(str(via)) == via
