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
    with pytest.raises(TransitionError, match=f"event {event.value} is not allowed in state {state.value}"):
        call._go(event)


def test_an_ended_call_ignores_late_events():
    call = new_call()
    call.refuse(404)
    assert call.on_hangup("w0-1", 200, "remote") == []
    assert call.on_worker_lost() == []
    assert Disposition(call.disposition())


def answered_call(clock=None) -> tuple[Call, str]:
    call, out = ringing_call(clock=clock)
    leg = out[1].leg
    call.on_answered(leg)
    return call, leg


def test_answered_transfer_hands_the_other_party_on():
    from appliance.logic.calls import RINGBACK, Play, ResolveTransfer
    call, callee = answered_call()
    out = call.on_transfer_requested(callee, "sip:1003@box")
    assert call.state is CallState.TRANSFERRING
    assert out == [Hangup(callee), Play("w0-1", RINGBACK, loop=True), ResolveTransfer("sip:1003@box")]
    assert call.on_hangup(callee, 200, "local") == []  # the transferor leaving ends nothing


def test_transferring_answered_bridges_the_kept_party_with_the_target():
    from appliance.logic.calls import StopPlay
    call, callee = answered_call()
    call.on_transfer_requested(callee, "sip:1003@box")
    dials = call.transfer_to([Target("sip:1003@h", "1003")])
    new = dials[0].leg
    out = call.on_answered(new)
    assert call.state is CallState.ANSWERED
    assert out == [StopPlay("w0-1"), Bridge("w0-1", new)]
    out = call.on_hangup("w0-1", 200, "remote")
    rec = record_of(out)
    assert rec["transferred"] is True and rec["answered_by"] == "1003"


def test_transferring_all_failed_hangs_up_the_kept_party():
    call, callee = answered_call()
    call.on_transfer_requested(callee, "sip:1003@box")
    new = call.transfer_to([Target("sip:1003@h", "1003")])[0].leg
    out = call.on_hangup(new, 486, "remote")
    assert call.state is CallState.ENDED and out[0] == Hangup("w0-1")
    # A target nobody can ring fails at once.
    call2, callee2 = answered_call()
    call2.on_transfer_requested(callee2, "sip:9999@box")
    assert call2.transfer_to([])[0] == Hangup("w0-1")


def test_transferring_caller_gone_cancels_the_target():
    call, callee = answered_call()
    call.on_transfer_requested(callee, "sip:1003@box")
    new = call.transfer_to([Target("sip:1003@h", "1003")])[0].leg
    out = call.on_hangup("w0-1", 200, "remote")
    assert Hangup(new) in out and call.state is CallState.ENDED


def test_transferring_worker_lost():
    call, callee = answered_call()
    call.on_transfer_requested(callee, "sip:1003@box")
    assert record_of(call.on_worker_lost())["hangup_by"] == "box"


def test_dtmf_is_relayed_to_the_other_party():
    from appliance.logic.calls import SendDtmf
    call, callee = answered_call()
    assert call.on_dtmf("w0-1", "5", "rfc2833") == [SendDtmf(callee, "5", "rfc2833")]
    assert call.on_dtmf(callee, "#", "info") == [SendDtmf("w0-1", "#", "info")]
    ringing, _ = ringing_call()
    assert ringing.on_dtmf("w0-1", "1", "rfc2833") == []  # nobody to hear it yet


def test_hold_plays_music_to_the_other_party_and_resume_bridges_again():
    from appliance.logic.calls import MUSIC_ON_HOLD, Play, StopPlay, Unbridge
    call, callee = answered_call()
    assert call.on_held("w0-1") == [Unbridge("w0-1", callee), Play(callee, MUSIC_ON_HOLD, loop=True)]
    assert call.on_held("w0-1") == []  # a repeated re-INVITE changes nothing
    assert call.on_unheld("w0-1") == [StopPlay(callee), Bridge("w0-1", callee)]


def test_answered_handed_over_gives_the_callee_to_the_other_call():
    from appliance.logic.calls import StopPlay
    # x: 1001 talks to 1002; y: 1001 consults 1003. 1001 transfers 1002 to 1003 (REFER with Replaces).
    x, b = answered_call()
    y = Call("c2", "w0-2", {"number": "1001", "name": "Anna"}, "1003", Clock(), worker="w0")
    c = y.ring([[Target("sip:1003@h", "1003")]], 20)[1].leg
    y.on_answered(c)
    x.on_transfer_requested("w0-1", "sip:1003@box?Replaces=c2")
    leg, out = y.hand_over()
    assert leg == c and y.state is CallState.ENDED
    assert out[0] == Hangup("w0-2") and record_of(out)["transferred"] is True
    assert x.adopt(c, "1003") == [StopPlay(b), Bridge(b, c)]
    assert x.state is CallState.ANSWERED and x.other_party(b) == c
