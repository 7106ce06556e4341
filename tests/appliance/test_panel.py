"""The front panel, told as stories on simulated pins."""

import sys
import types

import pytest

from appliance.errors import HardwareUnavailable, SettingError
from appliance.hw.backends import SimulatedPins, select_backend
from appliance.hw.panel import (
    BLINK_CODES,
    DEFAULT_PINS,
    FAST,
    OFF,
    ON,
    RESET_HOLD_SECONDS,
    SLOW,
    BlinkPattern,
    Fault,
    Panel,
    PanelState,
    blink_code,
    validate_pin_map,
)
from tests.fake_clock import FakeClock


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def pins():
    return SimulatedPins()


@pytest.fixture
def panel(pins, clock):
    p = Panel(pins, DEFAULT_PINS, clock)
    yield p
    p.close()


def lit_over(panel, name, clock, seconds, step=0.05):
    """The LED's lit/unlit samples over a span of time."""
    out = []
    for _ in range(round(seconds / step)):
        clock.advance(step)
        panel.tick(clock.now)
        out.append(panel.led(name).is_lit)
    return out


def flashes(samples):
    return sum(1 for a, b in zip([False] + samples, samples) if b and not a)


# --- LEDs -------------------------------------------------------------------


def test_led_on_off_drives_its_pin_and_remembers(panel, pins):
    led = panel.led("line")
    led.on()
    led.off()
    led.assert_states([OFF, ON, OFF])
    pins.pin(DEFAULT_PINS["line"]).assert_states([OFF, ON, OFF])


def test_assert_states_fails_when_history_differs(panel):
    panel.led("ready").on()
    with pytest.raises(AssertionError):
        panel.led("ready").assert_states([OFF])


def test_blinking_follows_tick_and_the_clock(panel, clock, pins):
    panel.led("voicemail").blink(SLOW)
    assert panel.led("voicemail").is_lit
    samples = lit_over(panel, "voicemail", clock, 4.0)
    # SLOW is 1 s on, 1 s off: half the time lit, and two more flashes in 4 s.
    assert 35 <= samples.count(True) <= 45
    assert flashes([True] + samples) == 2
    assert pins.pin(DEFAULT_PINS["voicemail"]).level == panel.led("voicemail").is_lit


def test_blink_code_counts_flashes_then_pauses():
    code = blink_code(3)
    cycle = 3 * (code.on + code.off) + code.pause
    samples = [code.is_lit(i * 0.01) for i in range(int(cycle / 0.01))]
    assert flashes(samples) == 3
    assert not any(samples[int((3 * (code.on + code.off)) / 0.01) + 1 :])


@pytest.mark.parametrize("bad", [dict(on=0, off=1), dict(on=1, off=-1), dict(on=1, off=1, count=-2)])
def test_bad_blink_pattern_is_refused(bad):
    with pytest.raises(ValueError):
        BlinkPattern(**bad)


def test_asking_the_same_blink_again_keeps_the_rhythm(panel, clock):
    led = panel.led("fault")
    led.blink(SLOW)
    clock.advance(1.2)
    panel.tick()
    assert not led.is_lit
    led.blink(SLOW)  # a refresh of the same state must not restart the pattern
    assert not led.is_lit
    led.blink(FAST)  # a different pattern starts afresh, lit
    assert led.is_lit


def test_unknown_led_is_a_clear_error(panel):
    with pytest.raises(HardwareUnavailable, match="no LED 'call'"):
        panel.led("call")


# --- show(state) --------------------------------------------------------------


def test_show_maps_a_healthy_busy_box(panel):
    panel.show(PanelState(ready=True, lines_ok=True, callers_waiting=2, voicemail_waiting=True, faults=[]))
    snap = panel.snapshot()["leds"]
    assert snap["ready"]["mode"] == "on"
    assert snap["line"]["mode"] == "on"
    assert snap["waiting"]["mode"] == "on"
    assert snap["voicemail"]["mode"] == "blink"
    assert snap["fault"]["mode"] == "off"


