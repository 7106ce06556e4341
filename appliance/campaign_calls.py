"""One campaign attempt at run time: the `CampaignCall` table carried out in one engine worker.

The handler (`appliance.logic.handlers.campaign_call`) decides; a `CampaignCallRuntime` feeds it
what the worker reports of its legs (answered, hangup with its cause, a digit, a prompt's end)
and its timers, gives its media commands to a `MediaExecutor`, and carries out its other effects:
the attempt's result (`AttemptOver`) goes to the campaign's list and frees the agent kept for the
call; the call record (`WriteRecord`) is filed the way every call the box places is.

Two sets of ports: `CampaignSide` (the list and the ACD, given by the dialer when it builds the
call) and `Line` (one worker of the switchboard, given when the call is placed there).
`placer(sb)` is that placing, on the switchboard's public side.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from appliance.errors import EngineError, StateMachineError
from appliance.logic.campaigns.model import Mode
from appliance.logic.handlers.campaign_call import AttemptOver, CampaignCall
from appliance.logic.media import Dial, Play, WriteRecord
from appliance.media_executor import MediaExecutor


log = logging.getLogger("callbox.campaigns")


@dataclass(frozen=True)
class CampaignSide:
    """What an attempt tells the campaign's list and the ACD."""

    answered: Callable[[str, str], None]  # (campaign, entry): a person picked up
    attempt_over: Callable[[AttemptOver], None]  # the list learns the result (retry, done, never again)
    agent_talking: Callable[[str], None]  # the kept agent is connected to the callee
    agent_done: Callable[[str], None]  # the call is over for the kept agent (wrap-up, or free again)


@dataclass(frozen=True)
class Line:
    """One engine worker, as a campaign call placed in it uses it."""

    worker: str
    command: Callable[[str, dict[str, Any]], Awaitable[Any]]  # an engine command; EngineError when refused
    own_leg: Callable[[str, Any], None]  # the worker's events of this leg come to this call
    finish: Callable[[Any, dict[str, Any]], None]  # the call is over: forget it, file its record
    prompt_file: Callable[[str, str], str | None]  # (prompt or system sound, language) -> WAV; None if missing
    alive: Callable[[], bool] = lambda: True  # False once the worker that holds the legs died or restarted
    promise: Callable[[int], None] = lambda legs: None  # legs the call will still open there (0: none)


_STARTS = {Mode.PROGRESSIVE: CampaignCall.begin_progressive, Mode.PREVIEW: CampaignCall.begin_preview,
           Mode.MESSAGE: CampaignCall.begin_message}


