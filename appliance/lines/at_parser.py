"""AT reply stream -> events, and parsers for the values inside. Pure.

`ATParser.feed(bytes)` never raises: a modem on a flaky USB hub sends NULs,
half lines and line noise, and the driver must keep going. The value parsers
(`parse_clip`, `parse_csq`, ...) raise only `ModemReplyError` (an `ATError`
and a `ValueError`), so one bad line costs one event, never the driver.

Whether a `+CREG:` line is a reply or a notification depends on the command
in flight; the parser marks every known notification name as `Unsolicited`
and the command queue claims the ones its command asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from appliance.errors import ModemReplyError
from appliance.lines.pdu import (
    SmsPdu, SubmitPdu, decode_gsm7_packed_hex, decode_pdu_sms, encode_pdu_sms,
)

__all__ = [
    "ATParser", "ATEvent", "FinalKind", "FinalResult", "Info", "Unsolicited", "SmsPrompt",
    "Garbage", "CALL_PROGRESS", "MAX_LINE", "URC_NAMES", "classify_line", "split_args",
    "CallerId", "parse_clip", "CallInfo", "parse_clcc", "Signal", "parse_csq",
    "Registration", "parse_creg", "Operator", "parse_cops", "TextSms", "parse_cmgr_text",
    "cmgr_pdu", "Ussd", "parse_cusd", "VoiceFormat", "parse_vsm_list",
    # SMS PDUs live in pdu.py; offered here too so that callers have one place to look.
    "SmsPdu", "SubmitPdu", "decode_pdu_sms", "encode_pdu_sms",
]

MAX_LINE = 1024


class FinalKind(StrEnum):
    OK = "ok"
    ERROR = "error"
    CME_ERROR = "cme_error"
    CMS_ERROR = "cms_error"
    NO_CARRIER = "no_carrier"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    NO_DIALTONE = "no_dialtone"
    CONNECT = "connect"
    VCON = "vcon"


# Call progress results end a call, not (necessarily) a command.
CALL_PROGRESS = {FinalKind.NO_CARRIER, FinalKind.BUSY, FinalKind.NO_ANSWER, FinalKind.NO_DIALTONE}

_FINALS = {
    "OK": FinalKind.OK, "ERROR": FinalKind.ERROR,
    "COMMAND NOT SUPPORT": FinalKind.ERROR,  # Huawei's word for ERROR
    "NO CARRIER": FinalKind.NO_CARRIER, "BUSY": FinalKind.BUSY,
    "NO ANSWER": FinalKind.NO_ANSWER, "NO DIALTONE": FinalKind.NO_DIALTONE,
    "NO DIAL TONE": FinalKind.NO_DIALTONE, "VCON": FinalKind.VCON,
}

CME_TEXT = {
    3: "operation not allowed", 4: "operation not supported", 10: "SIM not inserted",
    11: "SIM PIN required", 12: "SIM PUK required", 13: "SIM failure", 14: "SIM busy",
    15: "SIM wrong", 16: "incorrect password", 17: "SIM PIN2 required",
    18: "SIM PUK2 required", 30: "no network service", 31: "network timeout",
    100: "unknown",
}

# Notification names as they start a line (27.007, 27.005 and vendor dialects).
URC_NAMES = (
    "RING", "+CRING", "+CLIP", "+CCWA", "+CMTI", "+CMT", "+CDSI", "+CREG", "+CGREG",
    "+CEREG", "+CUSD", "+CPIN", "+CSSI", "+CSSU", "+CLCC", "+QIND", "+RXDTMF",
    "+DTMF", "^CEND", "^DSCI", "^RSSI", "^HCSQ", "^BOOT", "^CONN", "^ORIG", "^CONF",
    "^MODE", "^SRVST", "^SIMST", "^DTMF", "VOICE CALL", "MISSED_CALL",
    "NORMAL POWER DOWN", "RDY", "Call Ready", "SMS Ready", "SMS DONE", "PB DONE",
    "DATE", "TIME", "NMBR", "NAME", "DDN_NMBR", "MESG",
)
_URC_SET = {n.upper() for n in URC_NAMES}


@dataclass(frozen=True)
class FinalResult:
    kind: FinalKind
    code: int | None = None
    text: str = ""


@dataclass(frozen=True)
class Info:
    line: str


@dataclass(frozen=True)
class Unsolicited:
    name: str
    args: str
    raw: str


@dataclass(frozen=True)
class SmsPrompt:
    pass


@dataclass(frozen=True)
class Garbage:
    raw: bytes


ATEvent = FinalResult | Info | Unsolicited | SmsPrompt | Garbage


def classify_line(line: str) -> ATEvent:
    """One complete, decoded, non-empty line -> its event."""
    upper = line.upper()
    if upper in _FINALS:
        return FinalResult(_FINALS[upper], None, line)
    if upper == "CONNECT" or upper.startswith("CONNECT "):
        return FinalResult(FinalKind.CONNECT, None, line[8:].strip())
    for prefix, kind in (("+CME ERROR:", FinalKind.CME_ERROR), ("+CMS ERROR:", FinalKind.CMS_ERROR)):
        if upper.startswith(prefix):
            rest = line[len(prefix):].strip()
            if rest.isdigit():
                code = int(rest)
                return FinalResult(kind, code, CME_TEXT.get(code, rest) if kind == FinalKind.CME_ERROR else rest)
            return FinalResult(kind, None, rest)
    name, args = _split_name(line)
    if name is not None and name.upper() in _URC_SET:
        return Unsolicited(name, args, line)
    return Info(line)


def _split_name(line: str) -> tuple[str | None, str]:
    m = re.match(r"^([+^][A-Za-z0-9_]+)\s*:?\s*(.*)$", line)
    if m:
        return m.group(1), m.group(2).strip()
    m = re.match(r"^(DATE|TIME|NMBR|NAME|DDN_NMBR|MESG)\s*=\s*(.*)$", line, re.I)
    if m:
        return m.group(1).upper(), m.group(2).strip()
    m = re.match(r"^(VOICE CALL|MISSED_CALL)\s*:\s*(.*)$", line, re.I)
    if m:
        return m.group(1).upper(), m.group(2).strip()
    if line.upper() in _URC_SET:
        return line, ""
    return None, ""


class ATParser:
    """Bytes from the modem -> events. Keeps a partial line between feeds."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._discarding = False

    def reset(self) -> None:
        self._buf.clear()
        self._discarding = False

    def feed(self, data: bytes) -> list[ATEvent]:
        events: list[ATEvent] = []
        for byte in data:
            if byte in (0x0D, 0x0A):
                if self._discarding:
                    self._discarding = False
                elif self._buf:
                    self._finish_line(bytes(self._buf), events)
                self._buf.clear()
                continue
            if byte == 0x00 or self._discarding:
                continue  # some modems pad with NUL
            self._buf.append(byte)
            if len(self._buf) > MAX_LINE:
                events.append(Garbage(bytes(self._buf[:MAX_LINE])))
                self._buf.clear()
                self._discarding = True
            elif self._buf == b"> ":
                # The SMS prompt has no line end; the modem waits for the PDU.
                events.append(SmsPrompt())
                self._buf.clear()
        return events

    @staticmethod
    def _finish_line(raw: bytes, events: list[ATEvent]) -> None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            events.append(Garbage(raw))
            return
        if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F for c in line):
            events.append(Garbage(raw))
            return
        line = line.strip()
        if line:
            events.append(classify_line(line))


