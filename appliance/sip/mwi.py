"""Message waiting (RFC 3842): phones subscribe to `message-summary`, the box notifies.

The edge hands this module the SUBSCRIBEs of authenticated phones; it keeps
the subscriptions (a dialog each), answers them, and builds the NOTIFYs the
edge sends when a voicemail box changes. Phones that never subscribe can get
unsolicited NOTIFYs at their registered contacts when their box asks for it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Callable

from appliance.logic.voicemail import message_summary
from appliance.sip import message as sipmsg

DEFAULT_EXPIRES = 3600
MAX_EXPIRES = 7200


@dataclass
class Subscription:
    aor: str
    call_id: str
    their_tag: str
    our_tag: str
    their_uri: str        # the subscriber (From of the SUBSCRIBE)
    our_uri: str          # the resource (To of the SUBSCRIBE)
    contact: str          # where NOTIFYs go
    target: tuple[str, int]
    expires_at: float
    cseq: int = 0


class MwiService:
    def __init__(self, clock: Callable[[], float], counts: Callable[[str], tuple[int, int]], realm_host: str):
        self.clock = clock
        self.counts = counts
        self.host = realm_host
        self.subs: dict[str, Subscription] = {}   # Call-ID -> subscription

    def subscribe(self, req: sipmsg.SipMessage, aor: str, target: tuple[str, int],
                  local: str) -> tuple[sipmsg.SipMessage, bytes | None]:
        """The 200/489 answer to a SUBSCRIBE, and the NOTIFY to send right after (None when refused)."""
        event = (req.get("Event") or "").split(";")[0].strip().lower()
        if event != "message-summary":
            return sipmsg.make_response(req, 489, "Bad Event", headers=[("Allow-Events", "message-summary")]), None
        try:
            expires = int(req.get("Expires") or DEFAULT_EXPIRES)
        except ValueError:
            expires = DEFAULT_EXPIRES
        expires = max(0, min(expires, MAX_EXPIRES))
        existing = self.subs.get(req.call_id or "")
        frm = sipmsg.parse_name_addr(req.get("From") or "")
        to = sipmsg.parse_name_addr(req.get("To") or "")
        contacts = req.get_all("Contact")
        first = sipmsg.parse_name_addr(contacts[0]).uri if contacts else frm.uri
        if frm.uri is None or to.uri is None or first is None:  # "*" names nobody to notify
            raise sipmsg.SipParseError("From, To and Contact must name an address")
        contact = str(first)
        if existing is None:
            existing = Subscription(aor, req.call_id or "", frm.tag or "", to.tag or secrets.token_hex(6),
                                    str(frm.uri), str(to.uri), contact, target, 0.0)
            self.subs[existing.call_id] = existing
        existing.expires_at = self.clock() + expires
        existing.target = target
        resp = sipmsg.make_response(req, 200, to_tag=existing.our_tag,
                                    headers=[("Expires", str(expires)), ("Contact", f"<sip:{local}>")])
        notify = self._notify(existing, local, terminated=expires == 0)
        if expires == 0:
            del self.subs[existing.call_id]
        return resp, notify

    def changed(self, aor: str, local: str) -> list[tuple[bytes, tuple[str, int]]]:
        """NOTIFYs for every live subscription of this box's owner."""
        now = self.clock()
        out = []
        for cid, sub in list(self.subs.items()):
            if sub.expires_at <= now:
                del self.subs[cid]
            elif sub.aor == aor:
                out.append((self._notify(sub, local), sub.target))
        return out

    def unsolicited(self, aor: str, contact: str, target: tuple[str, int], local: str) -> bytes:
        """An out-of-dialog NOTIFY for a phone that does not subscribe (many desk phones' default)."""
        new, old = self.counts(aor)
        body = summary(new, old, f"sip:{aor}@{self.host}")
        msg = sipmsg.SipMessage.request("NOTIFY", contact, [
            ("Via", f"SIP/2.0/UDP {local};branch={sipmsg.new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<sip:{aor}@{self.host}>;tag={sipmsg.new_tag()}"),
            ("To", f"<sip:{aor}@{self.host}>"),
            ("Call-ID", sipmsg.new_call_id()),
            ("CSeq", "1 NOTIFY"),
            ("Event", "message-summary"),
            ("Subscription-State", "terminated;reason=noresource"),
            ("Content-Type", "application/simple-message-summary"),
        ], body)
        return msg.to_bytes()

    def _notify(self, sub: Subscription, local: str, terminated: bool = False) -> bytes:
        new, old = self.counts(sub.aor)
        sub.cseq += 1
        left = max(0, int(sub.expires_at - self.clock()))
        state = "terminated;reason=timeout" if terminated or left == 0 else f"active;expires={left}"
        msg = sipmsg.SipMessage.request("NOTIFY", sub.contact, [
            ("Via", f"SIP/2.0/UDP {local};branch={sipmsg.new_branch()};rport"),
            ("Max-Forwards", "70"),
            ("From", f"<{sub.our_uri}>;tag={sub.our_tag}"),
            ("To", f"<{sub.their_uri}>;tag={sub.their_tag}"),
            ("Call-ID", sub.call_id),
            ("CSeq", f"{sub.cseq} NOTIFY"),
            ("Contact", f"<sip:{local}>"),
            ("Event", "message-summary"),
            ("Subscription-State", state),
            ("Content-Type", "application/simple-message-summary"),
        ], summary(new, old, sub.our_uri))
        return msg.to_bytes()


def summary(new: int, old: int, account: str) -> bytes:
    """RFC 3842 §5.2 body, as the voicemail logic words it."""
    return message_summary(new, old, account)[1].encode()
