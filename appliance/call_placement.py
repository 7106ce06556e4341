"""Placing calls in the engine workers: the SIP edge asks, for every request it forwards, which
worker it goes to.

All legs of one conversation go to one worker, where there is room for them: the INVITE's room
is held until the call shows up there (or the hold expires). A phone's second call goes where its
first is, so that an attended transfer can join them; a supervisor's call goes to the worker that
holds the agent's conversation. A request with someone else's Call-ID is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from appliance.engine_pool import EnginePool, Worker
from appliance.errors import SipParseError
from appliance.logic.numbers import SUPERVISE_CODE
from appliance.ports import FindRingGroup, Locations
from appliance.sip import message as sipmsg

log = logging.getLogger("callbox.switchboard")


@dataclass
class Placement:
    worker: str
    legs: int
    caller_ext: str


class Placements:
    """SIP Call-ID -> the worker its conversation went to, and the room promised there."""

    def __init__(self, pool: EnginePool, *, contacts: Locations, ring_group: FindRingGroup,
                 workers_in_call: Callable[[str], set[str]], worker_of_agent: Callable[[str], str | None]):
        self.pool = pool
        self.contacts, self.ring_group = contacts, ring_group    # ring_group: by its number
        self.workers_in_call = workers_in_call    # the workers where an extension has a call now
        self.worker_of_agent = worker_of_agent    # the worker holding an agent's conversation
        self._placed: dict[str, Placement] = {}

    def get(self, call_id: str) -> Placement | None:
        return self._placed.get(call_id)

    def forget(self, call_id: str) -> None:
        self._placed.pop(call_id, None)

    def in_worker(self, wid: str) -> bool:
        return any(p.worker == wid for p in self._placed.values())

    def drop_worker(self, wid: str) -> None:
        for cid in [c for c, p in self._placed.items() if p.worker == wid]:
            del self._placed[cid]

    def arrived(self, w: Worker, call_id: str) -> Placement | None:
        """A call showed up in `w`: where the edge placed it (None: it did not come through the edge)."""
        w.arrived(call_id)
        return self._placed.get(call_id)

    def forward_target(self, request: sipmsg.SipMessage, ext: str) -> tuple[str, int] | None:
        call_id = request.call_id or ""
        placed = self._placed.get(call_id)
        if placed is not None and placed.caller_ext != ext:
            # Someone else's Call-ID: it does not make this request theirs.
            log.warning("refusing %s from %s with the Call-ID of a call of %s", request.method, ext, placed.caller_ext)
            return None
        if placed is not None:
            w = self.pool.worker(placed.worker)
            return (w.bind, w.sip_port) if w and w.alive else None
        if request.method != "INVITE":
            return None
        self.pool.expire_reservations()
        code = SUPERVISE_CODE.match(dialled(request))
        if code:
            # A supervisor joins the agent's conversation: only in the worker that holds it.
            wid = self.worker_of_agent(code.group(2))
            w = self.pool.worker(wid) if wid else None
            if w is None or w.room < 1:
                return None
            self._place(w, call_id, 1, ext)
            return (w.bind, w.sip_port)
        legs = 1 + self._legs_wanted(request)
        # A phone's second call goes where its first is, so that an attended transfer can join them.
        busy_in = self.workers_in_call(ext)
        near = [w for w in self.pool.workers.values() if w.id in busy_in and w.room >= 2]
        best = near[0] if near else self.pool.with_most_room()
        if best is None or best.room < 2:
            log.warning("no engine worker has room for call %s", call_id)
            return None
        self._place(best, call_id, min(legs, best.room), ext)
        self.pool.grow_if_needed()
        return (best.bind, best.sip_port)

    def _place(self, w: Worker, call_id: str, legs: int, ext: str) -> None:
        w.reserve(call_id, legs)
        self._placed[call_id] = Placement(w.id, legs, ext)

    def _legs_wanted(self, request: sipmsg.SipMessage) -> int:
        try:
            number = sipmsg.parse_uri(request.uri or "").user or ""
        except SipParseError:
            return 1
        group = self.ring_group(number)
        if group is not None and group["strategy"] == "ringall":
            return max(1, sum(len(self.contacts(m)) for m in group["members"]))
        return max(1, len(self.contacts(number)))


def dialled(request: sipmsg.SipMessage) -> str:
    """The number a request's URI asks for ('' when it cannot be read)."""
    try:
        return sipmsg.parse_uri(request.uri or "").user or ""
    except SipParseError:
        return ""
