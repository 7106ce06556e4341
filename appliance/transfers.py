"""Transfers: where a REFER points. Another call of the same worker (attended: the two calls are
joined), or an extension (blind: its phones ring). Only one's own consultation call may be joined."""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from appliance.errors import SipParseError
from appliance.logic.calls import Call, Command, Target
from appliance.sip import message as sipmsg

log = logging.getLogger("callbox.switchboard")


class Transfers:
    def __init__(self, *, calls_in: Callable[[str], Iterable[Call]], extension_contacts: Callable[[str], list[str]],
                 run: Callable[[Any, Call, list[Command]], None], own_leg: Callable[[str, str, Any], None]):
        self.calls_in = calls_in                      # the calls of one worker
        self.extension_contacts = extension_contacts  # an extension's registered contacts ([] when not one)
        self.run, self.own_leg = run, own_leg

    def resolve(self, w: Any, call: Call, target: str) -> None:
        """Answer the call table's ResolveTransfer: join the consultation call, or ring the extension."""
        found = refer_target(target)
        if found is None:
            self.run(w, call, call.transfer_to([]))
            return
        number, consult_id = found
        if consult_id:
            self._attended(w, call, consult_id)
            return
        self.run(w, call, call.transfer_to([Target(c, number) for c in self.extension_contacts(number)]))

    def _attended(self, w: Any, call: Call, consult_id: str) -> None:
        other = next((c for c in self.calls_in(w.id) if c.call_id == consult_id and c is not call), None)
        transferor = party(call, call.transferred_by or "")
        if other is not None and (not transferor or transferor not in parties(other)):
            # Only one's own consultation call may be joined: not a stranger's, not a trunk's.
            log.warning("attended transfer by %s refused: call %s is not theirs", transferor or "?", consult_id)
            other = None
        handed = other.hand_over() if other else None
        if other is None or handed is None:
            log.warning("attended transfer to %s: no such call in %s", consult_id, w.id)
            self.run(w, call, call.transfer_to([]))
            return
        leg, out = handed
        self.run(w, other, out)
        self.own_leg(w.id, leg, call)
        target_ext = other.legs[leg].target.extension
        self.run(w, call, call.adopt(leg, target_ext))


def party(call: Call, leg: str) -> str:
    """Who is on `leg` of `call`: an extension number, or 'trunk:NAME' for an outside caller."""
    if leg == call.inbound:
        return f"trunk:{call.trunk}" if call.trunk else call.caller.get("number", "")
    found = call.legs.get(leg)
    if found is None or found.target is None:
        return ""
    return found.target.extension or (f"trunk:{found.target.trunk}" if found.target.trunk else "")


def parties(call: Call) -> set[str]:
    """Everyone talking in `call` (the caller and whoever answered)."""
    return {p for p in [party(call, call.inbound)] + [party(call, leg) for leg, x in call.legs.items()
                                                     if x.state == "answered"] if p}


def refer_target(target: str) -> tuple[str, str] | None:
    """What a REFER's Refer-To asks for: (the number it names, the Call-ID of the consultation call
    to join, "" for a blind transfer); None when it is not a SIP URI."""
    try:
        uri = sipmsg.parse_name_addr(target).uri if "<" in target else sipmsg.parse_uri(target)
    except SipParseError:
        return None
    replaces = uri.headers.get("Replaces") or uri.headers.get("replaces") or ""
    return uri.user or "", urllib.parse.unquote(replaces).split(";", 1)[0]
