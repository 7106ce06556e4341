"""Calls the box answers itself, on the runtime side: walked through the call flows (IVR) and
queued to agents.

What such a call does is the domain's `FlowCallHandler` (`appliance.logic.handlers.flow_call`):
a table of states, events in, commands out. A `FlowCall` owns the caller's leg in one engine
worker; it feeds the handler the worker's events and the ACD's commands, hands the media
commands it returns to a `MediaExecutor`, and carries out its other effects (the ACD's inputs,
handing the caller over, recording, the call record) through the ports it was given.
`answer_with_flows` is the wiring: it builds both, binding the switchboard's `FlowCallWiring` to the worker.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from appliance.errors import NotFound, StateMachineError
from appliance.logic import flows as fl
from appliance.logic import media as m
from appliance.logic.acd import commands as acd
from appliance.logic.handlers import flow_call as h
from appliance.media_executor import MediaExecutor
from appliance.transfers import refer_target

if TYPE_CHECKING:
    from appliance.engine_pool import Worker
    from appliance.logic.acd import ContactCenter

log = logging.getLogger("callbox.flowcalls")

# What the rest of the box reads of a flow call (the Now page, supervision, recording, hand-over).
_SHOWN = frozenset({"call_id", "inbound", "dialled", "caller", "caller_name", "trunk", "direction", "start",
                    "answer_time", "queue", "agent", "agent_leg", "agent_answer", "declined", "notice_mode",
                    "outcome", "ended", "state"})


@dataclass
class FlowCallPorts:
    """What a flow call needs from the rest of the box, one callable each (bound to its worker)."""

    answer: Callable[[str], Awaitable[Any]]  # pick up a leg, awaited: nothing is said before
    send: Callable[[str, dict[str, Any]], None]  # an engine command to the call's worker
    own_leg: Callable[[str, Any], None]  # the worker's events of a new leg go to its owner
    room: Callable[[], int]  # legs the worker can still place
    contacts: Callable[[str], list[str]]  # an extension's registered contacts
    is_extension: Callable[[str], bool]
    sound: Callable[[str], str]  # a file for a system sound (music on hold) or a resolved prompt
    notices: Callable[[], Mapping[str, str]]  # the recording notice per route (setting recording.notice)
    announcement: Callable[[acd.Play], list[str]]  # prompt names that say an ACD announcement
    center: "ContactCenter"
    run_acd: Callable[..., None]  # carry out the ACD's commands (answered_leg= for a Bridge)
    record_code: Callable[[Any, str, str], bool]  # *1 from the agent: recording on demand
    record_conversation: Callable[[Any, list[str], list[str], str | None], None]
    to_extension: Callable[[Any, str], None]
    to_ring_group: Callable[[Any, str], None]
    to_voicemail: Callable[[Any, str, str], None]  # (call, box, language)
    finish: Callable[[Any, dict[str, Any]], None]  # the call is over: forget it, file its record


class FlowCall:
    """One caller the box answered, in one worker: the handler's decisions carried out."""

    def __init__(self, handler: h.FlowCallHandler, w: "Worker", ports: FlowCallPorts):
        self.handler, self.w, self.ports = handler, w, ports
        self.recording: str | None = None  # set by the recorder when the conversation is recorded
        self.media = MediaExecutor(send=ports.send, prompt_file=ports.sound, on_timer=self._timer,
                                   other=self._effect)

    def __getattr__(self, name: str) -> Any:
        if name in _SHOWN:
            return getattr(self.handler, name)
        raise AttributeError(name)

    def carry_out(self, commands: list[Any]) -> None:
        for cmd in commands:
            if isinstance(cmd, m.Dial):
                self.ports.own_leg(cmd.leg, self)
            self.media.carry_out(cmd)

    # --- the worker's events ---------------------------------------------------------------------

    async def begin(self) -> None:
        try:
            await self.ports.answer(self.handler.inbound)
        except Exception as e:  # the caller may be gone already
            log.info("call %s: could not answer: %s", self.handler.call_id, e)
            return
        routes = self.handler.run.flows.routes
        mode = h.notice_mode_for(routes, self.handler.dialled, self.handler.caller, self.ports.notices())
        self.carry_out(self.handler.answered(mode))

    def on_event(self, kind: str, event: dict[str, Any]) -> None:
        leg, call = event.get("leg"), self.handler
        if call.ended:
            return  # what the worker still reports about a call that is over changes nothing
        party = call.party(leg)
        digit = str(event.get("digit", ""))
        if kind == "dtmf":
            log.debug("call %s: digit %s from %s", call.call_id, digit, leg)
        out: list[Any] = []
        if party is h.Party.CALLER:
            if kind == "dtmf":
                out = call.digit(digit)
            elif kind == "play_done":
                out = call.play_done()
            elif kind == "hangup":
                out = call.caller_gone()
        elif party is h.Party.RINGING_AGENT:
            if kind == "answered":
                out = call.agent_answered(leg)
            elif kind == "hangup":
                out = call.agent_missed(leg, rang_out=int(event.get("cause") or 0) == 408)
        elif party is h.Party.RINGING_SUPERVISOR and kind == "answered":
            out = call.supervisor_answered(leg)
        elif party in (h.Party.SUPERVISOR, h.Party.RINGING_SUPERVISOR) and kind == "hangup":
            out = call.supervisor_gone(leg)
        elif party is h.Party.AGENT and kind == "hangup":
            out = call.agent_gone()
        elif party is h.Party.AGENT and kind == "dtmf" and not self.ports.record_code(self, leg, digit):
            out = call.agent_digit(digit)
        elif party is h.Party.AGENT and kind == "transfer_requested":
            out = self._transfer(str(event.get("target", "")))
        if party in (h.Party.CALLER, h.Party.AGENT) and kind in ("held", "unheld"):
            out = call.held(leg) if kind == "held" else call.resumed(leg)
        self.carry_out(out)

    def _transfer(self, target: str) -> list[Any]:
        """The agent's REFER: to one of the box's extensions (a blind transfer). Anything else (a
        consultation call to join (Replaces), an outside number, a name) is refused: the call goes on."""
        found = refer_target(target)
        number = found[0] if found is not None and not found[1] else ""   # not an attended transfer
        if not (number.isdigit() and self.ports.is_extension(number)):
            log.info("call %s: the agent's transfer to %s refused: not one of the box's extensions",
                     self.handler.call_id, target[:80])
            return []
        return self.handler.agent_transfers(number)

    def _timer(self, name: str) -> None:
        if name == h.DIGITS and self.handler.state is h.FlowCallState.IN_FLOW:
            self.carry_out(self.handler.digit_timeout())
        elif name == h.SURVEY and self.handler.state is h.FlowCallState.SURVEY:
            self.carry_out(self.handler.survey_timeout())

    # --- the ACD's commands ------------------------------------------------------------------------

    def queue_result(self, result: str) -> None:
        self.handler.queue_result(result)

    def on_acd(self, cmd: acd.Command, answered_leg: str | None = None) -> None:
        """One of the ACD's commands for this caller."""
        call = self.handler
        try:
            if isinstance(cmd, acd.StopRinging):
                out = call.stop_ringing(cmd.agent_id)
            elif call.ended:
                log.debug("call %s is over: %s not carried out", call.call_id, cmd)
                return
            elif isinstance(cmd, acd.Ring):
                room = self.ports.room()
                found = self.ports.contacts(cmd.agent_id)
                contacts = found[: max(1, room)] if room >= 1 else []
                out = call.ring_agent(cmd.agent_id, cmd.queue, cmd.timeout_s, contacts, cmd.auto_answer)
            elif isinstance(cmd, acd.Bridge):
                out = call.bridge(cmd.agent_id, answered_leg)
            elif isinstance(cmd, acd.Play) and cmd.prompt == "music_on_hold":
                out = call.music_on_hold()
            elif isinstance(cmd, acd.Play):
                out = call.announce(self.ports.announcement(cmd))
            elif isinstance(cmd, acd.Overflow) and cmd.destination.startswith("voicemail:"):
                out = call.overflow_to_voicemail(cmd.destination.removeprefix("voicemail:"))
            elif isinstance(cmd, acd.Overflow):
                number = cmd.destination.removeprefix("extension:")
                known = number.isdigit() and self.ports.is_extension(number)
                out = call.overflow_to_extension(number) if known else call.give_up()
            elif isinstance(cmd, acd.Hangup):
                out = call.hang_up_after_prompt(cmd.reason.upper().replace(" ", "_"))
            else:
                log.info("ACD command not carried out yet: %s", cmd)
                return
        except StateMachineError:
            # One call's surprise must not stop the ACD's orders for the others.
            log.exception("call %s: ACD command %s refused", call.call_id, cmd)
            return
        self.carry_out(out)

    # --- supervisors -------------------------------------------------------------------------------

    def monitor(self, supervisor: str, mode: str, leg: str | None = None) -> None:
        """Listen, whisper or barge: the supervisor's leg (theirs if they dialled in, else we ring them)."""
        if self.handler.agent_leg is None:
            return
        contact = None if leg is not None else next(iter(self.ports.contacts(supervisor)), None)
        self.carry_out(self.handler.monitor(supervisor, mode, leg, contact))

    # --- effects ---------------------------------------------------------------------------------

    def _effect(self, cmd: Any) -> None:
        ports, call_id = self.ports, self.handler.call_id
        center = ports.center
        if isinstance(cmd, m.WriteRecord):
            self.media.cancel_all()
            ports.finish(self, cmd.record)
        elif isinstance(cmd, h.JoinQueue):
            ports.run_acd(center.caller_joins(cmd.queue, call_id, cmd.caller))
        elif isinstance(cmd, h.AskForCallback):
            try:
                ports.run_acd(center.request_callback(call_id, cmd.caller))
            except Exception as e:  # the queue offers no callbacks, or the caller is being connected
                log.info("call %s: no callback: %s", call_id, e)
        elif isinstance(cmd, h.AgentAnswered):
            ports.run_acd(center.offer_answered(call_id, cmd.agent), answered_leg=cmd.leg)
        elif isinstance(cmd, h.AgentMissed):
            missed = center.offer_timeout if cmd.rang_out else center.offer_rejected
            if cmd.soon:  # the ACD is still giving the orders that led here
                asyncio.get_running_loop().call_soon(lambda: ports.run_acd(missed(cmd.agent)))
            else:
                ports.run_acd(missed(cmd.agent))
        elif isinstance(cmd, h.LeaveQueue):
            ports.run_acd(center.caller_hangs_up(call_id))
        elif isinstance(cmd, h.ConversationOver):
            ports.run_acd(center.call_ended(call_id))
        elif isinstance(cmd, h.HandToExtension):
            self.media.cancel_all()
            (ports.to_ring_group if cmd.group else ports.to_extension)(self, cmd.number)
        elif isinstance(cmd, h.HandToVoicemail):
            self.media.cancel_all()
            ports.to_voicemail(self, cmd.box, cmd.language)
        elif isinstance(cmd, h.RecordConversation):
            ports.record_conversation(self, list(cmd.legs), list(cmd.extensions), cmd.queue)
        elif isinstance(cmd, h.StopRecording):
            if self.recording:  # the file stays the call's recording; the survey is not in it
                ports.send("record_stop", {"file": self.recording})
        else:
            log.warning("call %s: %s is not carried out", call_id, cmd)


