"""Cutting a TCP stream into SIP messages by Content-Length."""

import pytest

from appliance.errors import SipParseError
from appliance.sip.framing import StreamFramer
from appliance.sip.parser import parse
from tests.sip.captures import BARESIP_REGISTER, COMPACT, INVITE_SDP, YEALINK_REGISTER


def test_stream_framer_cuts_by_content_length():
    framer = StreamFramer()
    stream = b"\r\n\r\n" + INVITE_SDP + b"\r\n" + YEALINK_REGISTER + b"\r\n\r\n" + COMPACT
    got = []
    for i in range(0, len(stream), 7):
        got += framer.feed(stream[i:i + 7])
    assert got == [INVITE_SDP, YEALINK_REGISTER, COMPACT]
    assert [parse(m).method for m in got] == ["INVITE", "REGISTER", "INVITE"]
    assert StreamFramer().feed(INVITE_SDP + YEALINK_REGISTER) == [INVITE_SDP, YEALINK_REGISTER]


def test_stream_framer_waits_for_the_body():
    framer = StreamFramer()
    assert framer.feed(INVITE_SDP[:-10]) == []
    assert framer.feed(INVITE_SDP[-10:]) == [INVITE_SDP]


@pytest.mark.parametrize("data, status", [
    (BARESIP_REGISTER.replace(b"Content-Length: 0\r\n", b""), 400),
    (BARESIP_REGISTER.replace(b"Content-Length: 0", b"Content-Length: zero"), 400),
    (BARESIP_REGISTER.replace(b"Content-Length: 0", b"Content-Length: 99999"), 413),
    (BARESIP_REGISTER.replace(b"Content-Length: 0", b"Content-Length: 0\r\nl: 5"), 400),
    (b"REGISTER sip:a SIP/2.0\r\n" + b"X-Pad: " + b"a" * 70000, 413),
])
def test_stream_framer_refuses(data, status):
    with pytest.raises(SipParseError) as err:
        StreamFramer().feed(data)
    assert err.value.status == status
