"""One AT command in flight at a time, with deadlines. Pure: no I/O.

The queue decides what to write next (`due_writes`), routes parsed events
(`feed`): reply lines to the command in flight, notifications out, and ends
the command on its final result or at its deadline (`due_timeouts`). What to
do about a timeout (retry, reset the modem) is the driver's business.

The SMS send is two-step: `AT+CMGS=<len>` is written, the modem answers with
the `> ` prompt, then the PDU and Ctrl-Z are written. A prompt that never
comes is cancelled with ESC so that the modem does not swallow the next
command as message text.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from appliance.lines.at_parser import (
    CALL_PROGRESS, ATEvent, FinalKind, FinalResult, Garbage, Info, SmsPrompt, Unsolicited,
)

log = logging.getLogger(__name__)

CTRL_Z, ESC = b"\x1a", b"\x1b"


class CmdState(StrEnum):
    QUEUED = "queued"
    WAITING = "waiting"            # written, waiting for the final result
    AWAITING_PROMPT = "awaiting_prompt"
    BODY_SENT = "body_sent"
    DONE = "done"


class CmdEvent(StrEnum):
    WRITE = "write"
    WRITE_TWO_STEP = "write_two_step"
    PROMPT = "prompt"
    FINAL = "final"
    TIMEOUT = "timeout"
    CANCEL = "cancel"


class Outcome(StrEnum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"


TRANSITIONS: dict[CmdState, dict[CmdEvent, CmdState]] = {
    CmdState.QUEUED: {CmdEvent.WRITE: CmdState.WAITING,
                      CmdEvent.WRITE_TWO_STEP: CmdState.AWAITING_PROMPT,
                      CmdEvent.CANCEL: CmdState.DONE},
    CmdState.WAITING: {CmdEvent.FINAL: CmdState.DONE, CmdEvent.TIMEOUT: CmdState.DONE,
                       CmdEvent.CANCEL: CmdState.DONE},
    CmdState.AWAITING_PROMPT: {CmdEvent.PROMPT: CmdState.BODY_SENT,
                               CmdEvent.FINAL: CmdState.DONE,
                               CmdEvent.TIMEOUT: CmdState.DONE,
                               CmdEvent.CANCEL: CmdState.DONE},
    CmdState.BODY_SENT: {CmdEvent.FINAL: CmdState.DONE, CmdEvent.TIMEOUT: CmdState.DONE,
                         CmdEvent.CANCEL: CmdState.DONE},
    CmdState.DONE: {},
}

Expect = Callable[[str], bool] | str | None


@dataclass(eq=False)
class Command:
    text: str
    timeout: float
    expect: Expect = None
    on_done: Callable[["Command"], None] | None = None
    body: bytes | None = None          # for two-step commands (SMS PDU)
    call_progress: bool = False        # NO CARRIER/BUSY end this command (ATD, ATA)
    state: CmdState = CmdState.QUEUED
    lines: list[str] = field(default_factory=list)
    result: FinalResult | None = None
    outcome: Outcome | None = None
    deadline: float | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.OK

    def claims(self, line: str) -> bool:
        if self.expect is None:
            return True
        if isinstance(self.expect, str):
            return line.upper().startswith(self.expect.upper())
        return bool(self.expect(line))

    def __repr__(self) -> str:
        return f"Command({self.text!r}, {self.state}, {self.outcome})"


@dataclass(frozen=True)
class Completed:
    command: Command


def change_state(cmd: Command, event: CmdEvent) -> None:
    """The one place a command changes state."""
    try:
        new = TRANSITIONS[cmd.state][event]
    except KeyError:
        raise ValueError(f"command {cmd.text!r}: no transition from {cmd.state} on {event}") from None
    log.debug("command %r: %s -> %s", cmd.text, cmd.state, new)
    cmd.state = new


class CommandQueue:
    def __init__(self, clock: Callable[[], float]):
        self._clock = clock
        self._queue: deque[Command] = deque()
        self._outbox: list[bytes] = []
        self.in_flight: Command | None = None

    def submit(self, cmd: str, *, timeout: float, expect: Expect = None,
               on_done: Callable[[Command], None] | None = None, body: bytes | None = None,
               call_progress: bool = False) -> Command:
        command = Command(cmd, timeout, expect, on_done, body, call_progress)
        self._queue.append(command)
        return command

    @property
    def idle(self) -> bool:
        return self.in_flight is None and not self._queue

    def pending(self) -> list[Command]:
        return ([self.in_flight] if self.in_flight else []) + list(self._queue)

    def due_writes(self) -> list[bytes]:
        if self.in_flight is None and self._queue:
            cmd = self._queue.popleft()
            change_state(cmd, CmdEvent.WRITE_TWO_STEP if cmd.body is not None else CmdEvent.WRITE)
            cmd.deadline = self._clock() + cmd.timeout
            self.in_flight = cmd
            self._outbox.append(cmd.text.encode("ascii", "replace") + b"\r")
        out, self._outbox = self._outbox, []
        return out

    def feed(self, events: list[ATEvent]) -> list[Completed | ATEvent]:
        out: list[Completed | ATEvent] = []
        for ev in events:
            cmd = self.in_flight
            if isinstance(ev, FinalResult):
                if cmd is not None and (ev.kind not in CALL_PROGRESS or cmd.call_progress
                                        or cmd.state == CmdState.BODY_SENT):
                    cmd.result = ev
                    ok = ev.kind in (FinalKind.OK, FinalKind.CONNECT, FinalKind.VCON)
                    out.append(self._finish(cmd, CmdEvent.FINAL, Outcome.OK if ok else Outcome.ERROR))
                else:
                    out.append(ev)  # e.g. NO CARRIER when the far end hangs up
            elif isinstance(ev, Info):
                if cmd is not None and ev.line.strip().upper() == cmd.text.strip().upper():
                    continue  # echo (before ATE0 takes effect)
                if cmd is not None and cmd.state != CmdState.QUEUED and cmd.claims(ev.line):
                    cmd.lines.append(ev.line)
                else:
                    out.append(ev)
            elif isinstance(ev, Unsolicited):
                if cmd is not None and cmd.expect is not None and cmd.claims(ev.raw):
                    cmd.lines.append(ev.raw)
                else:
                    out.append(ev)
            elif isinstance(ev, SmsPrompt):
                if cmd is not None and cmd.state == CmdState.AWAITING_PROMPT:
                    change_state(cmd, CmdEvent.PROMPT)
                    self._outbox.append((cmd.body or b"") + CTRL_Z)
                else:
                    out.append(ev)
            elif isinstance(ev, Garbage):
                out.append(ev)
        return out

    def due_timeouts(self, now: float) -> list[Completed]:
        cmd = self.in_flight
        if cmd is None or cmd.deadline is None or now < cmd.deadline:
            return []
        if cmd.state == CmdState.AWAITING_PROMPT:
            self._outbox.append(ESC)
        return [self._finish(cmd, CmdEvent.TIMEOUT, Outcome.TIMEOUT)]

    def tick(self) -> list[Completed]:
        return self.due_timeouts(self._clock())

    def cancel_all(self) -> list[Completed]:
        """The device is gone: every pending command ends as cancelled."""
        out = []
        for cmd in self.pending():
            out.append(self._finish(cmd, CmdEvent.CANCEL, Outcome.CANCELLED))
        self._queue.clear()
        self._outbox.clear()
        return out

    def _finish(self, cmd: Command, event: CmdEvent, outcome: Outcome) -> Completed:
        change_state(cmd, event)
        cmd.outcome = outcome
        if cmd is self.in_flight:
            self.in_flight = None
        if cmd.on_done is not None:
            cmd.on_done(cmd)
        return Completed(cmd)
