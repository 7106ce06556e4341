"""DLE shielding of voice data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from appliance.lines.dle import DleDecoder, DleDtmf, DleTone, Tone, dle_encode


def test_every_dle_byte_is_doubled():
    assert dle_encode(b"\x01\x10\x02\x10\x10") == b"\x01\x10\x10\x02\x10\x10\x10\x10"
    assert dle_encode(b"") == b""


@pytest.mark.parametrize("data,audio,events", [
    (b"ab\x10\x10cd", b"ab\x10cd", []),
    (b"\x105\x10#\x10A", b"", [DleDtmf("5"), DleDtmf("#"), DleDtmf("A")]),
    (b"x\x10by\x10d\x10s\x10q", b"xy", [DleTone(Tone.BUSY, ord("b")), DleTone(Tone.DIAL_TONE, ord("d")),
                                         DleTone(Tone.SILENCE, ord("s")), DleTone(Tone.QUIET, ord("q"))]),
    (b"\x10c\x10e", b"", [DleTone(Tone.FAX_CALLING, ord("c")), DleTone(Tone.DATA_CALLING, ord("e"))]),
    (b"\x10\x03", b"", [DleTone(Tone.END, 3)]),
    (b"\x10Z", b"", [DleTone(Tone.UNKNOWN, ord("Z"))]),
])
def test_decoder_table(data, audio, events):
    assert DleDecoder().feed(data) == (audio, events)


def test_dle_split_across_reads_waits_for_its_partner():
    d = DleDecoder()
    assert d.feed(b"ab\x10") == (b"ab", [])
    assert d.feed(b"\x10c\x10") == (b"\x10c", [])
    assert d.feed(b"7") == (b"", [DleDtmf("7")])


def test_stop_at_end_keeps_the_command_replies():
    d = DleDecoder(stop_at_end=True)
    assert d.feed(b"ab\x10\x03\r\nOK\r\n") == (b"ab", [DleTone(Tone.END, 3)])
    assert d.ended and d.remainder == b"\r\nOK\r\n"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), st.lists(st.integers(min_value=0, max_value=2000), max_size=6))
def test_round_trip_for_any_audio_and_any_chunking(audio, cuts):
    encoded = dle_encode(audio)
    points = sorted({min(c, len(encoded)) for c in cuts})
    chunks = [encoded[a:b] for a, b in zip([0] + points, points + [len(encoded)])]
    d = DleDecoder()
    out = bytearray()
    for chunk in chunks:
        got, events = d.feed(chunk)
        assert events == []
        out += got
    assert bytes(out) == audio


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=500))
def test_decoder_never_raises(data):
    DleDecoder().feed(data)
