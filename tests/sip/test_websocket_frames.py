"""RFC 6455 as the edge speaks it to browser phones: the opening handshake and frames, table-tested,
and never a crash whatever the bytes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.sip.websocket_frames import (Close, CloseCode, FrameReader, HandshakeError, Message, Opcode, Ping,
                                            accept_key, close_frame, frame, read_handshake, refusal,
                                            switching_protocols)
from tests.sip.browser_client import masked

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
GOOD = (f"GET /?ticket=abc HTTP/1.1\r\nHost: box:7443\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
        f"Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n"
        f"Origin: https://box:8443")


def test_the_rfc_6455_example_key_gets_its_accept_value():
    assert accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_a_good_handshake_gives_its_ticket_and_the_answer_names_the_sip_subprotocol():
    hs = read_handshake(GOOD.encode())
    assert (hs.key, hs.ticket, hs.origin) == (KEY, "abc", "https://box:8443")
    answer = switching_protocols(hs)
    assert answer.startswith(b"HTTP/1.1 101 ") and b"Sec-WebSocket-Protocol: sip\r\n" in answer
    assert read_handshake(GOOD.replace("?ticket=abc", "").encode()).ticket == ""
    assert read_handshake(GOOD.replace("?ticket=abc", "?ticket=a&ticket=b").encode()).ticket == ""


@pytest.mark.parametrize("change, status", [
    (("GET /?", "POST /?"), 400),
    (("HTTP/1.1\r\n", "HTTP/1.0\r\n"), 400),
    (("GET /?", "GET /other?"), 404),
    (("Upgrade: websocket", "Upgrade: h2c"), 400),
    (("keep-alive, Upgrade", "keep-alive"), 400),
    (("Version: 13", "Version: 8"), 426),
    (("Protocol: sip", "Protocol: chat"), 400),
    (("Protocol: sip", "Protocol: chat, sip"), 0),
    ((KEY, "short"), 400),
    (("Host: box:7443\r\n", ""), 400),
    (("Host:", " Host:"), 400),
    (("Origin:", "Orígin:"), 400),
])
def test_a_handshake_that_is_not_a_websocket_for_sip_is_refused(change, status):
    text = GOOD.replace(*change)
    if status == 0:
        read_handshake(text.encode("utf-8"))
        return
    with pytest.raises(HandshakeError) as e:
        read_handshake(text.encode("utf-8"))
    assert e.value.status == status


def test_a_huge_handshake_and_the_refusals():
    with pytest.raises(HandshakeError) as e:
        read_handshake(GOOD.encode() + b"\r\nX: " + b"a" * 9000)
    assert e.value.status == 431
    assert b"WWW-Authenticate: Ticket" in refusal(401, "Unauthorized")
    assert b"Sec-WebSocket-Version: 13" in refusal(426, "Upgrade Required")


@pytest.mark.parametrize("data, events, error", [
    (masked(1, b"OPTIONS"), [Message(b"OPTIONS", True)], None),
    (masked(2, b"\x00\x01"), [Message(b"\x00\x01", False)], None),
    (masked(1, b"REG", fin=False) + masked(0, b"ISTER"), [Message(b"REGISTER", True)], None),
    (masked(1, b"A", fin=False) + masked(9, b"p") + masked(0, b"B"), [Ping(b"p"), Message(b"AB", True)], None),
    (masked(10, b"pong"), [], None),
    (masked(8, b""), [Close(1000)], None),
    (masked(8, (1001).to_bytes(2, "big") + b"bye") + masked(1, b"after"), [Close(1001, "bye")], None),
    (bytes((0x81, 2)) + b"hi", [], CloseCode.PROTOCOL_ERROR),           # unmasked
    (bytes((0xC1, 0x80)) + b"mask", [], CloseCode.PROTOCOL_ERROR),      # RSV1 without an extension
    (masked(3, b"x"), [], CloseCode.PROTOCOL_ERROR),                     # reserved opcode
    (masked(0, b"x"), [], CloseCode.PROTOCOL_ERROR),                     # continuation of nothing
    (masked(1, b"a", fin=False) + masked(1, b"b"), [], CloseCode.PROTOCOL_ERROR),
    (masked(9, b"p" * 126), [], CloseCode.PROTOCOL_ERROR),               # control frame too long
    (masked(9, b"p", fin=False), [], CloseCode.PROTOCOL_ERROR),          # fragmented control frame
    (masked(8, b"\x03"), [], CloseCode.PROTOCOL_ERROR),
    (masked(8, (1005).to_bytes(2, "big")), [], CloseCode.PROTOCOL_ERROR),
    (masked(8, (1000).to_bytes(2, "big") + b"\xff"), [], CloseCode.INVALID_DATA),
    (masked(1, b"\xff\xfe"), [], CloseCode.INVALID_DATA),
    (masked(2, b"x" * 101), [], CloseCode.TOO_BIG),
    (masked(1, b"x" * 60, fin=False) + masked(0, b"x" * 60), [], CloseCode.TOO_BIG),
    (bytes((0x82, 0xFF)) + (1 << 62).to_bytes(8, "big"), [], CloseCode.TOO_BIG),  # refused from the header
])
def test_frames_from_a_browser(data, events, error):
    reader = FrameReader(max_message=100)
    got, err = reader.feed(data)
    assert got == events
    assert (err.code if err else None) == error
    if error or any(isinstance(e, Close) for e in events):
        assert reader.feed(masked(1, b"more")) == ([], None)  # nothing after the end is read


def test_frames_arrive_a_byte_at_a_time_and_pending_says_a_frame_has_begun():
    reader = FrameReader(max_message=1000)
    data = masked(1, b"INVITE" * 30) + masked(1, b"BYE")
    got = []
    for i in range(len(data)):
        events, err = reader.feed(data[i:i + 1])
        assert err is None
        got += events
        assert reader.pending == (i + 1 not in (len(masked(1, b"INVITE" * 30)), len(data)))
    assert got == [Message(b"INVITE" * 30, True), Message(b"BYE", True)]


def test_server_frames_are_unmasked_with_the_right_length():
    assert frame(Opcode.TEXT, b"hi") == b"\x81\x02hi"
    assert frame(Opcode.BINARY, b"x" * 200)[:4] == b"\x82\x7e\x00\xc8"
    assert frame(Opcode.TEXT, b"x" * 70000)[:10] == b"\x81\x7f" + (70000).to_bytes(8, "big")
    assert close_frame(1009, "too big") == b"\x88\x09\x03\xf1too big"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.integers(min_value=1, max_value=50))
def test_no_bytes_make_the_reader_raise(data, cut):
    reader = FrameReader(max_message=200)
    for i in range(0, len(data), cut):
        events, err = reader.feed(data[i:i + cut])
        assert all(isinstance(e, (Message, Ping, Close)) for e in events)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_no_bytes_make_the_handshake_reader_raise_anything_but_its_refusal(data):
    try:
        read_handshake(data)
    except HandshakeError as e:
        assert e.status in (400, 404, 426, 431)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([1, 2]), st.binary(max_size=300)), max_size=5))
def test_messages_round_trip_through_masking(messages):
    messages = [(op, data if op == 2 else data.decode("latin-1").encode("utf-8")[:300]) for op, data in messages]
    reader = FrameReader(max_message=1000)
    got, err = reader.feed(b"".join(masked(op, data) for op, data in messages))
    assert err is None and got == [Message(data, op == 1) for op, data in messages]