@dataclass(frozen=True)
class FlowCallWiring:
    """What every flow call is built from, before it is bound to its worker (filled by the switchboard)."""

    answer: Callable[[Any, str], Awaitable[Any]]  # (worker, leg): pick up, awaited
    send: Callable[[Any, str, dict[str, Any]], None]  # (worker, engine command, fields), not awaited
    own_leg: Callable[[Any, str, Any], None]  # (worker, leg, owner)
    contacts: Callable[[str], list[str]]  # an extension's registered contacts
    is_extension: Callable[[str], bool]
    extension_numbers: Callable[[], Iterable[str]]
    night_mode: Callable[[], bool]
    flow_overrides: Callable[[], Any]
    prompt_file: Callable[[str, str], str | None]  # (prompt name, language) -> WAV
    sound: Callable[[str], str]
    notices: Callable[[], Mapping[str, str]]
    announcement: Callable[[acd.Play], list[str]]
    center: "ContactCenter"
    run_acd: Callable[..., None]
    record_code: Callable[[Any, str, str], bool]
    record_conversation: Callable[[Any, Any, list[str], list[str], str | None], None]  # (worker, call, ...)
    to_extension: Callable[[Any, str], None]
    to_ring_group: Callable[[Any, str], None]
    to_voicemail: Callable[[Any, Any, str, str], None]  # (worker, call, box, language)
    finish: Callable[[Any, dict[str, Any]], None]