def test_show_starting_box_blinks_ready_and_many_callers_blink_fast(panel):
    panel.show(PanelState(ready=False, lines_ok=False, callers_waiting=7))
    snap = panel.snapshot()["leds"]
    assert snap["ready"]["mode"] == "blink"
    assert snap["line"]["mode"] == "off"
    assert snap["waiting"]["pattern"] == {"on": FAST.on, "off": FAST.off, "count": 0, "pause": 0.0}
    panel.show(PanelState(ready=True, lines_ok=True, callers_waiting=0))
    assert panel.snapshot()["leds"]["waiting"]["mode"] == "off"


@pytest.mark.parametrize("fault", list(Fault))
def test_each_fault_blinks_its_code(panel, clock, fault):
    panel.show(PanelState(ready=True, lines_ok=True, faults=[fault]))
    code = BLINK_CODES[fault][0]
    pattern = blink_code(code)
    cycle = code * (pattern.on + pattern.off) + pattern.pause
    samples = lit_over(panel, "fault", clock, cycle - 0.05, step=0.01)
    # The first flash was lit by show() itself, before the samples began.
    assert flashes([True] + samples) == code
    assert panel.snapshot()["faults"] == [{"fault": str(fault), "code": code}]


def test_most_urgent_fault_shows_and_all_are_listed(panel):
    panel.show(PanelState(ready=True, faults=["sim_problem", "disk_full"]))
    assert panel.led("fault").pattern == blink_code(2)
    assert [f["fault"] for f in panel.snapshot()["faults"]] == ["disk_full", "sim_problem"]


def test_fault_without_a_code_lights_steadily(panel):
    panel.show(PanelState(ready=True, lines_ok=True, faults=["overheated"]))
    assert panel.snapshot()["leds"]["fault"]["mode"] == "on"
    assert panel.snapshot()["faults"] == [{"fault": "overheated", "code": None}]
    panel.show(PanelState(ready=True, lines_ok=True))
    panel.led("fault").assert_states([OFF, ON, OFF])


def test_blink_codes_are_distinct():
    codes = [code for code, _ in BLINK_CODES.values()]
    assert len(set(codes)) == len(codes) == len(Fault)


# --- buttons ------------------------------------------------------------------


def test_night_switch_sets_night_mode_and_calls_back(panel, pins):
    seen = []
    panel.when_night_changed = seen.append
    assert not panel.night_mode
    pins.pin(DEFAULT_PINS["night"]).drive_low()
    assert panel.night_mode
    pins.pin(DEFAULT_PINS["night"]).drive_high()
    assert not panel.night_mode
    assert seen == [True, False]


def test_night_switch_already_on_at_start(clock):
    class SwitchLeftOn(SimulatedPins):
        def input(self, bcm, label):
            pin = super().input(bcm, label)
            if label == "night":
                pin.drive_low()  # as after a reboot with the switch left on
            return pin

    seen = []
    panel = Panel(SwitchLeftOn(), DEFAULT_PINS, clock)
    panel.when_night_changed = seen.append
    assert panel.night_mode
    panel.toggle_night()
    assert seen == [False]


def test_toggle_night_from_the_web_page(panel):
    seen = []
    panel.when_night_changed = seen.append
    panel.toggle_night()
    panel.toggle_night()
    assert seen == [True, False]
    assert panel.snapshot()["night_mode"] is False


def test_reset_held_ten_seconds_fires_once(panel, clock):
    held = []
    panel.when_reset_held = lambda: held.append(clock.now)
    panel.press("reset")
    clock.advance(RESET_HOLD_SECONDS - 0.1)
    panel.tick()
    assert held == []
    clock.advance(0.2)
    panel.tick()
    clock.advance(5)
    panel.tick()
    panel.release("reset")
    assert len(held) == 1


def test_reset_released_early_does_nothing(panel, clock):
    held = []
    panel.when_reset_held = lambda: held.append(1)
    panel.press("reset")
    clock.advance(RESET_HOLD_SECONDS / 2)
    panel.tick()
    panel.release("reset")
    clock.advance(RESET_HOLD_SECONDS * 2)
    panel.tick()
    assert held == []


