"""The front panel: five LEDs, two buttons and the night switch.

The panel asks its backend for pins and never touches a GPIO library. It has
no threads: blinking and the reset button's hold time advance when the core
calls ``tick(now)``; time comes from the injected clock.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Callable, Iterable, Mapping

from appliance.errors import HardwareUnavailable, SettingError
from appliance.hw.backends import OFF, ON, PinBackend

log = logging.getLogger(__name__)

__all__ = [
    "BLINK_CODES",
    "DEFAULT_PINS",
    "FAST",
    "OFF",
    "ON",
    "RESET_HOLD_SECONDS",
    "SLOW",
    "BlinkPattern",
    "Fault",
    "Led",
    "Panel",
    "PanelState",
    "blink_code",
    "validate_pin_map",
]

LEDS = ("ready", "line", "waiting", "voicemail", "fault")
BUTTONS = ("night", "reset", "status")

# BCM numbers. Chosen to stay clear of the HAT ID EEPROM (0, 1), I2C (2, 3),
# SPI0 (7-11), the UART a GSM HAT needs (14, 15), PCM audio (18-21) and
# GPIO 4, which several GSM HATs use as their power key.
DEFAULT_PINS: dict[str, int] = {
    "ready": 23,
    "line": 24,
    "waiting": 25,
    "voicemail": 12,
    "fault": 16,
    "night": 17,
    "reset": 27,
    "status": 22,
}

# The 40-pin header carries BCM 0-27 on every Pi from the B+ to the Pi 5.
HEADER_PINS = range(0, 28)
RESERVED_PINS = {
    0: "is the HAT ID EEPROM's I2C data line",
    1: "is the HAT ID EEPROM's I2C clock line",
    14: "is the UART transmit line a GSM HAT needs",
    15: "is the UART receive line a GSM HAT needs",
}

RESET_HOLD_SECONDS = 10.0
# More callers than this waiting and the waiting LED blinks fast instead of glowing.
BUSY_WAITING = 3


def _part_name(key: str) -> str:
    # The setting may spell parts "led_ready" / "button_night"; the panel says "ready" / "night".
    for prefix in ("led_", "button_"):
        if key.startswith(prefix) and key[len(prefix):] in (*LEDS, *BUTTONS):
            return key[len(prefix):]
    return key


def validate_pin_map(pins: Mapping[str, object]) -> dict[str, int]:
    """Check a ``panel.pins`` setting: every part named once, each on its own header pin."""
    pins = {_part_name(key): bcm for key, bcm in pins.items()}
    names = set(LEDS) | set(BUTTONS)
    unknown = sorted(set(pins) - names)
    if unknown:
        raise SettingError(f"panel.pins.{unknown[0]}", f"no such panel part; the parts are {', '.join(sorted(names))}")
    missing = sorted(names - set(pins))
    if missing:
        raise SettingError(f"panel.pins.{missing[0]}", "missing: every LED and button needs a pin")
    seen: dict[int, str] = {}
    checked: dict[str, int] = {}
    for name in (*LEDS, *BUTTONS):
        bcm = pins[name]
        key = f"panel.pins.{name}"
        if isinstance(bcm, bool) or not isinstance(bcm, int):
            raise SettingError(key, f"{bcm!r} is not a BCM pin number")
        if bcm not in HEADER_PINS:
            raise SettingError(key, f"GPIO{bcm} is not on the 40-pin header (BCM 0-27)")
        if bcm in RESERVED_PINS:
            raise SettingError(key, f"GPIO{bcm} {RESERVED_PINS[bcm]}")
        if bcm in seen:
            raise SettingError(key, f"GPIO{bcm} is already the {seen[bcm]} pin")
        seen[bcm] = name
        checked[name] = bcm
    return checked


# --- blinking -----------------------------------------------------------------


@dataclass(frozen=True)
class BlinkPattern:
    """On for ``on`` s, off for ``off`` s; with ``count``, that many flashes then ``pause`` s dark."""

    on: float
    off: float
    count: int = 0
    pause: float = 0.0

    def __post_init__(self) -> None:
        if self.on <= 0 or self.off <= 0 or self.count < 0 or self.pause < 0:
            raise ValueError(f"bad blink pattern {self}")

    def is_lit(self, elapsed: float) -> bool:
        flash = self.on + self.off
        if self.count == 0:
            return (elapsed % flash) < self.on
        flashes = self.count * flash
        t = elapsed % (flashes + self.pause)
        return t < flashes and (t % flash) < self.on


SLOW = BlinkPattern(on=1.0, off=1.0)
FAST = BlinkPattern(on=0.15, off=0.15)


def blink_code(n: int) -> BlinkPattern:
    """``n`` short flashes, then a long dark pause, repeated: countable from across a room."""
    return BlinkPattern(on=0.3, off=0.4, count=n, pause=2.0)


class Fault(StrEnum):
    NO_LINE = "no_line"
    DISK_FULL = "disk_full"
    ENGINE_RESTARTING = "engine_restarting"
    SIM_PROBLEM = "sim_problem"


# The fault LED's blink codes; docs/front-panel.md prints this table. When
# several faults are active the lowest code shows: a box with no line is the
# first thing to fix.
BLINK_CODES: dict[Fault, tuple[int, str]] = {
    Fault.NO_LINE: (1, "no line: no modem or SIP trunk is registered and usable"),
    Fault.DISK_FULL: (2, "disk full: recordings and voicemail have stopped"),
    Fault.ENGINE_RESTARTING: (3, "an engine worker is restarting: some calls may have dropped"),
    Fault.SIM_PROBLEM: (4, "SIM problem: missing, PIN-locked or not registered on the network"),
}


@dataclass
class PanelState:
    """What the box wants the panel to show."""

    ready: bool = False
    lines_ok: bool = False
    callers_waiting: int = 0
    voicemail_waiting: bool = False
    faults: list[str] = field(default_factory=list)


def _known_faults(faults: Iterable[str]) -> tuple[list[Fault], list[str]]:
    known, other = [], []
    for fault in faults:
        try:
            known.append(Fault(fault))
        except ValueError:
            other.append(str(fault))
    return sorted(set(known), key=lambda f: BLINK_CODES[f][0]), other


# --- LEDs and buttons -----------------------------------------------------------


class LedMode(StrEnum):
    OFF = "off"
    ON = "on"
    BLINK = "blink"


class Led:
    """One LED. ``on()``, ``off()``, ``blink(pattern)``; it remembers what it showed."""

    def __init__(self, name: str, pin, clock: Callable[[], float]) -> None:
        self.name = name
        self.pin = pin
        self._clock = clock
        self.mode = LedMode.OFF
        self.pattern: BlinkPattern | None = None
        self._since = 0.0
        self.is_lit = OFF
        self.history: list[bool] = [OFF]
        pin.set(OFF)

    def on(self) -> None:
        self.mode, self.pattern = LedMode.ON, None
        self._light(ON)

    def off(self) -> None:
        self.mode, self.pattern = LedMode.OFF, None
        self._light(OFF)

    def blink(self, pattern: BlinkPattern = SLOW) -> None:
        # Asking again for the same pattern keeps its rhythm; restarting it
        # on every refresh would make a blink code impossible to count.
        if self.mode == LedMode.BLINK and self.pattern == pattern:
            return
        self.mode, self.pattern = LedMode.BLINK, pattern
        self._since = self._clock()
        self._light(ON)

    def tick(self, now: float) -> None:
        if self.mode == LedMode.BLINK and self.pattern is not None:
            self._light(self.pattern.is_lit(now - self._since))

    def assert_states(self, expected: list[bool]) -> None:
        """Fail unless the LED went through exactly these states (``OFF``/``ON``), in order."""
        assert self.history == list(expected), f"LED {self.name} went {self.history}, expected {list(expected)}"

    def snapshot(self) -> dict:
        return {
            "lit": self.is_lit,
            "mode": str(self.mode),
            "pattern": asdict(self.pattern) if self.pattern else None,
        }

    def _light(self, lit: bool) -> None:
        if lit == self.is_lit:
            return
        self.is_lit = lit
        self.history.append(lit)
        self.pin.set(lit)


class Button:
    """A contact to ground: pressed (or, for the night switch, on) while the pin reads low."""

    def __init__(self, name: str, pin) -> None:
        self.name = name
        self.pin = pin

    @property
    def is_pressed(self) -> bool:
        return not self.pin.level


# --- the panel --------------------------------------------------------------------


class Panel:
    """The box's front panel, on whatever backend ``select_backend`` picked."""

    def __init__(
        self,
        backend: PinBackend,
        pin_map: Mapping[str, int] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if clock is None:
            import time

            clock = time.monotonic
        self.backend = backend
        self.pins = validate_pin_map(DEFAULT_PINS if pin_map is None else pin_map)
        self._clock = clock
        self._leds = {name: Led(name, backend.output(self.pins[name], name), clock) for name in LEDS}
        self._buttons = {name: Button(name, backend.input(self.pins[name], name)) for name in BUTTONS}
        for name, button in self._buttons.items():
            button.pin.when_changed = lambda level, name=name: self._button_changed(name, level)
        self.when_night_changed: Callable[[bool], None] | None = None
        self.when_reset_held: Callable[[], None] | None = None
        self.when_status_pressed: Callable[[], None] | None = None
        self._reset_since: float | None = None
        self._reset_done = False
        self._shown_faults: list[str] = []
        self._night = self._buttons["night"].is_pressed

    # what the box shows ---------------------------------------------------------

    def led(self, name: str) -> Led:
        try:
            return self._leds[name]
        except KeyError:
            raise HardwareUnavailable(f"the panel has no LED {name!r}; it has {', '.join(LEDS)}") from None

    def show(self, state: PanelState) -> None:
        """Set every LED from the box's state; call it whenever the state changes."""
        if state.ready:
            self._leds["ready"].on()
        else:
            self._leds["ready"].blink(SLOW)  # starting up, or shutting down
        if state.lines_ok:
            self._leds["line"].on()
        else:
            self._leds["line"].off()
        waiting = self._leds["waiting"]
        if state.callers_waiting <= 0:
            waiting.off()
        elif state.callers_waiting <= BUSY_WAITING:
            waiting.on()
        else:
            waiting.blink(FAST)
        if state.voicemail_waiting:
            # Blinking like a desk phone's message lamp: noticed, not ignored.
            self._leds["voicemail"].blink(SLOW)
        else:
            self._leds["voicemail"].off()
        known, other = _known_faults(state.faults)
        self._shown_faults = [str(f) for f in known] + other
        fault = self._leds["fault"]
        if known:
            fault.blink(blink_code(BLINK_CODES[known[0]][0]))
        elif other:
            fault.on()  # a fault without a code of its own: lit steadily
        else:
            fault.off()
        self.tick()

    def tick(self, now: float | None = None) -> None:
        """Advance blinking and the reset button's hold time; the core calls this often (~10/s)."""
        if now is None:
            now = self._clock()
        for led in self._leds.values():
            led.tick(now)
        if self._reset_since is not None and not self._reset_done:
            if now - self._reset_since >= RESET_HOLD_SECONDS:
                self._reset_done = True
                log.warning("front panel: reset held %.0f s", RESET_HOLD_SECONDS)
                if self.when_reset_held is not None:
                    self.when_reset_held()

    # what the user does -----------------------------------------------------------

    @property
    def night_mode(self) -> bool:
        """True while the night switch is on: calls go to the closed flow."""
        return self._night

    def is_pressed(self, name: str) -> bool:
        return self._button(name).is_pressed

    def press(self, name: str) -> None:
        """Press a simulated button (the web page's virtual panel, and tests)."""
        self._simulated_pin(name).drive_low()

    def release(self, name: str) -> None:
        """Release a simulated button."""
        self._simulated_pin(name).drive_high()

    def toggle_night(self) -> None:
        """Flip the simulated night switch."""
        pin = self._simulated_pin("night")
        if self.night_mode:
            pin.drive_high()
        else:
            pin.drive_low()

    def snapshot(self) -> dict:
        """Everything the web page's virtual panel draws."""
        codes = {str(fault): code for fault, (code, _) in BLINK_CODES.items()}
        faults = [{"fault": f, "code": codes.get(f)} for f in self._shown_faults]
        return {
            "backend": {"name": self.backend.name, "reason": self.backend.reason},
            "simulated": self.backend.simulated,
            "night_mode": self.night_mode,
            "leds": {name: led.snapshot() for name, led in self._leds.items()},
            "buttons": {name: {"pressed": b.is_pressed, "pin": self.pins[name]} for name, b in self._buttons.items()},
            "faults": faults,
        }

    def close(self) -> None:
        for led in self._leds.values():
            led.off()
        self.backend.close()

    # inside -------------------------------------------------------------------------

    def _button(self, name: str) -> Button:
        try:
            return self._buttons[name]
        except KeyError:
            raise HardwareUnavailable(f"the panel has no button {name!r}; it has {', '.join(BUTTONS)}") from None

    def _simulated_pin(self, name: str):
        pin = self._button(name).pin
        if not self.backend.simulated:
            raise HardwareUnavailable(f"the {name} button is a real button on this box; press it by hand")
        return pin

    def _button_changed(self, name: str, level: bool) -> None:
        pressed = not level
        if name == "night":
            if pressed == self._night:
                return
            self._night = pressed
            log.info("front panel: night mode %s -> %s", not pressed, pressed)
            if self.when_night_changed is not None:
                self.when_night_changed(pressed)
        elif name == "reset":
            if pressed:
                self._reset_since, self._reset_done = self._clock(), False
            else:
                # A hold that reached 10 s between two ticks still counts.
                self.tick()
                self._reset_since = None
        elif name == "status" and pressed:
            if self.when_status_pressed is not None:
                self.when_status_pressed()
