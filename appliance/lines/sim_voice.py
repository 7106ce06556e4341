"""A V.253 voice modem (Conexant-like) on an analog line, on a pseudo-terminal.

    modem.ring(caller="0123456789", name="JOHN")   # RING, caller id, RING ...
    ...driver goes off-hook and starts full-duplex voice (AT+VTR)...
    modem.send_dtmf("5")                           # DLE 5 in the audio stream
    modem.remote_hangs_up()                        # the exchange plays busy: DLE b

Audio flows in-band, DLE-shielded both ways, paced at real time.
"""

from __future__ import annotations

import logging
import re
import threading

from appliance.lines.dle import DleDecoder, Tone, dle_encode
from appliance.lines.sim_pty import AudioPump, PtyPort, SimulatedModem, tone_frames

log = logging.getLogger(__name__)

# What a Conexant CX93001 answers to AT+VSM=? (long V.253 form), plus the 16-bit
# linear mode that the HSF variants offer.
VSM_LIST = (
    '0,"SIGNED PCM",8,0,(7200,8000,11025),(0),(0)',
    '1,"UNSIGNED PCM",8,0,(7200,8000,11025),(0),(0)',
    '4,"G711U",8,0,(7200,8000,11025),(0),(0)',
    '5,"G711A",8,0,(7200,8000,11025),(0),(0)',
    '130,"16-BIT LINEAR",16,0,(8000),(0),(0)',
)
_BITS = {0: 8, 1: 8, 4: 8, 5: 8, 130: 16}


