"""Find modems: by USB vendor:product id, then by asking them (ATI, +CGMI, +CGMM).

A USB GSM stick shows up as several ttys, one per USB interface; which one
takes AT commands and which one carries call audio is a property of the
model, kept here in one table.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Callable, Iterable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UsbModel:
    kind: str                # "gsm" or "voice"
    vendor: str              # the driver profile name
    model: str
    at_interface: int | None = None
    audio_interface: int | None = None


USB_MODELS: dict[tuple[int, int], UsbModel] = {
    (0x12D1, 0x1001): UsbModel("gsm", "huawei", "E169/E1550/E1750", 2, 1),
    (0x12D1, 0x1003): UsbModel("gsm", "huawei", "E220", 1, None),
    (0x12D1, 0x140C): UsbModel("gsm", "huawei", "E1752/E173", 3, 1),
    (0x12D1, 0x1436): UsbModel("gsm", "huawei", "E173/E1752C", 4, 1),
    (0x12D1, 0x1506): UsbModel("gsm", "huawei", "E3131/E1752 (modem mode)", 2, 1),
    (0x1E0E, 0x9001): UsbModel("gsm", "simcom", "SIM7600", 2, 4),
    (0x2C7C, 0x0125): UsbModel("gsm", "quectel", "EC25", 2, 1),
    (0x2C7C, 0x0121): UsbModel("gsm", "quectel", "EC21", 2, 1),
    (0x0572, 0x1329): UsbModel("voice", "conexant", "CX93010", 0, None),
    (0x0BAF, 0x0303): UsbModel("voice", "usr", "USR5637", 0, None),
}


@dataclass(frozen=True)
class ModemInfo:
    kind: str
    vendor: str
    model: str
    port: str
    audio_port: str | None = None


@dataclass(frozen=True)
class PortDescription:
    """What pyserial's list_ports tells about one tty (only the fields we use)."""
    device: str
    vid: int | None
    pid: int | None
    location: str | None = None      # "1-1.3:1.2": the last number is the interface
    serial_number: str | None = None


def _interface(location: str | None) -> int | None:
    if not location:
        return None
    m = re.search(r":\d+\.(\d+)$", location)
    return int(m.group(1)) if m else None


def _device_key(p: PortDescription) -> str:
    if p.location and ":" in p.location:
        return p.location.rsplit(":", 1)[0]
    return p.serial_number or p.device


def match_usb(ports: Iterable[PortDescription]) -> list[ModemInfo]:
    """Group ttys by USB device and pick the AT and audio tty of each known model. Pure."""
    groups: dict[str, list[PortDescription]] = {}
    for p in ports:
        if p.vid is not None and (p.vid, p.pid) in USB_MODELS:
            groups.setdefault(_device_key(p), []).append(p)
    found = []
    for members in groups.values():
        first = members[0]
        model = USB_MODELS[(first.vid, first.pid)]  # type: ignore[index]
        by_if = {_interface(p.location): p.device for p in members}
        ordered = sorted(p.device for p in members)
        at_port = by_if.get(model.at_interface) or ordered[min(model.at_interface or 0,
                                                               len(ordered) - 1)]
        audio = by_if.get(model.audio_interface) if model.audio_interface is not None else None
        found.append(ModemInfo(model.kind, model.vendor, model.model, at_port, audio))
    return sorted(found, key=lambda m: m.port)


def list_serial_ports() -> list[str]:
    """Every serial device the system has (for `callbox check`)."""
    from serial.tools import list_ports
    return [p.device for p in list_ports.comports()]


def list_usb_modems() -> list[ModemInfo]:
    from serial.tools import list_ports
    return match_usb(PortDescription(p.device, p.vid, p.pid, p.location, p.serial_number)
                     for p in list_ports.comports())


_VENDOR_WORDS = (("huawei", "gsm", "huawei"), ("simcom", "gsm", "simcom"),
                 ("quectel", "gsm", "quectel"), ("conexant", "voice", "conexant"),
                 ("cx930", "voice", "conexant"), ("robotics", "voice", "usr"),
                 ("usrobotics", "voice", "usr"), ("5637", "voice", "usr"))


def classify_probe(answers: dict[str, list[str]]) -> tuple[str, str, str] | None:
    """(kind, vendor, model) from the modem's answers to ATI/+CGMI/+CGMM/+FCLASS=?. Pure."""
    text = " ".join(" ".join(v) for v in answers.values()).lower()
    model = next((v[0] for k in ("AT+CGMM", "AT+GMM") for v in [answers.get(k) or []] if v), "")
    for word, kind, vendor in _VENDOR_WORDS:
        if word in text:
            return kind, vendor, model or word
    if answers.get("AT+CGMI"):
        return "gsm", "generic", model
    if any("8" in re.split(r"[,()\s]+", line) for line in answers.get("AT+FCLASS=?", [])):
        return "voice", "conexant", model
    return None


PROBE_COMMANDS = ("ATI", "AT+CGMI", "AT+CGMM", "AT+GMI", "AT+GMM", "AT+FCLASS=?")


def probe_port(port: str, *, timeout: float = 2.0,
               open_port: Callable[[str], object] | None = None) -> ModemInfo | None:
    """Ask the modem on `port` who it is; None when nothing answers like a modem."""
    import serial
    opener = open_port or (lambda p: serial.serial_for_url(p, baudrate=115200, timeout=0.1))
    try:
        ser = opener(port)
    except (serial.SerialException, OSError) as exc:
        log.info("%s: cannot open: %s", port, exc)
        return None
    answers: dict[str, list[str]] = {}
    try:
        _exchange(ser, "ATE0", timeout)
        for cmd in PROBE_COMMANDS:
            lines = _exchange(ser, cmd, timeout)
            if lines is not None:
                answers[cmd] = lines
    except (serial.SerialException, OSError) as exc:
        log.info("%s: probe failed: %s", port, exc)
        return None
    finally:
        ser.close()  # type: ignore[attr-defined]
    if not answers:
        return None
    found = classify_probe(answers)
    if found is None:
        return None
    kind, vendor, model = found
    return ModemInfo(kind, vendor, model, port, None)


def _exchange(ser, cmd: str, timeout: float) -> list[str] | None:
    """Write one command; the info lines if it ends in OK, None on ERROR or silence."""
    from appliance.lines.at_parser import ATParser, FinalKind, FinalResult, Info, Unsolicited
    ser.reset_input_buffer()
    ser.write(cmd.encode() + b"\r")
    parser = ATParser()
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for ev in parser.feed(ser.read(256)):
            if isinstance(ev, FinalResult):
                return lines if ev.kind == FinalKind.OK else None
            if isinstance(ev, Info) and ev.line.upper() != cmd.upper():
                lines.append(ev.line)
            elif isinstance(ev, Unsolicited) and cmd.upper().startswith("AT+" + ev.name.lstrip("+^").upper()):
                lines.append(ev.raw)
    return None


def discover(extra_ports: Iterable[str] = (), *,
             probe: Callable[[str], ModemInfo | None] = probe_port) -> list[ModemInfo]:
    """Known USB modems, plus whatever answers like a modem on `extra_ports`
    (ttys of unknown adapters, or a simulator's path)."""
    found = list_usb_modems()
    known = {m.port for m in found}
    for port in extra_ports:
        if port not in known:
            info = probe(port)
            if info is not None:
                found.append(info)
    return found
