"""A GSM modem on a pseudo-terminal, speaking a Huawei-like or SIMCom-like dialect.

Used by `callbox demo` and by the tests: the driver opens `modem.port` with
pyserial exactly as it would open /dev/ttyUSB2, and the test tells a story:

    modem.ring(caller="+48601234567")
    ...driver answers...
    modem.remote_hangup()

What the dialects differ in is what real modems differ in: how a call's
start and end are announced (^CONN/^CEND versus VOICE CALL: BEGIN/END),
how the ring looks (RING versus +CRING: VOICE), how USSD text is coded
(packed 7-bit hex versus plain text) and which command starts the audio
(AT^DDSETEX=2 versus AT+CPCMREG=1).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from dataclasses import dataclass
from enum import StrEnum

from appliance.lines.pdu import SmsPdu, decode_pdu_sms, encode_deliver_pdu, encode_gsm7_packed_hex
from appliance.lines.sim_pty import AudioPump, PtyPort, SimulatedModem, tone_frames

log = logging.getLogger(__name__)


class Dialect(StrEnum):
    HUAWEI = "huawei"
    SIMCOM = "simcom"


class SimCard(StrEnum):
    READY = "READY"
    PIN = "SIM PIN"
    PUK = "SIM PUK"


IDENTITY = {
    Dialect.HUAWEI: ("huawei", "E1752", "11.126.13.00.00", "+GCAP: +CGSM,+DS,+ES"),
    Dialect.SIMCOM: ("SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H", "SIM7600M22_V1.1", "+GCAP: +CGSM"),
}


@dataclass
class SimCall:
    idx: int
    dir: int      # 0 outgoing, 1 incoming
    stat: int     # 27.007 +CLCC stat: 0 active, 2 dialing, 3 alerting, 4 incoming
    number: str


class GsmModemSim(SimulatedModem):
    def __init__(self, port: str, *, dialect: str = "huawei", pin: str | None = None,
                 audio_port: str | None = None, operator: str = "Plus", rssi: int = 20,
                 ring_interval: float = 3.0, ussd_replies: dict[str, str] | None = None):
        self.dialect = Dialect(dialect)
        self.port = port
        self.audio_port = audio_port
        self.pin = pin
        self.operator = operator
        self.rssi = rssi
        self.ring_interval = ring_interval
        self.ussd_replies = ussd_replies or {"*100#": "Your balance is 12.50 PLN"}
        self.commands_seen: list[str] = []
        self.calls_made: list[str] = []
        self.dtmf_sent: list[str] = []
        self.sms_sent: list[SmsPdu] = []
        self.pin_tries_left = 3
        self.sim = SimCard.PIN if pin else SimCard.READY
        self._lock = threading.RLock()
        self._buf = bytearray()
        self._sms_body: int | None = None   # TPDU length while collecting an SMS body
        self._store: dict[int, str] = {}
        self._next_mr = 1
        self.call: SimCall | None = None
        self._ring_stop = threading.Event()
        self._tty = PtyPort(port, self._on_bytes)
        self._audio_tty = PtyPort(audio_port, self._on_audio) if audio_port else None
        self._pump = AudioPump(self._audio_tty.write) if self._audio_tty else None
        self._ports = [self._tty] + ([self._audio_tty] if self._audio_tty else [])
        self._power_on_defaults()

    # --- lifecycle (start, stop: SimulatedModem) ------------------------------

    def _power_on_defaults(self) -> None:
        self.echo = True
        self.cmee = 0
        self.clip = False
        self.creg_n = 0
        self.cnmi_mt = 0
        self.audio_enabled = False
        if self.sim == SimCard.READY and self.pin:
            self.sim = SimCard.PIN  # the SIM asks again after a power cycle

    # --- stories ---------------------------------------------------------------

    def ring(self, caller: str = "+48601234567", *, withheld: bool = False) -> None:
        with self._lock:
            self.call = SimCall(1, 1, 4, "" if withheld else caller)
            self._ring_stop = threading.Event()
            stop = self._ring_stop
        threading.Thread(target=self._ring_loop, args=(stop, withheld), daemon=True).start()

    def _ring_loop(self, stop: threading.Event, withheld: bool) -> None:
        while not stop.is_set():
            with self._lock:
                if self.call is None or self.call.stat != 4:
                    return
                ring = "+CRING: VOICE" if self.dialect == Dialect.SIMCOM else "RING"
                lines = [ring]
                if self.clip:
                    lines.append('+CLIP: "",128,,,,1' if withheld
                                 else f'+CLIP: "{self.call.number}",145,,,,0')
                self._urc(*lines)
            stop.wait(self.ring_interval)

    def remote_answer(self) -> None:
        with self._lock:
            if self.call is None or self.call.dir != 0:
                raise RuntimeError("no outgoing call to answer")
            self.call.stat = 0
            self._urc("^CONN:1,0" if self.dialect == Dialect.HUAWEI else "VOICE CALL: BEGIN")
            self._maybe_start_audio()

    def remote_hangup(self) -> None:
        with self._lock:
            if self.call is None:
                raise RuntimeError("no call to hang up")
            was_ringing = self.call.stat == 4
            number = self.call.number
            self._drop_call()
            if self.dialect == Dialect.HUAWEI:
                self._urc("^CEND:1,0,104,16")
            elif was_ringing:
                self._urc(f"MISSED_CALL: 08:12PM {number}", "NO CARRIER")
            else:
                self._urc("VOICE CALL: END: 000012", "NO CARRIER")

    def remote_busy(self) -> None:
        with self._lock:
            self._drop_call()
            if self.dialect == Dialect.HUAWEI:
                self._urc("^CEND:1,0,104,17")
            self._urc("BUSY")

    def send_dtmf(self, digit: str) -> None:
        """The far end presses a key (reported as +RXDTMF, the SIMCom/Quectel form)."""
        self._urc(f"+RXDTMF: {digit}")

    def deliver_sms(self, sender: str, text: str, when: dt.datetime | None = None) -> list[int]:
        when = when or dt.datetime(2024, 3, 21, 14, 5, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
        indexes = []
        with self._lock:
            for pdu in encode_deliver_pdu(sender, text, when):
                idx = max(self._store, default=0) + 1
                self._store[idx] = pdu
                indexes.append(idx)
                if self.cnmi_mt == 1:
                    self._urc(f'+CMTI: "SM",{idx}')
        return indexes

    @property
    def stored_sms(self) -> dict[int, str]:
        return dict(self._store)

    def set_signal(self, rssi: int) -> None:
        with self._lock:
            self.rssi = rssi
            if self.dialect == Dialect.HUAWEI:
                self._urc(f"^RSSI:{rssi}")

    def emit_garbage(self, data: bytes) -> None:
        self._tty.write(data)

    def remote_plays_tone(self, hz: float) -> None:
        if self._pump:
            self._pump.tone = tone_frames(hz)

    def received_audio(self) -> bytes:
        return self._pump.received() if self._pump else b""

    def unplug(self) -> None:
        """Pull the stick: the driver's reads fail with EIO, the device path vanishes."""
        with self._lock:
            self._ring_stop.set()
            self.call = None
            if self._pump:
                self._pump.stop()
            self._buf.clear()
            self._sms_body = None
            self._power_on_defaults()
        self._tty.unplug()
        if self._audio_tty:
            self._audio_tty.unplug()

    def replug(self) -> None:
        self.start()

    @property
    def sim_locked(self) -> bool:
        return self.sim == SimCard.PUK

    @property
    def pin_attempts(self) -> list[str]:
        return [c for c in self.commands_seen if c.upper().startswith("AT+CPIN=")]

    # --- bytes in ----------------------------------------------------------------

    def _on_audio(self, data: bytes) -> None:
        if self._pump and self.audio_enabled and self.call and self.call.stat == 0:
            self._pump.record(data)

    def _on_bytes(self, data: bytes) -> None:
        with self._lock:
            if self.echo and self._sms_body is None:
                self._tty.write(data)
            self._buf += data
            while True:
                if self._sms_body is not None:
                    end = next((i for i, b in enumerate(self._buf) if b in (0x1A, 0x1B)), -1)
                    if end < 0:
                        return
                    body, terminator = bytes(self._buf[:end]), self._buf[end]
                    del self._buf[:end + 1]
                    self._finish_sms(body, terminator == 0x1A)
                    continue
                cr = self._buf.find(b"\r")
                if cr < 0:
                    if len(self._buf) > 4096:
                        self._buf.clear()
                    return
                line = bytes(self._buf[:cr]).decode("latin-1").strip("\n\x00 ")
                del self._buf[:cr + 1]
                if line:
                    self._command(line)

    def _send(self, *lines: str) -> None:
        self._tty.write(b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines))

    _urc = _send

    def _ok(self, *lines: str) -> None:
        self._send(*lines, "OK")

    def _cme(self, code: int, text: str) -> None:
        if self.cmee == 0:
            self._send("ERROR")
        elif self.cmee == 1:
            self._send(f"+CME ERROR: {code}")
        else:
            self._send(f"+CME ERROR: {text}")

    def _error(self) -> None:
        self._send("COMMAND NOT SUPPORT" if self.dialect == Dialect.HUAWEI else "ERROR")

    def _command(self, line: str) -> None:
        self.commands_seen.append(line)
        upper = line.upper()
        if not upper.startswith("AT"):
            return self._error()
        for pattern, handler in self._HANDLERS:
            m = re.fullmatch(pattern, line, re.I)
            if m:
                return handler(self, *m.groups())
        self._error()

    def _sim_ready(self) -> bool:
        if self.sim == SimCard.READY:
            return True
        self._cme(11 if self.sim == SimCard.PIN else 12,
                  "SIM PIN required" if self.sim == SimCard.PIN else "SIM PUK required")
        return False

    # --- command handlers ----------------------------------------------------------

    def _at(self) -> None:
        self._ok()

    def _atz(self) -> None:
        self.echo, self.cmee, self.clip, self.creg_n, self.cnmi_mt = True, 0, False, 0, 0
        self._ok()

    def _ate(self, value: str) -> None:
        self.echo = value == "1"
        self._ok()

    def _cmee(self, value: str) -> None:
        self.cmee = int(value)
        self._ok()

    def _cpin_query(self) -> None:
        self._ok(f"+CPIN: {self.sim.value}")

    def _cpin_set(self, pin: str, _new: str | None) -> None:
        if self.sim == SimCard.PUK:
            return self._cme(12, "SIM PUK required")
        if self.sim == SimCard.READY:
            return self._cme(3, "operation not allowed")
        if pin == self.pin:
            self.sim = SimCard.READY
            self.pin_tries_left = 3
            self._ok()
            self._urc("+CPIN: READY" if self.dialect == Dialect.SIMCOM else "^SIMST:1")
            if self.creg_n:
                self._urc(self._creg_urc())
            return
        self.pin_tries_left -= 1
        if self.pin_tries_left <= 0:
            self.sim = SimCard.PUK
        self._cme(16, "incorrect password")

    def _clip(self, value: str) -> None:
        self.clip = value == "1"
        self._ok()

    def _creg_set(self, value: str) -> None:
        self.creg_n = int(value)
        self._ok()

    def _registered(self) -> int:
        return 1 if self.sim == SimCard.READY else 0

    def _creg_urc(self) -> str:
        if self.creg_n == 2:
            return f'+CREG: {self._registered()},"00C3","1A2B"'
        return f"+CREG: {self._registered()}"

    def _creg_query(self) -> None:
        extra = ',"00C3","1A2B"' if self.creg_n == 2 and self._registered() else ""
        self._ok(f"+CREG: {self.creg_n},{self._registered()}{extra}")

    def _csq(self) -> None:
        self._ok(f"+CSQ: {self.rssi},99")

    def _cops_query(self) -> None:
        if self._registered():
            self._ok(f'+COPS: 0,0,"{self.operator}",2')
        else:
            self._ok("+COPS: 0")

    def _simple_ok(self, *_: str) -> None:
        self._ok()

    def _cnmi(self, mode: str, mt: str) -> None:
        self.cnmi_mt = int(mt)
        self._ok()

    def _cmgr(self, index: str) -> None:
        if not self._sim_ready():
            return
        pdu = self._store.get(int(index))
        if pdu is None:
            return self._send("+CMS ERROR: 321")
        tpdu_len = len(pdu) // 2 - 1 - int(pdu[:2], 16)
        self._ok(f"+CMGR: 0,,{tpdu_len}", pdu)

    def _cmgd(self, index: str) -> None:
        self._store.pop(int(index), None)
        self._ok()

    def _cmgs(self, length: str) -> None:
        if not self._sim_ready():
            return
        self._sms_body = int(length)
        self._tty.write(b"\r\n> ")

    def _finish_sms(self, body: bytes, send: bool) -> None:
        self._sms_body = None
        if not send:
            return self._ok()
        try:
            self.sms_sent.append(decode_pdu_sms(body.decode("ascii")))
        except (ValueError, UnicodeDecodeError):
            return self._send("+CMS ERROR: 304")
        mr, self._next_mr = self._next_mr, self._next_mr + 1
        self._ok(f"+CMGS: {mr}")

    def _cusd(self, mode: str, code: str, dcs: str | None) -> None:
        if not self._sim_ready():
            return
        self._ok()
        reply = self.ussd_replies.get(code, "Unknown service code")
        if self.dialect == Dialect.HUAWEI:
            urc = f'+CUSD: 0,"{encode_gsm7_packed_hex(reply)}",15'
        else:
            urc = f'+CUSD: 0,"{reply}",15'
        threading.Timer(0.05, self._urc, args=(urc,)).start()

    def _ata(self) -> None:
        if self.call is None or self.call.stat != 4:
            return self._send("NO CARRIER")
        self._ring_stop.set()
        self.call.stat = 0
        self._ok()
        self._urc("^CONN:1,1" if self.dialect == Dialect.HUAWEI else "VOICE CALL: BEGIN")
        self._maybe_start_audio()

    def _atd(self, number: str) -> None:
        if not self._sim_ready():
            return
        if self.call is not None:
            return self._cme(3, "operation not allowed")
        self.calls_made.append(number)
        self.call = SimCall(1, 0, 2, number)
        self._ok()
        if self.dialect == Dialect.HUAWEI:
            self.call.stat = 3
            self._urc("^ORIG:1,0", "^CONF:1")

    def _chup(self) -> None:
        had_call = self.call is not None
        self._drop_call()
        self._ok()
        if had_call:
            self._urc("^CEND:1,0,104,16" if self.dialect == Dialect.HUAWEI
                      else "VOICE CALL: END: 000005")

    def _vts(self, digit: str) -> None:
        if self.call is None or self.call.stat != 0:
            return self._cme(3, "operation not allowed")
        self.dtmf_sent.append(digit.strip('"'))
        self._ok()

    def _clcc(self) -> None:
        lines = []
        if self.call is not None:
            c = self.call
            lines.append(f'+CLCC: {c.idx},{c.dir},{c.stat},0,0,"{c.number}",{145 if c.number.startswith("+") else 129}')
        self._ok(*lines)

    def _ati(self) -> None:
        maker, model, rev, gcap = IDENTITY[self.dialect]
        self._ok(f"Manufacturer: {maker}", f"Model: {model}", f"Revision: {rev}",
                 "IMEI: 356812034567891", gcap)

    def _cgmi(self) -> None:
        self._ok(IDENTITY[self.dialect][0])

    def _cgmm(self) -> None:
        self._ok(IDENTITY[self.dialect][1])

    def _ddsetex(self, value: str) -> None:
        if self.dialect != Dialect.HUAWEI:
            return self._error()
        self.audio_enabled = True
        self._ok()
        self._maybe_start_audio()

    def _cvoice(self) -> None:
        if self.dialect != Dialect.HUAWEI:
            return self._error()
        self._ok("^CVOICE:0,8000,16,20")

    def _cpcmreg(self, value: str) -> None:
        if self.dialect != Dialect.SIMCOM:
            return self._error()
        self.audio_enabled = value == "1"
        self._ok()
        if self.audio_enabled:
            self._maybe_start_audio()
        elif self._pump:
            self._pump.stop()

    def _maybe_start_audio(self) -> None:
        if self._pump and self.audio_enabled and self.call and self.call.stat == 0:
            self._pump.start()

    def _drop_call(self) -> None:
        self._ring_stop.set()
        self.call = None
        if self.dialect == Dialect.SIMCOM:
            self.audio_enabled = False
        if self._pump:
            self._pump.stop()

    _HANDLERS = [
        (r"AT", _at),
        (r"ATZ", _atz),
        (r"ATE([01])", _ate),
        (r"AT\+CMEE=([012])", _cmee),
        (r"AT\+CPIN\?", _cpin_query),
        (r'AT\+CPIN="?([0-9]+)"?(?:,"?([0-9]+)"?)?', _cpin_set),
        (r"AT\+CLIP=([01])", _clip),
        (r"AT\+CREG=([012])", _creg_set),
        (r"AT\+CREG\?", _creg_query),
        (r"AT\+CSQ", _csq),
        (r"AT\+COPS\?", _cops_query),
        (r"AT\+COPS=3,0", _simple_ok),
        (r"AT\+CMGF=0", _simple_ok),
        (r"AT\+CNMI=(\d),(\d)(?:,\d)*", _cnmi),
        (r"AT\+CMGR=(\d+)", _cmgr),
        (r"AT\+CMGD=(\d+)", _cmgd),
        (r"AT\+CMGS=(\d+)", _cmgs),
        (r'AT\+CUSD=(1),"([^"]*)"(?:,(\d+))?', _cusd),
        (r"ATA", _ata),
        (r"ATD([+0-9*#]+);", _atd),
        (r"AT\+CHUP|ATH0?", _chup),
        (r'AT\+VTS="?([0-9*#A-D])"?', _vts),
        (r"AT\+CLCC", _clcc),
        (r"ATI", _ati),
        (r"AT\+CGMI", _cgmi),
        (r"AT\+CGMM", _cgmm),
        (r"AT\^DDSETEX=(\d)", _ddsetex),
        (r"AT\^CVOICE\?", _cvoice),
        (r"AT\+CLCC=[01]", _simple_ok),
        (r"AT\+CPCMREG=([01])", _cpcmreg),
    ]
