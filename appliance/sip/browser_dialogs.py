"""The calls between browser phones and engine workers that the edge carries, so that a browser
that goes away without a BYE (a closed tab, a crashed browser, a lost network) does not leave
its caller listening to silence: the edge says BYE to the worker in the browser's name. Pure.

Every message of such a call passes through the edge (browser_routes.py records it in the
dialog), so the edge learns what a BYE needs as the call is set up: the worker's Contact (from
its INVITE, or from its 200), both sides' From and To with their tags, and the highest CSeq the
browser used. A dialog is forgotten at its BYE, at a failed set-up, and when its BYE is sent.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from appliance.errors import SipParseError
from appliance.sip.message import SipMessage, new_branch, parse_name_addr
from appliance.sip.source import Source

__all__ = ["BrowserDialog", "BrowserDialogs", "MAX_DIALOGS", "bye_for", "bye_to_browser"]

MAX_DIALOGS = 4096  # far more calls than a box carries; the oldest forgotten first


@dataclass
class BrowserDialog:
    call_id: str
    connection: Source      # the browser's WebSocket
    extension: str
    browser_side: str       # the browser's From/To value, with its tag once known
    worker_side: str        # the worker's
    worker_contact: str     # where the worker takes requests inside the dialog
    browser_cseq: int       # the highest CSeq the browser used
    browser_contact: str = ""
    worker_cseq: int = 0    # the highest CSeq the worker used
    confirmed: bool = False


class BrowserDialogs:
    def __init__(self, size: int = MAX_DIALOGS):
        self.size = size
        self._items: OrderedDict[str, BrowserDialog] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def browser_invites(self, req: SipMessage, connection: Source, extension: str) -> None:
        """A browser's INVITE (no To tag) on its way to a worker."""
        self._put(BrowserDialog(req.call_id or "", connection, extension, req.get("From") or "",
                                req.get("To") or "", "", _cseq(req), browser_contact=_contact(req)))

    def worker_invites(self, req: SipMessage, connection: Source, extension: str) -> None:
        """A worker's INVITE (no To tag) on its way to a browser, at the browser's Contact."""
        contact = _contact(req)
        if contact:
            self._put(BrowserDialog(req.call_id or "", connection, extension, req.get("To") or "",
                                    req.get("From") or "", contact, 0, browser_contact=req.uri or "",
                                    worker_cseq=_cseq(req)))

    def is_of(self, call_id: str, connection: Source) -> bool:
        """Whether the call is one of this browser connection's (a browser ends only its own)."""
        d = self._items.get(call_id)
        return d is not None and d.connection == connection

    def browser_sent(self, msg: SipMessage, connection: Source) -> None:
        """Anything from a browser: its CSeq, and its answer to the worker's INVITE."""
        d = self._items.get(msg.call_id or "")
        if d is None or d.connection != connection:
            return
        if msg.is_request:
            d.browser_cseq = max(d.browser_cseq, _cseq(msg))
            if msg.method == "BYE":
                self._items.pop(d.call_id, None)
        elif _is_invite(msg):
            self._final(d, msg, browser_answered=True)

    def worker_sent(self, msg: SipMessage) -> None:
        """Anything from a worker to a browser: its answer to the browser's INVITE, or its BYE."""
        d = self._items.get(msg.call_id or "")
        if d is None:
            return
        if msg.is_request:
            d.worker_cseq = max(d.worker_cseq, _cseq(msg))
            if msg.method == "BYE":
                self._items.pop(d.call_id, None)
        elif _is_invite(msg):
            self._final(d, msg, browser_answered=False)

    def _final(self, d: BrowserDialog, resp: SipMessage, browser_answered: bool) -> None:
        if resp.status < 200 or d.confirmed:
            return
        if resp.status >= 300:
            self._items.pop(d.call_id, None)
            return
        d.confirmed = True
        if browser_answered:
            d.browser_side = resp.get("To") or d.browser_side
        else:
            d.worker_side = resp.get("To") or d.worker_side
            d.worker_contact = _contact(resp) or d.worker_contact

    def gone(self, connection: Source) -> list[BrowserDialog]:
        """A browser connection ended: its answered calls, forgotten here (each needs its BYE)."""
        out = [d for d in self._items.values() if d.connection == connection]
        for d in out:
            self._items.pop(d.call_id, None)
        return [d for d in out if d.confirmed and d.worker_contact]

    def take(self, call_id: str) -> BrowserDialog | None:
        """One answered call, forgotten here (the browser's media ended: it needs its BYE)."""
        d = self._items.get(call_id)
        if d is None or not d.confirmed or not d.worker_contact:
            return None
        return self._items.pop(call_id)

    def _put(self, d: BrowserDialog) -> None:
        if not d.call_id:
            return
        self._items.pop(d.call_id, None)
        self._items[d.call_id] = d
        while len(self._items) > self.size:
            self._items.popitem(last=False)


def bye_for(d: BrowserDialog, via_host: str) -> SipMessage:
    """The BYE a browser would have sent (the caller signs it and sends it to `worker_contact`)."""
    return SipMessage.request("BYE", d.worker_contact, [
        ("Via", f"SIP/2.0/UDP {via_host};branch={new_branch()};rport"), ("Max-Forwards", "70"),
        ("From", d.browser_side), ("To", d.worker_side), ("Call-ID", d.call_id),
        ("CSeq", f"{d.browser_cseq + 1} BYE"), ("Reason", 'SIP;cause=200;text="browser phone gone"'),
        ("Content-Length", "0")])


def bye_to_browser(d: BrowserDialog, sent_by: str) -> SipMessage:
    """The BYE the worker would have sent the browser (its media is gone: the bridge stopped)."""
    return SipMessage.request("BYE", d.browser_contact, [
        ("Via", f"SIP/2.0/WSS {sent_by};branch={new_branch()}"), ("Max-Forwards", "70"),
        ("From", d.worker_side), ("To", d.browser_side), ("Call-ID", d.call_id),
        ("CSeq", f"{d.worker_cseq + 1} BYE"), ("Reason", 'SIP;cause=200;text="media ended"'),
        ("Content-Length", "0")])


def _cseq(msg: SipMessage) -> int:
    try:
        return msg.cseq[0]
    except (SipParseError, ValueError):
        return 0


def _is_invite(msg: SipMessage) -> bool:
    try:
        return msg.cseq[1] == "INVITE"
    except (SipParseError, ValueError):
        return False


def _contact(msg: SipMessage) -> str:
    try:
        value = msg.get("Contact")
        uri = parse_name_addr(value).uri if value else None
    except (SipParseError, ValueError):
        return ""
    return str(uri) if uri is not None else ""
