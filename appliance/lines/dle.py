"""DLE shielding of V.253 voice data, both ways. Pure.

In voice data mode every 0x10 (DLE) byte starts a two-byte code: DLE+digit
is a DTMF digit, DLE b a busy tone, DLE ETX the end of the stream, and
DLE DLE is one literal 0x10 audio byte. Audio sent to the modem must double
each 0x10: forgetting it drops or misreads bytes and the audio clicks.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

DLE, ETX = 0x10, 0x03
END_OF_DATA = bytes([DLE, ETX])   # DTE -> modem: end of transmit (+VTX) / modem -> DTE: end
ABORT = bytes([DLE, ord("!")])    # DTE -> modem: stop receive / full duplex now


class Tone(StrEnum):
    BUSY = "b"
    DIAL_TONE = "d"
    SILENCE = "s"
    QUIET = "q"
    FAX_CALLING = "c"
    DATA_CALLING = "e"
    RINGBACK = "r"
    ABORT = "!"  # DTE -> modem only
    END = "end"
    UNKNOWN = "unknown"


DTMF_DIGITS = "0123456789*#ABCD"


@dataclass(frozen=True)
class DleDtmf:
    digit: str


@dataclass(frozen=True)
class DleTone:
    tone: Tone
    code: int


DleEvent = DleDtmf | DleTone


def dle_encode(audio: bytes) -> bytes:
    return audio.replace(b"\x10", b"\x10\x10")


class DleDecoder:
    """Modem -> DTE stream: audio bytes and in-band events. A DLE at the end of
    one read waits for its partner byte in the next. With `stop_at_end`, the
    bytes after DLE ETX (the modem's command replies) are left in `remainder`."""

    def __init__(self, *, stop_at_end: bool = False) -> None:
        self._pending_dle = False
        self._stop_at_end = stop_at_end
        self.ended = False
        self.remainder = b""

    def feed(self, data: bytes) -> tuple[bytes, list[DleEvent]]:
        audio = bytearray()
        events: list[DleEvent] = []
        if self.ended:
            self.remainder += data
            return b"", events
        i, n = 0, len(data)
        if self._pending_dle and data:
            self._pending_dle = False
            self._code(data[0], audio, events)
            i = 1
        while i < n and not self._end_reached(events, data, i):
            j = data.find(b"\x10", i)
            if j < 0:
                audio += data[i:]
                break
            audio += data[i:j]
            if j + 1 >= n:
                self._pending_dle = True
                break
            self._code(data[j + 1], audio, events)
            i = j + 2
        else:
            self._end_reached(events, data, i)
        return bytes(audio), events

    def _end_reached(self, events: list[DleEvent], data: bytes, i: int) -> bool:
        if self._stop_at_end and events and events[-1] == DleTone(Tone.END, ETX):
            self.ended = True
            self.remainder = data[i:]
            return True
        return False

    @staticmethod
    def _code(code: int, audio: bytearray, events: list[DleEvent]) -> None:
        ch = chr(code)
        if code == DLE:
            audio.append(DLE)
        elif ch in DTMF_DIGITS:
            events.append(DleDtmf(ch))
        elif code == ETX:
            events.append(DleTone(Tone.END, code))
        else:
            try:
                tone = Tone(ch)
            except ValueError:
                tone = Tone.UNKNOWN
            events.append(DleTone(tone, code))