def answer_with_flows(wiring: FlowCallWiring, w: "Worker", leg: str, call_id: str, dialled: str, caller: str,
                      caller_name: str, flows: fl.FlowSet, *, caller_is_extension: bool,
                      trunk: str | None = None) -> FlowCall:
    """The wiring of one flow call: its handler, and its ports bound to its worker."""
    run = fl.FlowRun(flows, call_id, dialled, caller, lambda: datetime.now(timezone.utc),
                     extensions=wiring.extension_numbers(), night_mode=wiring.night_mode,
                     overrides=wiring.flow_overrides())
    def survey(queue: str) -> bool:
        try:
            return wiring.center.queue_config(queue).survey
        except NotFound:  # a queue that is gone asks nothing
            return False

    handler = h.FlowCallHandler(call_id, leg, dialled=dialled, caller=caller, caller_name=caller_name, run=run,
                                clock=time.time, find_prompt=wiring.prompt_file,
                                caller_is_extension=caller_is_extension, trunk=trunk, worker=w.id, survey=survey)
    ports = FlowCallPorts(
        answer=lambda lg: wiring.answer(w, lg),
        send=lambda name, fields: wiring.send(w, name, fields),
        own_leg=lambda lg, owner: wiring.own_leg(w, lg, owner),
        room=lambda: w.room,
        contacts=wiring.contacts, is_extension=wiring.is_extension, sound=wiring.sound, notices=wiring.notices,
        announcement=wiring.announcement, center=wiring.center, run_acd=wiring.run_acd,
        record_code=wiring.record_code,
        record_conversation=lambda fc, legs, exts, queue: wiring.record_conversation(w, fc, legs, exts, queue),
        to_extension=wiring.to_extension, to_ring_group=wiring.to_ring_group,
        to_voicemail=lambda fc, box, language: wiring.to_voicemail(w, fc, box, language), finish=wiring.finish)
    return FlowCall(handler, w, ports)
