"""One campaign attempt as a table: every (state, event) pair, and the paths people live through."""

import pytest

from appliance.errors import StateMachineError
from appliance.logic.campaigns.model import Result
from appliance.logic.handlers.campaign_call import (MACHINE, REMOVED, SORRY, SURVEY_QUESTION, SURVEY_THANKS, TABLE,
                                                    AttemptOver, CampaignCall, CampaignCallEvent, CampaignCallState)
from appliance.logic.dial_targets import Target
from appliance.logic.media import Bridge, CancelTimer, Dial, Hangup, Play, StartTimer, StopPlay, WriteRecord

S, E = CampaignCallState, CampaignCallEvent


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def call(**kw):
    clock = Clock()
    callee = Target("sip:600100200@gw", number="600100200", name="Anna")
    base = dict(id="k1", campaign="repairs", entry="7", callee=callee,
                caller_id="221234567", worker="w0", clock=clock, agent="1001", agent_uri="sip:1001@10.231.0.20")
    c = CampaignCall(**{**base, **kw})
    return c, clock


def of(commands, kind):
    return [c for c in commands if isinstance(c, kind)]


@pytest.mark.parametrize("state,event", [(s, e) for s in S for e in E])
def test_every_pair(state, event):
    c, _ = call()
    c.state = state
    expected = TABLE[state].get(event)
    if expected is None:
        with pytest.raises(StateMachineError):
            MACHINE.fire(c, event)
        assert c.state is state
    else:
        assert MACHINE.fire(c, event) is expected


def test_progressive_reached_connected_rated():
    c, clock = call(survey=True)
    assert c.begin_progressive() == [Dial("k1.c", "sip:600100200@gw", {"number": "221234567", "name": ""}, 25.0)]
    clock.now += 5
    out = c.leg_answered("k1.c")
    assert c.state is S.CONNECTING and of(out, Dial)[0].leg == "k1.a" and of(out, Play)[0].prompt == "ringback"
    assert of(out, Dial)[0].caller_id == {"number": "600100200", "name": "repairs: Anna"}
    clock.now += 3
    assert c.leg_answered("k1.a") == [StopPlay("k1.c"), Bridge("k1.c", "k1.a")] and c.state is S.WITH_AGENT
    clock.now += 60
    out = c.leg_hung_up("k1.a", 200)
    assert c.state is S.SURVEY and out == [Play("k1.c", SURVEY_QUESTION), StartTimer("survey", 18.0)]
    assert c.digit_pressed("k1.c", "7") == [] and c.state is S.SURVEY  # not a score: the question stays
    out = c.digit_pressed("k1.c", "4")
    assert out == [CancelTimer("survey"), StopPlay("k1.c"), Play("k1.c", SURVEY_THANKS)] and c.state is S.CLOSING
    clock.now += 2
    out = c.play_done("k1.c")
    over, record = of(out, AttemptOver)[0], of(out, WriteRecord)[0].record
    assert out[0] == Hangup("k1.c") and c.state is S.ENDED
    assert over == AttemptOver("repairs", "7", Result.ANSWERED, "1001", 60.0, "", 4, False)
    assert record["campaign"] == "repairs" and record["csat"] == 4 and record["talk_s"] == 60.0
    assert record["disposition"] == "ANSWERED" and record["duration_s"] == 70.0 and record["agent"] == "1001"
    assert c.leg_hung_up("k1.c", 200) == []  # the leg the box hung up reports its end: nothing more


def test_progressive_without_survey_ends_when_the_agent_hangs_up():
    c, _ = call()
    c.begin_progressive(), c.leg_answered("k1.c"), c.leg_answered("k1.a")
    out = c.leg_hung_up("k1.a", 200)
    assert out[0] == Hangup("k1.c") and of(out, AttemptOver)[0].result is Result.ANSWERED and c.state is S.ENDED


def test_no_agent_takes_the_answered_callee_abandoned_with_an_apology():
    c, _ = call()
    c.begin_progressive(), c.leg_answered("k1.c")
    assert c.leg_hung_up("k1.a", 408) == [StopPlay("k1.c"), Play("k1.c", SORRY)] and c.state is S.CLOSING
    out = c.play_done("k1.c")
    assert of(out, AttemptOver)[0].result is Result.ABANDONED and of(out, AttemptOver)[0].agent == ""
    assert of(out, WriteRecord)[0].record["agent"] is None  # not the agent's call in their statistics


def test_callee_leaves_while_the_agent_rings_abandoned():
    c, _ = call()
    c.begin_progressive(), c.leg_answered("k1.c")
    out = c.leg_hung_up("k1.c", 200)
    assert out[0] == Hangup("k1.a") and of(out, AttemptOver)[0].result is Result.ABANDONED


@pytest.mark.parametrize("cause,result", [(486, Result.BUSY), (408, Result.NO_ANSWER), (503, Result.FAILED)])
def test_not_reached(cause, result):
    c, _ = call()
    c.begin_progressive()
    out = c.leg_hung_up("k1.c", cause)
    assert of(out, AttemptOver)[0].result is result and of(out, WriteRecord)[0].record["talk_s"] == 0.0


def test_preview_rings_the_agent_first():
    c, _ = call()
    assert c.begin_preview()[0].leg == "k1.a" and c.state is S.RINGING_AGENT
    assert c.leg_answered("k1.a")[0].leg == "k1.c" and c.state is S.AGENT_WAITING
    assert c.leg_answered("k1.c") == [Bridge("k1.c", "k1.a")] and c.state is S.WITH_AGENT
    c2, _ = call()
    c2.begin_preview()
    assert of(c2.leg_hung_up("k1.a", 486), AttemptOver)[0].result is Result.FAILED


def test_message_with_a_digit_and_press_9():
    c, _ = call(message="reminder", collect_digit=True, agent="", agent_uri="")
    c.begin_message(), c.leg_answered("k1.c")
    assert c.state is S.MESSAGE
    assert c.play_done("k1.c") == [StartTimer("digit", 8.0)]
    out = c.digit_pressed("k1.c", "1")
    assert c.digit == "1" and c.state is S.CLOSING and Play("k1.c", SURVEY_THANKS) in out
    assert of(c.play_done("k1.c"), AttemptOver)[0].digit == "1"
    c9, _ = call(message="reminder", agent="", agent_uri="")
    c9.begin_message(), c9.leg_answered("k1.c")
    assert Play("k1.c", REMOVED) in c9.digit_pressed("k1.c", "9")
    over = of(c9.play_done("k1.c"), AttemptOver)[0]
    assert over.never_again and over.result is Result.REFUSED


def test_message_heard_to_the_end_without_a_digit():
    c, _ = call(message="reminder", agent="", agent_uri="")
    c.begin_message(), c.leg_answered("k1.c")
    out = c.play_done("k1.c")
    assert out[0] == Hangup("k1.c") and of(out, AttemptOver)[0].result is Result.ANSWERED and c.state is S.ENDED
    c2, _ = call(message="reminder", collect_digit=True, agent="", agent_uri="")
    c2.begin_message(), c2.leg_answered("k1.c"), c2.play_done("k1.c")
    assert of(c2.timer_fired("digit"), AttemptOver)[0].digit == ""


def test_a_survey_nobody_answers_is_recorded_as_offered_without_a_score():
    c, _ = call(survey=True)
    c.begin_progressive(), c.leg_answered("k1.c"), c.leg_answered("k1.a"), c.leg_hung_up("k1.a", 200)
    record = of(c.timer_fired("survey"), WriteRecord)[0].record
    assert "csat" in record and record["csat"] is None
