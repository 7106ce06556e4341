"""The voicemail menu by phone: login with PIN, listen, save, delete, greetings, PIN."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum

from appliance.errors import ValidationError
from appliance.logic.machine import Machine as TableMachine
from appliance.logic.media import Play
from appliance.logic.voicemail.boxes import (
    PIN_MAX, PIN_MIN, BoxSnapshot, Folder, GreetingKind, MessageInfo, PinGuard, check_pin,
    hash_pin, validate_pin)
from appliance.logic.voicemail.commands import (
    CallBack, ChangePin, Command, DeleteGreeting, DeleteMessage, DiscardRecording, Event, Machine,
    MarkHeard, MessageAudio, Prompt, SaveGreeting, SaveMessage, TakeAudio)

PIN_ATTEMPTS_PER_CALL = 3
MAX_SILENCES = 3  # unanswered menu prompts before the box says goodbye
E = Event


class AccessState(StrEnum):
    NEW = "NEW"
    ASK_BOX = "ASK_BOX"
    ASK_PIN = "ASK_PIN"
    MAIN_MENU = "MAIN_MENU"
    MESSAGE = "MESSAGE"
    ADVANCED = "ADVANCED"
    OPTIONS = "OPTIONS"
    TEMP_OPTIONS = "TEMP_OPTIONS"
    RECORD_GREETING = "RECORD_GREETING"
    REVIEW_GREETING = "REVIEW_GREETING"
    NEW_PIN = "NEW_PIN"
    CONFIRM_PIN = "CONFIRM_PIN"
    GOODBYE = "GOODBYE"
    ENDED = "ENDED"


A = AccessState
_MENU = {E.EXIT: A.GOODBYE, E.GIVE_UP: A.GOODBYE, E.HANGUP: A.ENDED}
_ENTRY = {E.GIVE_UP: A.GOODBYE, E.HANGUP: A.ENDED}  # '#' submits there, so no EXIT
ACCESS_TRANSITIONS: dict[AccessState, dict[Event, AccessState]] = {
    A.NEW: {E.START: A.ASK_BOX, E.LOGIN: A.ASK_PIN, E.ACCEPTED: A.MAIN_MENU,
            E.LOCKED: A.GOODBYE, E.NO_BOX: A.GOODBYE, E.HANGUP: A.ENDED},
    A.ASK_BOX: {E.BOX_ENTERED: A.ASK_PIN, **_ENTRY},
    A.ASK_PIN: {E.ACCEPTED: A.MAIN_MENU, E.REFUSED: A.ASK_BOX, E.REDO: A.ASK_PIN,
                E.LOCKED: A.GOODBYE, **_ENTRY},
    A.MAIN_MENU: {E.NEW_MESSAGES: A.MESSAGE, E.OLD_MESSAGES: A.MESSAGE, E.OPTIONS: A.OPTIONS, **_MENU},
    A.MESSAGE: {E.MAIN_MENU: A.MAIN_MENU, E.ADVANCED: A.ADVANCED, E.OPTIONS: A.OPTIONS, **_MENU},
    A.ADVANCED: {E.BACK: A.MESSAGE, E.CALL_BACK: A.ENDED, **_MENU},
    A.OPTIONS: {E.RECORD_GREETING: A.RECORD_GREETING, E.TEMP_OPTIONS: A.TEMP_OPTIONS,
                E.CHANGE_PIN: A.NEW_PIN, E.BACK: A.MAIN_MENU, **_MENU},
    A.TEMP_OPTIONS: {E.RECORD_GREETING: A.RECORD_GREETING, E.DONE: A.OPTIONS, E.BACK: A.OPTIONS, **_MENU},
    A.RECORD_GREETING: {E.REVIEW: A.REVIEW_GREETING, E.HANGUP: A.ENDED},
    A.REVIEW_GREETING: {E.DONE: A.OPTIONS, E.REDO: A.RECORD_GREETING, E.BACK: A.OPTIONS, **_MENU},
    A.NEW_PIN: {E.PIN_ENTERED: A.CONFIRM_PIN, E.BACK: A.OPTIONS, **_ENTRY},
    A.CONFIRM_PIN: {E.DONE: A.OPTIONS, E.BACK: A.OPTIONS, **_ENTRY},
    A.GOODBYE: {E.DONE: A.ENDED, E.HANGUP: A.ENDED},
    A.ENDED: {},
}
ACCESS: TableMachine[AccessState, Event] = TableMachine(
    "voicemail access", "voicemail access %s", "state", ACCESS_TRANSITIONS, "callbox.voicemail")

# The prompt each waiting state repeats after silence or "*" for help.
STATE_PROMPT: dict[AccessState, str] = {
    A.ASK_BOX: "vm-enter-box", A.ASK_PIN: "vm-enter-pin", A.MAIN_MENU: "vm-main-menu",
    A.MESSAGE: "vm-message-menu", A.ADVANCED: "vm-advanced-menu", A.OPTIONS: "vm-options",
    A.TEMP_OPTIONS: "vm-temp-options", A.REVIEW_GREETING: "vm-review-greeting",
    A.NEW_PIN: "vm-new-pin", A.CONFIRM_PIN: "vm-confirm-pin",
}
_ENTRY_STATES = (A.ASK_BOX, A.ASK_PIN, A.NEW_PIN, A.CONFIRM_PIN)  # digits collected until '#'


class Access(Machine):
    """A caller at the voicemail menu: of their own box (`box` given) or any box.

    `lookup(number)` returns the box's snapshot or None. `trusted` skips the
    PIN (the core may allow it for a caller authenticated as the box owner).
    """

    name = "voicemail access"
    MACHINE = ACCESS

    def __init__(self, call_id: str, lookup: Callable[[str], BoxSnapshot | None], guard: PinGuard,
                 clock: Callable[[], float], *, box: str | None = None, trusted: bool = False,
                 digit_timeout_s: float = 8.0, max_greeting_s: float = 60.0, leg: str = ""):
        super().__init__(call_id, clock, AccessState.NEW, leg)
        self.lookup, self.guard = lookup, guard
        self.box_number, self.trusted = box, trusted
        self.own_box = box is not None
        self.digit_timeout_s, self.max_greeting_s = digit_timeout_s, max_greeting_s
        self.snapshot: BoxSnapshot | None = None
        self.attempts = 0
        self.silences = 0
        self.entry = ""
        self.new_pin = ""
        self.folder = Folder.NEW
        self.messages: list[MessageInfo] = []
        self.index = 0
        self.greeting_kind = GreetingKind.UNAVAILABLE
        self.greeting_phase = ""  # prompt, beep, recording
        self.message_phase = ""  # body, menu, after (a "deleted"/"saved" notice, then the next)

    # -- events ------------------------------------------------------------------------

    def start(self) -> list[Command]:
        if self.box_number is None:
            self._go(E.START)
            return [self._play(Prompt("vm-enter-box"))]
        if self.guard.is_locked(self.box_number):
            self._go(E.LOCKED)
            return [self._play(Prompt("vm-locked"), Prompt("vm-goodbye"))]
        snapshot = self.lookup(self.box_number)
        if snapshot is None:
            self._go(E.NO_BOX)
            return [self._play(Prompt("vm-no-box"), Prompt("vm-goodbye"))]
        if self.trusted:
            self.snapshot = snapshot
            self._go(E.ACCEPTED)
            return [self._main_menu()]
        self._go(E.LOGIN)
        return [self._play(Prompt("vm-enter-pin"))]

    def play_done(self, turn: int | None = None) -> list[Command]:
        if self._stale(turn):
            return []
        s = self.state
        if s is A.GOODBYE:
            self._go(E.DONE)
            return [self._hangup()]
        if s is A.MESSAGE and self.message_phase == "body":
            msg = self.messages[self.index]
            out: list[Command] = []
            if msg.folder is Folder.NEW:
                out.append(MarkHeard(self._box, msg.id))
                self.messages[self.index] = replace(msg, folder=Folder.OLD)
            self.message_phase = "menu"
            return out + [self._play(Prompt("vm-message-menu"))]
        if s is A.MESSAGE and self.message_phase == "after":
            return self._show(self.index)
        if s is A.RECORD_GREETING and self.greeting_phase == "prompt":
            self.greeting_phase = "beep"
            return [self._play(Prompt("beep"))]
        if s is A.RECORD_GREETING and self.greeting_phase == "beep":
            self.greeting_phase = "recording"
            return [self._record(self.max_greeting_s), self._timer(self.max_greeting_s)]
        if s in STATE_PROMPT:
            return [self._timer(self.digit_timeout_s)]
        return []

    def timeout(self, turn: int | None = None) -> list[Command]:
        if self._stale(turn):
            return []
        if self.state is A.RECORD_GREETING and self.greeting_phase == "recording":
            return self._greeting_recorded()
        if self.state in _ENTRY_STATES and self.entry:
            return self.digit("#")
        if self.state not in STATE_PROMPT:
            return []
        self.silences += 1
        if self.silences >= MAX_SILENCES:
            return self._goodbye(E.GIVE_UP)
        return [self._play(self._state_prompt())]

    def hangup(self) -> list[Command]:
        if self.state is A.ENDED:
            return []
        out: list[Command] = []
        if self.state is A.RECORD_GREETING and self.greeting_phase == "recording":
            out = [self._stop_recording(), DiscardRecording()]
        if self.state is A.REVIEW_GREETING:
            out = [DiscardRecording()]
        self._go(E.HANGUP)
        return out

    def digit(self, d: str) -> list[Command]:
        if self.state in (A.NEW, A.GOODBYE, A.ENDED):
            return []
        self.silences = 0
        if self.state in _ENTRY_STATES:
            return self._entry_digit(d)
        handler = {
            A.MAIN_MENU: self._main_key, A.MESSAGE: self._message_key, A.ADVANCED: self._advanced_key,
            A.OPTIONS: self._options_key, A.TEMP_OPTIONS: self._temp_key,
            A.RECORD_GREETING: self._record_key, A.REVIEW_GREETING: self._review_key,
        }[self.state]
        return handler(d)

    # -- digits ------------------------------------------------------------------------

    def _entry_digit(self, d: str) -> list[Command]:
        if d.isdigit():
            self.entry += d
            if len(self.entry) > 20:  # a stuck key, not a PIN
                self.entry = self.entry[-20:]
            # Each key gives the caller the full pause again for the next one.
            return [self._timer(self.digit_timeout_s)]
        if d == "*":
            self.entry = ""
            if self.state in (A.NEW_PIN, A.CONFIRM_PIN):
                self._go(E.BACK)
                return [self._play(Prompt("vm-options"))]
            return [self._play(self._state_prompt())]
        if d != "#":
            return []
        entry, self.entry = self.entry, ""
        if self.state is A.ASK_BOX:
            if not entry:
                return [self._play(Prompt("vm-enter-box"))]
            self.box_number = entry
            self._go(E.BOX_ENTERED)
            return [self._play(Prompt("vm-enter-pin"))]
        if self.state is A.ASK_PIN:
            return self._check_pin(entry)
        if self.state is A.NEW_PIN:
            try:
                validate_pin(entry)
            except ValidationError:
                return [self._play(Prompt("vm-pin-invalid", {"min": PIN_MIN, "max": PIN_MAX}),
                                   Prompt("vm-new-pin"))]
            self.new_pin = entry
            self._go(E.PIN_ENTERED)
            return [self._play(Prompt("vm-confirm-pin"))]
        # CONFIRM_PIN
        new_pin, self.new_pin = self.new_pin, ""
        self._go(E.DONE)
        if entry != new_pin:
            return [self._play(Prompt("vm-pin-mismatch"), Prompt("vm-options"))]
        return [ChangePin(self._box, hash_pin(new_pin)),
                self._play(Prompt("vm-pin-changed"), Prompt("vm-options"))]

    def _check_pin(self, pin: str) -> list[Command]:
        box = self.box_number or ""
        if self.guard.is_locked(box):
            self._go(E.LOCKED)
            return [self._play(Prompt("vm-locked"), Prompt("vm-goodbye"))]
        snapshot = self.lookup(box)
        # An unknown box and a wrong PIN sound the same, so box numbers cannot be probed.
        if snapshot and snapshot.config.pin_hash and check_pin(pin, snapshot.config.pin_hash):
            self.guard.succeeded(box)
            self.snapshot = snapshot
            self._go(E.ACCEPTED)
            return [self._main_menu()]
        self.attempts += 1
        self.guard.failed(box)
        if self.attempts >= PIN_ATTEMPTS_PER_CALL or self.guard.is_locked(box):
            self._go(E.LOCKED)
            return [self._play(Prompt("vm-incorrect"), Prompt("vm-goodbye"))]
        if self.own_box:
            self._go(E.REDO)
            return [self._play(Prompt("vm-incorrect"), Prompt("vm-enter-pin"))]
        self._go(E.REFUSED)
        self.box_number = None
        return [self._play(Prompt("vm-incorrect"), Prompt("vm-enter-box"))]

    def _main_key(self, d: str) -> list[Command]:
        if d in ("1", "2"):
            folder = Folder.NEW if d == "1" else Folder.OLD
            msgs = [m for m in self._snapshot.messages if m.folder is folder]
            if not msgs:
                return [self._play(Prompt("vm-no-messages", {"folder": folder.value}), self._main_prompt())]
            self.folder, self.messages = folder, msgs
            self._go(E.NEW_MESSAGES if folder is Folder.NEW else E.OLD_MESSAGES)
            return self._show(0)
        if d == "0":
            self._go(E.OPTIONS)
            return [self._play(Prompt("vm-options"))]
        if d == "#":
            return self._goodbye(E.EXIT)
        if d == "*":
            return [self._main_menu()]
        return []

    def _message_key(self, d: str) -> list[Command]:
        if self.message_phase == "after":
            # A key during "deleted"/"saved" skips the notice; it does not act on
            # the next message, which the caller has not heard yet.
            return self._show(self.index)
        msg = self.messages[self.index]
        if d == "5":
            return self._show(self.index)
        if d == "4":
            if self.index == 0:
                return [self._play(Prompt("vm-no-more"), Prompt("vm-message-menu"))]
            return self._show(self.index - 1)
        if d == "6":
            return self._show(self.index + 1)
        if d in ("7", "9"):
            deleted = d == "7"
            out: list[Command] = [DeleteMessage(self._box, msg.id) if deleted else SaveMessage(self._box, msg.id)]
            self._settle(msg.id, deleted)
            self.message_phase = "after"
            return out + [self._play(Prompt("vm-deleted" if d == "7" else "vm-saved"))]
        if d == "3":
            self._go(E.ADVANCED)
            return [self._play(Prompt("vm-advanced-menu"))]
        if d == "0":
            self._go(E.OPTIONS)
            return [self._play(Prompt("vm-options"))]
        if d == "*":
            self._go(E.MAIN_MENU)
            return [self._main_menu()]
        if d == "#":
            return self._goodbye(E.EXIT)
        return []

    def _advanced_key(self, d: str) -> list[Command]:
        msg = self.messages[self.index]
        if d == "2" and msg.caller:
            self._go(E.CALL_BACK)
            return [CallBack(msg.caller)]
        if d == "3":
            self._go(E.BACK)
            self.message_phase = "menu"
            return [self._play(Prompt("vm-envelope", {"caller": msg.caller, "received": msg.received,
                                                      "duration_s": msg.duration_s}),
                               Prompt("vm-message-menu"))]
        if d == "*":
            self._go(E.BACK)
            self.message_phase = "menu"
            return [self._play(Prompt("vm-message-menu"))]
        if d == "#":
            return self._goodbye(E.EXIT)
        return []

    def _options_key(self, d: str) -> list[Command]:
        if d in ("1", "2"):
            return self._record_greeting(GreetingKind.UNAVAILABLE if d == "1" else GreetingKind.BUSY)
        if d == "4":
            if GreetingKind.TEMPORARY in self._snapshot.greetings:
                self._go(E.TEMP_OPTIONS)
                return [self._play(Prompt("vm-temp-options"))]
            return self._record_greeting(GreetingKind.TEMPORARY)
        if d == "5":
            self._go(E.CHANGE_PIN)
            return [self._play(Prompt("vm-new-pin"))]
        if d == "*":
            self._go(E.BACK)
            return [self._main_menu()]
        if d == "#":
            return self._goodbye(E.EXIT)
        return []

    def _temp_key(self, d: str) -> list[Command]:
        if d == "1":
            return self._record_greeting(GreetingKind.TEMPORARY)
        if d == "2":
            self._go(E.DONE)
            self._greetings(remove=GreetingKind.TEMPORARY)
            return [DeleteGreeting(self._box, GreetingKind.TEMPORARY),
                    self._play(Prompt("vm-temp-removed"), Prompt("vm-options"))]
        if d == "*":
            self._go(E.BACK)
            return [self._play(Prompt("vm-options"))]
        if d == "#":
            return self._goodbye(E.EXIT)
        return []

    def _record_key(self, d: str) -> list[Command]:
        if d == "#" and self.greeting_phase == "recording":
            return self._greeting_recorded()
        return []

    def _review_key(self, d: str) -> list[Command]:
        if d == "1":
            self._go(E.DONE)
            self._greetings(add=self.greeting_kind)
            return [SaveGreeting(self._box, self.greeting_kind),
                    self._play(Prompt("vm-greeting-saved"), Prompt("vm-options"))]
        if d == "2":
            return [self._play(TakeAudio(), Prompt("vm-review-greeting"))]
        if d == "3":
            self._go(E.REDO)
            self.greeting_phase = "beep"
            return [DiscardRecording(), self._play(Prompt("beep"))]
        if d == "*":
            self._go(E.BACK)
            return [DiscardRecording(), self._play(Prompt("vm-options"))]
        if d == "#":
            return [DiscardRecording()] + self._goodbye(E.EXIT)
        return []

    # -- helpers -----------------------------------------------------------------------

    @property
    def _box(self) -> str:
        return self._snapshot.config.number

    @property
    def _snapshot(self) -> BoxSnapshot:
        assert self.snapshot is not None, "menu reached without a box"
        return self.snapshot

    def counts(self) -> tuple[int, int]:
        msgs = self._snapshot.messages
        return (sum(m.folder is Folder.NEW for m in msgs), sum(m.folder is Folder.OLD for m in msgs))

    def _main_prompt(self) -> Prompt:
        new, old = self.counts()
        return Prompt("vm-main-menu", {"new": new, "old": old})

    def _state_prompt(self) -> Prompt:
        return self._main_prompt() if self.state is A.MAIN_MENU else Prompt(STATE_PROMPT[self.state])

    def _main_menu(self) -> Play:
        return self._play(self._main_prompt())

    def _show(self, index: int) -> list[Command]:
        if index >= len(self.messages):
            self._go(E.MAIN_MENU)
            return [self._play(Prompt("vm-no-more"), self._main_prompt())]
        self.index = index
        self.message_phase = "body"
        msg = self.messages[index]
        return [self._play(MessageAudio(self._box, msg.id, index + 1))]

    def _settle(self, message_id: str, deleted: bool) -> None:
        """Keep this call's view true after a delete or save; `index` ends on the next message."""
        snap = self._snapshot
        if deleted:
            del self.messages[self.index]
            msgs = tuple(m for m in snap.messages if m.id != message_id)
        else:
            self.messages[self.index] = replace(self.messages[self.index], folder=Folder.OLD)
            self.index += 1
            msgs = tuple(m if m.id != message_id else replace(m, folder=Folder.OLD) for m in snap.messages)
        self.snapshot = replace(snap, messages=msgs)

    def _greetings(self, add: str | None = None, remove: str | None = None) -> None:
        g = set(self._snapshot.greetings)
        if add:
            g.add(add)
        if remove:
            g.discard(remove)
        self.snapshot = replace(self._snapshot, greetings=frozenset(g))

    def _record_greeting(self, kind: GreetingKind) -> list[Command]:
        self._go(E.RECORD_GREETING)
        self.greeting_kind = kind
        self.greeting_phase = "prompt"
        return [self._play(Prompt("vm-record-greeting", {"kind": kind.value}))]

    def _greeting_recorded(self) -> list[Command]:
        self._go(E.REVIEW)
        self.greeting_phase = ""
        return [self._stop_recording(), self._play(Prompt("vm-review-greeting"))]

    def _goodbye(self, why: Event) -> list[Command]:
        self._go(why)
        return [self._play(Prompt("vm-goodbye"))]