def test_reset_hold_counts_even_without_a_tick_before_release(panel, clock):
    held = []
    panel.when_reset_held = lambda: held.append(1)
    panel.press("reset")
    clock.advance(RESET_HOLD_SECONDS + 1)
    panel.release("reset")
    assert held == [1]


def test_status_press_calls_back_once_per_press(panel, pins):
    presses = []
    panel.when_status_pressed = lambda: presses.append(1)
    pin = pins.pin(DEFAULT_PINS["status"])
    pin.drive_low()
    assert panel.is_pressed("status")
    pin.drive_high()
    pin.drive_low()
    pin.drive_high()
    assert presses == [1, 1]


def test_snapshot_shows_buttons_and_backend(panel):
    panel.press("status")
    snap = panel.snapshot()
    assert snap["buttons"]["status"] == {"pressed": True, "pin": DEFAULT_PINS["status"]}
    assert snap["buttons"]["reset"]["pressed"] is False
    assert snap["backend"]["name"] == "simulated"
    assert snap["simulated"] is True


def test_real_buttons_cannot_be_pressed_from_the_web_page(clock):
    class RealLike(SimulatedPins):
        simulated = False

    panel = Panel(RealLike(), DEFAULT_PINS, clock)
    with pytest.raises(HardwareUnavailable, match="press it by hand"):
        panel.press("status")


# --- pin map ------------------------------------------------------------------


def test_default_pin_map_is_valid():
    assert validate_pin_map(DEFAULT_PINS) == DEFAULT_PINS


@pytest.mark.parametrize(
    "change, key, why",
    [
        ({"status": 23}, "panel.pins.status", "already the ready pin"),
        ({"fault": 28}, "panel.pins.fault", "not on the 40-pin header"),
        ({"fault": -1}, "panel.pins.fault", "not on the 40-pin header"),
        ({"line": 14}, "panel.pins.line", "UART"),
        ({"line": 0}, "panel.pins.line", "EEPROM"),
        ({"line": "24"}, "panel.pins.line", "not a BCM pin number"),
        ({"line": True}, "panel.pins.line", "not a BCM pin number"),
        ({"buzzer": 5}, "panel.pins.buzzer", "no such panel part"),
    ],
)
def test_bad_pin_maps_are_refused(change, key, why):
    with pytest.raises(SettingError, match=why) as err:
        validate_pin_map({**DEFAULT_PINS, **change})
    assert err.value.key == key


def test_setting_style_part_names_are_accepted():
    spelled = {("led_" if name in ("ready", "line", "waiting", "voicemail", "fault") else "button_") + name: bcm
               for name, bcm in DEFAULT_PINS.items()}
    assert validate_pin_map(spelled) == DEFAULT_PINS
    with pytest.raises(SettingError, match="already the ready pin"):
        validate_pin_map({**spelled, "button_status": DEFAULT_PINS["ready"]})


def test_gpio_is_another_name_for_rpi_gpio(monkeypatch):
    monkeypatch.setitem(sys.modules, "RPi", None)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", None)
    with pytest.raises(HardwareUnavailable, match="not installed"):
        select_backend("gpio")


def test_missing_pin_is_refused():
    pins = dict(DEFAULT_PINS)
    del pins["reset"]
    with pytest.raises(SettingError, match="missing") as err:
        validate_pin_map(pins)
    assert err.value.key == "panel.pins.reset"


def test_custom_pin_map_moves_the_led(pins, clock):
    custom = {**DEFAULT_PINS, "ready": 5}
    panel = Panel(pins, custom, clock)
    panel.led("ready").on()
    assert pins.pin(5).level is True
    with pytest.raises(HardwareUnavailable):
        pins.pin(23)


# --- backend choice -----------------------------------------------------------


def test_auto_falls_back_to_simulated_and_says_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "RPi", None)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", None)
    backend = select_backend("auto")
    assert backend.name == "simulated"
    assert "RPi.GPIO is not installed" in backend.reason