class CampaignCallRuntime:
    """One attempt in one worker: the handler's decisions carried out."""

    def __init__(self, call: CampaignCall, mode: Mode, side: CampaignSide, *, queue: str = "",
                 language: str = "en"):
        self.call, self.mode, self.side = call, mode, side
        self.queue = queue or None
        self.language = language
        self.w: Any = None  # the worker, once placed (the Now page shows which)
        self.line: Line | None = None
        self.recording: str | None = None
        self.ended = False
        self._told_answered = self._told_talking = False
        self._legs_heard: set[str] = set()  # legs the worker reported on: it counts them itself
        self.media = MediaExecutor(self._send, prompt_file=lambda path: path, on_timer=self._timer,
                                   other=self._effect)

    # What the rest of the box reads of a call it placed (the Now page, recording on demand).
    call_id = property(lambda self: self.call.id)
    start = property(lambda self: self.call.start)
    answer_time = property(lambda self: self.call.answer_time)
    agent_answer = property(lambda self: self.call.talk_from)
    agent = property(lambda self: self.call.agent or None)
    caller = property(lambda self: self.call.campaign)
    dialled = property(lambda self: self.call.callee.number)
    inbound = property(lambda self: self.call.callee_leg)
    agent_leg = property(lambda self: self.call.agent_leg if self.call.talk_from is not None else None)

    @property
    def legs(self) -> int:
        """Legs the call needs in its worker: the callee's, and the agent's when one takes part."""
        return 1 if self.mode is Mode.MESSAGE else 2

    def attach(self, w: Any, line: Line) -> None:
        """Placed in worker `w`: its legs and records are that worker's."""
        self.w, self.line = w, line
        self.call.worker = line.worker

    def begin(self) -> None:
        self._run(lambda: _STARTS[self.mode](self.call))

    # --- what the worker reports -------------------------------------------------------------

    def on_event(self, kind: str, event: dict[str, Any]) -> None:
        leg, call = str(event.get("leg") or ""), self.call
        if leg not in self._legs_heard and leg in (call.callee_leg, call.agent_leg):
            self._legs_heard.add(leg)
            self._promise()
        if kind == "answered":
            self._run(lambda: call.leg_answered(leg))
        elif kind == "hangup":
            self._run(lambda: call.leg_hung_up(leg, int(event.get("cause") or 0)))
        elif kind == "dtmf":
            self._run(lambda: call.digit_pressed(leg, str(event.get("digit", ""))))
        elif kind == "play_done":
            self._run(lambda: call.play_done(leg))

    def _timer(self, name: str) -> None:
        self._run(lambda: self.call.timer_fired(name))

    def _run(self, step: Callable[[], list[Any]]) -> None:
        if self.ended:
            return  # what the worker still reports about an attempt that is over changes nothing
        try:
            commands = step()
        except StateMachineError as e:  # an engine report that does not fit the call now
            log.warning("%s", e)
            return
        self._tell_progress()
        for cmd in commands:
            self._carry_out(cmd)

    def _tell_progress(self) -> None:
        """The list learns that a person picked up, the ACD that its agent talks, once each, before the end."""
        call = self.call
        if call.answer_time is not None and not self._told_answered:
            self._told_answered = True
            self.side.answered(call.campaign, call.entry)
        if call.talk_from is not None and call.agent and not self._told_talking:
            self._told_talking = True
            self.side.agent_talking(call.agent)

    def _carry_out(self, cmd: Any) -> None:
        if isinstance(cmd, Play):
            path = self.line.prompt_file(cmd.prompt, self.language) if self.line else None
            if path is None:
                # A missing prompt (the switchboard raises its alarm) counts as heard: the call goes on.
                if not cmd.loop:
                    asyncio.get_running_loop().call_soon(self.on_event, "play_done", {"leg": cmd.leg})
                return
            cmd = replace(cmd, prompt=path)
        elif isinstance(cmd, Dial) and self.line is not None:
            self.line.own_leg(cmd.leg, self)
        self.media.carry_out(cmd)

    def _send(self, name: str, fields: dict[str, Any]) -> None:
        asyncio.ensure_future(self._command(name, fields))

    async def _command(self, name: str, fields: dict[str, Any]) -> None:
        if self.line is None:
            return
        try:
            await self.line.command(name, fields)
        except EngineError as e:
            log.info("campaign call %s: %s %s refused: %s", self.call.id, name, fields.get("leg", ""), e)
            if name == "call":  # the worker could not place the leg (full, gone): as if it failed at once
                self.on_event("hangup", {"leg": fields["leg"], "cause": 503})

    def _effect(self, effect: Any) -> None:
        if isinstance(effect, AttemptOver):
            self.side.attempt_over(effect)
            if self.call.agent:
                self.side.agent_done(self.call.agent)
        elif isinstance(effect, WriteRecord):
            self.ended = True
            self.media.cancel_all()
            self._promise()
            if self.line is not None:
                self.line.finish(self, effect.record)
        else:
            log.info("campaign call %s: %s is not carried out here", self.call.id, type(effect).__name__)

    def _promise(self) -> None:
        """Room the call still needs in its worker: its legs the worker has not reported on yet (the
        agent's, before the callee answers); none once it is over."""
        if self.line is not None:
            self.line.promise(0 if self.ended else max(0, self.legs - len(self._legs_heard)))

    def worker_lost(self) -> None:
        """The worker died with the legs in it: the callee's leg first (the result follows from where
        the call was), then the agent's."""
        for leg in (self.call.callee_leg, self.call.agent_leg):
            self.on_event("hangup", {"leg": leg, "cause": 503})


class PlacesCalls(Protocol):
    """What placing a campaign call needs of the switchboard: its sounds, its prompts, `place`."""

    sounds: dict[str, Any]

    def prompt_file(self, name: str, language: str) -> str | None: ...
    def place(self, call_id: str, build: Callable[[Any, Any], Any], legs: int = 2) -> Any: ...


def placer(sb: PlacesCalls) -> Callable[[CampaignCallRuntime], bool]:
    """The dialer's `place` port: the switchboard's way of running a call the box places (the worker
    with room for its legs; False when the box is full). The worker holds room for the legs the call
    has not opened yet (the agent's, until the callee answers), so no other call takes it meanwhile."""
    def place(run: CampaignCallRuntime) -> bool:
        call_id = run.call_id

        def build(w: Any, ports: Any) -> CampaignCallRuntime:
            client = w.client

            async def command(name: str, fields: dict[str, Any]) -> Any:
                if w.client is None or not w.alive:
                    raise EngineError(f"engine worker {w.id} is not running")
                return await w.client.command(name, **fields)

            def prompt_file(name: str, language: str) -> str | None:
                sound = sb.sounds.get(name)  # ringback and music on hold are the box's own sounds
                return str(sound) if sound is not None else sb.prompt_file(name, language)

            def promise(legs: int) -> None:
                if legs:
                    w.reserve(call_id, legs)
                else:
                    w.arrived(call_id)

            w.reserve(call_id, run.legs)
            run.attach(w, Line(worker=w.id, command=command, own_leg=ports.own_leg, finish=ports.finish,
                               prompt_file=prompt_file, alive=lambda: w.alive and w.client is client,
                               promise=promise))
            return run

        return sb.place(call_id, build, run.legs) is not None

    return place