# --- value parsers ---------------------------------------------------------

def split_args(args: str) -> list[str]:
    """`"+48601",145,,"a,b"` -> ['+48601', '145', '', 'a,b'] (quotes removed)."""
    return [v for v, _ in _tokens(args)]


def _tokens(args: str) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    cur: list[str] = []
    quoted = in_quotes = False
    depth = 0
    for ch in args:
        if in_quotes:
            if ch == '"':
                in_quotes = False
            else:
                cur.append(ch)
        elif ch == '"':
            in_quotes = quoted = True
        elif ch == "(":
            depth += 1
            cur.append(ch)
        elif ch == ")":
            depth = max(0, depth - 1)
            cur.append(ch)
        elif ch == "," and depth == 0:
            out.append(("".join(cur).strip(), quoted))
            cur, quoted = [], False
        else:
            cur.append(ch)
    if in_quotes:
        raise ModemReplyError(f"unterminated quote in {args!r}")
    out.append(("".join(cur).strip(), quoted))
    return out


def _args_of(line_or_args: str, name: str) -> str:
    text = line_or_args.strip()
    if text.upper().startswith(name.upper()):
        text = text[len(name):].lstrip(" :")
    return text


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise ModemReplyError(f"{what}: not a number: {value!r}") from exc


@dataclass(frozen=True)
class CallerId:
    number: str
    type: int | None = None
    validity: int | None = None  # 0 given, 1 withheld by the caller, 2 not available

    @property
    def withheld(self) -> bool:
        return not self.number or self.validity in (1, 2)