class VoiceModemSim(SimulatedModem):
    def __init__(self, port: str, *, ring_interval: float = 1.0):
        self.port = port
        self.ring_interval = ring_interval
        self.commands_seen: list[str] = []
        self.calls_made: list[str] = []
        self._lock = threading.RLock()
        self._buf = bytearray()
        self._ring_stop = threading.Event()
        self._tty = PtyPort(port, self._on_bytes)
        self._pump = AudioPump(lambda frame: self._tty.write(dle_encode(frame)))
        self._ports = [self._tty]
        self._decoder = DleDecoder(stop_at_end=True)
        self._power_on()

    def _power_on(self) -> None:
        self.echo = True
        self.fclass = 0
        self.vcid = 0
        self.format = 1
        self.off_hook = False
        self.streaming = False
        self.ringing = False

    # --- lifecycle ---------------------------------------------------------------

    def unplug(self) -> None:
        with self._lock:
            self._ring_stop.set()
            self._pump.stop()
            self._buf.clear()
            self._power_on()
        self._tty.unplug()

    def replug(self) -> None:
        self.start()

    # --- stories ------------------------------------------------------------------

    def ring(self, caller: str = "0123456789", name: str = "", *, date: str = "0321",
             time: str = "1405") -> None:
        with self._lock:
            self.ringing = True
            self._ring_stop = threading.Event()
            stop = self._ring_stop
        threading.Thread(target=self._ring_loop, args=(stop, caller, name, date, time),
                         daemon=True).start()

    def _ring_loop(self, stop: threading.Event, caller: str, name: str, date: str,
                   time: str) -> None:
        first = True
        while not stop.is_set():
            with self._lock:
                if self.off_hook or not self.ringing:
                    return
                self._send("RING")
                if first and self.vcid:
                    # Caller id (Bellcore MDMF) arrives between the first and second ring.
                    lines = [f"DATE = {date}", f"TIME = {time}", f"NMBR = {caller or 'P'}"]
                    if name:
                        lines.append(f"NAME = {name}")
                    self._send(*lines)
                first = False
            stop.wait(self.ring_interval)

    def stop_ringing(self) -> None:
        with self._lock:
            self.ringing = False
            self._ring_stop.set()

    def send_dtmf(self, digit: str) -> None:
        """The caller presses a key; the modem reports it in-band as DLE <digit>."""
        self._in_band(digit)

    def remote_hangs_up(self) -> None:
        """The caller hung up: the exchange plays a busy tone, reported as DLE b."""
        self._in_band(Tone.BUSY.value)

    def dial_tone(self) -> None:
        self._in_band(Tone.DIAL_TONE.value)

    def _in_band(self, code: str) -> None:
        with self._lock:
            if not self.streaming:
                raise RuntimeError("the line is not in voice data mode")
            self._tty.write(b"\x10" + code.encode())

    def remote_plays(self, audio: bytes) -> None:
        """Raw audio (in the chosen format) that the far end sends, frame by frame."""
        self._pump.queue(audio)

    def remote_plays_tone(self, hz: float) -> None:
        self._pump.tone = tone_frames(hz, bits=_BITS.get(self.format, 8))

    def received_audio(self) -> bytes:
        return self._pump.received()

    @property
    def frame_bytes(self) -> int:
        return 320 if _BITS.get(self.format, 8) == 16 else 160

    # --- bytes in -------------------------------------------------------------------

    def _on_bytes(self, data: bytes) -> None:
        with self._lock:
            if self.streaming:
                audio, events = self._decoder.feed(data)
                self._pump.record(audio)
                if any(getattr(e, "tone", None) in (Tone.ABORT, Tone.END) for e in events):
                    self._end_stream()
                    data = self._decoder.remainder
                else:
                    return
            if self.echo:
                self._tty.write(data)
            self._buf += data
            while (cr := self._buf.find(b"\r")) >= 0:
                line = bytes(self._buf[:cr]).decode("latin-1").strip("\n\x00 ")
                del self._buf[:cr + 1]
                if line:
                    self._command(line)
                if self.streaming:
                    self._buf.clear()
                    return

    def _end_stream(self) -> None:
        self._pump.stop()
        self.streaming = False
        self._tty.write(b"\x10\x03\r\nOK\r\n")

    def _send(self, *lines: str) -> None:
        self._tty.write(b"".join(b"\r\n" + line.encode() + b"\r\n" for line in lines))

    def _ok(self, *lines: str) -> None:
        self._send(*lines, "OK")

    def _command(self, line: str) -> None:
        self.commands_seen.append(line)
        for pattern, handler in self._HANDLERS:
            m = re.fullmatch(pattern, line, re.I)
            if m:
                return handler(self, *m.groups())
        self._send("ERROR")

    def _at(self) -> None:
        self._ok()

    def _atz(self) -> None:
        self.echo, self.fclass, self.vcid = True, 0, 0
        self._hang_up()
        self._ok()

    def _ate(self, value: str) -> None:
        self.echo = value == "1"
        self._ok()

    def _ati(self) -> None:
        self._ok("CX93001-EIS_V0.2002-V92")

    def _gmi(self) -> None:
        self._ok("CONEXANT")

    def _gmm(self) -> None:
        self._ok("CX93001")

    def _fclass_query(self) -> None:
        self._ok(str(self.fclass))

    def _fclass_list(self) -> None:
        self._ok("0,1,1.0,2,8")

    def _fclass(self, value: str) -> None:
        self.fclass = int(value)
        self._ok()

    def _vcid(self, value: str) -> None:
        self.vcid = int(value)
        self._ok()

    def _vsm_list(self) -> None:
        self._ok(*VSM_LIST)

    def _vsm(self, code: str, rate: str | None) -> None:
        if int(code) not in _BITS or (rate and rate != "8000" and int(code) == 130):
            return self._send("ERROR")
        self.format = int(code)
        self._pump.frame_bytes = self.frame_bytes
        self._pump.silence = (b"\x00" if _BITS[self.format] == 16 else b"\x80") * self.frame_bytes
        self._ok()

    def _vls(self, value: str) -> None:
        if self.fclass != 8:
            return self._send("ERROR")
        if value == "0":
            self._hang_up()
        else:
            self.off_hook = True
            self.ringing = False
            self._ring_stop.set()
        self._ok()

    def _vtr(self, _what: str) -> None:
        if self.fclass != 8 or not self.off_hook:
            return self._send("ERROR")
        self._send("CONNECT")
        self.streaming = True
        self._decoder = DleDecoder(stop_at_end=True)
        self._pump.start()

    def _atd(self, number: str) -> None:
        if self.fclass != 8:
            return self._send("NO CARRIER")
        self.calls_made.append(number)
        self.off_hook = True
        self._send("VCON")

    def _ath(self) -> None:
        self._hang_up()
        self._ok()

    def _hang_up(self) -> None:
        self.off_hook = False
        self.streaming = False
        self._pump.stop()

    _HANDLERS = [
        (r"AT", _at),
        (r"ATZ", _atz),
        (r"ATE([01])", _ate),
        (r"ATI[0-9]?", _ati),
        (r"AT\+GMI", _gmi),
        (r"AT\+GMM", _gmm),
        (r"AT\+FCLASS\?", _fclass_query),
        (r"AT\+FCLASS=\?", _fclass_list),
        (r"AT\+FCLASS=(0|1|1\.0|2|8)", _fclass),
        (r"AT\+VCID=([012])", _vcid),
        (r"AT\+VSM=\?", _vsm_list),
        (r"AT\+VSM=(\d+)(?:,(\d+))?(?:,\d+)*", _vsm),
        (r"AT\+VLS=([01])", _vls),
        (r"AT\+V(TR|TX|RX)", _vtr),
        (r"ATDT?([0-9*#,WP]+);?", _atd),
        (r"ATH0?", _ath),
    ]
