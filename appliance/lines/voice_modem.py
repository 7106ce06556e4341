"""The analog line: a USB voice modem driven with ITU-T V.253 commands.

`VoiceLine` is the pure core; `VoiceModemDriver` runs it on a serial port.
While a call is up the port carries DLE-shielded audio both ways (AT+VTR),
so bytes go to the DLE decoder instead of the AT parser until the modem
ends the stream with DLE ETX.

Analog lines have no answer supervision: an outgoing call counts as
connected once the modem has dialled (VCON); the end of a call shows up as
a busy or dial tone the exchange plays after the far end hangs up.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Callable

from appliance.lines.at_parser import (
    CALL_PROGRESS, FinalKind, FinalResult, Unsolicited, VoiceFormat, parse_vsm_list,
)
from appliance.lines.command_queue import Command, Completed
from appliance.lines.dle import ABORT, DleDecoder, DleDtmf, DleTone, Tone, dle_encode
from appliance.lines.notices import CallAnswered, DtmfReceived, IncomingCall, LineStatus
from appliance.lines.modem_core import LineEvent, LineState, ModemCore, line_machine
from appliance.lines.runner import LineRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoiceProfile:
    name: str
    prefer: tuple[str, ...]          # +VSM names, best first
    vsm_suffix: str = ""             # extra +VSM parameters the firmware wants
    init: tuple[str, ...] = ()


VOICE_PROFILES: dict[str, VoiceProfile] = {
    # Conexant CX93001/CX93010 (most cheap USB "voice" modems): 8-bit unsigned PCM
    # everywhere, 16-bit linear on some firmwares.
    "conexant": VoiceProfile("conexant", ("16-BIT LINEAR", "UNSIGNED PCM", "G711U", "SIGNED PCM"),
                             vsm_suffix=",0,0"),
    # USRobotics 5637: the short +VSM=? form; 16-bit linear works, mu-law as a fallback.
    "usr": VoiceProfile("usr", ("16-BIT LINEAR", "8-BIT LINEAR", "8-BIT ULAW")),
}


def choose_format(formats: list[VoiceFormat], profile: VoiceProfile) -> VoiceFormat | None:
    """The profile's best format that can run at 8 kHz."""
    for wanted in profile.prefer:
        for fmt in formats:
            if fmt.name.upper() == wanted and (not fmt.rates or 8000 in fmt.rates
                                               or min(fmt.rates) <= 8000 <= max(fmt.rates)):
                return fmt
    return None


def frame_bytes(fmt: VoiceFormat | None) -> int:
    """Bytes in 20 ms of audio at 8 kHz."""
    return 320 if fmt is not None and fmt.bits == 16 else 160


V, VE = LineState, LineEvent
TRANSITIONS: dict[LineState, dict[LineEvent, LineState]] = {
    V.GONE: {VE.CONNECTED: V.STARTING, VE.LOST: V.GONE},
    V.STARTING: {VE.INIT_DONE: V.READY, VE.LOST: V.GONE, VE.CONNECTED: V.STARTING},
    V.READY: {VE.RING: V.RINGING, VE.DIAL: V.CONNECTING, VE.LOST: V.GONE,
              VE.CONNECTED: V.STARTING},
    V.RINGING: {VE.RING: V.RINGING, VE.ANSWER: V.CONNECTING, VE.CALL_ENDED: V.READY,
                VE.LOST: V.GONE},
    V.CONNECTING: {VE.STREAMING: V.TALKING, VE.CALL_ENDED: V.READY, VE.LOST: V.GONE},
    V.TALKING: {VE.HANGUP: V.HANGING_UP, VE.STREAM_ENDED: V.HANGING_UP, VE.LOST: V.GONE},
    V.HANGING_UP: {VE.STREAM_ENDED: V.HANGING_UP, VE.CALL_ENDED: V.READY, VE.LOST: V.GONE},
}
IN_CALL = {V.RINGING, V.CONNECTING, V.TALKING, V.HANGING_UP}
VOICE_LINE = line_machine("analog", TRANSITIONS)
_NUMBER = re.compile(r"^[0-9*#,WP]{1,40}$")