def parse_clip(line: str) -> CallerId:
    f = split_args(_args_of(line, "+CLIP"))
    if not f or (len(f) == 1 and not f[0]):
        raise ModemReplyError(f"+CLIP without a number: {line!r}")
    toa = _int(f[1], "+CLIP type") if len(f) > 1 and f[1] else None
    validity = _int(f[5], "+CLIP validity") if len(f) > 5 and f[5] else None
    return CallerId(f[0], toa, validity)


@dataclass(frozen=True)
class CallInfo:
    idx: int
    dir: int     # 0 outgoing, 1 incoming
    stat: int    # 0 active, 1 held, 2 dialing, 3 alerting, 4 incoming, 5 waiting
    mode: int    # 0 voice
    mpty: int
    number: str = ""
    type: int | None = None


def parse_clcc(lines: list[str] | str) -> list[CallInfo]:
    if isinstance(lines, str):
        lines = [lines]
    calls = []
    for line in lines:
        if not line.strip().upper().startswith("+CLCC"):
            continue
        f = split_args(_args_of(line, "+CLCC"))
        if len(f) < 5:
            raise ModemReplyError(f"+CLCC with too few fields: {line!r}")
        nums = [_int(v, "+CLCC") for v in f[:5]]
        toa = _int(f[6], "+CLCC type") if len(f) > 6 and f[6] else None
        calls.append(CallInfo(*nums, number=f[5] if len(f) > 5 else "", type=toa))
    return calls


@dataclass(frozen=True)
class Signal:
    rssi: int
    dbm: int | None
    ber: int | None


def parse_csq(line: str) -> Signal:
    f = split_args(_args_of(line, "+CSQ"))
    rssi = _int(f[0], "+CSQ rssi")
    ber = _int(f[1], "+CSQ ber") if len(f) > 1 and f[1] else None
    if not 0 <= rssi <= 31 and rssi != 99:
        raise ModemReplyError(f"+CSQ rssi out of range: {rssi}")
    return Signal(rssi, None if rssi == 99 else -113 + 2 * rssi, None if ber == 99 else ber)


@dataclass(frozen=True)
class Registration:
    n: int | None
    stat: int        # 0 not, 1 home, 2 searching, 3 denied, 4 unknown, 5 roaming
    lac: str = ""
    ci: str = ""

    @property
    def registered(self) -> bool:
        return self.stat in (1, 5)


def parse_creg(line: str) -> Registration:
    """Both the answer to AT+CREG? (n,stat[,lac,ci]) and the +CREG: notification (stat[,lac,ci])."""
    name = line.strip().split(":")[0].strip() if ":" in line else "+CREG"
    toks = _tokens(_args_of(line, name))
    if not toks or not toks[0][0]:
        raise ModemReplyError(f"empty registration: {line!r}")
    if len(toks) == 1:
        return Registration(None, _int(toks[0][0], "stat"))
    if len(toks) >= 3 and toks[1][1]:  # notification form: stat,"lac","ci"
        return Registration(None, _int(toks[0][0], "stat"), toks[1][0], toks[2][0])
    n, stat = _int(toks[0][0], "n"), _int(toks[1][0], "stat")
    lac = toks[2][0] if len(toks) > 2 else ""
    ci = toks[3][0] if len(toks) > 3 else ""
    return Registration(n, stat, lac, ci)


