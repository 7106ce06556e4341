"""One attempt of an outbound campaign, as a table: dial, reach, connect or play, maybe survey.

Three shapes, one table:

- progressive: the box dials the callee; when they answer, it rings the agent it kept free for
  them and bridges the two. No agent answers in time: the callee hears a short apology and the
  attempt counts as ABANDONED.
- preview: the agent chose to dial, so their own phone rings first, then the callee.
- message: the callee hears the campaign's prompt, then may press one digit (a confirmation or
  a survey answer). On every shape "9" at a prompt means "never call me again".

After an agent hangs up on a campaign with a survey, the callee is asked to rate the call 1-5
(`appliance.logic.csat`). The handler returns media commands, an `AttemptOver` with the result
for the campaign's list, and the call record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from appliance.logic.calls import Disposition
from appliance.logic.campaigns.model import Result, result_of_hangup
from appliance.logic.campaigns.rules import NEVER_AGAIN_DIGIT
from appliance.logic.csat import score_of
from appliance.logic.dial_targets import Target
from appliance.logic.machine import Machine
from appliance.logic.media import Bridge, CancelTimer, Dial, Hangup, Play, StartTimer, StopPlay, WriteRecord
from appliance.logic.records import call_record

AGENT_RING_S = 15.0
DIGIT_WAIT_S = 8.0
SORRY, REMOVED, SURVEY_QUESTION, SURVEY_THANKS = ("campaign-sorry", "campaign-removed", "survey-question",
                                                  "survey-thanks")


class CampaignCallState(StrEnum):
    NEW = "NEW"
    DIALLING = "DIALLING"                # progressive: the callee's phone rings
    CONNECTING = "CONNECTING"            # progressive: the callee answered, the agent's phone rings
    RINGING_AGENT = "RINGING_AGENT"      # preview: the agent's own phone first
    AGENT_WAITING = "AGENT_WAITING"      # preview: the agent hears the callee's phone ring
    WITH_AGENT = "WITH_AGENT"
    CALLING = "CALLING"                  # message: the callee's phone rings
    MESSAGE = "MESSAGE"                  # message: the callee hears the prompt
    WAITING_DIGIT = "WAITING_DIGIT"
    SURVEY = "SURVEY"                    # the callee rates the call
    CLOSING = "CLOSING"                  # a last prompt (sorry, removed, thanks), then the end
    ENDED = "ENDED"


class CampaignCallEvent(StrEnum):
    BEGIN_PROGRESSIVE = "begin_progressive"
    BEGIN_PREVIEW = "begin_preview"
    BEGIN_MESSAGE = "begin_message"
    AGENT_ANSWERED = "agent_answered"
    AGENT_GONE = "agent_gone"            # hung up, or never answered
    CALLEE_ANSWERED = "callee_answered"
    CALLEE_GONE = "callee_gone"
    PLAY_DONE = "play_done"
    DIGIT = "digit"
    NEVER_AGAIN = "never_again"          # the callee pressed 9 at a prompt
    TIMEOUT = "timeout"


S, E = CampaignCallState, CampaignCallEvent
TABLE: dict[CampaignCallState, dict[CampaignCallEvent, CampaignCallState]] = {
    S.NEW: {E.BEGIN_PROGRESSIVE: S.DIALLING, E.BEGIN_PREVIEW: S.RINGING_AGENT, E.BEGIN_MESSAGE: S.CALLING},
    S.DIALLING: {E.CALLEE_ANSWERED: S.CONNECTING, E.CALLEE_GONE: S.ENDED},
    S.CONNECTING: {E.AGENT_ANSWERED: S.WITH_AGENT, E.AGENT_GONE: S.CLOSING, E.CALLEE_GONE: S.ENDED,
                   E.DIGIT: S.CONNECTING, E.PLAY_DONE: S.CONNECTING},
    S.RINGING_AGENT: {E.AGENT_ANSWERED: S.AGENT_WAITING, E.AGENT_GONE: S.ENDED},
    S.AGENT_WAITING: {E.CALLEE_ANSWERED: S.WITH_AGENT, E.CALLEE_GONE: S.ENDED, E.AGENT_GONE: S.ENDED},
    S.WITH_AGENT: {E.AGENT_GONE: S.SURVEY, E.CALLEE_GONE: S.ENDED, E.DIGIT: S.WITH_AGENT},
    S.CALLING: {E.CALLEE_ANSWERED: S.MESSAGE, E.CALLEE_GONE: S.ENDED},
    S.MESSAGE: {E.PLAY_DONE: S.WAITING_DIGIT, E.NEVER_AGAIN: S.CLOSING, E.CALLEE_GONE: S.ENDED,
                E.DIGIT: S.CLOSING},
    S.WAITING_DIGIT: {E.DIGIT: S.CLOSING, E.NEVER_AGAIN: S.CLOSING, E.TIMEOUT: S.ENDED, E.CALLEE_GONE: S.ENDED},
    S.SURVEY: {E.DIGIT: S.CLOSING, E.TIMEOUT: S.ENDED, E.CALLEE_GONE: S.ENDED, E.PLAY_DONE: S.SURVEY},
    S.CLOSING: {E.PLAY_DONE: S.ENDED, E.CALLEE_GONE: S.ENDED, E.DIGIT: S.CLOSING, E.NEVER_AGAIN: S.CLOSING,
                E.AGENT_GONE: S.CLOSING},
    # Legs the box hung up report their end too, and a late timer may fire: nothing is left to do.
    S.ENDED: {E.CALLEE_GONE: S.ENDED, E.AGENT_GONE: S.ENDED, E.PLAY_DONE: S.ENDED, E.DIGIT: S.ENDED,
              E.TIMEOUT: S.ENDED, E.NEVER_AGAIN: S.ENDED},
}
MACHINE: Machine[CampaignCallState, CampaignCallEvent] = Machine(
    "campaign call", "campaign call %s", "state", TABLE, "callbox.campaigns")


@dataclass(frozen=True)
class AttemptOver:
    """What the campaign's list learns: the entry's result, and what the callee pressed."""

    campaign: str
    entry: str
    result: Result
    agent: str = ""
    talk_s: float = 0.0
    digit: str = ""
    score: int | None = None
    never_again: bool = False


@dataclass(eq=False)
class CampaignCall:
    """One attempt in one worker: the callee's leg, maybe an agent's, the times and the state."""

    id: str
    campaign: str
    entry: str
    callee: Target  # the number on the list, where it rings, and the name on it
    caller_id: str
    worker: str
    clock: Callable[[], float]
    agent: str = ""               # the agent kept for this call (progressive, preview)
    agent_uri: str = ""
    message: str = ""             # message mode: the prompt
    collect_digit: bool = False
    survey: bool = False
    ring_timeout_s: float = 25.0
    state: CampaignCallState = S.NEW
    start: float = 0.0
    answer_time: float | None = None
    talk_from: float | None = None
    talk_end: float | None = None
    result: Result | None = None
    digit: str = ""
    score: int | None = None
    never_again: bool = False
    surveyed: bool = False        # the callee heard the survey question (a score or none)

    def __post_init__(self) -> None:
        self.start = self.clock()
        self.callee_leg = f"{self.id}.c"
        self.agent_leg = f"{self.id}.a"

    # --- beginnings ---------------------------------------------------------------------

    def begin_progressive(self) -> list[Any]:
        MACHINE.fire(self, E.BEGIN_PROGRESSIVE)
        return [self._dial_callee()]

    def begin_preview(self) -> list[Any]:
        MACHINE.fire(self, E.BEGIN_PREVIEW)
        return [Dial(self.agent_leg, self.agent_uri, {"number": self.callee.number, "name": self.callee.name},
                     AGENT_RING_S * 2)]

    def begin_message(self) -> list[Any]:
        MACHINE.fire(self, E.BEGIN_MESSAGE)
        return [self._dial_callee()]

    def _dial_callee(self) -> Dial:
        return Dial(self.callee_leg, self.callee.uri, {"number": self.caller_id, "name": ""}, self.ring_timeout_s,
                    self.callee.auth or None)

    # --- what the engine reports ----------------------------------------------------------

    def leg_answered(self, leg: str) -> list[Any]:
        if leg == self.agent_leg:
            if MACHINE.fire(self, E.AGENT_ANSWERED) is S.AGENT_WAITING:
                return [self._dial_callee()]
            self.talk_from = self.clock()
            return [StopPlay(self.callee_leg), Bridge(self.callee_leg, self.agent_leg)]
        new = MACHINE.fire(self, E.CALLEE_ANSWERED)
        self.answer_time = self.clock()
        if new is S.MESSAGE:
            return [Play(self.callee_leg, self.message)]
        if new is S.WITH_AGENT:
            self.talk_from = self.answer_time
            return [Bridge(self.callee_leg, self.agent_leg)]
        return [Dial(self.agent_leg, self.agent_uri,
                     {"number": self.callee.number, "name": f"{self.campaign}: {self.callee.name}".strip(": ")},
                     AGENT_RING_S), Play(self.callee_leg, "ringback", loop=True)]

    def leg_hung_up(self, leg: str, cause: int) -> list[Any]:
        if leg == self.agent_leg:
            return self._agent_gone()
        was = self.state
        MACHINE.fire(self, E.CALLEE_GONE)
        if was is S.ENDED:
            return []
        if was in (S.DIALLING, S.CALLING, S.AGENT_WAITING):
            self.result = result_of_hangup(cause)
        elif was is S.CONNECTING:
            self.result = Result.ABANDONED
        elif self.result is None and self.answer_time is not None:  # reached: they hung up on the agent or message
            self.result = Result.ANSWERED
        out: list[Any] = [Hangup(self.agent_leg)] if was in (S.CONNECTING, S.WITH_AGENT, S.AGENT_WAITING) else []
        return out + self._over(by="callee")

    def _agent_gone(self) -> list[Any]:
        was = self.state
        MACHINE.fire(self, E.AGENT_GONE)
        if was is S.ENDED or was is S.CLOSING:
            return []
        if was is S.RINGING_AGENT:
            self.result = Result.FAILED  # the agent did not take their own call: nobody was dialled
            return self._over(by="agent")
        if was is S.AGENT_WAITING:
            self.result = Result.FAILED
            return [Hangup(self.callee_leg)] + self._over(by="agent")
        if was is S.CONNECTING:  # no agent took the answered callee: sorry, and abandoned
            self.result = Result.ABANDONED
            return [StopPlay(self.callee_leg), Play(self.callee_leg, SORRY)]
        self.talk_end = self.clock()  # WITH_AGENT -> SURVEY
        self.result = Result.ANSWERED
        if not self.survey:
            return [Hangup(self.callee_leg)] + self._over(by="agent", force_end=True)
        self.surveyed = True
        return [Play(self.callee_leg, SURVEY_QUESTION), StartTimer("survey", DIGIT_WAIT_S + 10)]

    def play_done(self, leg: str) -> list[Any]:
        if leg != self.callee_leg:
            return []
        new = MACHINE.fire(self, E.PLAY_DONE)
        if new is S.WAITING_DIGIT:
            if not self.collect_digit:
                self.result = Result.ANSWERED
                MACHINE.fire(self, E.TIMEOUT)
                return [Hangup(self.callee_leg)] + self._over(by="box")
            return [StartTimer("digit", DIGIT_WAIT_S)]
        if new is S.ENDED:
            return [Hangup(self.callee_leg)] + self._over(by="box")
        return []

    def digit_pressed(self, leg: str, digit: str) -> list[Any]:
        if leg != self.callee_leg:
            return []
        if digit == NEVER_AGAIN_DIGIT and self.state in (S.MESSAGE, S.WAITING_DIGIT):
            MACHINE.fire(self, E.NEVER_AGAIN)
            self.never_again, self.result = True, Result.REFUSED
            return [CancelTimer("digit"), StopPlay(self.callee_leg), Play(self.callee_leg, REMOVED)]
        was = self.state
        if was is S.SURVEY:
            score = score_of(digit)
            if score is None:
                return []  # another key: the question stays, the timer runs
            MACHINE.fire(self, E.DIGIT)
            self.score = score
            return [CancelTimer("survey"), StopPlay(self.callee_leg), Play(self.callee_leg, SURVEY_THANKS)]
        MACHINE.fire(self, E.DIGIT)
        if was in (S.MESSAGE, S.WAITING_DIGIT) and self.collect_digit:
            self.digit, self.result = digit, Result.ANSWERED
            return [CancelTimer("digit"), StopPlay(self.callee_leg), Play(self.callee_leg, SURVEY_THANKS)]
        return []

    def timer_fired(self, name: str) -> list[Any]:
        was = self.state
        MACHINE.fire(self, E.TIMEOUT)
        if was in (S.WAITING_DIGIT, S.SURVEY):
            self.result = self.result or Result.ANSWERED
            return [Hangup(self.callee_leg)] + self._over(by="box")
        return []

    # --- the end --------------------------------------------------------------------------

    def _over(self, by: str, force_end: bool = False) -> list[Any]:
        if force_end and self.state is not S.ENDED:
            self.state_after_end()
        result = self.result or Result.FAILED
        end = self.clock()
        talk_end = self.talk_end or end
        talk_s = round(talk_end - self.talk_from, 3) if self.talk_from is not None else 0.0
        over = AttemptOver(self.campaign, self.entry, result, self.agent if self.talk_from else "", talk_s,
                           self.digit, self.score, self.never_again)
        record = call_record(
            call_id=self.id, start=self.start, answer=self.answer_time, end=end, talk_from=self.talk_from,
            disposition=_disposition(result), direction="outbound", caller=self.caller_id or self.agent,
            callee=self.callee.number, answered_by=self.agent if self.talk_from else None, hangup_by=by,
            trunk=self.callee.trunk, worker=self.worker, outcome="CAMPAIGN", campaign=self.campaign,
            campaign_entry=self.entry, campaign_result=result.value,
            agent=self.agent if self.talk_from is not None else None,  # agent statistics count campaign talk
            **({"csat": self.score} if self.surveyed else {}),
            **({"digit": self.digit} if self.digit else {}))
        if self.talk_from is not None and self.talk_end is not None:
            record["talk_s"] = talk_s
        return [over, WriteRecord(record)]

    def state_after_end(self) -> None:
        """WITH_AGENT ended without a survey: through SURVEY to ENDED, as the table says."""
        if self.state is S.SURVEY:
            MACHINE.fire(self, E.TIMEOUT)


def _disposition(result: Result) -> Disposition:
    if result in (Result.ANSWERED, Result.REFUSED, Result.ABANDONED):
        return Disposition.ANSWERED
    if result is Result.BUSY:
        return Disposition.BUSY
    if result is Result.NO_ANSWER:
        return Disposition.NO_ANSWER
    return Disposition.FAILED
