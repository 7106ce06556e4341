"""The front panel at run time: its LEDs show the box's state, its buttons and switch act on the box.

The panel itself (LEDs, buttons, blink codes, real or simulated pins) is
`appliance.hw`; this module starts it on the core's loop and answers the
control API's virtual panel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Any

from appliance.errors import NotFound, ValidationError
from appliance.hw.backends import select_backend
from appliance.hw.panel import Fault, Panel, PanelState
from appliance.ports import Publish, Setting

log = logging.getLogger("callbox.core")


class FrontPanel:
    """`engine_restarting()`, `disk_full()` and `alarm_kinds()` are what the fault LED shows;
    `factory_reset()` is what holding the reset button does."""

    def __init__(self, *, setting: Setting, publish: Publish, listen: Callable[[Callable[..., Any]], Any],
                 engine_restarting: Callable[[], bool], disk_full: Callable[[], bool],
                 alarm_kinds: Callable[[], Iterable[str]], factory_reset: Callable[[], None]):
        self.setting = setting
        self.publish = publish
        self.listen = listen
        self.engine_restarting = engine_restarting
        self.disk_full = disk_full
        self.alarm_kinds = alarm_kinds
        self.factory_reset = factory_reset
        self.panel: Panel | None = None
        self.night_mode = False

    def start(self) -> None:
        backend = select_backend(self.setting("panel.backend"))
        # RPi.GPIO calls back on its own thread: hand the events to the loop.
        backend.dispatch = asyncio.get_running_loop().call_soon_threadsafe
        self.panel = Panel(backend, self.setting("panel.pins"))
        self.night_mode = self.panel.night_mode
        self.panel.when_night_changed = self._night_changed
        self.panel.when_reset_held = self._reset_held
        self.panel.when_status_pressed = lambda: self.publish("panel", button="status")
        # The fault LED follows the alarms at once, not at the next housekeeping round.
        self.listen(lambda kind, data: self.refresh() if kind in ("alarm", "alarm_cleared") else None)
        log.info("front panel: %s (%s)", backend.name, backend.reason)

    def _night_changed(self, on: bool) -> None:
        self.night_mode = on
        self.publish("night_mode", on=on, by="panel")

    def _reset_held(self) -> None:
        log.warning("reset button held for 10 s: factory reset")
        self.publish("panel", button="reset", action="factory_reset")
        self.factory_reset()

    def state(self) -> PanelState:
        faults = []
        if self.engine_restarting():
            faults.append(Fault.ENGINE_RESTARTING.value)
        if self.disk_full():
            faults.append(Fault.DISK_FULL.value)
        # Every other alarm lights the fault LED too (steadily, when it has no blink code of its own).
        faults += sorted(k for k in self.alarm_kinds() if k not in ("disk",))
        return PanelState(ready=True, lines_ok=True, callers_waiting=0, voicemail_waiting=False, faults=faults)

    def refresh(self) -> None:
        """Show the state now, and let the panel's own timers (blinks, held buttons) run."""
        if self.panel is not None:
            self.panel.show(self.state())

    def tick(self) -> None:
        if self.panel is not None:
            self.panel.show(self.state())
            self.panel.tick()

    def press(self, data: Any) -> dict[str, Any]:
        if self.panel is None:
            raise NotFound("the front panel is not running")
        if not isinstance(data, dict) or data.get("button") not in ("night", "reset", "status") \
                or data.get("action", "press") not in ("press", "release", "toggle"):
            raise ValidationError("button: one of night, reset, status; action: press, release or toggle")
        button, action = data["button"], data.get("action", "press")
        if (button == "night") != (action == "toggle"):
            raise ValidationError("the night switch is toggled; reset and status are pressed and released")
        if button == "night":
            self.panel.toggle_night()
        elif action == "press":
            self.panel.press(button)
            if button == "status":
                self.panel.release(button)
        else:
            self.panel.release(button)
        return self.panel.snapshot()

    def close(self) -> None:
        if self.panel is not None:
            self.panel.close()