@dataclass(frozen=True)
class Operator:
    mode: int
    format: int | None = None
    name: str = ""
    act: int | None = None


def parse_cops(line: str) -> Operator:
    f = split_args(_args_of(line, "+COPS"))
    mode = _int(f[0], "+COPS mode")
    fmt = _int(f[1], "+COPS format") if len(f) > 1 and f[1] else None
    act = _int(f[3], "+COPS act") if len(f) > 3 and f[3] else None
    return Operator(mode, fmt, f[2] if len(f) > 2 else "", act)


@dataclass(frozen=True)
class TextSms:
    status: str
    sender: str
    time: str
    text: str


def parse_cmgr_text(lines: list[str]) -> TextSms:
    """AT+CMGR answer in text mode: a +CMGR header then the text lines."""
    for i, line in enumerate(lines):
        if line.strip().upper().startswith("+CMGR"):
            f = split_args(_args_of(line, "+CMGR"))
            if len(f) < 2:
                raise ModemReplyError(f"+CMGR header too short: {line!r}")
            when = f[3] if len(f) > 3 else ""
            return TextSms(f[0], f[1], when, "\n".join(lines[i + 1:]))
    raise ModemReplyError("no +CMGR header")


def cmgr_pdu(lines: list[str]) -> str:
    """AT+CMGR answer in PDU mode -> the PDU hex line."""
    for i, line in enumerate(lines):
        if line.strip().upper().startswith("+CMGR") and i + 1 < len(lines):
            return lines[i + 1].strip()
    raise ModemReplyError("no +CMGR header followed by a PDU")


@dataclass(frozen=True)
class Ussd:
    status: int   # 0 done, 1 the network wants an answer, 2 ended by network, ...
    text: str
    dcs: int | None


def parse_cusd(line: str) -> Ussd:
    f = split_args(_args_of(line, "+CUSD"))
    status = _int(f[0], "+CUSD status")
    payload = f[1] if len(f) > 1 else ""
    dcs = _int(f[2], "+CUSD dcs") if len(f) > 2 and f[2] else None
    return Ussd(status, _ussd_text(payload, dcs), dcs)


_HEX = re.compile(r"^(?:[0-9A-Fa-f]{2})+$")


def _ussd_text(payload: str, dcs: int | None) -> str:
    if dcs is not None and (dcs == 0x48 or dcs & 0xCC == 0x48 or dcs == 0x11) and _HEX.match(payload):
        if len(payload) % 4 == 0:
            return bytes.fromhex(payload).decode("utf-16-be", errors="replace")
    # Huawei firmwares without ^USSDMODE=0 send packed 7-bit as hex.
    if len(payload) >= 8 and _HEX.match(payload):
        try:
            text = decode_gsm7_packed_hex(payload)
        except ModemReplyError:
            return payload
        if text and all(c.isprintable() or c in "\n\r" for c in text):
            return text
    return payload


@dataclass(frozen=True)
class VoiceFormat:
    code: int
    name: str
    bits: int
    rates: tuple[int, ...] = field(default_factory=tuple)


def parse_vsm_list(lines: list[str]) -> list[VoiceFormat]:
    """AT+VSM=? answer: `<cml>,"<name>",<bps>,<tm>,(<rates>),...` or the short
    Conexant form `<cml>,"<name>",(<rates>)`. Lines that do not parse are skipped."""
    out = []
    for line in lines:
        text = _args_of(line, "+VSM")
        try:
            toks = _tokens(text)
        except ModemReplyError:
            continue
        if len(toks) < 2 or not toks[0][0].isdigit() or not toks[1][1]:
            continue
        name = toks[1][0]
        bits = 0
        if len(toks) > 2 and toks[2][0].isdigit():
            bits = int(toks[2][0])
        if not bits:
            bits = 16 if "16" in name else 8
        rates: list[int] = []
        for value, _ in toks[2:]:
            if value.startswith("("):
                rates = [int(x) for x in re.findall(r"\d+", value)]
                break
        out.append(VoiceFormat(int(toks[0][0]), name, bits, tuple(rates)))
    return out