def _fake_rpi(monkeypatch, gpio):
    package = types.ModuleType("RPi")
    package.GPIO = gpio
    monkeypatch.setitem(sys.modules, "RPi", package)
    monkeypatch.setitem(sys.modules, "RPi.GPIO", gpio)


def test_auto_reports_rpi_gpio_refusing_a_non_pi(monkeypatch):
    # RPi.GPIO raises RuntimeError at import time off a Pi; a meta path finder
    # reproduces that without the package.
    import importlib.abc

    class Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name in ("RPi", "RPi.GPIO"):
                raise RuntimeError("This module can only be run on a Raspberry Pi!")
            return None

    monkeypatch.delitem(sys.modules, "RPi", raising=False)
    monkeypatch.delitem(sys.modules, "RPi.GPIO", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Finder(), *sys.meta_path])
    backend = select_backend()
    assert backend.name == "simulated"
    assert "only be run on a Raspberry Pi" in backend.reason
    with pytest.raises(HardwareUnavailable, match="Raspberry Pi"):
        select_backend("rpi-gpio")


class RecordingGpio(types.ModuleType):
    """A stand-in with RPi.GPIO's calling convention that records what was asked of it."""

    BCM, OUT, IN, HIGH, LOW, PUD_UP, BOTH = "BCM", "OUT", "IN", 1, 0, "PUD_UP", "BOTH"

    def __init__(self):
        super().__init__("RPi.GPIO")
        self.calls = []
        self.levels = {}
        self.callbacks = {}

    def setwarnings(self, flag):
        self.calls.append(("setwarnings", flag))

    def setmode(self, mode):
        self.calls.append(("setmode", mode))

    def setup(self, pin, direction, initial=None, pull_up_down=None):
        self.calls.append(("setup", pin, direction, initial, pull_up_down))
        self.levels[pin] = 1 if direction == self.IN else initial

    def output(self, pin, level):
        self.levels[pin] = level

    def input(self, pin):
        return self.levels[pin]

    def add_event_detect(self, pin, edge, callback, bouncetime):
        self.callbacks[pin] = callback

    def cleanup(self, pins):
        self.calls.append(("cleanup", sorted(pins)))


def test_rpi_backend_drives_pins_in_bcm_numbering(monkeypatch, clock):
    gpio = RecordingGpio()
    _fake_rpi(monkeypatch, gpio)
    backend = select_backend()
    assert backend.name == "rpi-gpio"
    assert not backend.simulated
    panel = Panel(backend, DEFAULT_PINS, clock)
    assert ("setmode", "BCM") in gpio.calls
    assert ("setup", DEFAULT_PINS["night"], "IN", None, "PUD_UP") in gpio.calls
    panel.led("fault").on()
    assert gpio.levels[DEFAULT_PINS["fault"]] == 1
    seen = []
    panel.when_night_changed = seen.append
    gpio.levels[DEFAULT_PINS["night"]] = 0
    gpio.callbacks[DEFAULT_PINS["night"]](DEFAULT_PINS["night"])
    assert seen == [True] and panel.night_mode
    panel.close()
    assert ("cleanup", sorted(DEFAULT_PINS.values())) in gpio.calls


def test_rpi_edges_go_through_dispatch(monkeypatch, clock):
    gpio = RecordingGpio()
    _fake_rpi(monkeypatch, gpio)
    backend = select_backend("rpi-gpio")
    queued = []
    backend.dispatch = queued.append
    panel = Panel(backend, DEFAULT_PINS, clock)
    presses = []
    panel.when_status_pressed = lambda: presses.append(1)
    gpio.levels[DEFAULT_PINS["status"]] = 0
    gpio.callbacks[DEFAULT_PINS["status"]](DEFAULT_PINS["status"])
    assert presses == [] and len(queued) == 1
    queued.pop()()
    assert presses == [1]


def test_unknown_backend_name_is_refused():
    with pytest.raises(HardwareUnavailable, match="unknown panel backend"):
        select_backend("gpiod")
