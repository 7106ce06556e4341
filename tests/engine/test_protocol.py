"""The control protocol's parsing (pure)."""

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from appliance.engine.protocol import (
    COMMANDS, EVENTS, ProtocolError, decode_line, encode, parse_command, parse_name_addr)


def test_a_good_command_parses():
    cmd = parse_command({"id": 3, "cmd": "call", "leg": "c1-a", "uri": "sip:201@10.0.0.5:5060",
                         "caller_id": {"name": "Shop", "number": "+48601"},
                         "headers": {"X-Queue": "sales"}, "timeout_s": 30})
    assert (cmd.id, cmd.name, cmd.args["leg"]) == (3, "call", "c1-a")


@pytest.mark.parametrize("message, why", [
    ({"cmd": "nope"}, "unknown command"),
    ({"cmd": "answer"}, "missing leg"),
    ({"cmd": "answer", "leg": "a", "extra": 1}, "unknown field"),
    ({"cmd": "answer", "leg": ""}, "bad leg"),
    ({"cmd": "answer", "leg": "a\nb"}, "bad leg"),
    ({"cmd": "reject", "leg": "a", "status": 180}, "final status"),
    ({"cmd": "send_dtmf", "leg": "a", "digits": ""}, "digits"),
    ({"cmd": "send_dtmf", "leg": "a", "digits": "1", "method": "inband"}, "method"),
    ({"cmd": "call", "leg": "a", "uri": "sip:x@y\r\nVia: evil"}, "uri"),
    ({"cmd": "call", "leg": "a", "uri": "sip:x@y", "headers": {"X-A": "1\r\nB: 2"}}, "headers"),
    ({"cmd": "call", "leg": "a", "uri": "sip:x@y", "timeout_s": -1}, "timeout_s"),
    ({"cmd": "record_start", "file": "/tmp/x.wav"}, "leg or legs"),
    ({"cmd": "record_stop"}, "file or leg"),
    ({"cmd": "conference", "legs": "a"}, "list"),
    ({"cmd": "conference", "legs": ["a"], "whisper": {"to": "a"}}, "whisper"),
])
def test_bad_commands_say_why(message, why):
    with pytest.raises(ProtocolError, match=why):
        parse_command(message)


def test_every_command_has_a_fields_entry_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "engine-protocol.md").read_text()
    missing = [name for name in list(COMMANDS) + list(EVENTS) if f"`{name}`" not in doc]
    assert missing == []


def test_decode_rejects_non_objects_and_round_trips():
    with pytest.raises(ProtocolError):
        decode_line(b"[1]")
    with pytest.raises(ProtocolError):
        decode_line(b"{bad")
    assert decode_line(encode({"event": "dtmf", "digit": "5"})) == {"event": "dtmf", "digit": "5"}


@pytest.mark.parametrize("text, name, number", [
    ('"Alice B" <sip:+48601@10.0.0.1>;tag=1', "Alice B", "+48601"),
    ("Bob <sip:200@pbx>", "Bob", "200"),
    ("sip:300@pbx;tag=9", "", "300"),
    ("<tel:+4822123>", "", "+4822123"),
    ('"Q \\"x\\"" <sip:1@h>', 'Q "x"', "1"),
    ("<sip:pbx.example>", "", ""),
])
def test_caller_id_from_a_from_header(text, name, number):
    got = parse_name_addr(text)
    assert (got["name"], got["number"]) == (name, number)


@given(st.text(max_size=200))
def test_caller_id_parsing_never_crashes(text):
    got = parse_name_addr(text)
    assert set(got) == {"name", "number", "uri"}


@given(st.dictionaries(st.text(max_size=10), st.one_of(st.none(), st.integers(), st.text()),
                       max_size=6))
def test_parse_command_only_raises_protocol_error(message):
    try:
        parse_command(message)
    except ProtocolError:
        pass
