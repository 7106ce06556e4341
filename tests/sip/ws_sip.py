"""SIP as a browser phone speaks it over the box's secure WebSocket (RFC 7118, RFC 3261), for the
stand-in browsers of the tests (tests/office/browser_agent.py) and of the bench
(bench/standin_browser.py): the requests and replies JsSIP writes, each the text of one WebSocket
message, and the box's messages read with the box's own parser (appliance.sip.parser).

    d = Dialog.calling("1010", "1001", box)
    send(request("INVITE", d, contact, sdp))
    final = read(text)                  # a SipMessage (None for a keep-alive)
    if final_reply(d.call_id)(final): d.answered(final); send(request("ACK", d, contact))
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Callable, Iterable

from appliance.sip.message import SipMessage
from appliance.sip.parser import parse

Wanted = Callable[[SipMessage], bool]


def read(text: str | bytes) -> SipMessage | None:
    """One message from the box; None for a keep-alive (blank lines)."""
    data = text.encode() if isinstance(text, str) else bytes(text)
    return parse(data) if data.strip() else None


def first_line(msg: SipMessage) -> str:
    return f"{msg.method} {msg.uri} SIP/2.0" if msg.is_request else f"SIP/2.0 {msg.status} {msg.reason}"


def new_contact() -> str:
    """A Contact as JsSIP makes one: a random user at a random name under .invalid, over ws."""
    return f"<sip:{secrets.token_hex(4)}@{secrets.token_hex(6)}.invalid;transport=ws>"


def uri_of(value: str) -> str:
    """The URI of a name-addr (`"Anna" <sip:...>;tag=x`) or of a bare addr-spec."""
    return value.split("<", 1)[1].split(">", 1)[0] if "<" in value else value.split(";")[0]


def tagged(value: str) -> str:
    return value if ";tag=" in value else f"{value};tag={secrets.token_hex(4)}"


def _via() -> str:
    return f"SIP/2.0/WSS {secrets.token_hex(5)}.invalid;branch=z9hG4bK{secrets.token_hex(8)}"


@dataclass
class Dialog:
    call_id: str
    local: str            # our From/To value, with our tag
    remote: str           # theirs, with their tag once they answered
    target: str           # their Contact (the Request-URI of our requests in the dialog)
    routes: list[str] = field(default_factory=list)
    cseq: int = 1

    @classmethod
    def calling(cls, ext: str, number: str, box: str) -> Dialog:
        """`ext` calls `number`, before any answer."""
        return cls(secrets.token_hex(8), f"<sip:{ext}@{box}>;tag={secrets.token_hex(4)}",
                   f"<sip:{number}@{box}>", f"sip:{number}@{box}", cseq=secrets.randbelow(1000) + 1)

    @classmethod
    def called(cls, invite: SipMessage) -> Dialog:
        """The box's INVITE, as the side that answers it sees the dialog."""
        return cls(invite.call_id, tagged(invite.get("To")), invite.get("From"), uri_of(invite.get("Contact")),
                   invite.get_all("Record-Route"), cseq=secrets.randbelow(1000) + 1)

    def answered(self, final: SipMessage) -> None:
        """The 200 to our INVITE: their tag, their Contact and the route set it records."""
        self.remote, self.target = final.get("To"), uri_of(final.get("Contact"))
        self.routes = list(reversed(final.get_all("Record-Route")))


def message(first: str, headers: Iterable[tuple[str, str]], body: str = "") -> str:
    lines = [first] + [f"{k}: {v}" for k, v in headers]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return "\r\n".join(lines) + "\r\n\r\n" + body


def register(ext: str, box: str, contact: str) -> tuple[str, str]:
    """A REGISTER of `ext` at `contact` for 600 s: its Call-ID and the message."""
    call_id = secrets.token_hex(8)
    headers = [("Via", _via()), ("Max-Forwards", "70"), ("From", f"<sip:{ext}@{box}>;tag={secrets.token_hex(4)}"),
               ("To", f"<sip:{ext}@{box}>"), ("Call-ID", call_id), ("CSeq", "1 REGISTER"), ("Contact", contact),
               ("Expires", "600")]
    return call_id, message(f"REGISTER sip:{box} SIP/2.0", headers)


def request(method: str, d: Dialog, contact: str, body: str = "", cseq: int | None = None,
            extra: Iterable[tuple[str, str]] = ()) -> str:
    """A request in the dialog, to its target along its route set."""
    headers = [("Via", _via()), ("Max-Forwards", "70")] + [("Route", r) for r in d.routes]
    headers += [("From", d.local), ("To", d.remote), ("Call-ID", d.call_id), ("CSeq", f"{cseq or d.cseq} {method}"),
                ("Contact", contact), *extra]
    return message(f"{method} {d.target} SIP/2.0", headers, body)


def reply(req: SipMessage, status: int, reason: str, to: str | None = None, body: str = "",
          extra: Iterable[tuple[str, str]] = ()) -> str:
    """The reply to the box's request `req`: its Vias and recorded routes, `to` (with our tag) for its To."""
    headers = [("Via", v) for v in req.get_all("Via")] + [("Record-Route", r) for r in req.get_all("Record-Route")]
    headers += [("From", req.get("From")), ("To", to or req.get("To")), ("Call-ID", req.call_id),
                ("CSeq", req.get("CSeq")), *extra]
    return message(f"SIP/2.0 {status} {reason}", headers, body)


# What a stand-in waits for.

def final_reply(call_id: str) -> Wanted:
    return lambda m: m.status is not None and m.status >= 200 and m.call_id == call_id


def reply_to(method: str, call_id: str) -> Wanted:
    return lambda m: m.status is not None and m.cseq[1] == method and m.call_id == call_id


def request_of(method: str, call_id: str | None = None) -> Wanted:
    return lambda m: m.method == method and (call_id is None or m.call_id == call_id)
