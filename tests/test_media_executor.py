"""The one executor: each media command becomes the engine command the protocol declares."""

import pytest

from appliance.engine.protocol import parse_command
from appliance.logic import media as m
from appliance.media_executor import MediaExecutor, engine_message

PROMPTS = {"welcome": "/p/en/welcome.wav"}

CASES = [
    (m.Ringing("a"), ("ringing", {"leg": "a"})),
    (m.Answer("a"), ("answer", {"leg": "a"})),
    (m.Dial("b", "sip:1001@10.0.0.2", {"number": "1", "name": ""}, 30), (
        "call", {"leg": "b", "uri": "sip:1001@10.0.0.2", "caller_id": {"number": "1", "name": ""}, "timeout_s": 30})),
    (m.Bridge("a", "b"), ("bridge", {"a": "a", "b": "b"})),
    (m.Unbridge("a", "b"), ("unbridge", {"a": "a", "b": "b"})),
    (m.Hangup("a"), ("hangup", {"leg": "a"})),
    (m.Reject("a", 486), ("reject", {"leg": "a", "status": 486})),
    (m.Play("a", "welcome", loop=True), ("play", {"leg": "a", "file": "/p/en/welcome.wav", "loop": True})),
    # the turn is the handler's own count: the engine plays the same
    (m.Play("a", "welcome", turn=3), ("play", {"leg": "a", "file": "/p/en/welcome.wav", "loop": False})),
    (m.StopPlay("a"), ("stop_play", {"leg": "a"})),
    (m.SendDtmf("a", "12#"), ("send_dtmf", {"leg": "a", "digits": "12#", "method": "rfc2833"})),
    (m.Record("a", "/r/x.wav"), ("record_start", {"leg": "a", "file": "/r/x.wav"})),
    (m.StopRecord("a"), ("record_stop", {"leg": "a"})),
]


@pytest.mark.parametrize("cmd,expected", CASES, ids=[type(c).__name__ for c, _ in CASES])
def test_each_media_command_is_a_valid_engine_command(cmd, expected):
    message = engine_message(cmd, PROMPTS.get)
    assert message == expected
    name, fields = message
    parse_command({"cmd": name, "id": 1, **fields})  # the worker would accept it


def test_timers_and_other_commands_stay_on_the_core_side():
    sent, other, fired, pending = [], [], [], []

    class Handle:
        def __init__(self, fn):
            self.fn, self.cancelled = fn, False

        def cancel(self):
            self.cancelled = True

    def later(after, fn):
        pending.append(Handle(fn))
        return pending[-1]

    ex = MediaExecutor(lambda n, f: sent.append(n), PROMPTS.get, fired.append, other.append, later)
    ex([m.StartTimer("digits", 5), m.StartTimer("digits", 5), m.WriteRecord({"x": 1}), m.Play("a", "missing")])
    assert pending[0].cancelled and not pending[1].cancelled  # a new timer of one name replaces the old
    pending[1].fn()
    assert fired == ["digits"] and other == [m.WriteRecord({"x": 1})] and sent == []
    ex([m.StartTimer("t", 1, turn=4), m.CancelTimer("t")])
    assert pending[2].cancelled
