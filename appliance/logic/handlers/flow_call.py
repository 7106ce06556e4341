"""A call the box answers itself, as one table: the recording notice, the call flow (IVR), a queue,
the agents it rings, the agent who talks, the supervisors who join, the satisfaction survey of a
queue that asks for one, and the end.

`FlowCallHandler` is told what happened (the box answered, a digit, a prompt said to its end, the
digit timer, an agent's phone answered or stopped ringing, the ACD's decisions, the caller or the
agent hung up) and returns commands: the media vocabulary (`appliance.logic.media`) and the few
effects of `flow_call_effects`, which feed the ACD, hand the caller to someone else or record the
conversation. It does no I/O; the time comes from the clock it is given, and prompt files from
the `find_prompt` port. `FLOW_CALL.fire` is the only place its state changes.

The flow itself (menus, time conditions, where a digit leads) is the interpreter's
(`appliance.logic.flows.FlowRun`); the queue, the agents and who gets the caller are the ACD's
(`appliance.logic.acd`). This handler keeps the call around them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from appliance.logic import flows as fl
from appliance.logic import media as m
from appliance.logic.business.privacy import DECLINE_DIGIT, RecordingMode, recording_notice
from appliance.logic.calls import Disposition
from appliance.logic.csat import score_of
from appliance.logic.handlers.flow_call_effects import (
    AgentAnswered, AgentMissed, AskForCallback, Command, ConversationOver, Effect, HandToExtension, HandToVoicemail,
    JoinQueue, LeaveQueue, RecordConversation, StopRecording)
from appliance.logic.handlers.flow_call_table import (
    FLOW_CALL, OVER, TABLE, FlowCallEvent, FlowCallState, Hearing, Party)
from appliance.logic.records import call_record, talk_seconds

__all__ = ["AUTO_ANSWER", "CALLBACK_DIGIT", "DIGITS", "FLOW_CALL", "SURVEY", "TABLE", "AgentAnswered", "AgentMissed",
           "AskForCallback", "Command", "ConversationOver", "Effect", "FlowCallEvent", "FlowCallHandler",
           "FlowCallState", "HandToExtension", "HandToVoicemail", "Hearing", "JoinQueue", "LeaveQueue", "Party",
           "RecordConversation", "StopRecording", "notice_mode_for"]

log = logging.getLogger("callbox.flowcalls")
S, E = FlowCallState, FlowCallEvent

CALLBACK_DIGIT = "1"  # while waiting in a queue: call me back, keeping my place
DIGITS = "digits"  # the timer of the flow's digit collection
AUTO_ANSWER = {"Alert-Info": "<http://127.0.0.1/answer>;info=alert-autoanswer"}
SUPERVISOR_RING_S = 30
MAX_SKIPPED = 64  # prompts missing in a row before the flow is no longer pushed on (a looping flow)
# The satisfaction survey (as a campaign's): its timer, how long the caller has to press 1-5 from
# the start of the question, and its prompts.
SURVEY = "survey"
SURVEY_WAIT_S = 18.0
SURVEY_QUESTION, SURVEY_THANKS = "survey-question", "survey-thanks"


def notice_mode_for(routes: Any, dialled: str, caller: str, notices: Mapping[str, str]) -> RecordingMode:
    """The recording notice of the route a call came in by, keyed by where the route leads (its first
    node); the "*" entry for every other route."""
    first = fl.match_route(routes, dialled, caller) or ""
    return RecordingMode(notices.get(first, notices.get("*", "never")))


class FlowCallHandler:
    """One caller the box answered: flow first, maybe a queue, maybe an agent."""

    def __init__(self, call_id: str, inbound: str, *, dialled: str, caller: str, caller_name: str,
                 run: fl.FlowRun, clock: Callable[[], float], find_prompt: Callable[[str, str], str | None],
                 caller_is_extension: bool, trunk: str | None = None, worker: str = "",
                 survey: Callable[[str], bool] = lambda queue: False):
        self.id = self.call_id = call_id
        self.inbound = inbound
        self.dialled, self.caller, self.caller_name = dialled, caller, caller_name
        self.run = run
        self.clock = clock
        self.find_prompt = find_prompt  # (name, language) -> a file, or None when it is missing
        self.survey = survey  # whether a queue asks its callers to rate the call
        self.trunk, self.worker = trunk, worker  # for the call record
        self.direction = "internal" if caller_is_extension else "inbound"
        self.state = S.ANSWERING
        self.start = clock()
        self.answer_time: float | None = None
        self.notice_mode = RecordingMode.NEVER
        self.declined = False  # the caller pressed 9 during the notice
        self.hearing = Hearing.NOTHING
        self.playlist: list[str] = []  # prompt files still to say after the one playing
        self.queue: str | None = None
        self.joined_at: float | None = None
        self.ringing: dict[str, str] = {}  # agent leg -> agent
        self.agent: str | None = None
        self.agent_leg: str | None = None
        self.agent_answer: float | None = None
        self.talk_end: float | None = None  # the agent hung up and a survey followed
        self.surveyed = False  # the caller heard the survey question
        self.score: int | None = None
        self.supervisors: dict[str, str] = {}  # supervisor leg -> listen / whisper / barge
        self.held_by: set[str] = set()  # the legs (agent's, caller's) holding the other
        self.ringing_supervisors: dict[str, str] = {}
        self.outcome: str | None = None
        self._seq = 0

    # --- what the runtime asks ------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.state in OVER

    def party(self, leg: str | None) -> Party | None:
        if leg == self.inbound:
            return Party.CALLER
        if leg in self.ringing:
            return Party.RINGING_AGENT
        if leg is not None and leg == self.agent_leg:
            return Party.AGENT
        if leg in self.supervisors:
            return Party.SUPERVISOR
        if leg in self.ringing_supervisors:
            return Party.RINGING_SUPERVISOR
        return None

    def _fire(self, event: FlowCallEvent) -> FlowCallState:
        return FLOW_CALL.fire(self, event)

    # --- the caller -----------------------------------------------------------------------------

    def answered(self, notice_mode: RecordingMode | str = RecordingMode.NEVER) -> list[Command]:
        """The box picked up: the recording notice first (9 may decline it), then the flow."""
        self.answer_time = self.clock()
        self.notice_mode = RecordingMode(notice_mode)
        files = self._files(recording_notice(self.notice_mode))
        if files:
            self._fire(E.ANSWERED_WITH_NOTICE)
            return self._say(files)
        self._fire(E.ANSWERED)
        return self._flow(self.run.start())

    def digit(self, digit: str) -> list[Command]:
        score = score_of(digit) if self.state is S.SURVEY else None
        if score is not None:
            return self._rated(score)
        was = self.state
        self._fire(E.DIGIT)
        if was is S.NOTICE:
            if digit == DECLINE_DIGIT and self.notice_mode is RecordingMode.OPT_OUT:
                self.declined = True
            return []
        if was is S.IN_FLOW:
            return [m.CancelTimer(DIGITS), *self._flow(self.run.digit(digit))]
        if was in (S.QUEUED, S.RINGING_AGENT) and digit == CALLBACK_DIGIT:
            return [AskForCallback(self.caller)]
        return []  # with an agent, leaving, or another key than 1-5 at the survey: nothing to do

    def digit_timeout(self) -> list[Command]:
        self._fire(E.DIGIT_TIMEOUT)
        return self._flow(self.run.digits_timeout())

    def play_done(self) -> list[Command]:
        """The engine says the prompt playing to the caller ended."""
        FLOW_CALL.next_state(self.id, self.state, E.PLAY_DONE)  # refused where nothing can play
        if self.playlist:
            return [m.Play(self.inbound, self.playlist.pop(0))]
        return self._said()

    def _said(self) -> list[Command]:
        was, heard = self.state, self.hearing
        self._fire(E.PLAY_DONE)
        if was is S.QUEUED or was is S.RINGING_AGENT:
            # An announcement is over: the music again. (Music never ends; a stale report changes nothing.)
            return self._music() if heard is Hearing.PROMPTS else []
        self.hearing = Hearing.NOTHING
        if was is S.NOTICE:
            return self._flow(self.run.start())
        if was is S.IN_FLOW:
            return self._flow(self.run.play_done())
        if was is S.AGENT_WAITING:
            return self._connect()
        if was is S.LEAVING:
            return self._hang_up("box")
        if was is S.THANKS:
            return self._hang_up("agent")
        return []  # the survey's question is said: the caller's key or its timer ends it

    def caller_gone(self) -> list[Command]:
        was = self.state
        self._fire(E.CALLER_GONE)
        self.run.hangup()
        out: list[Command] = [m.CancelTimer(DIGITS)]
        if was in (S.SURVEY, S.THANKS):
            # The ACD heard of the conversation's end when the agent hung up; the agent ended it.
            return [*out, m.CancelTimer(SURVEY)] + self._record("agent")
        if was in (S.AGENT_WAITING, S.WITH_AGENT):
            out.append(ConversationOver())
            self.outcome = self.outcome or "ANSWERED"
            out.append(m.Hangup(self.agent_leg))
        elif self.queue is not None:
            out.append(LeaveQueue())
            self.outcome = self.outcome or "ABANDONED"
        out += [m.Hangup(leg) for leg in [*self.ringing, *self.supervisors, *self.ringing_supervisors]]
        self.ringing.clear()
        return out + self._record("caller")

    # --- the flow -------------------------------------------------------------------------------

    def _flow(self, commands: list[fl.Command]) -> list[Command]:
        out: list[Command] = []
        for _ in range(MAX_SKIPPED):
            skipped = False
            for c in commands:
                if self.ended:
                    break
                if isinstance(c, fl.Play):
                    found = self._files([c.prompt], c.language or self.run.language)
                    out += self._say(found)
                    skipped = not found
                elif isinstance(c, fl.CollectDigits):
                    out.append(m.StartTimer(DIGITS, c.timeout_s))
                elif isinstance(c, fl.ToQueue):
                    out += self._join_queue(c.name)
                elif isinstance(c, fl.ToExtension):
                    out += self._hand_off(HandToExtension(c.number))
                elif isinstance(c, fl.ToRingGroup):
                    out += self._hand_off(HandToExtension(c.name, group=True))
                elif isinstance(c, fl.ToVoicemail):
                    out += self._hand_off(m.StopPlay(self.inbound), HandToVoicemail(c.box, self.run.language))
                elif isinstance(c, fl.Dial):
                    # Not in this box yet: end politely rather than leave the caller in silence.
                    log.warning("call %s: %s is not available yet", self.call_id, c)
                    self.outcome = "FAILED"
                    out += self._finish("box")
                elif isinstance(c, fl.Hangup):
                    out += self._finish("box")
            if not skipped or self.state is not S.IN_FLOW:
                return out
            # A prompt that does not exist is skipped, so a flow never waits on silence.
            self._fire(E.PLAY_DONE)
            commands = self.run.play_done()
        log.error("call %s: %d missing prompts in a row; the flow waits", self.call_id, MAX_SKIPPED)
        return out

    def _join_queue(self, queue: str) -> list[Command]:
        self._fire(E.JOIN_QUEUE)
        self.queue, self.joined_at = queue, self.clock()
        # A call into a queue is an inbound contact-center call, whoever's phone it came from.
        self.direction = "inbound"
        return [m.CancelTimer(DIGITS), JoinQueue(queue, self.caller)]

    def _hand_off(self, *commands: Command) -> list[Command]:
        self._fire(E.HAND_OFF)
        hangups: list[Command] = [m.Hangup(leg) for leg in self.ringing]
        self.ringing.clear()
        return [m.CancelTimer(DIGITS), *hangups, *commands]

    # --- the queue (the ACD's decisions) ----------------------------------------------------------

    def queue_result(self, result: str) -> None:
        """The ACD logged how the caller left the queue: the call record says it."""
        self.outcome = result

    def music_on_hold(self) -> list[Command]:
        self._fire(E.ANNOUNCE)
        return self._music()

    def announce(self, prompts: list[str]) -> list[Command]:
        """Say a position or a wait (prompt names); a missing prompt is skipped."""
        self._fire(E.ANNOUNCE)
        return self._say(self._files(prompts))

    def ring_agent(self, agent: str, queue: str, timeout_s: float, contacts: list[str],
                   auto_answer: bool = False) -> list[Command]:
        """Ring every phone of `agent` the worker has room for; none: the offer fails at once."""
        if not contacts:
            self._fire(E.AGENT_UNREACHABLE)
            return [AgentMissed(agent, soon=True)]
        self._fire(E.RING_AGENT)
        out: list[Command] = []
        for contact in contacts:
            leg = self._new_leg("a")
            self.ringing[leg] = agent
            shown = {"number": self.caller, "name": f"{queue}: {self.caller_name or self.caller}"}
            out.append(m.Dial(leg, contact, shown, timeout_s, headers=dict(AUTO_ANSWER) if auto_answer else None))
        return out

    def stop_ringing(self, agent: str) -> list[Command]:
        self._fire(E.STOP_RINGING)
        legs = [leg for leg, who in self.ringing.items() if who == agent]
        for leg in legs:
            del self.ringing[leg]
        return [m.Hangup(leg) for leg in legs] + self._ringing_changed()

    def agent_answered(self, leg: str) -> list[Command]:
        self._fire(E.AGENT_ANSWERED)
        return [AgentAnswered(self.ringing[leg], leg)]

    def agent_missed(self, leg: str, rang_out: bool) -> list[Command]:
        """An agent's phone stopped ringing by itself (no answer, busy, declined)."""
        self._fire(E.AGENT_MISSED)
        agent = self.ringing.pop(leg)
        out: list[Command] = []
        if agent not in self.ringing.values() and agent != self.agent:
            out.append(AgentMissed(agent, rang_out))
        return self._ringing_changed() + out

    def _ringing_changed(self) -> list[Command]:
        if self.state is S.RINGING_AGENT and not self.ringing:
            self._fire(E.RINGING_STOPPED)
        return []

    def bridge(self, agent: str, leg: str | None) -> list[Command]:
        """The ACD gives the caller to `agent` (who answered on `leg`)."""
        leg = leg or next((lg for lg, a in self.ringing.items() if a == agent), None)
        if leg is None:
            return []
        prompt_playing = self.hearing is Hearing.PROMPTS
        self._fire(E.BRIDGE_AFTER_PROMPT if prompt_playing else E.BRIDGE)
        self.ringing.pop(leg, None)
        out: list[Command] = [m.Hangup(other) for other in self.ringing]
        self.ringing.clear()
        self.agent, self.agent_leg, self.agent_answer = agent, leg, self.clock()
        whisper = self.find_prompt(f"queue-{self.queue}", self.run.language) if self.queue else None
        if whisper:
            out.append(m.Play(leg, whisper))  # the agent hears which queue it is
        if prompt_playing:
            return out  # the caller is hearing "agent N will help you": connected once it is said
        self.hearing = Hearing.NOTHING
        return out + [m.StopPlay(self.inbound)] + self._connect()

    def _connect(self) -> list[Command]:
        return [m.Bridge(self.inbound, self.agent_leg),
                RecordConversation((self.inbound, self.agent_leg), (self.agent,), self.queue)]

    def hang_up_after_prompt(self, outcome: str) -> list[Command]:
        """The queue let the caller go: once what is playing (a confirmation) has been heard."""
        self.outcome = self.outcome or outcome
        if self.hearing is Hearing.PROMPTS:
            self._fire(E.HANG_UP_AFTER_PROMPT)
            hangups: list[Command] = [m.Hangup(leg) for leg in self.ringing]  # the ACD withdrew them already
            self.ringing.clear()
            return hangups
        return self._finish("box")

    def overflow_to_voicemail(self, box: str) -> list[Command]:
        self.outcome = self.outcome or "TIMEOUT"
        return self._hand_off(m.StopPlay(self.inbound), HandToVoicemail(box, self.run.language))

    def overflow_to_extension(self, number: str) -> list[Command]:
        self.outcome = self.outcome or "TIMEOUT"
        return self._hand_off(HandToExtension(number))

    def give_up(self) -> list[Command]:
        """The queue's overflow leads nowhere this box knows: the box hangs up."""
        return self._finish("box")

    # --- the agent and supervisors -----------------------------------------------------------------

    def agent_digit(self, digit: str) -> list[Command]:
        self._fire(E.AGENT_DIGIT)
        return [m.SendDtmf(self.inbound, digit)]

    def held(self, leg: str) -> list[Command]:
        """`leg` (the agent's or the caller's) put the other on hold: the two are parted and the other
        hears music on hold until `resumed`. Again, or from a leg not in the conversation: nothing."""
        other = self._other_talker(leg)
        if other is None or leg in self.held_by:
            return []
        self._fire(E.HOLD)
        parted = not self.held_by
        self.held_by.add(leg)
        if other == self.inbound:
            self.playlist, self.hearing = [], Hearing.MUSIC
        out: list[Command] = [m.Unbridge(self.inbound, self.agent_leg)] if parted else []
        return out + [m.Play(other, m.MUSIC_ON_HOLD, loop=True)]

    def resumed(self, leg: str) -> list[Command]:
        """`leg` took the other back from hold: the music stops, and the two talk again unless the
        other holds them too."""
        other = self._other_talker(leg)
        if other is None or leg not in self.held_by:
            return []
        self._fire(E.RESUME)
        self.held_by.discard(leg)
        if other == self.inbound:
            self.hearing = Hearing.NOTHING
        out: list[Command] = [m.StopPlay(other)]
        if self.held_by:
            return out
        return out + [self._conference() if self.supervisors else m.Bridge(self.inbound, self.agent_leg)]

    def _other_talker(self, leg: str) -> str | None:
        if self.state is not S.WITH_AGENT or self.agent_leg is None:
            return None
        return self.agent_leg if leg == self.inbound else self.inbound if leg == self.agent_leg else None

    def agent_transfers(self, number: str) -> list[Command]:
        """The agent passed the caller on to extension `number` (a blind transfer) and leaves: the ACD
        hears the conversation is over (wrap-up), its record is written now (ANSWERED, as settled at
        the answer, `transferred`, the talk up to here), and the extension takes the caller as an
        ordinary call, with a record of its own."""
        self._fire(E.AGENT_TRANSFERS)
        self.talk_end, self.outcome = self.clock(), self.outcome or "ANSWERED"
        out: list[Command] = [ConversationOver(), StopRecording(), m.CancelTimer(DIGITS)]
        out += [m.Hangup(leg) for leg in [self.agent_leg, *self.supervisors, *self.ringing_supervisors] if leg]
        self.agent_leg = None
        self.supervisors.clear()
        self.ringing_supervisors.clear()
        self.held_by.clear()
        self.playlist, self.hearing = [], Hearing.NOTHING
        return out + self._record("agent", transferred=True, transferred_to=number) + [HandToExtension(number)]

    def agent_gone(self) -> list[Command]:
        """The agent hung up: the ACD hears it at once (wrap-up starts), then the caller is let go, or
        first asked to rate the call when the queue has a survey and the question can be said."""
        asked = self.state is S.WITH_AGENT and self.queue is not None and self.survey(self.queue)
        question = self._files([SURVEY_QUESTION]) if asked else []
        self._fire(E.AGENT_GONE_TO_SURVEY if question else E.AGENT_GONE)
        self.agent_leg = None
        self.outcome = self.outcome or "ANSWERED"
        out: list[Command] = [ConversationOver()]
        out += [m.Hangup(leg) for leg in [*self.supervisors, *self.ringing_supervisors]]
        if question:
            self.supervisors.clear()  # their legs' ends report to nobody now
            self.ringing_supervisors.clear()
            self.talk_end, self.surveyed = self.clock(), True
            return out + [StopRecording(), m.CancelTimer(DIGITS), *self._say(question),
                          m.StartTimer(SURVEY, SURVEY_WAIT_S)]
        return out + [m.CancelTimer(DIGITS), m.Hangup(self.inbound)] + self._record("agent")

    # --- the survey -------------------------------------------------------------------------------

    def _rated(self, score: int) -> list[Command]:
        self._fire(E.SCORE)
        self.score = score
        out: list[Command] = [m.CancelTimer(SURVEY), m.StopPlay(self.inbound)]
        thanks = self._files([SURVEY_THANKS])
        if thanks:
            return out + self._say(thanks)
        self.playlist, self.hearing = [], Hearing.NOTHING
        return out + self._said()  # no thanks to say: the end at once

    def survey_timeout(self) -> list[Command]:
        """Nothing pressed in time: the call ends without a score."""
        self._fire(E.SURVEY_TIMEOUT)
        return self._hang_up("agent")

    def monitor(self, supervisor: str, mode: str, leg: str | None = None,
                contact: str | None = None) -> list[Command]:
        """Listen, whisper or barge: the supervisor's own leg if they dialled in, else ring `contact`."""
        self._fire(E.MONITOR)
        if leg is not None:
            self.supervisors[leg] = mode
            return [m.Answer(leg), self._conference()]
        if contact is None:
            return []
        new = self._new_leg("s")
        self.ringing_supervisors[new] = mode
        return [m.Dial(new, contact, {"number": self.agent or "", "name": f"{mode}: {self.agent}"},
                       SUPERVISOR_RING_S)]

    def supervisor_answered(self, leg: str) -> list[Command]:
        self._fire(E.SUPERVISOR_ANSWERED)
        self.supervisors[leg] = self.ringing_supervisors.pop(leg)
        return [self._conference()]

    def supervisor_gone(self, leg: str) -> list[Command]:
        self._fire(E.SUPERVISOR_GONE)
        self.supervisors.pop(leg, None)
        self.ringing_supervisors.pop(leg, None)
        return []

    def _conference(self) -> m.Conference:
        listen = tuple(leg for leg, mode in self.supervisors.items() if mode in ("listen", "whisper"))
        barge = tuple(leg for leg, mode in self.supervisors.items() if mode == "barge")
        whisper = next(((self.agent_leg, leg) for leg, mode in self.supervisors.items() if mode == "whisper"),
                       None)
        return m.Conference((self.inbound, self.agent_leg, *barge), listen, whisper)

    # --- helpers ----------------------------------------------------------------------------------

    def _files(self, prompts: Any, language: str | None = None) -> list[str]:
        found = (self.find_prompt(p, language or self.run.language) for p in prompts)
        return [f for f in found if f]

    def _say(self, files: list[str]) -> list[Command]:
        self.playlist = list(files[1:])
        if not files:
            return []
        self.hearing = Hearing.PROMPTS
        return [m.Play(self.inbound, files[0])]

    def _music(self) -> list[Command]:
        if self.agent_leg is not None:
            return []
        # Music replaces whatever was playing, and a replaced prompt never reports its end.
        self.playlist = []
        self.hearing = Hearing.MUSIC
        return [m.Play(self.inbound, m.MUSIC_ON_HOLD, loop=True)]

    def _new_leg(self, kind: str) -> str:
        self._seq += 1
        return f"{self.inbound}.{kind}{self._seq}"

    def _finish(self, by: str) -> list[Command]:
        self._fire(E.BOX_HANGS_UP)
        return self._hang_up(by)

    def _hang_up(self, by: str) -> list[Command]:
        hangups: list[Command] = [m.Hangup(leg) for leg in self.ringing]
        self.ringing.clear()
        return [m.CancelTimer(DIGITS), *hangups, m.Hangup(self.inbound)] + self._record(by)

    def _record(self, by: str, **more: Any) -> list[Command]:
        end = self.clock()
        answered = self.agent_answer is not None or self.outcome == "ANSWERED"
        disposition = Disposition.ANSWERED if answered else (
            Disposition.CANCELLED if by == "caller" else Disposition.NO_ANSWER)
        return [m.WriteRecord(call_record(
            call_id=self.call_id, start=self.start, answer=self.answer_time, end=end,
            disposition=disposition, direction=self.direction, caller=self.caller, callee=self.dialled,
            talk_from=self.agent_answer, answered_by=self.agent, hangup_by=by, worker=self.worker,
            trunk=self.trunk, caller_name=self.caller_name, queue=self.queue, agent=self.agent,
            wait_s=round((self.agent_answer or end) - self.joined_at, 3) if self.joined_at else None,
            outcome=self.outcome, flow=list(self.run.trail),
            **({"csat": self.score} if self.surveyed else {}),
            **({"talk_s": talk_seconds(self.talk_end, self.agent_answer)} if self.talk_end is not None else {}),
            **({"recording_declined": True} if self.declined else {}), **more))]
