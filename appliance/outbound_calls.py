"""Calls the box places itself: click-to-dial and the callback that kept a caller's place.

`OriginateCall` rings the extension's phone first, then dials the number it asked for.
`CallbackCall` rings an agent first, then the customer who asked to be called back
(`appliance.logic.acd` decides who and when; this carries it out in one engine worker).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from appliance.logic.acd import commands as acd

if TYPE_CHECKING:
    from appliance.switchboard import Switchboard, Worker

log = logging.getLogger("callbox.outbound_calls")


class OriginateCall:
    """Click-to-dial: the box rings the extension's phone first, then dials the number it asked for."""

    def __init__(self, sb: "Switchboard", w: "Worker", call_id: str, ext: str, target: dict[str, Any]):
        self.sb, self.w, self.call_id, self.ext, self.target = sb, w, call_id, ext, target
        self.start = time.time()
        self.answer_time: float | None = None
        self.own_leg = f"{call_id}.o"
        self.far_leg = f"{call_id}.f"
        self.recording: str | None = None
        self.ended = False

    def send(self, cmd: str, **fields: Any) -> None:
        asyncio.ensure_future(self.sb.send(self.w, cmd, **fields))

    def begin(self, contact: str) -> None:
        self.sb.own_leg(self.w, self.own_leg, self)
        self.send("call", leg=self.own_leg, uri=contact, timeout_s=30,
                  caller_id={"number": self.target["number"], "name": "click-to-dial"})

    def on_event(self, kind: str, event: dict[str, Any]) -> None:
        leg = event.get("leg")
        if leg == self.own_leg and kind == "answered":
            self.sb.own_leg(self.w, self.far_leg, self)
            self.send("call", leg=self.far_leg, uri=self.target["uri"], timeout_s=60,
                      caller_id={"number": self.ext, "name": ""}, **({"auth": self.target["auth"]}
                                                                    if self.target.get("auth") else {}))
        elif leg == self.far_leg and kind == "answered":
            self.answer_time = time.time()
            self.send("bridge", a=self.own_leg, b=self.far_leg)
        elif kind == "hangup":
            other = self.far_leg if leg == self.own_leg else self.own_leg
            self.send("hangup", leg=other)
            self._finish(by="caller" if leg == self.own_leg else "callee")

    def _finish(self, by: str) -> None:
        if self.ended:
            return
        self.ended = True
        end = time.time()
        self.sb.finish_flow_call(self, {
            "call_id": self.call_id, "start": self.start, "answer": self.answer_time, "end": end,
            "duration_s": round(end - self.start, 3),
            "talk_s": round(end - self.answer_time, 3) if self.answer_time else 0.0,
            "disposition": "ANSWERED" if self.answer_time else "NO ANSWER",
            "direction": "outbound" if self.target.get("trunk") else "internal",
            "caller": self.ext, "callee": self.target["number"], "answered_by": self.target["number"]
            if self.answer_time else None, "hangup_by": by, "trunk": self.target.get("trunk"),
            "worker": self.w.id, "outcome": "CLICK_TO_DIAL"})