class VoiceLine(ModemCore):
    """Pure core of the voice modem driver."""

    MACHINE = VOICE_LINE
    IN_CALL = IN_CALL

    def __init__(self, *, profile: VoiceProfile | str = "conexant",
                 clock: Callable[[], float], ring_timeout: float = 8.0,
                 stream_end_timeout: float = 2.0, name: str = "voice"):
        super().__init__(clock=clock, name=name, status=LineStatus(sim="none"), ring_timeout=ring_timeout)
        self.profile = VOICE_PROFILES[profile] if isinstance(profile, str) else profile
        self._stream_end_timeout = stream_end_timeout
        self._decoder = DleDecoder(stop_at_end=True)
        self._raw_out: list[bytes] = []
        self._audio_in = bytearray()
        self.format: VoiceFormat | None = None
        self._caller: dict[str, str] = {}
        self._end_cause = ""
        self._skip_lf = False

    def _status_in(self, state: LineState) -> dict[str, object]:
        # An analog line is "registered" when the modem is ready: there is no network to join.
        return super()._status_in(state) | {"registered": state not in (V.GONE, V.STARTING)}

    # --- inputs ------------------------------------------------------------------------

    def _reset_io(self) -> None:
        super()._reset_io()
        self._decoder = DleDecoder(stop_at_end=True)
        self._raw_out.clear()

    def receive(self, data: bytes) -> None:
        if self.state in (V.TALKING, V.HANGING_UP) and not self._decoder.ended:
            audio, events = self._decoder.feed(data)
            if self.state == V.TALKING:
                self._audio_in += audio
            for ev in events:
                self._on_in_band(ev)
            if not self._decoder.ended:
                return
            data = self._decoder.remainder
            self._stream_over()
        # Byte by byte so that the audio right after CONNECT never reaches the AT parser.
        for i in range(len(data)):
            self._command_byte(data[i:i + 1])
            if self.state == V.TALKING and not self._decoder.ended:
                rest = data[i + 1:]
                if self._skip_lf and rest[:1] == b"\n":
                    rest = rest[1:]
                self._skip_lf = False
                if rest:
                    self.receive(rest)
                return

    def _command_byte(self, byte: bytes) -> None:
        for item in self._queue.feed(self._parser.feed(byte)):
            if isinstance(item, Unsolicited):
                self._on_urc(item)
            elif (isinstance(item, FinalResult) and item.kind in CALL_PROGRESS
                  and self.state in (V.RINGING, V.CONNECTING)):
                self._end_call({FinalKind.BUSY: "busy"}.get(item.kind, "remote_hangup"))
            elif not isinstance(item, Completed):
                log.debug("%s: unclaimed %r", self.name, item)
        if byte == b"\r":
            self._skip_lf = True
        elif byte != b"\n":
            self._skip_lf = False

    def tick(self) -> None:
        now = self._clock()
        self._run_timers(now)
        self._ring_cycle_over(now)

    def writes(self) -> list[bytes]:
        out = self._raw_out + self._queue.due_writes()
        self._raw_out = []
        return out

    def audio_received(self) -> bytes:
        """Audio from the line since the last call (in the chosen +VSM format)."""
        out = bytes(self._audio_in)
        self._audio_in.clear()
        return out

    def send_audio(self, audio: bytes) -> None:
        if self.state == V.TALKING:
            self._raw_out.append(dle_encode(audio))

    # --- commands ---------------------------------------------------------------------

    def _start_init(self) -> None:
        for text in ("ATZ", "ATE0", "AT+FCLASS=8", "AT+VCID=1", *self.profile.init):
            self._cmd(text, 5)
        self._cmd("AT+VSM=?", 5, done=self._on_vsm_list)

    def _on_vsm_list(self, cmd: Command) -> None:
        self.format = choose_format(parse_vsm_list(cmd.lines), self.profile)
        if self.format is None:
            self._error("no_voice_format", f"no usable format in {cmd.lines!r}")
            self._fire(VE.INIT_DONE)
            return
        self._cmd(f"AT+VSM={self.format.code},8000{self.profile.vsm_suffix}", 5,
                  done=lambda c: self._fire(VE.INIT_DONE))

    # --- notifications ---------------------------------------------------------------

    def _on_urc(self, urc: Unsolicited) -> None:
        name = urc.name.upper()
        if name == "RING":
            if self._ring():
                self._caller = {}
            elif self.state == V.RINGING and not self._announced:
                self._announce()
        elif name in ("DATE", "TIME", "NMBR", "NAME", "DDN_NMBR") and self.state == V.RINGING:
            self._caller[name] = urc.args
            if not self._announced and "NMBR" in self._caller and "NAME" in self._caller:
                self._announce()

    def _announce(self) -> None:
        self._announced = True
        number = self._caller.get("NMBR", "")
        if number in ("P", "O"):  # private / out of area
            number = ""
        self._notices.append(IncomingCall(number, self._caller.get("NAME", "")))

    def _on_in_band(self, ev: DleDtmf | DleTone) -> None:
        if isinstance(ev, DleDtmf):
            if self.state == V.TALKING:
                self._notices.append(DtmfReceived(ev.digit))
            return
        if self.state != V.TALKING:
            return
        if ev.tone == Tone.BUSY:
            self._hang_up("busy_tone")
        elif ev.tone == Tone.DIAL_TONE:
            self._hang_up("dial_tone")

    # --- calls ---------------------------------------------------------------------------

    def answer(self) -> None:
        self._check_ringing()
        self._fire(VE.ANSWER)
        self._cmd("AT+VLS=1", 5, done=self._start_voice)
        self._notices.append(CallAnswered("in"))

    def dial(self, number: str) -> None:
        self._dial(number, _NUMBER, f"ATDT{number};", 60, done=self._on_dialled)

    def _on_dialled(self, cmd: Command) -> None:
        if cmd.ok:
            self._notices.append(CallAnswered("out"))
            return self._start_voice(cmd)
        kind = cmd.result.kind if cmd.result else None
        self._end_call({FinalKind.BUSY: "busy", FinalKind.NO_DIALTONE: "no_dialtone",
                        FinalKind.NO_ANSWER: "no_answer"}.get(kind, "dial_failed"))

    def _start_voice(self, cmd: Command) -> None:
        if not cmd.ok:
            return self._end_call("off_hook_failed")
        self._cmd("AT+VTR", 5, done=self._on_vtr)

    def _on_vtr(self, cmd: Command) -> None:
        if cmd.ok and cmd.result is not None and cmd.result.kind == FinalKind.CONNECT:
            self._decoder = DleDecoder(stop_at_end=True)
            self._fire(VE.STREAMING)
        else:
            self._hang_up_command_mode("voice_mode_failed")

    def hangup(self) -> None:
        if self.state == V.TALKING:
            self._hang_up("local_hangup")
        elif self.state in (V.RINGING, V.CONNECTING):
            self._hang_up_command_mode("local_hangup")

    def _hang_up(self, cause: str) -> None:
        """Leave voice data mode (DLE !), wait for the modem's DLE ETX, then go on-hook."""
        self._end_cause = cause
        self._fire(VE.HANGUP)
        self._raw_out.append(ABORT)
        generation = self._generation
        self._after(self._stream_end_timeout,
                    lambda: self._stream_over() if generation == self._generation
                    and self.state == V.HANGING_UP and not self._decoder.ended else None)

    def _stream_over(self) -> None:
        """The modem is back in command mode."""
        self._decoder.ended = True
        if self.state == V.TALKING:
            self._end_cause = "line_dropped"
            self._fire(VE.STREAM_ENDED)
        if self.state == V.HANGING_UP:
            self._hang_up_command_mode(self._end_cause or "local_hangup")

    def _hang_up_command_mode(self, cause: str) -> None:
        self._cmd("ATH", 5, done=lambda c: self._end_call(cause))

    def _end_call(self, cause: str) -> bool:
        if not super()._end_call(cause):
            return False
        self._end_cause = ""
        return True


class VoiceModemDriver(LineRunner):
    """An analog line on a USB voice modem: `VoiceModemDriver("/dev/ttyACM0").start()`."""

    def __init__(self, port: str, *, profile: VoiceProfile | str = "conexant",
                 clock: Callable[[], float] = time.monotonic, **runner_options: object):
        super().__init__(VoiceLine(profile=profile, clock=clock, name=port), port,
                         **runner_options)  # type: ignore[arg-type]

    line: VoiceLine

    def send_audio(self, audio: bytes) -> None:
        self._do(lambda: self.line.send_audio(audio))

    def audio_received(self) -> bytes:
        with self._lock:
            return self.line.audio_received()
