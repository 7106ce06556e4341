"""The engine side's SDP and RTP headers: real captures, malformed input, and what never crashes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.webrtc import rtp_header
from appliance.webrtc.errors import MediaBridgeError
from appliance.webrtc.plain_sdp import build_plain, choose_codec, parse_plain
from tests.webrtc.captures import CHROMIUM_OFFER, PJSUA2_OFFER


def test_a_pjsua2_offer_is_read():
    media = parse_plain(PJSUA2_OFFER)
    assert (media.address, media.port) == ("10.231.41.12", 40557)
    assert media.codecs == ((9, "G722"), (0, "PCMU"), (8, "PCMA"), (120, "telephone-event"))
    assert media.voice() == ["G722", "PCMU", "PCMA"] and media.dtmf_pt == 120
    assert media.pt_of("PCMA") == 8


def test_what_the_bridge_writes_reads_back():
    sdp = build_plain("192.168.1.10", 40000, "PCMA", 120, session_id=77)
    media = parse_plain(sdp)
    assert (media.address, media.port, media.codecs) == ("192.168.1.10", 40000, ((8, "PCMA"), (120, "telephone-event")))
    assert "m=audio 40000 RTP/AVP 8 120\r\n" in sdp and sdp.endswith("a=sendrecv\r\n")
    assert "telephone-event" not in build_plain("192.168.1.10", 40000, "G722", None, session_id=77)


def test_static_payload_types_need_no_rtpmap():
    sdp = "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8\r\n"
    assert parse_plain(sdp).codecs == ((0, "PCMU"), (8, "PCMA"))


def test_telephone_event_at_48_khz_is_not_the_bridges():
    sdp = PJSUA2_OFFER.replace("telephone-event/8000", "telephone-event/48000")
    assert parse_plain(sdp).dtmf_pt is None


BAD = [
    ("", "empty"),
    ("hello", "does not start with v=0"),
    ("v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\nc=IN IP4 10.0.0.5\r\n", "no audio stream"),
    (PJSUA2_OFFER.replace("m=audio", "m=video"), "not audio"),
    (PJSUA2_OFFER.replace("RTP/AVP", "RTP/SAVP"), "is not plain RTP"),
    (CHROMIUM_OFFER, "UDP/TLS/RTP/SAVPF is not plain RTP"),
    (PJSUA2_OFFER.replace("m=audio 40557", "m=audio 0"), "refused or out of range"),
    (PJSUA2_OFFER.replace("m=audio 40557", "m=audio 70000"), "refused or out of range"),
    (PJSUA2_OFFER.replace("m=audio 40557", "m=audio x"), "malformed m= line"),
    (PJSUA2_OFFER.replace("RTP/AVP 9 0 8 120", "RTP/AVP 9 300"), "payload type out of range"),
    (PJSUA2_OFFER.replace("c=IN IP4 10.231.41.12", "c=IN IP6 ::1"), "is not IN IP4"),
    (PJSUA2_OFFER.replace("c=IN IP4 10.231.41.12", "c=IN IP4 host.example"), "is not an IPv4 address"),
    (PJSUA2_OFFER.replace("c=IN IP4 10.231.41.12\r\n", ""), "no connection address"),
    (PJSUA2_OFFER.replace("a=rtpmap:9 G722/8000", "a=rtpmap:x G722/8000"), "malformed rtpmap"),
    (PJSUA2_OFFER.replace("s=pjmedia", "garbage"), "malformed line"),
    (PJSUA2_OFFER + "a=x:" + "y" * 20000 + "\r\n", "larger than"),
]


@pytest.mark.parametrize("sdp,why", BAD, ids=[why for _, why in BAD])
def test_a_malformed_engine_sdp_gets_a_clear_error(sdp, why):
    with pytest.raises(MediaBridgeError, match=why):
        parse_plain(sdp)


@pytest.mark.parametrize("offered,chosen", [
    (["PCMU", "PCMA", "G722"], "G722"), (["PCMA", "PCMU"], "PCMU"), (["OPUS/48000", "PCMA"], "PCMA")])
def test_the_codec_both_sides_carry(offered, chosen):
    assert choose_codec(offered) == chosen


def test_no_common_codec_is_said_plainly():
    with pytest.raises(MediaBridgeError, match="no common codec: offered OPUS/48000; the bridge carries"):
        choose_codec(["OPUS/48000"])


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_either_read_or_refused_clearly(text):
    try:
        parse_plain("v=0\r\n" + text)
    except MediaBridgeError:
        pass


@given(pt=st.integers(0, 127), marker=st.booleans(), seq=st.integers(0, 0xFFFF),
       ts=st.integers(0, 0xFFFFFFFF), ssrc=st.integers(0, 0xFFFFFFFF), payload=st.binary(max_size=200))
def test_an_rtp_header_round_trips(pt, marker, seq, ts, ssrc, payload):
    packet = rtp_header.parse(rtp_header.build(pt, marker, seq, ts, ssrc, payload))
    if 200 <= (pt | (0x80 if marker else 0)) <= 204:
        assert packet is None     # indistinguishable from RTCP (RFC 5761 §4): never sent
    else:
        assert packet == rtp_header.RtpPacket(pt, marker, seq, ts, ssrc, payload)


@given(st.binary(max_size=300))
def test_any_datagram_parses_or_is_ignored(data):
    packet = rtp_header.parse(data)
    assert packet is None or isinstance(packet.payload, bytes)


def test_csrc_extension_and_padding_are_skipped():
    header = bytes([0x80 | 0x20 | 0x10 | 1, 0, 0, 1]) + bytes(8) + b"CSRC" + b"\xbe\xde\x00\x01" + b"EXT!"
    packet = rtp_header.parse(header + b"voice" + b"\x00\x00\x03")
    assert packet is not None and packet.payload == b"voice"


def test_rtcp_and_short_packets_are_not_audio():
    assert rtp_header.parse(bytes([0x80, 200]) + bytes(26)) is None      # a sender report
    assert rtp_header.parse(b"\x80\x00") is None
    assert rtp_header.parse(bytes([0x40]) + bytes(11)) is None          # RTP version 1
