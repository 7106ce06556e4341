"""The engine control protocol: newline-delimited JSON between the core and a worker.

Pure: no I/O and no pjsua2, so the core side and the tests can share it.
Every command names its required fields here once; the worker validates
against this table before touching any call, and docs/engine-protocol.md
describes the same table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from appliance.errors import SipParseError
from appliance.sip.grammar import parse_name_addr as _parse_name_addr

# A line longer than this is a broken or hostile peer, not a command.
MAX_LINE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Field:
    """One field of a message: its name, the JSON types it may have, whether it must be there."""

    name: str
    types: tuple[type, ...]
    required: bool = True
    doc: str = ""


@dataclass(frozen=True)
class Message:
    name: str
    fields: tuple[Field, ...]
    doc: str

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if not f.required)


S, I, N, B, O, L = (str,), (int,), (int, float), (bool,), (dict,), (list,)


def _f(name: str, types: tuple[type, ...], doc: str = "", required: bool = True) -> Field:
    return Field(name, types, required, doc)


def _opt(name: str, types: tuple[type, ...], doc: str = "") -> Field:
    return Field(name, types, False, doc)


def _table(*messages: Message) -> dict[str, Message]:
    return {m.name: m for m in messages}


LEG = _f("leg", S, "leg id")

# What the core tells a worker. The worker checks every command against this table (and the
# rules in parse_command) before it touches a call; docs/engine-protocol.md is made from it.
COMMAND_TABLE: dict[str, Message] = _table(
    Message("answer", (LEG,), "answer an incoming leg (200 OK)"),
    Message("ringing", (LEG,), "send 180 Ringing on an incoming leg"),
    Message("reject", (LEG, _opt("status", I, "SIP final status, 300-699 (486)")), "refuse an incoming leg"),
    Message("hangup", (LEG,), "end a leg (BYE, CANCEL or a final response, whatever fits its state)"),
    Message("call", (LEG, _f("uri", S, "sip: or sips: URI to dial"),
                     _opt("caller_id", O, "{name, number} shown to the callee"),
                     _opt("headers", O, "extra one-line headers {name: value}"),
                     _opt("timeout_s", N, "give up ringing after this long (408)"),
                     _opt("auth", O, "{username, password, realm?, domain?} for a provider")),
            "dial a new outgoing leg"),
    Message("bridge", (_f("a", S), _f("b", S)), "audio both ways between two legs"),
    Message("unbridge", (_f("a", S), _f("b", S)), "undo a bridge"),
    Message("connect", (_f("src", S), _f("dst", S)), "audio one way, src to dst"),
    Message("disconnect", (_f("src", S), _f("dst", S)), "undo a connect"),
    Message("conference", (_f("legs", L, "leg ids that all hear each other"),
                           _opt("listen_only", L, "leg ids that hear but are not heard"),
                           _opt("whisper", O, "{to, from}: only `to` hears `from`")), "a conference of legs"),
    Message("play", (LEG, _f("file", S, "WAV path"), _opt("loop", B)), "play a prompt to a leg"),
    Message("stop_play", (LEG,), "stop what a leg hears from `play`"),
    Message("record_start", (_f("file", S, "WAV path"), _opt("leg", S), _opt("legs", L)),
            "record one leg, or the mix of several"),
    Message("record_stop", (_opt("file", S), _opt("leg", S)), "close a recording"),
    Message("send_dtmf", (LEG, _f("digits", S, "0-9 * # A-D"), _opt("method", S, "rfc2833 (default) or info")),
            "send digits to a leg"),
    Message("hold", (LEG,), "put a leg on hold (re-INVITE sendonly)"),
    Message("unhold", (LEG,), "take a leg off hold"),
    Message("transfer", (LEG, _f("uri", S)), "send REFER on a leg"),
    Message("status", (), "ask for `capacity` now"),
)

# command name -> (required fields, optional fields): what parse_command reads.
COMMANDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    name: (m.required, m.optional) for name, m in COMMAND_TABLE.items()}

# What a worker tells the core. The worker checks each event before it sends it; the core checks
# each one it reads and drops (with a warning) what does not fit, so the switchboard can rely on
# every required field being there with its type.
EVENT_TABLE: dict[str, Message] = _table(
    Message("ready", (_f("id", S), _f("sip_port", I), _f("max_calls", I), _opt("pid", I)),
            "once, first line after connecting"),
    Message("capacity", (_f("free", I), _f("max_calls", I)),
            "at start and whenever the number of free call slots changes"),
    Message("incoming", (LEG, _f("from", S), _f("to", S), _f("caller_id", O, "{name, number}"), _f("call_id", S),
                         _f("source", S, "ip:port the INVITE came from"),
                         _f("identity", S, "who the edge says sent it (its signature checked); '' when the "
                                           "worker runs without the edge's key")),
            "an INVITE the edge signed arrived; pjsua has sent 100 Trying; the core decides"),
    Message("ringing", (LEG, _f("status", I, "180 or 183")), "an outgoing leg rings (once)"),
    Message("answered", (LEG, _f("codec", (str, type(None)), "e.g. PCMA/8000, G722/16000; null if unknown")),
            "the leg is connected (both directions)"),
    Message("dtmf", (LEG, _f("digit", S), _f("method", S, "rfc2833 or info")), "a digit from the leg"),
    Message("hangup", (LEG, _f("cause", I, "last SIP status"), _opt("reason", S), _opt("by", S, "local or remote")),
            "the leg is over"),
    Message("play_done", (LEG,), "a non-looping prompt reached its end"),
    Message("held", (LEG, _opt("by", S)), "the leg's phone put us on hold"),
    Message("unheld", (LEG, _opt("by", S)), "the leg's phone took us off hold"),
    Message("transfer_requested", (LEG, _f("target", S)), "the leg's phone sent REFER (declined; the core acts)"),
    Message("transfer_status", (LEG, _f("status", I), _f("final", B)), "progress of a `transfer` we sent"),
    Message("recording_stopped", (_f("file", S), _f("reason", S, "hangup or shutdown")),
            "a recording closed without `record_stop`"),
)
EVENTS = tuple(EVENT_TABLE)

# What a line gateway tells the core on its status socket (one JSON object a line, each with `line`).
LINE = _f("line", S, "the line's name or number")
GATEWAY_TABLE: dict[str, Message] = _table(
    Message("ready", (LINE, _f("sip_port", I), _opt("pid", I), _opt("kind", S, "gsm or analog")),
            "the gateway's SIP side is up"),
    Message("status", (LINE, _f("state", S), _opt("signal", (int, type(None))), _opt("operator", S),
                       _opt("sim", S), _opt("registered", B), _opt("in_call", B), _opt("call", S),
                       _opt("indicator", S, "the line LED: off, fault, blink, fast_blink, on"),
                       _opt("last_error", (dict, type(None)))),
            "what the line page and the LED show; sent on every change"),
    Message("call", (LINE, _f("state", S, "dialing, offering, talking, ended"), _opt("number", (str, type(None))),
                     _opt("direction", S), _opt("by", S), _opt("status", I), _opt("reason", S),
                     _opt("cause", S, "what the modem said ended it, e.g. NO CARRIER")),
            "a call on the line"),
    Message("sms", (LINE, _f("sender", S), _f("text", S), _opt("time", S)), "an SMS received"),
    Message("sms_sent", (LINE, _opt("number", (str, type(None))), _f("ok", B), _opt("error", (str, type(None)))),
            "the outcome of `send_sms`"),
)


# What the core tells a line gateway on the same socket.
GATEWAY_COMMAND_TABLE: dict[str, Message] = _table(
    Message("send_sms", (_f("number", S), _f("text", S)), "send an SMS through the line (answered by `sms_sent`)"),
)


def check_message(table: dict[str, Message], message: dict[str, Any], key: str = "event") -> str:
    """The message's name if it fits its declaration; ProtocolError naming what does not."""
    name = message.get(key)
    declared = table.get(name) if isinstance(name, str) else None
    if declared is None:
        raise ProtocolError(f"unknown {key}: {name!r}")
    fields = {f.name: f for f in declared.fields}
    for f in declared.fields:
        if f.required and f.name not in message:
            raise ProtocolError(f"{name}: missing {f.name}")
    for k, v in message.items():
        if k in (key, "id"):
            continue
        f = fields.get(k)
        if f is None:
            raise ProtocolError(f"{name}: unknown field {k}")
        if not isinstance(v, f.types) or (isinstance(v, bool) and bool not in f.types):
            raise ProtocolError(f"{name}: {k} must be {' or '.join(t.__name__ for t in f.types)}")
    return name


