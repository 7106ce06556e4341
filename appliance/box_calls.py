"""Calls the box answers itself, and supervision.

A caller who reaches a call flow (IVR, queues), a voicemail box (nobody answered, `*97`, `*98`),
or an agent's feature code (`*45` log in or out, `*46` break, `*47` available) talks to the box,
not to a phone. This module keeps those calls by their Call-ID, builds each with the ports it
needs, hands a menu's caller over to the ring machine when a flow sends them to an extension,
files their records when they end, and joins a supervisor to an agent's conversation
(`*30`–`*32`, or the API) once the ACD allows it. The Now page's view of them is here too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.engine_pool import EnginePool, Worker
from appliance.errors import NotFound
from appliance.flowcalls import FlowCall, FlowCallWiring, answer_with_flows
from appliance.leg_owners import LegOwners
from appliance.logic import voicemail as vm
from appliance.logic.acd import ContactCenter
from appliance.logic.calls import Call
from appliance.logic.flows import FlowSet
from appliance.outbound_calls import CallbackCall, OriginateCall
from appliance.ports import FindExtension, Prompts
from appliance.voicemail_runtime import Outcome, VoicemailCall, VoicemailPorts
from appliance.voicemail_store import VoicemailStore

log = logging.getLogger("callbox.switchboard")

# Feature codes: *97 the caller's own voicemail, *98 any box (box number, then PIN).
VOICEMAIL_CODES = {"*97": True, "*98": False}
# Agents at their desk phones: *45 log in or out, *46 break, *47 available again.
AGENT_CODES = {"*45": "toggle", "*46": "break", "*47": "available"}


@dataclass(frozen=True)
class Voicemail:
    """The voicemail side of the box, as the calls that leave or hear messages use it."""

    store: VoicemailStore
    pin_guard: vm.PinGuard
    box: Callable[[str], vm.BoxConfig]  # the box of a number, made on first use
    changed: Callable[[str], None]  # a box's messages changed: MWI and the event stream
    deposited: Callable[[str, Any], None]  # a new message was filed: email and the event stream


class BoxCalls:
    """The calls the box answers itself, by SIP Call-ID (the box's own placed calls are kept here too)."""

    def __init__(self, *, pool: EnginePool, legs: LegOwners, center: ContactCenter, extension: FindExtension,
                 agent_action: Callable[[str, str, dict[str, Any]], Any], flows: Callable[[], FlowSet | None],
                 voicemail: Voicemail, prompt_file: Prompts, sounds: Mapping[str, Path],
                 take_over: Callable[..., None], forget_call: Callable[[Worker, str], None],
                 forget_placement: Callable[[str], None], write_record: Callable[[dict[str, Any], str | None], None],
                 call_over: Callable[[str], None], flow_wiring: FlowCallWiring):
        self.pool, self.legs, self.center, self.extension = pool, legs, center, extension
        self.agent_action, self.flows, self.voicemail = agent_action, flows, voicemail
        self.prompt_file, self.sounds = prompt_file, sounds
        self.take_over, self.forget_call, self.forget_placement = take_over, forget_call, forget_placement
        self.write_record, self.call_over = write_record, call_over
        self.flow_wiring = flow_wiring  # what each menu's call is built from
        self._calls: dict[str, Any] = {}  # SIP Call-ID -> the call the box answered or placed

    # --- the table --------------------------------------------------------------------------

    def get(self, call_id: str) -> Any:
        return self._calls.get(call_id)

    def add(self, call_id: str, call: Any) -> None:
        self._calls[call_id] = call

    def forget(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    def finish(self, call: Any, record: dict[str, Any]) -> None:
        """The call is over: forget it and its legs, file its record."""
        self._calls.pop(call.call_id, None)
        self.forget_placement(call.call_id)
        self.legs.release_all(call)
        self.call_over(call.call_id)
        self.write_record(record, getattr(call, "recording", None))

    def shown(self) -> list[dict[str, Any]]:
        """What the Now page shows of the calls in progress."""
        return [_shown(c) for c in list(self._calls.values()) if not getattr(c, "ended", False)]

    def language(self) -> str:
        """The box's language for callers (the call flows' own), English without flows."""
        return getattr(self.flows(), "language", None) or "en"

    # --- menus and queues -------------------------------------------------------------------

    def answer_with_flows(self, w: Worker, leg: str, call_id: str, dialled: str, caller: str, caller_name: str,
                          flows: FlowSet, *, caller_is_extension: bool, trunk: str | None) -> FlowCall:
        fc = answer_with_flows(self.flow_wiring, w, leg, call_id, dialled, caller, caller_name, flows,
                               caller_is_extension=caller_is_extension, trunk=trunk)
        self.legs.own(w.id, leg, fc)
        self._calls[call_id] = fc
        return fc

    def take_over_for_extension(self, fc: FlowCall, number: str) -> None:
        """A flow sent its caller to an extension (or a ring group, by its name): the ordinary call rings it."""
        self._calls.pop(fc.call_id, None)
        self.pool.send_soon(fc.w, "stop_play", {"leg": fc.inbound})
        self.take_over(fc.w, call_id=fc.call_id, inbound=fc.inbound, caller=fc.caller, caller_name=fc.caller_name,
                       number=number, direction=fc.direction, trunk=fc.trunk)

    def flow_to_voicemail(self, w: Worker, fc: FlowCall, box: str, language: str) -> None:
        self._calls.pop(fc.call_id, None)  # gone from here even if the box cannot take the caller
        self.to_voicemail(w, fc.inbound, fc.call_id, fc.caller, fc.caller_name, box, "unavailable",
                          answered=True, language=language)

    # --- voicemail --------------------------------------------------------------------------

    def _voicemail_ports(self, w: Worker) -> VoicemailPorts:
        """What a voicemail call in worker `w` may use of the box."""
        v, pool = self.voicemail, self.pool
        return VoicemailPorts(
            send=lambda name, fields: pool.send_soon(w, name, fields),
            command=lambda name, **fields: pool.command(w, name, **fields), prompt_file=self.prompt_file,
            store=v.store, pin_guard=v.pin_guard, changed=v.changed, deposited=v.deposited, finish=self.finish)

    def to_voicemail(self, w: Worker, leg: str, call_id: str, caller: str, caller_name: str, box: str,
                     reason: str, answered: bool, language: str | None = None) -> None:
        """The caller leaves a message in `box` (nobody answered, busy, or a flow sent them)."""
        config = self.voicemail.box(box)
        store = self.voicemail.store
        counts = store.counts(box)
        machine = vm.Deposit(call_id, config, caller, time.time, caller_name=caller_name, reason=reason,
                             recorded=store.greetings(box), message_count=counts.new + counts.old)
        vc = VoicemailCall(w, self._voicemail_ports(w), leg, call_id, caller, caller_name, machine,
                           answered=answered, callee=box, language=language or self.language())
        self._start(w, leg, call_id, vc)

    def voicemail_access(self, w: Worker, call: Call, own: bool) -> None:
        """*97 (one's own box) or *98 (any box): the mailbox menu, after the PIN."""
        ext = call.caller.get("number", "")
        if own:
            self.voicemail.box(ext)
        machine = vm.Access(call.call_id, self.voicemail.store.snapshot, self.voicemail.pin_guard, time.time,
                            box=ext if own else None)
        vc = VoicemailCall(w, self._voicemail_ports(w), call.inbound, call.call_id, ext, call.caller.get("name", ""),
                           machine, language=self.language(), outcome=Outcome.VOICEMAIL_ACCESS)
        self._start(w, call.inbound, call.call_id, vc)

    def _start(self, w: Worker, leg: str, call_id: str, vc: VoicemailCall) -> None:
        self.forget_call(w, leg)
        self.legs.own(w.id, leg, vc)
        self._calls[call_id] = vc
        asyncio.ensure_future(vc.begin())

    # --- agents at their desk phones ----------------------------------------------------------

    async def agent_code(self, w: Worker, call: Call, action: str) -> None:
        """A feature code: change the agent's status, confirm with a beep (two on failure), hang up."""
        ext = call.caller.get("number", "")
        try:
            if action == "toggle":
                status = str(self.center.agent(ext).status)
                action = "logout" if status != "LOGGED_OUT" else "login"
            self.agent_action(ext, action, {"reason": "phone"})
            ok = True
        except Exception as e:  # not an agent, or the change is not allowed now
            log.info("feature code from %s refused: %s", ext, e)
            ok = False
        self.forget_call(w, call.inbound)
        self.legs.release(w.id, call.inbound)
        await self.pool.send(w, "answer", leg=call.inbound)
        await self.pool.send(w, "play", leg=call.inbound, file=str(self.sounds["beep"]))
        await asyncio.sleep(0.6 if ok else 1.2)
        await self.pool.send(w, "hangup", leg=call.inbound)

    # --- supervisors ------------------------------------------------------------------------

    def call_of_agent(self, agent: str) -> FlowCall | None:
        return next((fc for fc in self._calls.values()
                     if isinstance(fc, FlowCall) and fc.agent == agent and fc.agent_leg), None)

    def worker_of_agent(self, agent: str) -> str | None:
        fc = self.call_of_agent(agent)
        return fc.w.id if fc is not None else None

    def supervise(self, supervisor: str, agent: str, mode: str, leg: str | None = None) -> FlowCall:
        """Permission from the ACD (the supervisor's roles), then the engine joins them."""
        ext = self.extension(supervisor) or {}
        roles = ["supervisor"] if ext.get("supervisor") else ["agent"]
        self.center.supervise(supervisor, agent, mode, roles)  # raises NotAllowed / Conflict
        fc = self.call_of_agent(agent)
        if fc is None:
            raise NotFound(f"agent {agent} is not on a call")
        fc.monitor(supervisor, mode, leg)
        return fc


def _shown(fc: Any) -> dict[str, Any]:
    """What the Now page shows of a call the box answered or placed itself."""
    agent = getattr(fc, "agent", None)
    queue = getattr(fc, "queue", None)
    if isinstance(fc, CallbackCall):
        state, caller, callee = "CALLBACK", queue, fc.number
    elif isinstance(fc, OriginateCall):
        state, caller, callee = "CLICK_TO_DIAL", fc.ext, fc.callee
    elif isinstance(fc, VoicemailCall):
        state, caller, callee = "VOICEMAIL", fc.caller, fc.callee
    else:
        state = "ANSWERED" if getattr(fc, "agent_answer", None) else "QUEUED" if queue else "IN_MENU"
        caller, callee = getattr(fc, "caller", ""), getattr(fc, "dialled", "")
    return {"call_id": fc.call_id, "worker": fc.w.id, "state": state, "caller": caller, "callee": callee,
            "start": getattr(fc, "start", None), "answer": getattr(fc, "agent_answer", None)
            or getattr(fc, "answer_time", None), "queue": queue, "agent": agent}
