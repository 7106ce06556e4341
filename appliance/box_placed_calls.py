"""Calls the box places itself: click-to-dial, the callback that kept a caller's place, and any other
call the box dials out. Each runs in the engine worker with room for it, built with that worker's
ports (`OutboundPorts`), and is kept with the box's own calls by its Call-ID.

`place(call_id, build)` is the one way in: a new kind of box-placed call needs only its `build`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from appliance.engine_pool import EnginePool, Worker
from appliance.errors import Conflict, NotAllowed, NotFound, ValidationError
from appliance.leg_owners import LegOwners
from appliance.logic.acd import commands as acd
from appliance.logic.dial_targets import Unreachable, where_to_ring
from appliance.outbound_calls import CallbackCall, CallbackDesk, OriginateCall, OutboundPorts
from appliance.ports import Dialer, FindExtension, Locations

log = logging.getLogger("callbox.switchboard")

PlacedCall = TypeVar("PlacedCall")


class BoxPlacedCalls:
    def __init__(self, *, pool: EnginePool, legs: LegOwners, keep: Callable[[str, Any], None],
                 find: Callable[[str], Any], forget: Callable[[str], None],
                 finish: Callable[[Any, dict[str, Any]], None],
                 contacts: Locations, extension: FindExtension, dialer: Dialer, desk: CallbackDesk,
                 run_acd: Callable[[list[acd.Command]], None]):
        self.pool, self.legs = pool, legs
        self.keep, self.find, self.forget, self.finish = keep, find, forget, finish  # the box's calls by Call-ID
        self.contacts, self.extension, self.dialer = contacts, extension, dialer
        self.desk, self.run_acd = desk, run_acd

    def place(self, call_id: str, build: Callable[[Worker, OutboundPorts], PlacedCall],
              legs: int = 2) -> PlacedCall | None:
        """Run a call the box places in the worker with room for `legs` legs, built with that worker's
        ports and kept by its Call-ID; None when no worker has the room (the box is full)."""
        w = self.pool.with_room(legs)
        if w is None:
            return None
        call = build(w, self.ports(w))
        self.keep(call_id, call)
        return call

    def ports(self, w: Worker) -> OutboundPorts:
        """What a call the box placed in worker `w` may use of the box."""
        return OutboundPorts(
            send=lambda name, fields: self.pool.send_soon(w, name, fields),
            own_leg=lambda leg, owner: self.legs.own(w.id, leg, owner), finish=self.finish,
            forget=self.forget, desk=self.desk, run_acd=self.run_acd, phone_of=self._phone_of,
            plan_callback=self.dialer.plan_callback, room=lambda: w.room)

    def _phone_of(self, extension: str) -> str | None:
        """The extension's registered phone the box calls (its first contact), None when none is."""
        contacts = self.contacts(extension)
        return contacts[0] if contacts else None

    # --- click-to-dial ------------------------------------------------------------------------

    def originate(self, ext: str, number: str) -> dict[str, Any]:
        """Click-to-dial: ring `ext`'s phone, then dial `number` (class of service applies)."""
        contacts = self.contacts(ext)
        if self.extension(ext) is None or not contacts:
            raise NotFound(f"extension {ext} has no registered phone")
        reach = where_to_ring(number, is_extension=lambda n: self.extension(n) is not None,
                              phone_of=self._phone_of, plan=lambda n: self.dialer.plan(ext, n))
        if reach.why_not is Unreachable.NO_PHONE:
            raise Conflict(f"extension {number} has no registered phone")
        if reach.why_not is Unreachable.UNREADABLE:
            raise ValidationError(f"to: {number!r} is not a number the box can dial")
        if reach.why_not is Unreachable.REFUSED:
            raise NotAllowed(f"{ext} may not call {number}: {reach.verdict}")
        if reach.why_not is Unreachable.NO_TRUNK:
            raise Conflict("no trunk can take the call now")
        target = reach.first
        call_id = f"ctd-{int(time.time() * 1000)}-{ext}"
        oc = self.place(call_id, lambda w, ports: OriginateCall(w, call_id, ext, target, ports))
        if oc is None:
            raise Conflict("the box is full: try again in a moment")
        oc.begin(contacts[0])
        return {"call_id": call_id}

    # --- callbacks ----------------------------------------------------------------------------

    def call_agent_for_callback(self, cmd: acd.CallAgentForCallback) -> None:
        """Start (or retry) a callback in the worker with the most room."""
        cb = self.find(cmd.callback_id)
        if not isinstance(cb, CallbackCall):
            cb = self.place(cmd.callback_id,
                            lambda w, ports: CallbackCall(w, cmd.callback_id, cmd.queue, cmd.number, ports))
            if cb is None:
                asyncio.get_running_loop().call_soon(lambda: self.run_acd(self.desk.offer_rejected(cmd.agent_id)))
                return
        cb.call_agent(cmd)

    def dial_customer(self, cmd: acd.DialCustomer) -> None:
        cb = self.find(cmd.callback_id)
        if isinstance(cb, CallbackCall):
            cb.dial_customer(cmd)
