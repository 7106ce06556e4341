"""The call the box answers itself, as a table: every pair of the table reached by a story, the
pairs it refuses, and the main paths told as stories (commands out, a fake clock in)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from appliance.engine.protocol import parse_command
from appliance.errors import StateMachineError
from appliance.logic import media as m
from appliance.logic.flows import FlowRun, load_flows
from appliance.logic.flows.model import SCHEMA_VERSION
from appliance.logic.handlers.flow_call import (
    AUTO_ANSWER, DIGITS, FLOW_CALL, TABLE, AgentAnswered, AgentMissed, AskForCallback, ConversationOver,
    FlowCallEvent as E, FlowCallHandler, FlowCallState as S, HandToExtension, HandToVoicemail, Hearing, JoinQueue,
    LeaveQueue, Party, RecordConversation, notice_mode_for)
from appliance.media_executor import engine_message
from tests.fake_clock import FakeClock

LEG = "in1"
AGENT = "sip:1001@10.0.0.5"
FLOWS = load_flows({
    "schema": SCHEMA_VERSION, "version": 1, "language": "en", "holidays": [], "holiday_ranges": [],
    "routes": [{"name": "All calls", "did": "", "caller": "", "priority": 10, "destination": "menu"}],
    "nodes": {
        "menu": {"kind": "ivr_menu", "prompt": "main-menu", "timeout_s": 5, "retries": 1,
                 "invalid_prompt": "invalid-option", "invalid_destination": "bye",
                 "choices": {"1": "sales", "0": "operator", "7": "mailbox", "8": "group", "4": "out",
                             "5": "missing", "9": "bye"}},
        "sales": {"kind": "queue", "queue": "sales"},
        "operator": {"kind": "extension", "number": "100"},
        "mailbox": {"kind": "voicemail", "box": "100"},
        "group": {"kind": "ring_group", "group": "office"},
        "out": {"kind": "external", "number": "+48221234567"},
        "missing": {"kind": "play", "prompt": "not-recorded", "next": "sales"},
        "bye": {"kind": "hangup"},
    },
})


def find_prompt(name: str, language: str) -> str | None:
    return None if name.startswith("not-") or name == "queue-sales" else f"/p/{language}/{name}.wav"


class Call:
    """The handler, its clock and every command it returned, in order."""

    def __init__(self, caller_is_extension: bool = False):
        self.clock = FakeClock()
        self.run = FlowRun(FLOWS, "c1", "48221234567", "+48601234567",
                           lambda: datetime(2024, 6, 10, 10, tzinfo=timezone.utc))
        self.h = FlowCallHandler("c1", LEG, dialled="48221234567", caller="+48601234567", caller_name="Ann",
                                 run=self.run, clock=self.clock, find_prompt=find_prompt,
                                 caller_is_extension=caller_is_extension, trunk="gsm", worker="w0")
        self.out: list = []
        self.fired: list[tuple[S, E, S]] = []
        fire = self.h._fire

        def spy(event: E) -> S:
            old = self.h.state
            new = fire(event)
            self.fired.append((old, event, new))
            return new

        self.h._fire = spy

    def __getattr__(self, name):
        method = getattr(self.h, name)

        def call(*args, **kw):
            got = method(*args, **kw)
            self.out.extend(got or [])
            return got
        return call

    @property
    def ring_leg(self) -> str:
        return next(iter(self.h.ringing))

    def record(self) -> dict:
        return next(c.record for c in self.out if isinstance(c, m.WriteRecord))


# --- stories that bring a call to each state ----------------------------------------------------

def in_flow(c: Call) -> None:
    c.answered("never")


def queued(c: Call) -> None:
    in_flow(c)
    c.digit("1")
    c.music_on_hold()


def ringing(c: Call) -> None:
    queued(c)
    c.ring_agent("1001", "sales", 15, [AGENT])


def agent_waiting(c: Call) -> None:
    ringing(c)
    c.agent_answered(c.ring_leg)
    c.announce(["agent-number"])
    c.bridge("1001", c.ring_leg)


def with_agent(c: Call) -> None:
    ringing(c)
    leg = c.ring_leg
    c.agent_answered(leg)
    c.bridge("1001", leg)


def surveying(c: Call) -> None:
    with_agent(c)
    c.h.survey = lambda queue: queue == "sales"
    c.agent_gone()


def thanking(c: Call) -> None:
    surveying(c)
    c.digit("5")


def leaving(c: Call) -> None:
    queued(c)
    c.announce(["callback-confirmed"])
    c.hang_up_after_prompt("CALLBACK_REQUESTED")


def ended(c: Call) -> None:
    in_flow(c)
    c.caller_gone()


def handed_off(c: Call) -> None:
    in_flow(c)
    c.digit("0")


ARRIVE = {S.ANSWERING: lambda c: None, S.NOTICE: lambda c: c.answered("announce"), S.IN_FLOW: in_flow,
          S.QUEUED: queued, S.RINGING_AGENT: ringing, S.AGENT_WAITING: agent_waiting, S.WITH_AGENT: with_agent,
          S.LEAVING: leaving, S.SURVEY: surveying, S.THANKS: thanking, S.HANDED_OFF: handed_off, S.ENDED: ended}


def hand_off(c: Call) -> None:
    if c.h.state is S.IN_FLOW:
        c.digit("0")
    else:
        c.overflow_to_voicemail("100")


def box_hangs_up(c: Call) -> None:
    if c.h.state is S.IN_FLOW:
        c.digit("9")
    else:
        c.give_up()


def supervisor_answers(c: Call) -> None:
    c.monitor("2000", "listen", contact="sip:2000@10.0.0.9")
    c.supervisor_answered(next(iter(c.h.ringing_supervisors)))


def supervisor_goes(c: Call) -> None:
    c.monitor("2000", "barge", leg="sup1")
    c.supervisor_gone("sup1")


ACT = {
    E.ANSWERED: lambda c: c.answered("never"),
    E.ANSWERED_WITH_NOTICE: lambda c: c.answered("opt_out"),
    E.DIGIT: lambda c: c.digit("6"),
    E.PLAY_DONE: lambda c: c.play_done(),
    E.DIGIT_TIMEOUT: lambda c: c.digit_timeout(),
    E.JOIN_QUEUE: lambda c: c.digit("1"),
    E.HAND_OFF: hand_off,
    E.BOX_HANGS_UP: box_hangs_up,
    E.HANG_UP_AFTER_PROMPT: lambda c: (c.announce(["callback-confirmed"]), c.hang_up_after_prompt("X")),
    E.ANNOUNCE: lambda c: c.announce(["queue-position"]),
    E.RING_AGENT: lambda c: c.ring_agent("1002", "sales", 15, ["sip:1002@10.0.0.6"]),
    E.AGENT_UNREACHABLE: lambda c: c.ring_agent("1003", "sales", 15, []),
    E.STOP_RINGING: lambda c: c.stop_ringing("1001"),
    E.RINGING_STOPPED: lambda c: c.agent_missed(c.ring_leg, rang_out=True),
    E.AGENT_ANSWERED: lambda c: c.agent_answered(c.ring_leg),
    E.AGENT_MISSED: lambda c: c.agent_missed(c.ring_leg, rang_out=False),
    E.BRIDGE: lambda c: c.bridge("1001", c.ring_leg),
    E.BRIDGE_AFTER_PROMPT: lambda c: (c.announce(["agent-number"]), c.bridge("1001", c.ring_leg)),
    E.AGENT_DIGIT: lambda c: c.agent_digit("5"),
    E.HOLD: lambda c: c.held(c.h.agent_leg),
    E.RESUME: lambda c: (c.held(c.h.agent_leg), c.resumed(c.h.agent_leg)),
    E.AGENT_TRANSFERS: lambda c: c.agent_transfers("100"),
    E.AGENT_GONE: lambda c: c.agent_gone(),
    E.AGENT_GONE_TO_SURVEY: lambda c: (setattr(c.h, "survey", lambda queue: True), c.agent_gone()),
    E.SCORE: lambda c: c.digit("4"),
    E.SURVEY_TIMEOUT: lambda c: c.survey_timeout(),
    E.MONITOR: lambda c: c.monitor("2000", "whisper", contact="sip:2000@10.0.0.9"),
    E.SUPERVISOR_ANSWERED: supervisor_answers,
    E.SUPERVISOR_GONE: supervisor_goes,
    E.CALLER_GONE: lambda c: c.caller_gone(),
}

PAIRS = [(s, e, new) for s, events in TABLE.items() for e, new in events.items()]
REFUSED = [(s, e) for s in S for e in E if e not in TABLE.get(s, {})]


@pytest.mark.parametrize("state,event,new", PAIRS, ids=[f"{s}-{e}" for s, e, _ in PAIRS])
def test_every_pair_of_the_table_is_reached_by_a_story(state, event, new):
    c = Call()
    ARRIVE[state](c)
    assert c.h.state is state
    c.fired.clear()
    ACT[event](c)
    assert (state, event, new) in c.fired


@pytest.mark.parametrize("state,event", REFUSED, ids=[f"{s}-{e}" for s, e in REFUSED])
def test_every_other_pair_is_refused(state, event):
    with pytest.raises(StateMachineError):
        FLOW_CALL.next_state("c1", state, event)


@pytest.mark.parametrize("state,act", [
    (S.ANSWERING, lambda c: c.digit("1")),
    (S.ANSWERING, lambda c: c.play_done()),
    (S.IN_FLOW, lambda c: c.ring_agent("1001", "sales", 15, [AGENT])),
    (S.IN_FLOW, lambda c: c.agent_gone()),
    (S.QUEUED, lambda c: c.digit_timeout()),
    (S.QUEUED, lambda c: c.bridge("1001", "in1.a9")),
    (S.WITH_AGENT, lambda c: c.ring_agent("1002", "sales", 15, [AGENT])),
    (S.ENDED, lambda c: c.caller_gone()),
    (S.HANDED_OFF, lambda c: c.digit("1")),
])
def test_the_handler_refuses_what_its_state_does_not_allow(state, act):
    c = Call()
    ARRIVE[state](c)
    before = list(c.out)
    with pytest.raises(StateMachineError):
        act(c)
    assert c.h.state is state and c.out == before


# --- the main paths -------------------------------------------------------------------------------

def test_flow_queue_agent_answers_then_hangs_up_and_the_record_is_written():
    c = Call(caller_is_extension=True)
    assert c.answered("never") == [m.Play(LEG, "/p/en/main-menu.wav"), m.StartTimer(DIGITS, 5)]
    assert c.digit("1") == [m.CancelTimer(DIGITS), m.CancelTimer(DIGITS), JoinQueue("sales", "+48601234567")]
    assert c.h.state is S.QUEUED and c.h.direction == "inbound"  # a queue call is a contact-center call
    assert c.music_on_hold() == [m.Play(LEG, m.MUSIC_ON_HOLD, loop=True)]
    c.clock.advance(20)
    dial = c.ring_agent("1001", "sales", 15, [AGENT, "sip:1001@10.0.0.7"], auto_answer=True)
    assert dial == [m.Dial("in1.a1", AGENT, {"number": "+48601234567", "name": "sales: Ann"}, 15, headers=AUTO_ANSWER),
                    m.Dial("in1.a2", "sip:1001@10.0.0.7", {"number": "+48601234567", "name": "sales: Ann"}, 15,
                           headers=AUTO_ANSWER)]
    assert c.h.party("in1.a2") is Party.RINGING_AGENT
    assert c.agent_answered("in1.a2") == [AgentAnswered("1001", "in1.a2")]
    c.queue_result("ANSWERED")
    assert c.bridge("1001", "in1.a2") == [m.Hangup("in1.a1"), m.StopPlay(LEG), m.Bridge(LEG, "in1.a2"),
                                          RecordConversation((LEG, "in1.a2"), ("1001",), "sales")]
    assert c.h.state is S.WITH_AGENT and c.h.party("in1.a2") is Party.AGENT
    assert c.agent_digit("4") == [m.SendDtmf(LEG, "4")]
    c.clock.advance(60)
    out = c.agent_gone()
    assert out[:3] == [ConversationOver(), m.CancelTimer(DIGITS), m.Hangup(LEG)]
    assert c.h.state is S.ENDED and c.h.ended
    record = c.record()
    assert record["disposition"] == "ANSWERED" and record["hangup_by"] == "agent"
    assert (record["queue"], record["agent"], record["answered_by"], record["outcome"]) == (
        "sales", "1001", "1001", "ANSWERED")
    assert (record["talk_s"], record["wait_s"], record["duration_s"]) == (60.0, 20.0, 80.0)
    assert record["flow"] == ["menu", "sales"] and record["direction"] == "inbound"
    assert record["worker"] == "w0" and record["trunk"] == "gsm" and "recording_declined" not in record


def test_caller_hangs_up_while_queued_and_the_phones_stop_ringing():
    c = Call()
    ringing(c)
    c.clock.advance(12)
    out = c.caller_gone()
    assert out[:3] == [m.CancelTimer(DIGITS), LeaveQueue(), m.Hangup("in1.a1")]
    assert c.h.state is S.ENDED and c.h.ringing == {}
    record = c.record()
    assert (record["disposition"], record["outcome"], record["hangup_by"]) == ("CANCELLED", "ABANDONED", "caller")
    assert record["wait_s"] == 12.0 and record["talk_s"] == 0.0
    assert c.stop_ringing("1001") == []  # the ACD's own withdrawal arrives after the end: nothing left


def test_a_decline_digit_during_the_notice_keeps_the_call_unrecorded():
    c = Call()
    assert c.answered("opt_out") == [m.Play(LEG, "/p/en/this-call-may-be-recorded.wav")]
    assert c.h.state is S.NOTICE
    assert c.digit("9") == [] and c.h.declined
    assert c.play_done() == [m.Play(LEG, "/p/en/press-9-to-decline-recording.wav")]
    assert c.play_done() == [m.Play(LEG, "/p/en/main-menu.wav"), m.StartTimer(DIGITS, 5)]
    assert c.h.state is S.IN_FLOW
    c.caller_gone()
    assert c.record()["recording_declined"] is True


def test_nine_declines_nothing_when_the_route_only_announces():
    c = Call()
    c.answered("announce")
    c.digit("9")
    assert not c.h.declined
    assert c.play_done()[0] == m.Play(LEG, "/p/en/main-menu.wav")


def test_digit_timeout_offers_the_menu_again_then_the_flow_gives_up():
    c = Call()
    in_flow(c)
    # No timeout prompt: the menu again.
    assert c.digit_timeout() == [m.Play(LEG, "/p/en/main-menu.wav"), m.StartTimer(DIGITS, 5)]
    assert c.h.state is S.IN_FLOW
    out = c.digit_timeout()  # retries exhausted: the invalid destination hangs up
    assert out[-2:-1] == [m.Hangup(LEG)] and c.h.state is S.ENDED
    assert c.record()["hangup_by"] == "box" and c.record()["disposition"] == "NO ANSWER"


def test_a_missing_prompt_is_skipped_so_the_flow_goes_on():
    c = Call()
    in_flow(c)
    assert c.digit("5") == [m.CancelTimer(DIGITS), m.CancelTimer(DIGITS), JoinQueue("sales", "+48601234567")]
    assert c.h.state is S.QUEUED


def test_the_flow_hands_the_caller_to_an_extension_a_group_or_voicemail():
    for digit, expected in (("0", [HandToExtension("100")]), ("8", [HandToExtension("office", group=True)]),
                            ("7", [m.StopPlay(LEG), HandToVoicemail("100", "en")])):
        c = Call()
        in_flow(c)
        assert c.digit(digit)[2:] == expected
        assert c.h.state is S.HANDED_OFF and not any(isinstance(x, m.WriteRecord) for x in c.out)


def test_an_outside_number_in_the_flow_ends_the_call_as_failed():
    c = Call()
    in_flow(c)
    c.digit("4")
    assert c.h.state is S.ENDED and c.record()["outcome"] == "FAILED"


def test_one_asks_for_a_callback_and_the_confirmation_is_heard_before_the_hang_up():
    c = Call()
    queued(c)
    assert c.digit("1") == [AskForCallback("+48601234567")]
    assert c.digit("3") == []
    c.announce(["callback-confirmed"])
    c.queue_result("CALLBACK_REQUESTED")
    assert c.hang_up_after_prompt("CALLBACK_REQUESTED") == [] and c.h.state is S.LEAVING
    out = c.play_done()
    assert m.Hangup(LEG) in out and c.h.state is S.ENDED
    assert c.record()["outcome"] == "CALLBACK_REQUESTED"


def test_an_announcement_ends_in_music_and_music_never_ends():
    c = Call()
    queued(c)
    assert c.announce(["queue-position", "not-there", "estimated-wait"]) == [
        m.Play(LEG, "/p/en/queue-position.wav")]
    assert c.play_done() == [m.Play(LEG, "/p/en/estimated-wait.wav")]
    assert c.play_done() == [m.Play(LEG, m.MUSIC_ON_HOLD, loop=True)]
    assert c.h.hearing is Hearing.MUSIC and c.play_done() == []


def test_an_agent_who_answers_during_a_prompt_is_connected_when_it_ends():
    c = Call()
    agent_waiting(c)
    assert c.out[-1] == m.Play(LEG, "/p/en/agent-number.wav")  # nothing more until it is said
    assert c.play_done() == [m.Bridge(LEG, "in1.a1"), RecordConversation((LEG, "in1.a1"), ("1001",), "sales")]
    assert c.h.state is S.WITH_AGENT


def test_missed_offers_tell_the_acd_once_per_agent():
    c = Call()
    queued(c)
    c.ring_agent("1001", "sales", 15, [AGENT, "sip:1001@10.0.0.7"])
    assert c.agent_missed("in1.a1", rang_out=True) == []  # the agent's other phone still rings
    assert c.agent_missed("in1.a2", rang_out=True) == [AgentMissed("1001", rang_out=True)]
    assert c.h.state is S.QUEUED
    assert c.ring_agent("1002", "sales", 15, []) == [AgentMissed("1002", soon=True)]


def test_overflow_and_giving_up():
    c = Call()
    ringing(c)
    assert c.overflow_to_extension("100") == [m.CancelTimer(DIGITS), m.Hangup("in1.a1"), HandToExtension("100")]
    assert c.h.outcome == "TIMEOUT" and c.h.state is S.HANDED_OFF
    c = Call()
    queued(c)
    c.give_up()
    assert c.h.state is S.ENDED and c.record()["hangup_by"] == "box"


def test_caller_hangs_up_on_the_agent():
    c = Call()
    with_agent(c)
    c.monitor("2000", "listen", leg="sup1")
    out = c.caller_gone()
    assert out[:4] == [m.CancelTimer(DIGITS), ConversationOver(), m.Hangup("in1.a1"), m.Hangup("sup1")]
    assert c.record()["disposition"] == "ANSWERED" and c.record()["hangup_by"] == "caller"


def test_supervisors_listen_whisper_and_barge_in_one_conference():
    c = Call()
    with_agent(c)
    assert c.monitor("2000", "listen", leg="s-in") == [m.Answer("s-in"), m.Conference((LEG, "in1.a1"), ("s-in",))]
    assert c.monitor("2001", "whisper", contact="sip:2001@10.0.0.9") == [
        m.Dial("in1.s2", "sip:2001@10.0.0.9", {"number": "1001", "name": "whisper: 1001"}, 30)]
    assert c.h.party("in1.s2") is Party.RINGING_SUPERVISOR
    assert c.supervisor_answered("in1.s2") == [
        m.Conference((LEG, "in1.a1"), ("s-in", "in1.s2"), ("in1.a1", "in1.s2"))]
    assert c.monitor("2002", "barge", leg="s-b")[1] == m.Conference(
        (LEG, "in1.a1", "s-b"), ("s-in", "in1.s2"), ("in1.a1", "in1.s2"))
    assert c.supervisor_gone("s-in") == [] and c.h.party("s-in") is None
    out = c.agent_gone()
    assert [m.Hangup("in1.s2"), m.Hangup("s-b")] == out[1:3]


def test_the_route_decides_the_notice():
    assert notice_mode_for(FLOWS.routes, "48221234567", "+1", {"menu": "opt_out"}) == "opt_out"
    assert notice_mode_for(FLOWS.routes, "48221234567", "+1", {"*": "announce"}) == "announce"
    assert notice_mode_for(FLOWS.routes, "48221234567", "+1", {}) == "never"


@pytest.mark.parametrize("cmd", [
    m.Conference(("a", "b", "c"), ("s",), ("b", "s")),
    m.Dial("a1", AGENT, {"number": "1", "name": "q"}, 15, headers=AUTO_ANSWER),
])
def test_the_new_media_commands_are_valid_engine_commands(cmd):
    name, fields = engine_message(cmd, lambda p: p)
    parse_command({"cmd": name, "id": 1, **fields})


def test_the_agent_hears_which_queue_before_the_caller_is_connected():
    c = Call()
    ringing(c)
    c.h.find_prompt = lambda name, language: f"/p/{language}/{name}.wav"
    assert c.bridge("1001", "in1.a1")[:2] == [m.Play("in1.a1", "/p/en/queue-sales.wav"), m.StopPlay(LEG)]
