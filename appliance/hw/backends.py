"""Pin backends for the front panel: real GPIO and a simulation, picked in one place.

The panel never calls a GPIO library. It asks a backend for pins by BCM
number, the way gpiozero's devices ask a pin factory. ``select_backend`` is
the only place that decides which backend a box uses, and it says why.

Levels are electrical: ``True`` is high (3.3 V). LEDs are wired active-high
(GPIO -> resistor -> LED -> ground); buttons and the night switch are wired
active-low (GPIO -> contact -> ground, internal pull-up), so a pressed button
reads low.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Protocol

from appliance.errors import HardwareUnavailable

log = logging.getLogger(__name__)

OFF = False
ON = True

# RPi.GPIO runs edge callbacks on its own thread; the core swaps this for
# ``loop.call_soon_threadsafe`` so panel callbacks run on the event loop.
Dispatch = Callable[[Callable[[], None]], None]

BUTTON_DEBOUNCE_MS = 30


def _call_now(fn: Callable[[], None]) -> None:
    fn()


class OutputPin(Protocol):
    bcm: int

    def set(self, level: bool) -> None: ...


class InputPin(Protocol):
    bcm: int
    when_changed: Callable[[bool], None] | None

    @property
    def level(self) -> bool: ...


class PinBackend(Protocol):
    name: str
    reason: str
    simulated: bool

    def output(self, bcm: int, label: str) -> OutputPin: ...

    def input(self, bcm: int, label: str) -> InputPin: ...

    def close(self) -> None: ...


# --- simulated --------------------------------------------------------------


@dataclass
class SimulatedPin:
    """A pin that behaves: tests and the web page drive it, and it remembers."""

    bcm: int
    label: str = ""
    level: bool = True
    history: list[bool] = field(default_factory=list)
    when_changed: Callable[[bool], None] | None = None

    def __post_init__(self) -> None:
        self.history.append(self.level)

    def set(self, level: bool) -> None:
        self._change(bool(level))

    def drive_low(self) -> None:
        """Pull the pin to ground, as a pressed button or closed switch does."""
        self._change(False)

    def drive_high(self) -> None:
        """Let the pin float back up, as a released button does."""
        self._change(True)

    def assert_states(self, expected: list[bool]) -> None:
        """Fail unless the pin went through exactly these levels, in order."""
        assert self.history == list(expected), (
            f"pin {self.bcm} ({self.label}) went {self.history}, expected {list(expected)}"
        )

    def _change(self, level: bool) -> None:
        if level == self.level:
            return
        self.level = level
        self.history.append(level)
        if self.when_changed is not None:
            self.when_changed(level)


class SimulatedPins:
    """The simulated backend: every pin is a ``SimulatedPin`` kept by number."""

    simulated = True

    def __init__(self, reason: str = "asked for the simulated panel") -> None:
        self.name = "simulated"
        self.reason = reason
        self.dispatch: Dispatch = _call_now
        self._pins: dict[int, SimulatedPin] = {}

    def output(self, bcm: int, label: str) -> SimulatedPin:
        return self._claim(bcm, label, level=False)

    def input(self, bcm: int, label: str) -> SimulatedPin:
        # The pull-up holds an untouched input high.
        return self._claim(bcm, label, level=True)

    def pin(self, bcm: int) -> SimulatedPin:
        """The pin with this BCM number, for tests and the virtual panel."""
        try:
            return self._pins[bcm]
        except KeyError:
            raise HardwareUnavailable(f"GPIO{bcm} is not used by the panel") from None

    def close(self) -> None:
        self._pins.clear()

    def _claim(self, bcm: int, label: str, level: bool) -> SimulatedPin:
        if bcm in self._pins:
            raise HardwareUnavailable(f"GPIO{bcm} is claimed twice ({self._pins[bcm].label}, {label})")
        pin = SimulatedPin(bcm=bcm, label=label, level=level)
        self._pins[bcm] = pin
        return pin


# --- RPi.GPIO ---------------------------------------------------------------


class _GpioOutput:
    def __init__(self, gpio, bcm: int) -> None:
        self._gpio = gpio
        self.bcm = bcm

    def set(self, level: bool) -> None:
        self._gpio.output(self.bcm, self._gpio.HIGH if level else self._gpio.LOW)


class _GpioInput:
    def __init__(self, gpio, bcm: int, dispatch: Callable[[], Dispatch]) -> None:
        self._gpio = gpio
        self.bcm = bcm
        self.when_changed: Callable[[bool], None] | None = None
        self._dispatch = dispatch
        gpio.add_event_detect(bcm, gpio.BOTH, callback=self._edge, bouncetime=BUTTON_DEBOUNCE_MS)

    @property
    def level(self) -> bool:
        return bool(self._gpio.input(self.bcm))

    def _edge(self, _channel: int) -> None:
        # Read the level now: after debouncing, the edge's direction is what
        # the pin reads, and a callback carries no level of its own.
        level = self.level
        callback = self.when_changed
        if callback is not None:
            self._dispatch()(lambda: callback(level))


class RPiGpioPins:
    """Pins through RPi.GPIO (or rpi-lgpio on a Pi 5, which provides the same module)."""

    simulated = False

    def __init__(self, gpio, reason: str) -> None:
        self.name = "rpi-gpio"
        self.reason = reason
        self.dispatch: Dispatch = _call_now
        self._gpio = gpio
        self._claimed: list[int] = []
        gpio.setwarnings(False)
        gpio.setmode(gpio.BCM)

    def output(self, bcm: int, label: str) -> _GpioOutput:
        self._gpio.setup(bcm, self._gpio.OUT, initial=self._gpio.LOW)
        self._claimed.append(bcm)
        return _GpioOutput(self._gpio, bcm)

    def input(self, bcm: int, label: str) -> _GpioInput:
        self._gpio.setup(bcm, self._gpio.IN, pull_up_down=self._gpio.PUD_UP)
        self._claimed.append(bcm)
        return _GpioInput(self._gpio, bcm, lambda: self.dispatch)

    def close(self) -> None:
        if self._claimed:
            self._gpio.cleanup(self._claimed)
            self._claimed = []


# --- the one place that chooses ---------------------------------------------

BACKENDS = ("auto", "rpi-gpio", "gpio", "simulated")  # "gpio" is another name for "rpi-gpio"


def _load_rpi_gpio() -> tuple[object | None, str]:
    try:
        import RPi.GPIO as gpio  # noqa: N813 - the module's own name
    except ImportError as exc:
        return None, f"RPi.GPIO is not installed ({exc})"
    except RuntimeError as exc:
        # RPi.GPIO refuses to import on anything that is not a Raspberry Pi.
        return None, f"RPi.GPIO refused this machine ({exc})"
    return gpio, "RPi.GPIO imported"


def select_backend(name: str = "auto") -> PinBackend:
    """Pick the panel's pin backend; ``backend.name`` and ``backend.reason`` say which and why."""
    if name not in BACKENDS:
        raise HardwareUnavailable(f"unknown panel backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if name == "simulated":
        return SimulatedPins("asked for the simulated panel")
    gpio, why = _load_rpi_gpio()
    if gpio is not None:
        try:
            return RPiGpioPins(gpio, f"{why}; GPIO in BCM numbering")
        except RuntimeError as exc:
            # e.g. no access to /dev/gpiomem: the user is not in group gpio.
            why = f"RPi.GPIO could not set up ({exc})"
    if name in ("rpi-gpio", "gpio"):
        raise HardwareUnavailable(why)
    log.info("front panel: simulated, because %s", why)
    return SimulatedPins(f"no panel hardware: {why}")
