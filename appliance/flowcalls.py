"""Calls the box answers itself: walked through the call flows (IVR) and queued to agents.

Each `FlowCall` owns the caller's leg in one engine worker. It feeds engine
events into the pure flow interpreter (`appliance.logic.flows`) and the ACD
(`appliance.logic.acd`), and carries out what they return: prompts, digit
collection, music on hold, ringing agents in the same worker, bridging.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from appliance.logic import flows as fl
from appliance.logic.acd import commands as acd
from appliance.logic.calls import MUSIC_ON_HOLD

if TYPE_CHECKING:
    from appliance.switchboard import Switchboard, Worker

log = logging.getLogger("callbox.flowcalls")

CALLBACK_DIGIT = "1"


class FlowCall:
    """One caller the box answered: flow first, maybe a queue, maybe an agent."""

    def __init__(self, sb: "Switchboard", w: "Worker", leg: str, call_id: str, dialled: str, caller: str,
                 caller_name: str, flows: fl.FlowSet, caller_is_extension: bool, trunk: str | None = None):
        self.sb, self.w, self.inbound, self.call_id = sb, w, leg, call_id
        self.trunk = trunk  # the trunk an outside caller came in on, for the call record
        self.dialled, self.caller, self.caller_name = dialled, caller, caller_name
        self.start = time.time()
        self.answer_time: float | None = None
        self.run = fl.FlowRun(flows, call_id, dialled, caller, lambda: datetime.now(timezone.utc),
                              extensions=sb.core.extension_numbers(), night_mode=lambda: sb.core.night_mode,
                              overrides=sb.core.flow_overrides())
        self.direction = "internal" if caller_is_extension else "inbound"
        self.queue: str | None = None
        self.joined_at: float | None = None
        self.agent: str | None = None
        self.agent_leg: str | None = None
        self.agent_answer: float | None = None
        self.ringing: dict[str, str] = {}   # agent leg -> agent id
        self.outcome: str | None = None
        self.recording: str | None = None
        self.after_play: Any = None
        self.in_notice = False
        self.declined = False          # the caller declined recording
        self.notice_mode: Any = "never"
        self.decline_digit = "9"
        self.supervisors: dict[str, str] = {}          # supervisor leg -> listen / whisper / barge
        self.pending_supervisors: dict[str, str] = {}  # legs still ringing
        self.ended = False
        self.digit_timer: asyncio.TimerHandle | None = None
        self.playlist: list[str] = []
        self.playing = False
        self.moh = False
        self._seq = 0

    # --- engine ---------------------------------------------------------------------------

    def send(self, cmd: str, **fields: Any) -> None:
        asyncio.ensure_future(self.sb.send(self.w, cmd, **fields))

    async def begin(self) -> None:
        try:
            await self.w.client.command("answer", leg=self.inbound)
        except Exception as e:  # the caller may be gone already
            log.info("call %s: could not answer: %s", self.call_id, e)
            return
        self.answer_time = time.time()
        from appliance.logic.business.privacy import DECLINE_DIGIT, RecordingMode, recording_notice
        from appliance.logic.flows import match_route
        first = match_route(self.run.flows.routes, self.dialled, self.caller) or ""
        notices = self.sb.core.settings["recording.notice"]
        self.notice_mode = RecordingMode(notices.get(first, notices.get("*", "never")))
        self.decline_digit = DECLINE_DIGIT
        prompts = recording_notice(self.notice_mode)
        if prompts:
            # The notice comes before anything else; with opt_out the caller may press 9 meanwhile.
            self.in_notice = True
            self.after_play = self._notice_done
            self._play([self.sb.prompt_file(p, self.run.language) for p in prompts])
            return
        self.flow(self.run.start())

    def _notice_done(self) -> None:
        self.in_notice = False
        self.flow(self.run.start())

    def on_event(self, kind: str, event: dict[str, Any]) -> None:
        leg = event.get("leg")
        if kind == "dtmf":
            log.debug("call %s: digit %s from %s", self.call_id, event.get("digit"), leg)
        if leg == self.inbound:
            if kind == "dtmf" and self.in_notice:
                if str(event.get("digit")) == self.decline_digit and str(self.notice_mode) == "opt_out":
                    self.declined = True
            elif kind == "dtmf" and self.queue:
                self._queue_digit(str(event.get("digit", "")))
            elif kind == "dtmf":
                self._cancel_digit_timer()
                self.flow(self.run.digit(str(event.get("digit", ""))))
            elif kind == "play_done":
                self._play_done()
            elif kind == "hangup":
                self._caller_gone()
            return
        if leg in self.ringing:
            agent = self.ringing[leg]
            if kind == "answered":
                self.acd(self.sb.center.offer_answered(self.call_id, agent), answered_leg=leg)
            elif kind == "hangup":
                del self.ringing[leg]
                if agent not in self.ringing.values() and self.agent != agent:
                    cause = int(event.get("cause") or 0)
                    out = self.sb.center.offer_timeout(agent) if cause == 408 else self.sb.center.offer_rejected(agent)
                    self.acd(out)
            return
        if leg in self.pending_supervisors and kind == "answered":
            self.supervisors[leg] = self.pending_supervisors.pop(leg)
            self._conference()
            return
        if (leg in self.supervisors or leg in self.pending_supervisors) and kind == "hangup":
            self.supervisors.pop(leg, None)
            self.pending_supervisors.pop(leg, None)
            return
        if leg == self.agent_leg and kind == "hangup":
            self.agent_leg = None
            self.acd(self.sb.center.call_ended(self.call_id))
            self.outcome = self.outcome or "ANSWERED"
            for sup in [*self.supervisors, *self.pending_supervisors]:
                self.send("hangup", leg=sup)
            self._finish(hangup_caller=True, by="agent")
        elif leg == self.agent_leg and kind == "dtmf":
            if not self.sb._record_code(self, leg, str(event.get("digit", ""))):
                self.send("send_dtmf", leg=self.inbound, digits=str(event.get("digit", "")))

    # --- the flow --------------------------------------------------------------------------

    def flow(self, commands: list[fl.Command]) -> None:
        for c in commands:
            if isinstance(c, fl.Play):
                self._play([self.sb.prompt_file(c.prompt, c.language or self.run.language)])
            elif isinstance(c, fl.CollectDigits):
                self._cancel_digit_timer()
                self.digit_timer = asyncio.get_running_loop().call_later(c.timeout_s, self._digits_timeout)
            elif isinstance(c, fl.ToQueue):
                self.queue = c.name
                self.joined_at = time.time()
                # A call into a queue is an inbound contact-center call, whoever's phone it came from.
                self.direction = "inbound"
                self.acd(self.sb.center.caller_joins(c.name, self.call_id, self.caller))
            elif isinstance(c, fl.ToExtension):
                self._to_extension(c.number)
            elif isinstance(c, fl.ToVoicemail):
                self.ended = True
                self.sb.flow_calls.pop(self.call_id, None)
                self.send("stop_play", leg=self.inbound)
                self.sb._to_voicemail(self.w, self.inbound, self.call_id, self.caller, self.caller_name, c.box,
                                      "unavailable", answered=True, language=self.run.language)
            elif isinstance(c, fl.ToRingGroup):
                self.ended = True
                self.sb.take_over_for_ring_group(self, c.name)
            elif isinstance(c, fl.Dial):
                # Not in this box yet: end politely rather than leave the caller in silence.
                log.warning("call %s: %s is not available yet", self.call_id, c)
                self.outcome = "FAILED"
                self._finish(hangup_caller=True, by="box")
            elif isinstance(c, fl.Hangup):
                self._finish(hangup_caller=True, by="box")

    def _digits_timeout(self) -> None:
        self.digit_timer = None
        if not self.ended:
            self.flow(self.run.digits_timeout())

    def _cancel_digit_timer(self) -> None:
        if self.digit_timer is not None:
            self.digit_timer.cancel()
            self.digit_timer = None

    def _play(self, files: list[str | None]) -> None:
        self.playlist = [f for f in files if f]
        self.moh = False
        if not self.playlist:
            # A prompt that does not exist is skipped, so a flow never waits on silence.
            asyncio.get_running_loop().call_soon(self._play_done)
            return
        self.playing = True
        self.send("play", leg=self.inbound, file=self.playlist.pop(0))

    def _play_done(self) -> None:
        if self.ended:
            return
        if self.playlist:
            self.send("play", leg=self.inbound, file=self.playlist.pop(0))
            return
        if self.after_play is not None:
            then, self.after_play = self.after_play, None
            self.playing = False
            then()
            return
        if self.playing or not self.queue:
            self.playing = False
            if self.queue and self.agent_leg is None:
                self._music_on_hold()
            elif not self.queue:
                self.flow(self.run.play_done())

    def _music_on_hold(self) -> None:
        # Music replaces whatever was playing, and a replaced prompt never reports its end.
        self.playing = False
        self.playlist = []
        self.moh = True
        self.send("play", leg=self.inbound, file=str(self.sb.sounds[MUSIC_ON_HOLD]), loop=True)

    def _to_extension(self, number: str) -> None:
        """Hand the caller to the ordinary extension call machine, in this worker."""
        self.ended = True
        self.sb.take_over_for_extension(self, number)

    # --- the queue -----------------------------------------------------------------------

    def acd(self, commands: list[acd.Command], answered_leg: str | None = None) -> None:
        self.sb.run_acd(commands, answered_leg=answered_leg)

    def _queue_digit(self, digit: str) -> None:
        """While waiting: 1 asks to be called back, keeping the caller's place in line."""
        if digit != CALLBACK_DIGIT or self.agent_leg is not None:
            return
        try:
            self.acd(self.sb.center.request_callback(self.call_id, self.caller))
        except Exception as e:  # the queue offers no callbacks, or the caller is being connected
            log.info("call %s: no callback: %s", self.call_id, e)

    def hang_up_after_prompt(self, outcome: str) -> None:
        """End the call once what is playing (a confirmation) has been heard."""
        self.outcome = self.outcome or outcome
        if self.playlist or self.playing:
            self.after_play = lambda: self._finish(hangup_caller=True, by="box")
        else:
            self._finish(hangup_caller=True, by="box")

    def ring_agent(self, cmd: acd.Ring) -> None:
        contacts = self.sb.core.registrar.lookup(cmd.agent_id)
        if not contacts or self.w.room < 1:
            # Nobody to ring here (unregistered phone, or the worker is full): the offer fails now.
            asyncio.get_running_loop().call_soon(lambda: self.acd(self.sb.center.offer_rejected(cmd.agent_id)))
            return
        for binding in contacts[: max(1, self.w.room)]:
            self._seq += 1
            leg = f"{self.inbound}.a{self._seq}"
            self.ringing[leg] = cmd.agent_id
            self.sb.own_leg(self.w, leg, self)
            self.send("call", leg=leg, uri=binding.contact, timeout_s=cmd.timeout_s,
                      caller_id={"number": self.caller, "name": f"{cmd.queue}: {self.caller_name or self.caller}"},
                      headers={"Alert-Info": "<http://127.0.0.1/answer>;info=alert-autoanswer"}
                      if cmd.auto_answer else {})

    def stop_ringing(self, agent_id: str, keep: str | None = None) -> None:
        for leg, agent in list(self.ringing.items()):
            if agent == agent_id and leg != keep:
                del self.ringing[leg]
                self.send("hangup", leg=leg)

    def bridge_agent(self, agent_id: str, leg: str | None) -> None:
        leg = leg or next((lg for lg, a in self.ringing.items() if a == agent_id), None)
        if leg is None:
            return
        self.ringing.pop(leg, None)
        self.stop_ringing(agent_id)
        for other_leg in list(self.ringing):
            self.send("hangup", leg=other_leg)
        self.ringing.clear()
        self.agent, self.agent_leg, self.agent_answer = agent_id, leg, time.time()
        self.moh = False
        whisper = self.sb.prompt_file(f"queue-{self.queue}", self.run.language) if self.queue else None
        if whisper:
            self.send("play", leg=leg, file=whisper)  # the agent hears which queue it is
        if self.playlist or self.playing:
            # The caller is hearing "agent N will help you": connect them once it is said.
            self.after_play = self._connect_agent
        else:
            self.send("stop_play", leg=self.inbound)
            self._connect_agent()

    def _connect_agent(self) -> None:
        self.send("bridge", a=self.inbound, b=self.agent_leg)
        self.sb.start_recording(self.w, self, [self.inbound, self.agent_leg], [self.agent], self.queue)

    # --- supervisors ------------------------------------------------------------------------

    def monitor(self, supervisor: str, mode: str, leg: str | None = None) -> None:
        """Listen, whisper or barge: the supervisor's leg (theirs if they dialled in, else we ring them)."""
        if self.agent_leg is None:
            return
        if leg is not None:
            self.supervisors[leg] = mode
            self.send("answer", leg=leg)
            self._conference()
            return
        for binding in self.sb.core.registrar.lookup(supervisor)[:1]:
            self._seq += 1
            new = f"{self.inbound}.s{self._seq}"
            self.pending_supervisors[new] = mode
            self.sb.own_leg(self.w, new, self)
            self.send("call", leg=new, uri=binding.contact, timeout_s=30,
                      caller_id={"number": self.agent or "", "name": f"{mode}: {self.agent}"})

    def _conference(self) -> None:
        listen = [leg for leg, mode in self.supervisors.items() if mode in ("listen", "whisper")]
        barge = [leg for leg, mode in self.supervisors.items() if mode == "barge"]
        whisper = next(({"to": self.agent_leg, "from": leg} for leg, mode in self.supervisors.items()
                        if mode == "whisper"), None)
        fields: dict[str, Any] = {"legs": [self.inbound, self.agent_leg, *barge], "listen_only": listen}
        if whisper:
            fields["whisper"] = whisper
        self.send("conference", **fields)

    def play_announcement(self, cmd: acd.Play) -> None:
        if cmd.prompt == "music_on_hold":
            if self.agent_leg is None:
                self._music_on_hold()
            return
        files = [self.sb.prompt_file(name, self.run.language) for name in self.sb.announcement(cmd)]
        self._play(files)

    # --- the end ----------------------------------------------------------------------------

    def _caller_gone(self) -> None:
        if self.ended:
            return
        self._cancel_digit_timer()
        self.flow(self.run.hangup())
        if self.queue and self.agent_leg is None:
            self.acd(self.sb.center.caller_hangs_up(self.call_id))
            self.outcome = self.outcome or "ABANDONED"
        elif self.agent_leg is not None:
            self.acd(self.sb.center.call_ended(self.call_id))
            self.outcome = self.outcome or "ANSWERED"
            self.send("hangup", leg=self.agent_leg)
        for leg in [*self.ringing, *self.supervisors, *self.pending_supervisors]:
            self.send("hangup", leg=leg)
        self._finish(hangup_caller=False, by="caller")

    def _finish(self, hangup_caller: bool, by: str) -> None:
        if self.ended:
            return
        self.ended = True
        self._cancel_digit_timer()
        if hangup_caller:
            self.send("hangup", leg=self.inbound)
        end = time.time()
        answered = self.agent_answer is not None or self.outcome == "ANSWERED"
        record = {
            "call_id": self.call_id, "start": self.start, "answer": self.answer_time, "end": end,
            "duration_s": round(end - self.start, 3),
            "talk_s": round(end - self.agent_answer, 3) if self.agent_answer else 0.0,
            "disposition": "ANSWERED" if answered else ("CANCELLED" if by == "caller" else "NO ANSWER"),
            "direction": self.direction, "caller": self.caller, "caller_name": self.caller_name,
            "callee": self.dialled, "answered_by": self.agent, "hangup_by": by, "queue": self.queue,
            "agent": self.agent, "wait_s": round((self.agent_answer or end) - self.joined_at, 3)
            if self.joined_at else None,
            "outcome": self.outcome, "flow": list(self.run.trail), "worker": self.w.id, "trunk": self.trunk,
        }
        self.sb.finish_flow_call(self, record)