class CallbackCall:
    """The box calls back a caller who kept their place: the agent first, then the customer."""

    def __init__(self, sb: "Switchboard", w: "Worker", callback_id: str, queue: str, number: str):
        self.sb, self.w, self.call_id, self.queue, self.number = sb, w, callback_id, queue, number
        self.start = time.time()
        self.agent: str | None = None
        self.agent_leg: str | None = None
        self.customer_leg: str | None = None
        self.ringing: dict[str, str] = {}
        self.answer_time: float | None = None
        self.recording: str | None = None
        self.outcome: str | None = None
        self.ended = False
        self._seq = 0

    def send(self, cmd: str, **fields: Any) -> None:
        asyncio.ensure_future(self.sb.send(self.w, cmd, **fields))

    def _leg(self, kind: str) -> str:
        self._seq += 1
        leg = f"cb{id(self) % 100000}.{kind}{self._seq}"
        self.sb.own_leg(self.w, leg, self)
        return leg

    def call_agent(self, cmd: acd.CallAgentForCallback) -> None:
        contacts = self.sb.core.registrar.lookup(cmd.agent_id)
        if not contacts or self.w.room < 2:
            asyncio.get_running_loop().call_soon(lambda: self.sb.run_acd(self.sb.center.offer_rejected(cmd.agent_id)))
            return
        leg = self._leg("a")
        self.ringing[leg] = cmd.agent_id
        self.send("call", leg=leg, uri=contacts[0].contact, timeout_s=cmd.timeout_s,
                  caller_id={"number": cmd.number, "name": f"callback {cmd.queue}: {cmd.number}"})

    def dial_customer(self, cmd: acd.DialCustomer) -> None:
        """The agent is on the line: now the customer, at an extension or through a trunk."""
        leg = self._leg("c")
        self.customer_leg = leg
        bindings = self.sb.core.registrar.lookup(cmd.number)
        if bindings:
            self.send("call", leg=leg, uri=bindings[0].contact, timeout_s=40,
                      caller_id={"number": cmd.agent_id, "name": self.queue})
            return
        try:
            decision, attempts = self.sb.core.trunks.plan_callback(cmd.number)
        except Exception:  # a number the numbering plan cannot read
            decision, attempts = None, []
        if decision is not None and not decision.allowed:
            log.warning("callback %s to %s refused: %s (callbacks.class_of_service)", self.call_id, cmd.number,
                        decision.verdict)
            attempts = []
        if not attempts:
            asyncio.get_running_loop().call_soon(
                lambda: self.sb.run_acd(self.sb.center.customer_unreachable(self.call_id, "no route")))
            self.customer_leg = None
            return
        a = attempts[0]
        self.send("call", leg=leg, uri=a["uri"], timeout_s=40, caller_id={"number": cmd.agent_id, "name": ""},
                  **({"auth": a["auth"]} if a.get("auth") else {}))

    def stop_ringing(self, agent_id: str, keep: str | None = None) -> None:
        for leg, agent in list(self.ringing.items()):
            if agent == agent_id:
                del self.ringing[leg]
                self.send("hangup", leg=leg)

    def bridge_agent(self, agent_id: str, leg: str | None) -> None:
        if self.agent_leg and self.customer_leg:
            self.answer_time = time.time()
            self.send("bridge", a=self.customer_leg, b=self.agent_leg)

    def on_event(self, kind: str, event: dict[str, Any]) -> None:
        leg = event.get("leg")
        if leg in self.ringing:
            agent = self.ringing.pop(leg)
            if kind == "answered":
                self.agent, self.agent_leg = agent, leg
                self.sb.run_acd(self.sb.center.offer_answered(self.call_id, agent))
            elif kind == "hangup":
                cause = int(event.get("cause") or 0)
                self.sb.run_acd(self.sb.center.offer_timeout(agent) if cause == 408
                                else self.sb.center.offer_rejected(agent))
                self._forget_if_idle()
            else:
                self.ringing[leg] = agent
        elif leg == self.customer_leg:
            if kind == "answered":
                self.sb.run_acd(self.sb.center.customer_answered(self.call_id))
            elif kind == "hangup":
                self.customer_leg = None
                if self.answer_time is None:
                    self.sb.run_acd(self.sb.center.customer_unreachable(self.call_id, str(event.get("cause"))))
                    if self.agent_leg:
                        self.send("hangup", leg=self.agent_leg)
                    self.agent_leg = None
                    self._forget_if_idle()
                else:
                    self._end()
        elif leg == self.agent_leg and kind == "hangup":
            self.agent_leg = None
            if self.answer_time is not None:
                self._end()
            elif self.customer_leg:
                self.send("hangup", leg=self.customer_leg)

    def _end(self) -> None:
        for leg in (self.agent_leg, self.customer_leg):
            if leg:
                self.send("hangup", leg=leg)
        self.sb.run_acd(self.sb.center.call_ended(self.call_id))
        self.outcome = "CALLBACK_COMPLETED"
        self._finish()

    def _forget_if_idle(self) -> None:
        """Between attempts the callback waits in the ACD, not in a worker."""
        if not self.ringing and not self.agent_leg and not self.customer_leg:
            self.sb.flow_calls.pop(self.call_id, None)

    def _finish(self, hangup_caller: bool = False, by: str = "box") -> None:
        if self.ended:
            return
        self.ended = True
        end = time.time()
        self.sb.finish_flow_call(self, {
            "call_id": self.call_id, "start": self.start, "answer": self.answer_time, "end": end,
            "duration_s": round(end - self.start, 3),
            "talk_s": round(end - self.answer_time, 3) if self.answer_time else 0.0,
            "disposition": "ANSWERED" if self.answer_time else "NO ANSWER", "direction": "outbound",
            "caller": self.agent or "", "callee": self.number, "answered_by": self.agent, "hangup_by": by,
            "queue": self.queue, "agent": self.agent, "outcome": self.outcome, "worker": self.w.id,
            "trunk": None})
