"""A caller leaving a message: greeting, beep, recording, saved or discarded."""

from __future__ import annotations

from collections.abc import Callable, Collection
from enum import StrEnum

from appliance.logic.machine import Machine as TableMachine
from appliance.logic.voicemail.boxes import BoxConfig, choose_greeting
from appliance.logic.voicemail.commands import (
    Audio, Command, DiscardRecording, Event, GreetingAudio, Machine, Prompt, SaveRecording, StartLogin)

MIN_MESSAGE_S = 1.0  # shorter is a caller who hung up at the beep


class DepositState(StrEnum):
    NEW = "NEW"
    GREETING = "GREETING"
    BEEP = "BEEP"
    RECORDING = "RECORDING"
    FULL = "FULL"
    LOGIN = "LOGIN"
    SAVED = "SAVED"
    DISCARDED = "DISCARDED"


D, E = DepositState, Event
DEPOSIT_TRANSITIONS: dict[DepositState, dict[Event, DepositState]] = {
    D.NEW: {E.START: D.GREETING, E.BOX_FULL: D.FULL, E.HANGUP: D.DISCARDED},
    D.GREETING: {E.PLAY_DONE: D.BEEP, E.SKIP: D.BEEP, E.LOGIN: D.LOGIN, E.HANGUP: D.DISCARDED},
    D.BEEP: {E.PLAY_DONE: D.RECORDING, E.LOGIN: D.LOGIN, E.HANGUP: D.DISCARDED},
    D.RECORDING: {E.KEEP: D.SAVED, E.TOO_SHORT: D.DISCARDED},
    D.FULL: {E.PLAY_DONE: D.DISCARDED, E.HANGUP: D.DISCARDED},
    D.LOGIN: {},
    D.SAVED: {},
    D.DISCARDED: {},
}
DEPOSIT: TableMachine[DepositState, Event] = TableMachine(
    "voicemail deposit", "voicemail deposit %s", "state", DEPOSIT_TRANSITIONS, "callbox.voicemail")


class Deposit(Machine):
    """One caller leaving a message in one box.

    `reason` is why the call came here (busy or unavailable); `recorded` the
    greetings the box has; `message_count` how many messages it holds now.
    """

    name = "voicemail deposit"
    MACHINE = DEPOSIT

    def __init__(self, call_id: str, box: BoxConfig, caller: str, clock: Callable[[], float], *,
                 caller_name: str = "", reason: str = "unavailable",
                 recorded: Collection[str] = (), message_count: int = 0, leg: str = ""):
        super().__init__(call_id, clock, DepositState.NEW, leg)
        self.box = box
        self.caller = caller
        self.caller_name = caller_name
        self.reason = reason
        self.recorded = frozenset(recorded)
        self.message_count = message_count
        self.record_started: float | None = None
        self.duration_s = 0.0

    def start(self) -> list[Command]:
        if self.message_count >= self.box.max_messages:
            self._go(E.BOX_FULL)
            return [self._play(Prompt("vm-box-full", {"box": self.box.number}))]
        self._go(E.START)
        kind = choose_greeting(self.reason, self.recorded)
        if kind is None:
            return [self._play(Prompt("vm-default-greeting", {"box": self.box.number, "reason": self.reason}))]
        return [self._play(GreetingAudio(self.box.number, kind))]

    def play_done(self, turn: int | None = None) -> list[Command]:
        if self._stale(turn):
            return []
        if self.state is D.GREETING:
            self._go(E.PLAY_DONE)
            return [self._play(Prompt("beep"))]
        if self.state is D.BEEP:
            self._go(E.PLAY_DONE)
            self.record_started = self.clock()
            return [self._record(self.box.max_message_s), self._timer(self.box.max_message_s)]
        if self.state is D.FULL:
            self._go(E.PLAY_DONE)
            return [self._hangup()]
        if self.state in (D.SAVED, D.DISCARDED):
            return [self._hangup()]  # after the goodbye
        return []

    def digit(self, d: str) -> list[Command]:
        if self.state in (D.GREETING, D.BEEP) and d == "*":
            self._go(E.LOGIN)
            return [StartLogin(self.box.number)]
        if self.state is D.GREETING and d == "#":
            self._go(E.SKIP)
            return [self._play(Prompt("beep"))]
        if self.state is D.RECORDING and d == "#":
            return self._stop(Prompt("vm-goodbye"))
        return []

    def timeout(self, turn: int | None = None) -> list[Command]:
        if self._stale(turn) or self.state is not D.RECORDING:
            return []
        return self._stop(Prompt("vm-max-length-reached"), Prompt("vm-goodbye"))

    def hangup(self) -> list[Command]:
        if self.state is D.RECORDING:
            # The usual way a message ends: the caller simply hangs up.
            return self._stop()
        if self.state in (D.NEW, D.GREETING, D.BEEP, D.FULL):
            self._go(E.HANGUP)
        return []

    def _stop(self, *goodbye: Audio) -> list[Command]:
        started = self.record_started if self.record_started is not None else self.clock()
        self.duration_s = round(self.clock() - started, 3)
        out: list[Command] = [self._stop_recording()]
        if self.duration_s < MIN_MESSAGE_S:
            self._go(E.TOO_SHORT)
            out.append(DiscardRecording())
        else:
            self._go(E.KEEP)
            out.append(SaveRecording(self.box.number, self.caller, self.caller_name, self.duration_s))
        if goodbye:
            out.append(self._play(*goodbye))
        else:
            self.turn += 1  # nothing left to wait for
        return out