def parse_event(message: dict[str, Any]) -> dict[str, Any]:
    """A worker's event, checked against EVENT_TABLE (ProtocolError if it does not fit)."""
    check_message(EVENT_TABLE, message)
    return message


def parse_gateway_message(message: dict[str, Any]) -> dict[str, Any]:
    """A line gateway's status line, checked against GATEWAY_TABLE."""
    check_message(GATEWAY_TABLE, message)
    return message


def parse_gateway_command(message: dict[str, Any]) -> dict[str, Any]:
    """An order from the core to a line gateway, checked against GATEWAY_COMMAND_TABLE."""
    check_message(GATEWAY_COMMAND_TABLE, message, key="cmd")
    return message


def describe() -> str:
    """The tables as Markdown, for docs/engine-protocol.md (`python -m appliance.engine.protocol`)."""
    out = []
    for title, table, key in (("Commands (core to worker)", COMMAND_TABLE, "cmd"),
                              ("Events (worker to core)", EVENT_TABLE, "event"),
                              ("Line gateway status (gateway to core)", GATEWAY_TABLE, "event"),
                              ("Line gateway commands (core to gateway)", GATEWAY_COMMAND_TABLE, "cmd")):
        out += [f"### {title}", "", f"| `{key}` | fields | what |", "|---|---|---|"]
        for m in table.values():
            fields = ", ".join(("`{}`" if f.required else "`{}`?").format(f.name)
                               + (f" ({f.doc})" if f.doc else "") for f in m.fields) or "—"
            out.append(f"| `{m.name}` | {fields} | {m.doc} |")
        out.append("")
    out.append("A field marked ? may be left out. Unknown fields and wrong types are refused on both sides.")
    return "\n".join(out) + "\n"


