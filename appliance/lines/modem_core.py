"""What the GSM and the voice-modem drivers share: the pure core of a modem line.

Both speak AT through one parser and one command queue, keep the line's state in
a table (each driver brings its own `TRANSITIONS`), publish `LineStatus` changes
and other notices for the gateway, and run timers that die with a reset (a
modem that went away and came back must not get the old modem's callbacks).
No I/O: bytes in (`receive`), bytes out (`writes`), time from the clock given.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from enum import StrEnum
from typing import Callable, ClassVar

from appliance.lines.at_parser import ATParser
from appliance.lines.command_queue import Command, CommandQueue, Outcome
from appliance.lines.notices import CallEnded, LineError, LineStatus, Notice, StatusChanged

log = logging.getLogger(__name__)


class ModemCore:
    """Subclasses set TRANSITIONS, IN_CALL and the two events every modem has (it appeared,
    it went away), and implement `_start_init`."""

    TRANSITIONS: ClassVar[dict]
    IN_CALL: ClassVar[set]
    CONNECTED: ClassVar[StrEnum]
    LOST: ClassVar[StrEnum]

    def __init__(self, *, clock: Callable[[], float], name: str, state: StrEnum, status: LineStatus) -> None:
        self.name = name
        self._clock = clock
        self._parser = ATParser()
        self._queue = CommandQueue(clock)
        self._notices: list[Notice] = []
        self._timers: list[tuple[float, Callable[[], None]]] = []
        self._generation = 0  # callbacks from before a reset are ignored
        self.state = state
        self._status = status
        self._announced = False
        self._last_ring = 0.0

    # --- state ------------------------------------------------------------------

    def _fire(self, event: StrEnum) -> bool:
        """The one place the line's state changes (`old -> new` logged); False if the table has
        no such move (the event is ignored, as a modem's late reply may be)."""
        new = self.TRANSITIONS[self.state].get(event)
        if new is None:
            log.debug("%s: ignoring %s in %s", self.name, event, self.state)
            return False
        if new != self.state:
            log.info("%s: %s -> %s", self.name, self.state, new)
        self.state = new
        self._set_status(**self._status_in(new))
        return True

    def _status_in(self, state: StrEnum) -> dict[str, object]:
        """What the status says in `state` (a driver may add to it)."""
        return {"state": state.value, "in_call": state in self.IN_CALL}

    def _set_status(self, **changes: object) -> None:
        new = replace(self._status, **changes)
        if new != self._status:
            self._status = new
            self._notices.append(StatusChanged(new))

    @property
    def status(self) -> LineStatus:
        return self._status

    def _error(self, kind: str, text: str = "") -> None:
        err = LineError(kind, text)
        log.warning("%s: %s %s", self.name, kind, text)
        self._notices.append(err)
        self._set_status(last_error=err)

    # --- the modem comes and goes ----------------------------------------------------

    def connected(self) -> None:
        """The port is open (first time or after the modem came back)."""
        self._reset_io()
        self._fire(self.CONNECTED)
        self._start_init()

    def gone(self) -> None:
        if self.state in self.IN_CALL:
            self._notices.append(CallEnded("modem_gone"))
        self._reset_io()
        self._fire(self.LOST)

    def _start_init(self) -> None:
        raise NotImplementedError

    def _reset_io(self) -> None:
        self._generation += 1
        self._queue.cancel_all()
        self._parser.reset()
        self._timers.clear()

    # --- time -------------------------------------------------------------------------

    def _run_timers(self, now: float) -> None:
        self._queue.due_timeouts(now)
        due = [t for t in self._timers if t[0] <= now]
        self._timers = [t for t in self._timers if t[0] > now]
        for _, callback in due:
            callback()

    def _after(self, delay: float, callback: Callable[[], None]) -> None:
        generation = self._generation

        def guarded() -> None:
            if generation == self._generation:
                callback()
        self._timers.append((self._clock() + delay, guarded))

    # --- commands and notices ------------------------------------------------------------

    def _submit(self, text: str, timeout: float, *, expect: object = None,
                done: Callable[[Command], None] | None = None, **options: object) -> Command:
        """Queue an AT command; `done` runs with its outcome unless a reset came first or the
        driver's `_timed_out` says the timeout was dealt with."""
        generation = self._generation

        def on_done(cmd: Command) -> None:
            if generation != self._generation or cmd.outcome == Outcome.CANCELLED:
                return
            if cmd.outcome == Outcome.TIMEOUT and self._timed_out(cmd):
                return
            if cmd.outcome != Outcome.TIMEOUT:
                self._answered(cmd)
            if done is not None:
                done(cmd)
        return self._queue.submit(text, timeout=timeout, expect=expect, on_done=on_done, **options)

    def _timed_out(self, cmd: Command) -> bool:
        """A command got no answer in time: True when that ends its story (the driver restarted)."""
        self._error("no_response", f"no answer to {cmd.text}")
        return False

    def _answered(self, cmd: Command) -> None:
        """A command got its answer (the GSM driver counts timeouts in a row)."""

    def notices(self) -> list[Notice]:
        out, self._notices = self._notices, []
        return out
