"""What a line driver tells the rest of the box: notices and the line's status. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IncomingCall:
    number: str
    name: str = ""  # analog caller id may carry a name


@dataclass(frozen=True)
class CallAnswered:
    direction: str  # "in" or "out"


@dataclass(frozen=True)
class CallEnded:
    cause: str


@dataclass(frozen=True)
class DtmfReceived:
    digit: str


@dataclass(frozen=True)
class SmsReceived:
    sender: str
    text: str
    time: object  # datetime with the network's time zone


@dataclass(frozen=True)
class SmsSent:
    number: str
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class UssdResult:
    text: str
    status: int = 0


@dataclass(frozen=True)
class LineError:
    kind: str   # sim_pin_wrong, sim_puk_required, sim_missing, sim_pin_missing, no_response, ...
    text: str = ""


@dataclass(frozen=True)
class LineStatus:
    state: str = "gone"
    sim: str = "unknown"
    registered: bool = False
    operator: str = ""
    signal_dbm: int | None = None
    in_call: bool = False
    last_error: LineError | None = None

    @property
    def indicator(self) -> str:
        """The line LED: off (no modem), fault (needs a person), blink (coming up /
        no network), fast_blink (a call rings), on (ready)."""
        if self.state == "gone":
            return "off"
        if self.state == "sim_problem":
            return "fault"
        if self.state == "ringing":
            return "fast_blink"
        if self.state == "starting" or not self.registered:
            return "blink"
        return "on"


@dataclass(frozen=True)
class StatusChanged:
    status: LineStatus


Notice = (IncomingCall | CallAnswered | CallEnded | DtmfReceived | SmsReceived | SmsSent
          | UssdResult | LineError | StatusChanged)
