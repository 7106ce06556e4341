"""The GSM line: a USB GSM modem driven with 3GPP TS 27.007 / 27.005 commands.

`GsmLine` is the pure core: bytes and clock ticks in, bytes to write and
notices (`IncomingCall`, `CallEnded`, `SmsReceived`, ...) out. `GsmDriver`
is the thin runner joining it to a `SerialTransport` and a tick thread.

The SIM PIN is sent at most once per PIN value: a SIM locks itself after
three wrong tries, and a box that retries on every restart would lock it
within minutes. A rejected PIN is only tried again after the setting
changes (`set_pin`).
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from appliance.errors import Conflict, ModemReplyError, ValidationError
from appliance.lines.at_parser import (
    FinalKind, FinalResult, Garbage, Info, Unsolicited, cmgr_pdu, decode_pdu_sms,
    encode_pdu_sms, parse_clcc, parse_clip, parse_cops, parse_creg, parse_csq, parse_cusd,
    split_args,
)
from appliance.lines.command_queue import Command, Completed
from appliance.lines.notices import (
    CallAnswered, CallEnded, DtmfReceived, IncomingCall, LineStatus, SmsReceived, SmsSent, UssdResult,
)
from appliance.atomicfile import atomic_write_bytes
from appliance.lines.modem_core import E, S, LineEvent, LineState, ModemCore, line_machine
from appliance.lines.runner import LineRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VendorProfile:
    name: str
    init: tuple[str, ...] = ()
    on_connect: tuple[str, ...] = ()    # once a call is talking: route its audio
    on_end: tuple[str, ...] = ()
    sends_clip: bool = True             # False: ask +CLCC for the caller's number
    poll_clcc: bool = False             # no call-state notifications: poll +CLCC
    audio_interface: int | None = None  # USB interface number of the audio tty


PROFILES: dict[str, VendorProfile] = {
    "generic": VendorProfile("generic", poll_clcc=True),
    # Huawei E1752/E173/E1550: ^CEND ends calls; audio on a second tty once ^DDSETEX=2.
    "huawei": VendorProfile("huawei", init=("AT^CVOICE?",), on_connect=("AT^DDSETEX=2",),
                            audio_interface=1),
    # SIMCom SIM7600: VOICE CALL: BEGIN/END; PCM over USB while CPCMREG=1.
    "simcom": VendorProfile("simcom", init=("AT+CLCC=0",), on_connect=("AT+CPCMREG=1",),
                            on_end=("AT+CPCMREG=0",), audio_interface=4),
    # Quectel EC25/EC21: PCM over the NMEA tty while QPCMV=1,0; no call-end URC of its own.
    "quectel": VendorProfile("quectel", on_connect=("AT+QPCMV=1,0",), on_end=("AT+QPCMV=0",),
                             poll_clcc=True, audio_interface=1),
}


TRANSITIONS: dict[LineState, dict[LineEvent, LineState]] = {
    S.GONE: {E.CONNECTED: S.STARTING, E.LOST: S.GONE},
    S.STARTING: {E.INIT_DONE: S.READY, E.SIM_FAILED: S.SIM_PROBLEM, E.LOST: S.GONE,
                 E.CONNECTED: S.STARTING, E.PIN_CHANGED: S.STARTING},
    S.SIM_PROBLEM: {E.PIN_CHANGED: S.STARTING, E.LOST: S.GONE, E.CONNECTED: S.STARTING},
    S.READY: {E.RING: S.RINGING, E.DIAL: S.DIALING, E.LOST: S.GONE, E.CONNECTED: S.STARTING,
              E.PIN_CHANGED: S.READY},
    S.RINGING: {E.RING: S.RINGING, E.ANSWERED: S.TALKING, E.CALL_ENDED: S.READY, E.LOST: S.GONE},
    S.DIALING: {E.ANSWERED: S.TALKING, E.CALL_ENDED: S.READY, E.LOST: S.GONE},
    S.TALKING: {E.RING: S.TALKING, E.ANSWERED: S.TALKING, E.CALL_ENDED: S.READY, E.LOST: S.GONE},
}
IN_CALL = {S.RINGING, S.DIALING, S.TALKING}
GSM_LINE = line_machine("gsm", TRANSITIONS)


CEND_CAUSES = {16: "normal", 17: "busy", 18: "no_answer", 19: "no_answer", 21: "rejected",
               1: "unassigned_number", 34: "congestion"}
_NUMBER = re.compile(r"^\+?[0-9*#]{1,40}$")
_USSD = re.compile(r"^[0-9*#+]{1,40}$")


class GsmLine(ModemCore):
    """Pure core of the GSM driver."""

    MACHINE = GSM_LINE
    IN_CALL = IN_CALL

    def __init__(self, *, profile: VendorProfile | str = "generic", pin: str | None = None,
                 clock: Callable[[], float], poll_interval: float = 15.0,
                 ring_timeout: float = 8.0, name: str = "gsm", refused_pin: str | None = None):
        super().__init__(clock=clock, name=name, status=LineStatus(), ring_timeout=ring_timeout)
        self.profile = PROFILES[profile] if isinstance(profile, str) else profile
        self._pin = pin or None
        self.refused_pin = refused_pin  # pin_digest() of the PIN the SIM refused, kept across restarts
        self._poll_interval = poll_interval
        self._sms_parts: dict[tuple[str, int], dict[int, str]] = {}
        self._rings = 0
        self._next_poll = 0.0
        self._next_clcc = 0.0
        self._timeouts_in_row = 0
        self._hanging_up = False

    # --- inputs ------------------------------------------------------------------

    def gone(self) -> None:
        super().gone()
        self._set_status(registered=False, signal_dbm=None, operator="", sim="unknown")

    def _reset_io(self) -> None:
        super()._reset_io()
        self._timeouts_in_row = 0

    def receive(self, data: bytes) -> None:
        for item in self._queue.feed(self._parser.feed(data)):
            if isinstance(item, Completed):
                continue  # handled by the command's on_done
            if isinstance(item, Unsolicited):
                self._on_urc(item)
            elif isinstance(item, FinalResult):
                self._on_stray_final(item)
            elif isinstance(item, Garbage):
                log.debug("%s: garbage %r", self.name, item.raw[:40])
            elif isinstance(item, Info):
                log.debug("%s: unclaimed line %r", self.name, item.line)

    def tick(self) -> None:
        now = self._clock()
        self._run_timers(now)
        self._ring_cycle_over(now)
        if self.state in (S.READY, S.TALKING) and now >= self._next_poll and self._queue.idle:
            self._next_poll = now + self._poll_interval
            self._poll_status()
        if (self.profile.poll_clcc and self.state in (S.DIALING, S.TALKING)
                and self._queue.idle and now >= self._next_clcc):
            self._next_clcc = now + 1.0
            self._cmd("AT+CLCC", 5, expect="+CLCC", done=self._on_clcc_poll)

    def writes(self) -> list[bytes]:
        return self._queue.due_writes()

    # --- commands -------------------------------------------------------------------

    def _timed_out(self, cmd: Command) -> bool:
        # One silence can be a busy modem; two in a row is a modem that needs a restart.
        self._timeouts_in_row += 1
        log.warning("%s: %s timed out", self.name, cmd.text)
        if self._timeouts_in_row >= 2:
            self._error("no_response", f"no answer to {cmd.text}")
            self._restart_later(2.0)
            return True
        return False

    def _answered(self, cmd: Command) -> None:
        self._timeouts_in_row = 0

    def _restart_later(self, delay: float) -> None:
        if self.state in IN_CALL:
            self._notices.append(CallEnded("modem_not_responding"))
        self._reset_io()
        self._fire(E.CONNECTED)
        self._after(delay, self._start_init)

    # --- initialisation ---------------------------------------------------------------

    def _start_init(self) -> None:
        self._set_status(sim="unknown", registered=False)
        self._cmd("ATZ", 5)
        self._cmd("ATE0", 2)
        self._cmd("AT+CMEE=2", 2)
        self._query_pin(tries_left=5)

    def _query_pin(self, tries_left: int) -> None:
        self._cmd("AT+CPIN?", 5, expect="+CPIN", done=lambda c: self._on_cpin(c, tries_left))

    def _on_cpin(self, cmd: Command, tries_left: int) -> None:
        answer = " ".join(cmd.lines).upper()
        if cmd.ok and "READY" in answer:
            self._set_status(sim="ready")
            return self._after_sim()
        if cmd.ok and "SIM PIN" in answer:
            return self._enter_pin()
        if "PUK" in answer or (cmd.result and "PUK" in cmd.result.text.upper()):
            self._set_status(sim="puk_required")
            self._error("sim_puk_required", "the SIM is locked; enter the PUK in a phone")
            return self._fire_sim_failed()
        text = cmd.result.text if cmd.result else ""
        if "NOT INSERTED" in text.upper() or (cmd.result and cmd.result.code == 10):
            self._set_status(sim="missing")
            self._error("sim_missing", text)
            return self._fire_sim_failed()
        if tries_left > 0:  # SIM busy right after power-up or after the PIN
            self._after(1.0, lambda: self._query_pin(tries_left - 1))
        else:
            self._error("sim_failure", text or answer)
            self._fire_sim_failed()

    def _fire_sim_failed(self) -> None:
        self._fire(E.SIM_FAILED)

    def _enter_pin(self) -> None:
        pin = self._pin
        if not pin:
            self._set_status(sim="pin_required")
            self._error("sim_pin_missing", "the SIM asks for a PIN and none is set")
            return self._fire_sim_failed()
        if pin_digest(pin) == self.refused_pin:
            self._set_status(sim="pin_wrong")
            self._error("sim_pin_wrong", "the PIN was refused before; not trying it again")
            return self._fire_sim_failed()
        # From here this PIN counts as tried, whatever happens to the answer: a lost
        # answer costs a retyped PIN, a wrong guess could cost the SIM.
        self.refused_pin = pin_digest(pin)
        self._cmd(f'AT+CPIN="{pin}"', 10, done=self._on_pin_answer)

    def _on_pin_answer(self, cmd: Command) -> None:
        if cmd.ok:
            self.refused_pin = None
            self._set_status(sim="ready")
            self._after(0.5, lambda: self._query_pin(tries_left=10))
            return
        text = cmd.result.text if cmd.result else "no answer"
        self._set_status(sim="pin_wrong")
        self._error("sim_pin_wrong", text)
        self._fire_sim_failed()

    def set_pin(self, pin: str | None) -> None:
        """The PIN setting changed: a new value may be tried once."""
        pin = pin or None
        if pin == self._pin:
            return
        self._pin = pin
        if self.state == S.SIM_PROBLEM:
            self._fire(E.PIN_CHANGED)
            self._start_init()

    def _after_sim(self) -> None:
        for text in ("AT+CLIP=1", "AT+CREG=2", "AT+CMGF=0", "AT+CNMI=2,1,0,0,0",
                     *self.profile.init, "AT+COPS=3,0"):
            self._cmd(text, 5)
        self._poll_status(then=self._init_done)

    def _init_done(self) -> None:
        self._next_poll = self._clock() + self._poll_interval
        self._fire(E.INIT_DONE)

    def _poll_status(self, then: Callable[[], None] | None = None) -> None:
        self._cmd("AT+CSQ", 5, expect="+CSQ", done=self._on_csq)
        self._cmd("AT+CREG?", 5, expect="+CREG", done=self._on_creg)
        self._cmd("AT+COPS?", 10, expect="+COPS",
                  done=lambda c: (self._on_cops(c), then() if then else None))

    def _on_csq(self, cmd: Command) -> None:
        self._status_from(cmd, lambda line: {"signal_dbm": parse_csq(line).dbm})

    def _on_creg(self, cmd: Command) -> None:
        self._status_from(cmd, lambda line: {"registered": parse_creg(line).registered})

    def _on_cops(self, cmd: Command) -> None:
        self._status_from(cmd, lambda line: {"operator": parse_cops(line).name})

    def _status_from(self, cmd: Command, read: Callable[[str], dict[str, object]]) -> None:
        """The status as a polled reply tells it; a line that does not parse changes nothing."""
        for line in cmd.lines:
            try:
                self._set_status(**read(line))
            except ModemReplyError as exc:
                log.debug("%s: %s", self.name, exc)

    # --- notifications -----------------------------------------------------------------

    def _on_urc(self, urc: Unsolicited) -> None:
        name = urc.name.upper()
        try:
            handler = self._URC_HANDLERS.get(name)
            if handler is not None:
                handler(self, urc)
        except ModemReplyError as exc:
            log.info("%s: unparsable %r: %s", self.name, urc.raw, exc)

    def _on_ring(self, urc: Unsolicited) -> None:
        if self._ring():
            self._rings = 0
            if not self.profile.sends_clip:
                self._cmd("AT+CLCC", 5, expect="+CLCC", done=self._on_clcc_ringing)
        if self.state != S.RINGING:
            return
        self._rings += 1
        if self._rings >= 2 and not self._announced:
            self._announce("")  # no caller id after a full ring cycle: withheld

    def _on_clip(self, urc: Unsolicited) -> None:
        if self.state == S.RINGING and not self._announced:
            self._announce(parse_clip(urc.raw).number)

    def _on_clcc_ringing(self, cmd: Command) -> None:
        for call in parse_clcc(cmd.lines):
            if call.stat in (4, 5) and self.state == S.RINGING and not self._announced:
                self._announce(call.number)

    def _announce(self, number: str) -> None:
        self._announced = True
        self._notices.append(IncomingCall(number))

    def _on_connected_urc(self, urc: Unsolicited) -> None:
        if name_is(urc, "VOICE CALL") and not urc.args.upper().startswith("BEGIN"):
            return self._on_call_end_urc(urc)
        if self.state == S.DIALING:
            self._talking("out")

    def _on_call_end_urc(self, urc: Unsolicited) -> None:
        cause = "remote_hangup"
        if name_is(urc, "^CEND"):
            fields = split_args(urc.args)
            if len(fields) >= 4 and fields[3].isdigit():
                code = int(fields[3])
                cause = "remote_hangup" if code == 16 else CEND_CAUSES.get(code, f"cause_{code}")
        if name_is(urc, "MISSED_CALL") or self.state == S.RINGING:
            cause = "missed"
        if self._hanging_up:
            cause = "local_hangup"
        self._end_call(cause)

    def _on_stray_final(self, result: FinalResult) -> None:
        causes = {FinalKind.NO_CARRIER: "remote_hangup", FinalKind.BUSY: "busy",
                  FinalKind.NO_ANSWER: "no_answer", FinalKind.NO_DIALTONE: "no_network"}
        if result.kind in causes and self.state in IN_CALL:
            self._end_call("missed" if self.state == S.RINGING else causes[result.kind])

    def _on_cmti(self, urc: Unsolicited) -> None:
        fields = split_args(urc.args)
        if len(fields) >= 2 and fields[1].isdigit():
            index = int(fields[1])
            self._cmd(f"AT+CMGR={index}", 10, done=lambda c: self._on_cmgr(c, index))

    def _on_cmgr(self, cmd: Command, index: int) -> None:
        if not cmd.ok:
            return self._error("sms_read_failed", cmd.result.text if cmd.result else "timeout")
        try:
            sms = decode_pdu_sms(cmgr_pdu(cmd.lines))
        except ModemReplyError as exc:
            self._error("sms_undecodable", f"{exc}: {cmd.lines!r}")
        else:
            self._collect_sms(sms)
        self._cmd(f"AT+CMGD={index}", 10)

    def _collect_sms(self, sms) -> None:
        if sms.concat is None or sms.concat.total <= 1:
            self._notices.append(SmsReceived(sms.number, sms.text, sms.time))
            return
        key = (sms.number, sms.concat.ref)
        parts = self._sms_parts.setdefault(key, {})
        parts[sms.concat.seq] = sms.text
        if len(parts) == sms.concat.total:
            del self._sms_parts[key]
            text = "".join(parts[i] for i in sorted(parts))
            self._notices.append(SmsReceived(sms.number, text, sms.time))

    def _on_cusd(self, urc: Unsolicited) -> None:
        ussd = parse_cusd(urc.raw)
        self._notices.append(UssdResult(ussd.text, ussd.status))

    def _on_creg_urc(self, urc: Unsolicited) -> None:
        self._set_status(registered=parse_creg(urc.raw).registered)

    def _on_rssi(self, urc: Unsolicited) -> None:
        value = int(urc.args) if urc.args.strip().isdigit() else 99
        self._set_status(signal_dbm=None if value == 99 else -113 + 2 * value)

    def _on_dtmf(self, urc: Unsolicited) -> None:
        digit = split_args(urc.args)[0].strip()[:1]
        if digit and self.state == S.TALKING:
            self._notices.append(DtmfReceived(digit))

    _URC_HANDLERS: dict[str, Callable[["GsmLine", Unsolicited], None]] = {
        "RING": _on_ring, "+CRING": _on_ring, "+CLIP": _on_clip,
        "^CONN": _on_connected_urc, "VOICE CALL": _on_connected_urc,
        "^CEND": _on_call_end_urc, "MISSED_CALL": _on_call_end_urc,
        "+CMTI": _on_cmti, "+CUSD": _on_cusd, "+CREG": _on_creg_urc,
        "^RSSI": _on_rssi, "+RXDTMF": _on_dtmf, "+DTMF": _on_dtmf, "^DTMF": _on_dtmf,
    }

    # --- calls -----------------------------------------------------------------------------

    def _talking(self, direction: str) -> None:
        if self._fire(E.ANSWERED):
            self._notices.append(CallAnswered(direction))
            for text in self.profile.on_connect:
                self._cmd(text, 5)

    def _end_call(self, cause: str) -> bool:
        was_talking = self.state == S.TALKING
        if not super()._end_call(cause):
            return False
        self._hanging_up = False
        if was_talking:
            for text in self.profile.on_end:
                self._cmd(text, 5)
        return True

    def _on_clcc_poll(self, cmd: Command) -> None:
        if not cmd.ok:
            return
        calls = [c for c in parse_clcc(cmd.lines) if c.mode == 0]
        if not calls:
            self._end_call("remote_hangup")
        elif self.state == S.DIALING and any(c.stat == 0 for c in calls):
            self._talking("out")

    def answer(self) -> None:
        self._check_ringing()
        self._cmd("ATA", 15, call_progress=True, done=self._on_ata)

    def _on_ata(self, cmd: Command) -> None:
        if cmd.ok:
            self._talking("in")
        else:
            self._end_call("missed")

    def dial(self, number: str) -> None:
        self._dial(number, _NUMBER, f"ATD{number};", 30, done=self._on_atd)

    def _on_atd(self, cmd: Command) -> None:
        if not cmd.ok and self.state == S.DIALING:
            kind = cmd.result.kind if cmd.result else None
            cause = {FinalKind.BUSY: "busy", FinalKind.NO_ANSWER: "no_answer",
                     FinalKind.NO_CARRIER: "no_answer"}.get(kind, "dial_failed")
            self._end_call(cause)

    def hangup(self) -> None:
        if self.state not in IN_CALL:
            return
        self._hanging_up = True
        self._cmd("AT+CHUP", 10, done=lambda c: self._end_call("local_hangup"))

    def send_dtmf(self, digits: str) -> None:
        if not digits or any(d not in "0123456789*#ABCD" for d in digits):
            raise ValidationError(f"not DTMF digits: {digits!r}")
        if self.state != S.TALKING:
            raise Conflict("DTMF needs a call in progress")
        for d in digits:
            self._cmd(f"AT+VTS={d}", 5)

    def send_sms(self, number: str, text: str) -> None:
        if not _NUMBER.match(number):
            raise ValidationError(f"not a phone number: {number!r}")
        if self.state in (S.GONE, S.STARTING, S.SIM_PROBLEM):
            raise Conflict(f"the line cannot send SMS now (line is {self.state})")
        parts = encode_pdu_sms(number, text)
        sent: list[Command] = []

        def on_part(cmd: Command) -> None:
            sent.append(cmd)
            failed = [c for c in sent if not c.ok]
            if failed and len(failed) == 1 and cmd is failed[0]:
                error = cmd.result.text if cmd.result else "timeout"
                self._notices.append(SmsSent(number, False, error))
            elif not failed and len(sent) == len(parts):
                self._notices.append(SmsSent(number, True))
        for part in parts:
            self._cmd(f"AT+CMGS={part.tpdu_length}", 60, expect="+CMGS",
                      body=part.hex.encode(), done=on_part)

    def ussd(self, code: str) -> None:
        if not _USSD.match(code):
            raise ValidationError(f"not a USSD code: {code!r}")
        if self.state in (S.GONE, S.STARTING, S.SIM_PROBLEM):
            raise Conflict(f"the line cannot send USSD now (line is {self.state})")
        self._cmd(f'AT+CUSD=1,"{code}",15', 15, done=self._on_cusd_sent)

    def _on_cusd_sent(self, cmd: Command) -> None:
        if not cmd.ok:
            self._error("ussd_failed", cmd.result.text if cmd.result else "timeout")


def pin_digest(pin: str) -> str:
    """What is remembered of a refused PIN (never the PIN itself)."""
    return hashlib.sha256(f"callbox-sim-pin:{pin}".encode()).hexdigest()


def name_is(urc: Unsolicited, name: str) -> bool:
    return urc.name.upper() == name


class GsmDriver(LineRunner):
    """A GSM line on a serial port: `GsmDriver("/dev/ttyUSB2", profile="huawei").start()`.

    `pin_memory` is a file that remembers a refused PIN across restarts of the box,
    so that a wrong PIN in the settings costs the SIM one try, not one per boot."""

    def __init__(self, port: str, *, profile: VendorProfile | str = "generic",
                 pin: str | None = None, clock: Callable[[], float] = time.monotonic,
                 poll_interval: float = 15.0, pin_memory: str | None = None,
                 **runner_options: object):
        self._pin_memory = pin_memory
        self._saved_refusal = _read_text(pin_memory)
        core = GsmLine(profile=profile, pin=pin, clock=clock, poll_interval=poll_interval,
                       name=port, refused_pin=self._saved_refusal)
        super().__init__(core, port, **runner_options)  # type: ignore[arg-type]

    def _flush(self) -> None:
        super()._flush()
        if self._pin_memory and self.line.refused_pin != self._saved_refusal:
            _write_text(self._pin_memory, self.line.refused_pin)
            self._saved_refusal = self.line.refused_pin

    line: GsmLine

    def send_dtmf(self, digits: str) -> None:
        self._do(lambda: self.line.send_dtmf(digits))

    def send_sms(self, number: str, text: str) -> None:
        self._do(lambda: self.line.send_sms(number, text))

    def ussd(self, code: str) -> None:
        self._do(lambda: self.line.ussd(code))

    def set_pin(self, pin: str | None) -> None:
        self._do(lambda: self.line.set_pin(pin))


def _read_text(path: str | None) -> str | None:
    if not path:
        return None
    try:
        with open(path, encoding="ascii") as f:
            return f.read().strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _write_text(path: str, value: str | None) -> None:
    """Atomically: the power may go at any moment."""
    atomic_write_bytes(Path(path), (value or "").encode("ascii"))
