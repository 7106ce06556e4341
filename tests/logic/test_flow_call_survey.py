"""The satisfaction survey of a queue, told as stories: the agent hangs up, the caller stays and
rates the call 1-5 (or does not), and the call record says so as `csat`."""

from __future__ import annotations

from appliance.logic import media as m
from appliance.logic.handlers.flow_call import (
    DIGITS, SURVEY, SURVEY_WAIT_S, ConversationOver, FlowCallState as S, LeaveQueue, Party, StopRecording)
from tests.logic.test_flow_call_machine import LEG, Call, agent_waiting, with_agent

QUESTION, THANKS = m.Play(LEG, "/p/en/survey-question.wav"), m.Play(LEG, "/p/en/survey-thanks.wav")


def surveyed_call(survey: bool = True) -> Call:
    c = Call()
    c.h.survey = lambda queue: survey and queue == "sales"
    with_agent(c)
    c.clock.advance(60)
    return c


def records(c: Call) -> list[dict]:
    return [x.record for x in c.out if isinstance(x, m.WriteRecord)]


def test_the_agent_hangs_up_and_the_caller_is_asked_instead_of_hung_up_on():
    c = surveyed_call()
    out = c.agent_gone()
    # The ACD hears of the end at once (wrap-up starts now), the recording ends with the conversation.
    assert out == [ConversationOver(), StopRecording(), m.CancelTimer(DIGITS), QUESTION,
                   m.StartTimer(SURVEY, SURVEY_WAIT_S)]
    assert c.h.state is S.SURVEY and not c.h.ended and records(c) == []
    assert c.h.party("in1.a1") is None  # the agent's leg reports to nobody now
    assert c.play_done() == [] and c.h.state is S.SURVEY  # the question is said: the caller's turn


def test_a_score_is_thanked_and_written_as_csat():
    c = surveyed_call()
    c.agent_gone()
    c.clock.advance(5)
    assert c.digit("7") == [] and c.digit("#") == [] and c.h.state is S.SURVEY  # other keys wait
    assert c.digit("4") == [m.CancelTimer(SURVEY), m.StopPlay(LEG), THANKS]
    assert c.h.state is S.THANKS
    assert c.digit("5") == [] and c.h.score == 4  # one score per call
    c.clock.advance(2)
    out = c.play_done()
    assert m.Hangup(LEG) in out and c.h.state is S.ENDED
    record = c.record()
    assert record["csat"] == 4 and record["outcome"] == "ANSWERED" and record["hangup_by"] == "agent"
    # Talk time ends when the agent hung up; the call lasts until the caller was let go.
    assert (record["talk_s"], record["duration_s"]) == (60.0, 67.0)


def test_silence_ends_the_call_without_a_score():
    c = surveyed_call()
    c.agent_gone()
    c.clock.advance(SURVEY_WAIT_S)
    out = c.survey_timeout()
    assert m.Hangup(LEG) in out and c.h.state is S.ENDED
    assert c.record()["csat"] is None and c.record()["talk_s"] == 60.0


def test_the_caller_hangs_up_during_the_survey_or_the_thanks():
    c = surveyed_call()
    c.agent_gone()
    out = c.caller_gone()
    # Nothing more for the ACD: the conversation's end was told when the agent hung up.
    assert not any(isinstance(x, (ConversationOver, LeaveQueue)) for x in out)
    assert m.CancelTimer(SURVEY) in out and m.Hangup(LEG) not in out
    assert c.record()["csat"] is None and c.record()["hangup_by"] == "agent"
    c = surveyed_call()
    c.agent_gone()
    c.digit("2")
    c.caller_gone()
    assert c.record()["csat"] == 2 and len(records(c)) == 1


def test_a_caller_who_hangs_up_first_gets_no_survey():
    c = surveyed_call()
    out = c.caller_gone()
    assert out[:3] == [m.CancelTimer(DIGITS), ConversationOver(), m.Hangup("in1.a1")]
    assert c.h.state is S.ENDED and "csat" not in c.record()
    assert c.record()["talk_s"] == 60.0


def test_a_queue_without_a_survey_hangs_up_as_before():
    c = surveyed_call(survey=False)
    out = c.agent_gone()
    assert out[:3] == [ConversationOver(), m.CancelTimer(DIGITS), m.Hangup(LEG)]
    assert c.h.state is S.ENDED and "csat" not in c.record()


def test_no_question_to_say_means_no_survey():
    c = surveyed_call()
    c.h.find_prompt = lambda name, language: None if name == "survey-question" else f"/p/{language}/{name}.wav"
    c.agent_gone()
    assert c.h.state is S.ENDED and "csat" not in c.record()


def test_no_thanks_to_say_ends_the_call_with_the_score():
    c = surveyed_call()
    c.agent_gone()
    c.h.find_prompt = lambda name, language: None
    out = c.digit("5")
    assert m.Hangup(LEG) in out and c.h.state is S.ENDED and c.record()["csat"] == 5


def test_an_agent_who_hangs_up_before_the_caller_was_connected_gets_no_survey_asked():
    c = Call()
    c.h.survey = lambda queue: True
    agent_waiting(c)
    c.agent_gone()
    assert c.h.state is S.ENDED and "csat" not in c.record()


def test_supervisors_leave_with_the_agent_and_are_forgotten():
    c = surveyed_call()
    c.monitor("2000", "listen", leg="sup1")
    out = c.agent_gone()
    assert m.Hangup("sup1") in out and c.h.party("sup1") is None and c.h.party(LEG) is Party.CALLER
