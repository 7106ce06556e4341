"""A queue call with an agent: either side holds the other (music for the held one, the two parted
until the hold ends), and the agent passes the caller on to an extension (a blind transfer)."""

from __future__ import annotations

from appliance.logic import media as m
from appliance.logic.handlers.flow_call import (
    ConversationOver, FlowCallState as S, HandToExtension, StopRecording)
from tests.logic.test_flow_call_machine import LEG, Call, with_agent

AGENT_LEG = "in1.a1"


def test_the_agent_holds_the_caller_hears_music_and_the_two_talk_again_after():
    c = Call()
    with_agent(c)
    assert c.held(AGENT_LEG) == [m.Unbridge(LEG, AGENT_LEG), m.Play(LEG, m.MUSIC_ON_HOLD, loop=True)]
    assert c.held(AGENT_LEG) == []          # a second re-INVITE saying the same changes nothing
    assert c.resumed(AGENT_LEG) == [m.StopPlay(LEG), m.Bridge(LEG, AGENT_LEG)]
    assert c.resumed(AGENT_LEG) == [] and c.h.state is S.WITH_AGENT


def test_the_caller_holds_the_agent_hears_music():
    c = Call()
    with_agent(c)
    assert c.held(LEG) == [m.Unbridge(LEG, AGENT_LEG), m.Play(AGENT_LEG, m.MUSIC_ON_HOLD, loop=True)]
    assert c.resumed(LEG) == [m.StopPlay(AGENT_LEG), m.Bridge(LEG, AGENT_LEG)]


def test_both_hold_and_they_talk_again_only_when_both_resumed():
    c = Call()
    with_agent(c)
    c.held(AGENT_LEG)
    assert c.held(LEG) == [m.Play(AGENT_LEG, m.MUSIC_ON_HOLD, loop=True)]   # parted already
    assert c.resumed(AGENT_LEG) == [m.StopPlay(LEG)]                         # the caller still holds
    assert c.resumed(LEG) == [m.StopPlay(AGENT_LEG), m.Bridge(LEG, AGENT_LEG)]


def test_resuming_with_a_supervisor_listening_rebuilds_the_conference():
    c = Call()
    with_agent(c)
    c.monitor("2000", "listen", leg="sup1")
    c.held(AGENT_LEG)
    assert c.resumed(AGENT_LEG) == [m.StopPlay(LEG), m.Conference((LEG, AGENT_LEG), ("sup1",))]


def test_a_hold_from_a_stranger_or_before_the_agent_talks_changes_nothing():
    c = Call()
    with_agent(c)
    assert c.held("in1.s9") == [] and c.resumed("in1.s9") == []
    waiting = Call()
    waiting.answered("never")
    assert waiting.held(LEG) == [] and waiting.h.state is S.IN_FLOW


def test_the_agent_transfers_the_caller_to_an_extension():
    c = Call()
    with_agent(c)
    c.monitor("2000", "listen", leg="sup1")
    c.held(AGENT_LEG)
    c.clock.advance(42)
    out = c.agent_transfers("1002")
    assert out[:5] == [ConversationOver(), StopRecording(), m.CancelTimer("digits"), m.Hangup(AGENT_LEG),
                       m.Hangup("sup1")]
    assert isinstance(out[5], m.WriteRecord) and out[6] == HandToExtension("1002")
    assert c.h.state is S.HANDED_OFF and c.h.ended and c.h.party(AGENT_LEG) is None
    record = c.record()
    assert (record["outcome"], record["queue"], record["agent"], record["disposition"]) == (
        "ANSWERED", "sales", "1001", "ANSWERED")
    assert record["transferred"] is True and record["transferred_to"] == "1002" and record["talk_s"] == 42.0
    assert c.held(LEG) == [] and c.resumed(AGENT_LEG) == []   # the queue's part is over
