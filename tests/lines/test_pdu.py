"""SMS PDUs: known reference PDUs, malformed input, and round trips."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from appliance.errors import ATError
from appliance.lines.at_parser import decode_pdu_sms, encode_pdu_sms
from appliance.lines.pdu import (
    GSM7_BASIC, GSM7_EXTENSION, encode_deliver_pdu, gsm7_septets, is_gsm7, pack_septets,
)

WHEN = dt.datetime(2024, 3, 21, 14, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=2)))


def test_packing_matches_the_reference_example():
    # The classic "hellohello" example from the GSM 03.38 literature.
    assert pack_septets(gsm7_septets("hellohello")).hex().upper() == "E8329BFD4697D9EC37"


def test_reference_deliver_pdu():
    sms = decode_pdu_sms("07911326040000F0040B911346610089F60000208062917314080CC8F71D14969741F977FD07")
    assert sms.kind == "deliver"
    assert sms.smsc == "+31624000000"
    assert sms.number == "+31641600986"
    assert sms.text == "How are you?"
    assert sms.time == dt.datetime(2002, 8, 26, 19, 37, 41, tzinfo=dt.timezone.utc)


def test_ucs2_deliver_from_a_huawei_cmgr():
    # "Cześć" from +48601234567, UCS2, as an E173 shows it in AT+CMGR.
    pdu = ("07918497908952F0040B918406214365F70008424012410580800A"
           "0043007A0065015B0107")
    sms = decode_pdu_sms(pdu)
    assert (sms.number, sms.text, sms.dcs) == ("+48601234567", "Cześć", 8)
    assert sms.time.utcoffset() == dt.timedelta(hours=2)


def test_alphanumeric_sender():
    pdu = encode_deliver_pdu("Orange", "Twoje saldo", WHEN)[0]
    assert decode_pdu_sms(pdu).number == "Orange"


def test_8bit_message():
    # DCS 0x04: 8-bit data, shown as latin-1.
    pdu = "00040B918406214365F7000442401241058080" + "03" + "414243"
    assert decode_pdu_sms(pdu).text == "ABC"


def test_extension_characters_cost_two_septets():
    parts = encode_pdu_sms("+48601234567", "€" * 80)
    assert len(parts) == 1 and decode_pdu_sms(parts[0].hex).text == "€" * 80
    assert len(encode_pdu_sms("+48601234567", "€" * 81)) == 2


def test_submit_length_is_the_tpdu_without_smsc():
    part = encode_pdu_sms("+48601234567", "hello")[0]
    assert len(part.hex) // 2 == part.tpdu_length + 1
    assert part.hex.startswith("00")


def test_concatenated_parts_carry_their_header():
    parts = encode_pdu_sms("+48601234567", "x" * 200, ref=7)
    decoded = [decode_pdu_sms(p.hex) for p in parts]
    assert [(d.concat.ref, d.concat.total, d.concat.seq) for d in decoded] == [(7, 2, 1), (7, 2, 2)]
    assert "".join(d.text for d in decoded) == "x" * 200


@pytest.mark.parametrize("bad", ["", "0", "zz", "0791", "07911326040000F004", "00FF",
                                 "07911326040000F0040B911346610089F600002080629173140814"])
def test_malformed_pdus_raise_at_errors(bad):
    with pytest.raises(ATError):
        decode_pdu_sms(bad)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_random_pdus_never_raise_anything_else(data):
    try:
        decode_pdu_sms(data.hex())
    except ValueError as exc:
        assert isinstance(exc, ATError)


GSM7_CHARS = st.sampled_from(GSM7_BASIC.replace("\x1b", "") + "".join(GSM7_EXTENSION.values()))
POLISH_AND_CHINESE = st.sampled_from("ąęłńóśźżĄĘŁŃÓŚŹŻ你好世界中文電話号码 abc123.,!")
numbers = st.from_regex(r"\+?[0-9]{3,15}", fullmatch=True)


@settings(max_examples=150, deadline=None)
@given(numbers, st.text(GSM7_CHARS, max_size=400))
def test_gsm7_round_trip(number, text):
    assert is_gsm7(text)
    parts = encode_pdu_sms(number, text)
    decoded = [decode_pdu_sms(p.hex) for p in parts]
    assert all(d.number == number and d.dcs == 0 for d in decoded)
    assert "".join(d.text for d in decoded) == text


@settings(max_examples=150, deadline=None)
@given(numbers, st.text(POLISH_AND_CHINESE, min_size=1, max_size=200)
       .filter(lambda t: not is_gsm7(t)))
def test_ucs2_round_trip(number, text):
    parts = encode_pdu_sms(number, text)
    decoded = [decode_pdu_sms(p.hex) for p in parts]
    assert all(d.dcs == 8 for d in decoded)
    assert "".join(d.text for d in decoded) == text


@settings(max_examples=100, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=300))
def test_deliver_round_trip_any_text(text):
    parts = [decode_pdu_sms(p) for p in encode_deliver_pdu("+48601234567", text, WHEN)]
    assert "".join(p.text for p in parts) == text
    assert all(p.time == WHEN for p in parts)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_pdus_raise_only_at_errors(data):
    pdu = bytearray(bytes.fromhex(encode_deliver_pdu("+48601234567", "Zażółć gęślą jaźń " * 5, WHEN)[0]))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(pdu) - 1))
        pdu[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(pdu)))
    try:
        decode_pdu_sms(bytes(pdu[:cut]).hex())
    except ValueError as exc:
        assert isinstance(exc, ATError)
