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

# A line longer than this is a broken or hostile peer, not a command.
MAX_LINE_BYTES = 64 * 1024

# command name -> (required fields, optional fields)
COMMANDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "answer": (("leg",), ()),
    "ringing": (("leg",), ()),
    "reject": (("leg",), ("status",)),
    "hangup": (("leg",), ()),
    "call": (("leg", "uri"), ("caller_id", "headers", "timeout_s", "auth")),
    "bridge": (("a", "b"), ()),
    "unbridge": (("a", "b"), ()),
    "connect": (("src", "dst"), ()),
    "disconnect": (("src", "dst"), ()),
    "conference": (("legs",), ("listen_only", "whisper")),
    "play": (("leg", "file"), ("loop",)),
    "stop_play": (("leg",), ()),
    "record_start": (("file",), ("leg", "legs")),
    "record_stop": ((), ("file", "leg")),
    "send_dtmf": (("leg", "digits"), ("method",)),
    "hold": (("leg",), ()),
    "unhold": (("leg",), ()),
    "transfer": (("leg", "uri"), ()),
    "status": ((), ()),
}

EVENTS = (
    "ready", "incoming", "ringing", "answered", "dtmf", "hangup", "play_done",
    "held", "unheld", "transfer_requested", "transfer_status", "capacity",
    "recording_stopped",
)

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


_NAME_ADDR = re.compile(
    r'^\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<token>[^<"]*?))\s*<(?P<uri>[^>]*)>'
    r'|^\s*(?P<bare>[^;\s]+)')


def parse_name_addr(text: str) -> dict[str, str]:
    """Split a From/To value into {name, number, uri}; number is the URI's user part."""
    m = _NAME_ADDR.match(text or "")
    if not m:
        return {"name": "", "number": "", "uri": ""}
    if m.group("bare") is not None:
        uri, name = m.group("bare"), ""
    else:
        uri = m.group("uri")
        name = m.group("quoted") if m.group("quoted") is not None else (m.group("token") or "")
        name = re.sub(r"\\(.)", r"\1", name).strip()
    number = ""
    if uri.startswith("tel:"):
        number = uri[4:].split(";")[0]
    elif "@" in uri:
        user = re.match(r"^sips?:([^@;>]*)@", uri)
        number = user.group(1) if user else ""
    return {"name": name, "number": number, "uri": uri}