DTMF_DIGITS = set("0123456789*#ABCDabcd")
_LEG_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,64}$")


class ProtocolError(ValueError):
    """A line from the peer is not a valid command; the text says why."""


@dataclass(frozen=True)
class Command:
    id: Any
    name: str
    args: dict[str, Any]


def encode(message: dict[str, Any]) -> bytes:
    return (json.dumps(message, separators=(",", ":")) + "\n").encode()


def decode_line(line: bytes | str) -> dict[str, Any]:
    """Parse one line into a JSON object; ProtocolError if it is not one."""
    if len(line) > MAX_LINE_BYTES:
        raise ProtocolError("line too long")
    try:
        message = json.loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError(f"not JSON: {e}") from None
    if not isinstance(message, dict):
        raise ProtocolError("not a JSON object")
    return message


def parse_command(message: dict[str, Any]) -> Command:
    """Check a decoded message against COMMANDS; ProtocolError names what is wrong."""
    name = message.get("cmd")
    if not isinstance(name, str) or name not in COMMANDS:
        raise ProtocolError(f"unknown command: {name!r}")
    required, optional = COMMANDS[name]
    args = {k: v for k, v in message.items() if k not in ("cmd", "id")}
    missing = [f for f in required if f not in args]
    if missing:
        raise ProtocolError(f"{name}: missing {', '.join(missing)}")
    unknown = [f for f in args if f not in required and f not in optional]
    if unknown:
        raise ProtocolError(f"{name}: unknown field {', '.join(unknown)}")
    for field in ("leg", "a", "b", "src", "dst"):
        if field in args and not valid_leg_id(args[field]):
            raise ProtocolError(f"{name}: bad {field} {args[field]!r}")
    for field in ("legs", "listen_only"):
        if field in args:
            value = args[field]
            if not isinstance(value, list) or not all(valid_leg_id(x) for x in value):
                raise ProtocolError(f"{name}: {field} must be a list of leg ids")
    if name == "send_dtmf":
        digits = args["digits"]
        if not isinstance(digits, str) or not digits or not set(digits) <= DTMF_DIGITS:
            raise ProtocolError("send_dtmf: digits must be 0-9 * # A-D")
        if args.get("method", "rfc2833") not in ("rfc2833", "info"):
            raise ProtocolError("send_dtmf: method must be rfc2833 or info")
    if name == "reject":
        status = args.get("status", 486)
        if not isinstance(status, int) or not 300 <= status <= 699:
            raise ProtocolError("reject: status must be a SIP final status 300-699")
    if name in ("call", "transfer") and not _is_sip_uri(args["uri"]):
        raise ProtocolError(f"{name}: uri must be a sip: or sips: URI")
    if name == "call":
        auth = args.get("auth")
        if auth is not None and not (isinstance(auth, dict) and isinstance(auth.get("username"), str)
                                     and isinstance(auth.get("password"), str)
                                     and set(auth) <= {"username", "password", "realm", "domain"}):
            raise ProtocolError("call: auth must be {username, password, realm?, domain?}")
        timeout = args.get("timeout_s")
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout <= 0):
            raise ProtocolError("call: timeout_s must be a positive number")
        headers = args.get("headers", {})
        if not isinstance(headers, dict) or not all(
                _is_header_name(k) and isinstance(v, str) and "\n" not in v and "\r" not in v
                for k, v in headers.items()):
            raise ProtocolError("call: headers must map header names to one-line strings")
        caller_id = args.get("caller_id")
        if caller_id is not None and not isinstance(caller_id, dict):
            raise ProtocolError("call: caller_id must be an object {name, number}")
    if name in ("play", "record_start") and not isinstance(args["file"], str):
        raise ProtocolError(f"{name}: file must be a path")
    if "whisper" in args:
        whisper = args.get("whisper")
        if not isinstance(whisper, dict) or not valid_leg_id(whisper.get("to")) \
                or not valid_leg_id(whisper.get("from")):
            raise ProtocolError("conference: whisper must be {to, from} leg ids")
    if name == "record_start" and "leg" not in args and "legs" not in args:
        raise ProtocolError("record_start: give leg or legs")
    if name == "record_stop" and "file" not in args and "leg" not in args:
        raise ProtocolError("record_stop: give file or leg")
    return Command(id=message.get("id"), name=name, args=args)


def valid_leg_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_LEG_ID.match(value))


def _is_sip_uri(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("sip:", "sips:")) \
        and len(value) < 512 and not any(c in value for c in "\r\n <>\"")


def _is_header_name(value: Any) -> bool:
    return isinstance(value, str) and bool(re.match(r"^[A-Za-z0-9-]{1,64}$", value))


def parse_name_addr(text: str) -> dict[str, str]:
    """Split a From/To value into {name, number, uri}; number is the URI's user part.

    The SIP edge's own parser reads it (one name-addr parser in the box); what it cannot read gives
    empty fields, never an exception: a caller's From is data, not a reason to drop a call."""
    try:
        found = _parse_name_addr(text or "")
    except (SipParseError, ValueError):
        return {"name": "", "number": "", "uri": ""}
    if found.uri is None:
        return {"name": "", "number": "", "uri": ""}
    return {"name": (found.display or "").strip(), "number": found.uri.user or "", "uri": str(found.uri)}


if __name__ == "__main__":
    print(describe(), end="")
