"""What the GSM and the voice-modem drivers share: the pure core of a modem line.

Both speak AT through one parser and one command queue, keep the line's state in
a table (one vocabulary of states and events, `LineState` and `LineEvent`; each
driver brings its own `TRANSITIONS` over the part it uses, made the house's one
`Machine` by `line_machine`), publish `LineStatus`
changes and other notices for the gateway, and run timers that die with a reset
(a modem that went away and came back must not get the old modem's callbacks).
What a call does the same way on both lines lives here too: a ring that starts
it, a ring cycle that ends it unanswered, the checks before answering or dialling.
No I/O: bytes in (`receive`), bytes out (`writes`), time from the clock given.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from enum import StrEnum
from typing import Callable, ClassVar

from appliance.errors import Conflict, StateMachineError, ValidationError
from appliance.lines.at_parser import ATParser
from appliance.lines.command_queue import Command, CommandQueue, Outcome
from appliance.lines.notices import CallEnded, LineError, LineStatus, Notice, StatusChanged
from appliance.logic.machine import Machine

log = logging.getLogger(__name__)


class LineState(StrEnum):
    GONE = "gone"
    STARTING = "starting"
    SIM_PROBLEM = "sim_problem"   # GSM: the SIM needs a person (PIN, PUK, missing)
    READY = "ready"
    RINGING = "ringing"
    DIALING = "dialing"           # GSM: the network is connecting our call
    CONNECTING = "connecting"     # analog: off-hook or dialling, voice data not yet flowing
    TALKING = "talking"
    HANGING_UP = "hanging_up"     # analog: DLE ! sent, waiting for the modem's DLE ETX


class LineEvent(StrEnum):
    CONNECTED = "connected"       # the modem's port opened (first time or after it came back)
    LOST = "lost"                 # the modem went away
    INIT_DONE = "init_done"
    SIM_FAILED = "sim_failed"
    PIN_CHANGED = "pin_changed"
    RING = "ring"
    ANSWER = "answer"             # analog: we take the line off-hook
    DIAL = "dial"
    ANSWERED = "answered"         # GSM: the call is connected
    STREAMING = "streaming"       # analog: voice data flows
    HANGUP = "hangup"             # analog: we leave voice data mode
    STREAM_ENDED = "stream_ended"
    CALL_ENDED = "call_ended"


S, E = LineState, LineEvent


def line_machine(kind: str,
                 table: dict[LineState, dict[LineEvent, LineState]]) -> Machine[LineState, LineEvent]:
    """A driver's table as the one `Machine`: changes logged here as `gsm1: ready -> ringing`, a
    repeat (another RING) not."""
    return Machine(f"{kind} line", "%s", "state", table, __name__, who="name", quiet_repeats=True)


class ModemCore:
    """Subclasses set MACHINE (`line_machine` over their table) and IN_CALL, and implement
    `_start_init` and `_end_call`."""

    MACHINE: ClassVar[Machine[LineState, LineEvent]]
    IN_CALL: ClassVar[set[LineState]]

    def __init__(self, *, clock: Callable[[], float], name: str, status: LineStatus,
                 ring_timeout: float = 8.0) -> None:
        self.name = name
        self._clock = clock
        self._parser = ATParser()
        self._queue = CommandQueue(clock)
        self._notices: list[Notice] = []
        self._timers: list[tuple[float, Callable[[], None]]] = []
        self._generation = 0  # callbacks from before a reset are ignored
        self.state = S.GONE
        self._status = status
        self._ring_timeout = ring_timeout
        self._announced = False
        self._last_ring = 0.0

    # --- state ------------------------------------------------------------------

    def _fire(self, event: LineEvent) -> bool:
        """Move the line through its `MACHINE`; False if the table has no such move (the event
        is ignored, as a modem's late reply may be)."""
        try:
            new = self.MACHINE.fire(self, event)
        except StateMachineError:
            log.debug("%s: ignoring %s in %s", self.name, event, self.state)
            return False
        self._set_status(**self._status_in(new))
        return True

    def _status_in(self, state: LineState) -> dict[str, object]:
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
        self._fire(E.CONNECTED)
        self._start_init()

    def gone(self) -> None:
        if self.state in self.IN_CALL:
            self._notices.append(CallEnded("modem_gone"))
        self._reset_io()
        self._fire(E.LOST)

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

    def _cmd(self, text: str, timeout: float = 5.0, *, expect: object = None,
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

    # --- a call, the same on every line -----------------------------------------------------

    def _ring(self) -> bool:
        """The modem said RING: True when it starts a call (the line was ready)."""
        started = self.state == S.READY
        if started:
            self._announced = False
            self._fire(E.RING)
        if self.state == S.RINGING:
            self._last_ring = self._clock()
        return started

    def _ring_cycle_over(self, now: float) -> None:
        """No RING for a whole ring cycle: the caller gave up before anyone answered."""
        if self.state == S.RINGING and now - self._last_ring > self._ring_timeout:
            self._end_call("missed")

    def _check_ringing(self) -> None:
        if self.state != S.RINGING:
            raise Conflict(f"no call is ringing (line is {self.state})")

    def _dial(self, number: str, valid: re.Pattern[str], command: str, timeout: float,
              done: Callable[[Command], None]) -> None:
        """Dial `number` (checked against `valid`) with `command` (ATD...;), from a ready line only."""
        if not valid.match(number):
            raise ValidationError(f"not a phone number: {number!r}")
        if self.state != S.READY:
            raise Conflict(f"the line cannot dial now (line is {self.state})")
        self._fire(E.DIAL)
        self._cmd(command, timeout, call_progress=True, done=done)

    def _end_call(self, cause: str) -> bool:
        """The call is over (`cause` in the modem's words): True when it was one."""
        if not self._fire(E.CALL_ENDED):
            return False
        self._notices.append(CallEnded(cause))
        return True
