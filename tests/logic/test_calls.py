"""The call machine: one test per (state, event) pair of its table, and the records it writes."""

from __future__ import annotations

import pytest

from appliance.logic.calls import (TRANSITIONS, Answer, Bridge, Call, CallState, Dial, Disposition, Ev, Hangup,
                                   Reject, Ringing, Target, TransitionError, WriteRecord)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def new_call(clock=None) -> Call:
    return Call("c1", "w0-1", {"number": "1001", "name": "Anna"}, "1002", clock or Clock(), worker="w0")


def record_of(commands) -> dict:
    records = [c.record for c in commands if isinstance(c, WriteRecord)]
    assert len(records) == 1
    return records[0]


def ringing_call(targets=("sip:1002@127.0.0.1:5062",), clock=None) -> tuple[Call, list]:
    call = new_call(clock)
    out = call.ring([[Target(u, "1002") for u in targets]], 20)
    return call, out


# One scenario per (state, event) pair in the table.

def test_routing_dial_rings_every_target_of_the_wave():
    call, out = ringing_call(("sip:a@h", "sip:b@h"))
    assert call.state is CallState.RINGING
    assert out[0] == Ringing("w0-1")
    assert [c.uri for c in out if isinstance(c, Dial)] == ["sip:a@h", "sip:b@h"]
    assert all(c.caller_id == {"number": "1001", "name": "Anna"} and c.timeout_s == 20 for c in out[1:])


def test_routing_refuse_rejects_and_records():
    call = new_call()
    out = call.refuse(404)
    assert call.state is CallState.ENDED
    assert out[0] == Reject("w0-1", 404)
    assert record_of(out)["disposition"] == "FAILED"


def test_routing_caller_gone_records_cancelled():
    call = new_call()
    out = call.on_hangup("w0-1", 487, "remote")
    assert call.state is CallState.ENDED and record_of(out)["disposition"] == "CANCELLED"


def test_routing_worker_lost_records_failed():
    call = new_call()
    out = call.on_worker_lost()
    assert call.state is CallState.ENDED and record_of(out)["disposition"] == "FAILED"


def test_ringing_answered_bridges_and_cancels_the_other_forks():
    clock = Clock()
    call, out = ringing_call(("sip:a@h", "sip:b@h"), clock)
    legs = [c.leg for c in out if isinstance(c, Dial)]
    clock.now += 4
    out = call.on_answered(legs[1])
    assert call.state is CallState.ANSWERED
    assert out == [Answer("w0-1"), Bridge("w0-1", legs[1]), Hangup(legs[0])]
    # The losing fork's late answer is sent away, the call is untouched.
    assert call.on_answered(legs[0]) == [Hangup(legs[0])]


def test_ringing_all_failed_busy_when_everyone_is_busy():
    call, out = ringing_call(("sip:a@h", "sip:b@h"))
    legs = [c.leg for c in out if isinstance(c, Dial)]
    assert call.on_hangup(legs[0], 486, "remote") == []  # still one ringing
    out = call.on_hangup(legs[1], 486, "remote")
    assert call.state is CallState.ENDED
    assert out[0] == Reject("w0-1", 486)
    assert record_of(out)["disposition"] == "BUSY"


def test_ringing_all_failed_no_answer_on_timeout():
    call, out = ringing_call()
    leg = out[1].leg
    out = call.on_hangup(leg, 408, "local")
    assert out[0] == Reject("w0-1", 480)
    assert record_of(out)["disposition"] == "NO ANSWER"


def test_ringing_next_wave_before_giving_up():
    call = new_call()
    out = call.ring([[Target("sip:a@h", "1002")], [Target("sip:b@h", "1003")]], 15)
    first = out[1].leg
    out = call.on_hangup(first, 408, "local")
    assert call.state is CallState.RINGING
    assert [c.uri for c in out] == ["sip:b@h"]


def test_ringing_caller_gone_hangs_up_forks_and_records_cancelled():
    call, out = ringing_call(("sip:a@h", "sip:b@h"))
    legs = [c.leg for c in out if isinstance(c, Dial)]
    out = call.on_hangup("w0-1", 487, "remote")
    assert [c for c in out if isinstance(c, Hangup)] == [Hangup(legs[0]), Hangup(legs[1])]
    assert record_of(out)["disposition"] == "CANCELLED"


def test_ringing_worker_lost():
    call, _ = ringing_call()
    assert record_of(call.on_worker_lost())["hangup_by"] == "box"


def test_answered_caller_gone_hangs_up_callee_and_records_talk_time():
    clock = Clock()
    call, out = ringing_call(clock=clock)
    leg = out[1].leg
    clock.now += 5
    call.on_answered(leg)
    clock.now += 60
    out = call.on_hangup("w0-1", 200, "remote")
    assert out[0] == Hangup(leg)
    rec = record_of(out)
    assert rec["disposition"] == "ANSWERED" and rec["talk_s"] == 60 and rec["duration_s"] == 65
    assert rec["hangup_by"] == "caller" and rec["answered_by"] == "1002" and rec["worker"] == "w0"


def test_answered_callee_gone_hangs_up_caller():
    call, out = ringing_call()
    leg = out[1].leg
    call.on_answered(leg)
    out = call.on_hangup(leg, 200, "remote")
    assert out[0] == Hangup("w0-1")
    assert record_of(out)["hangup_by"] == "callee"


def test_answered_worker_lost():
    call, out = ringing_call()
    call.on_answered(out[1].leg)
    rec = record_of(call.on_worker_lost())
    assert rec["disposition"] == "ANSWERED"  # it was answered; the record keeps that


def test_every_pair_in_the_table_has_a_scenario_above():
    # The scenarios above are named after their pair; a new pair without one fails here.
    names = {n for n in globals() if n.startswith("test_")}
    for state, events in TRANSITIONS.items():
        for event in events:
            key = f"test_{state.value.lower()}_{event.value}"
            assert any(n.startswith(key) for n in names), f"no test for {state} on {event}"


@pytest.mark.parametrize("state,event", [(s, e) for s in CallState for e in Ev if e not in TRANSITIONS[s]])
def test_missing_pairs_raise_naming_state_and_event(state, event):
    call = new_call()
    call.state = state
    with pytest.raises(TransitionError, match=f"{state}.*{event}"):
        call._go(event)


def test_an_ended_call_ignores_late_events():
    call = new_call()
    call.refuse(404)
    assert call.on_hangup("w0-1", 200, "remote") == []
    assert call.on_worker_lost() == []
    assert Disposition(call.disposition())
