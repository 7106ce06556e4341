"""Voicemail as pure logic: boxes, the caller's deposit, the owner's phone menu, MWI bodies.

Two machines, one table each ({State: {Event: NewState}}), and one `_go` per
machine that changes state and logs `old -> new`. They return commands (play
this, record that, save this message, hang up) and never touch files or
sockets; the core carries the commands out and feeds back events:
`play_done`, `digit`, `hangup`, `timeout`.

Every Play and StartTimer carries a `turn`. A key that interrupts a prompt
starts a new turn, so the end of the interrupted prompt (or an old timer) that
the engine still reports is recognised as stale and ignored.

The keys follow Asterisk's VoiceMailMain, which most phone users have met:
1 new / 2 old messages, in a message 4 previous, 5 repeat, 6 next, 7 delete,
9 save, 3 advanced; 0 mailbox options (1 unavailable, 2 busy, 4 temporary
greeting, 5 change PIN); * back, # done.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from appliance.errors import StateMachineError, ValidationError

log = logging.getLogger("callbox.voicemail")

PIN_MIN, PIN_MAX = 4, 10
# A 4-digit PIN has 10,000 values, so the hash cannot hide it from someone
# holding the file; it only keeps PINs out of backups and screens. The
# lockout is what protects a box from callers trying PINs.
PIN_HASH_ITERATIONS = 20_000
MIN_MESSAGE_S = 1.0
PIN_ATTEMPTS_PER_CALL = 3
MAX_SILENCES = 3  # unanswered menu prompts before the box says goodbye


class GreetingKind(StrEnum):
    UNAVAILABLE = "unavailable"
    BUSY = "busy"
    TEMPORARY = "temporary"  # while recorded, callers hear it whatever the reason


class Folder(StrEnum):
    NEW = "new"
    OLD = "old"


# --- box configuration -----------------------------------------------------------------

def validate_pin(pin: str) -> str:
    if not (isinstance(pin, str) and pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        raise ValidationError(f"a voicemail PIN is {PIN_MIN} to {PIN_MAX} digits")
    return pin


def hash_pin(pin: str, salt: bytes | None = None) -> str:
    """`pbkdf2_sha256$iterations$salt$hash`, the form kept in a box's config."""
    validate_pin(pin)
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, PIN_HASH_ITERATIONS)
    return f"pbkdf2_sha256${PIN_HASH_ITERATIONS}${salt.hex()}${digest.hex()}"


def check_pin(pin: str, pin_hash: str) -> bool:
    try:
        scheme, iterations, salt, expected = pin_hash.split("$")
        if scheme != "pbkdf2_sha256":
            return False
        digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), int(iterations))
    except (ValueError, AttributeError):
        return False
    return hmac.compare_digest(digest.hex(), expected)


@dataclass(frozen=True)
class BoxConfig:
    """A voicemail box: an extension's, a queue's, or a shared one (e.g. "sales")."""

    number: str
    owner: str = ""  # the extension whose phone reaches the box without dialling its number
    pin_hash: str = ""  # empty: nobody can log in by phone until a PIN is set
    max_message_s: int = 180
    max_messages: int = 100
    email: str = ""
    attach_audio: bool = True
    delete_after_email: bool = False
    notify_unsolicited: bool = False  # MWI NOTIFY to phones that never SUBSCRIBE

    def __post_init__(self) -> None:
        if not self.number or not all(c.isalnum() or c in "_.-" for c in self.number) \
                or self.number.startswith("."):
            raise ValidationError(f"{self.number!r} is not a box number (letters, digits, _ . -)")
        if not 1 <= self.max_message_s <= 3600:
            raise ValidationError("max_message_s must be between 1 and 3600")
        if not 1 <= self.max_messages <= 10_000:
            raise ValidationError("max_messages must be between 1 and 10000")
        if self.email and ("@" not in self.email or any(c in self.email for c in " \r\n,;")):
            raise ValidationError(f"{self.email!r} is not one email address")

    def with_pin(self, pin: str) -> BoxConfig:
        return replace(self, pin_hash=hash_pin(pin))

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BoxConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "pin" in data:  # a plain PIN from a form or an import is hashed on the way in
            known["pin_hash"] = hash_pin(str(data["pin"]))
        try:
            return cls(**known)
        except TypeError as e:
            raise ValidationError(f"box config: {e}") from e


def choose_greeting(reason: str, recorded: Collection[str]) -> GreetingKind | None:
    """The greeting a caller hears; None means the default prompt with the box number."""
    if GreetingKind.TEMPORARY in recorded:
        return GreetingKind.TEMPORARY
    kind = GreetingKind.BUSY if reason == "busy" else GreetingKind.UNAVAILABLE
    return kind if kind in recorded else None


@dataclass(frozen=True)
class MessageInfo:
    """What the menu needs to know of a stored message."""

    id: str
    folder: Folder
    caller: str = ""
    received: float = 0.0
    duration_s: float = 0.0


@dataclass(frozen=True)
class BoxSnapshot:
    """A box as the access menu sees it at login (config, messages, recorded greetings)."""

    config: BoxConfig
    messages: tuple[MessageInfo, ...] = ()
    greetings: frozenset[str] = frozenset()


# --- commands ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Prompt:
    """A system prompt by name (vm-goodbye, ...); args fill in numbers."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GreetingAudio:
    box: str
    kind: GreetingKind


@dataclass(frozen=True)
class MessageAudio:
    box: str
    message_id: str
    number: int  # announced before it: "message 3"


@dataclass(frozen=True)
class TakeAudio:
    """The recording just made on this call (a greeting under review)."""


Audio = Prompt | GreetingAudio | MessageAudio | TakeAudio


@dataclass(frozen=True)
class Play:
    """Play the items one after another; a new Play replaces what is playing."""

    items: tuple[Audio, ...]
    turn: int


class RecordAction(StrEnum):
    START = "start"
    STOP = "stop"


@dataclass(frozen=True)
class Record:
    action: RecordAction
    max_s: float = 0.0


@dataclass(frozen=True)
class StartTimer:
    """Send `timeout(turn)` at clock time `at`, unless another StartTimer replaces it."""

    at: float
    turn: int


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class SaveRecording:
    """Keep the take as a new message in the box."""

    box: str
    caller: str
    caller_name: str
    duration_s: float


@dataclass(frozen=True)
class DiscardRecording:
    pass


@dataclass(frozen=True)
class StartLogin:
    """Hand the call to the access menu of `box` (the caller pressed * during the greeting)."""

    box: str


@dataclass(frozen=True)
class MarkHeard:
    box: str
    message_id: str


@dataclass(frozen=True)
class SaveMessage:
    box: str
    message_id: str


@dataclass(frozen=True)
class DeleteMessage:
    box: str
    message_id: str


@dataclass(frozen=True)
class CallBack:
    """Connect the owner to the person who left the message."""

    number: str


@dataclass(frozen=True)
class SaveGreeting:
    box: str
    kind: GreetingKind


@dataclass(frozen=True)
class DeleteGreeting:
    box: str
    kind: GreetingKind


@dataclass(frozen=True)
class ChangePin:
    box: str
    pin_hash: str


Command = (Play | Record | StartTimer | Hangup | SaveRecording | DiscardRecording | StartLogin
           | MarkHeard | SaveMessage | DeleteMessage | CallBack | SaveGreeting | DeleteGreeting
           | ChangePin)


class Event(StrEnum):
    """What the core reports; internal decisions use the same words where they fit."""

    START = "start"
    BOX_FULL = "box_full"
    PLAY_DONE = "play_done"
    DIGIT = "digit"
    HANGUP = "hangup"
    TIMEOUT = "timeout"
    # decisions a machine takes on a digit or a timeout
    SKIP = "skip"
    LOGIN = "login"
    KEEP = "keep"
    TOO_SHORT = "too_short"
    LOCKED = "locked"
    NO_BOX = "no_box"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    GIVE_UP = "give_up"
    BOX_ENTERED = "box_entered"
    NEW_MESSAGES = "new_messages"
    OLD_MESSAGES = "old_messages"
    MAIN_MENU = "main_menu"
    OPTIONS = "options"
    ADVANCED = "advanced"
    BACK = "back"
    CALL_BACK = "call_back"
    RECORD_GREETING = "record_greeting"
    TEMP_OPTIONS = "temp_options"
    REVIEW = "review"
    REDO = "redo"
    DONE = "done"
    CHANGE_PIN = "change_pin"
    PIN_ENTERED = "pin_entered"
    EXIT = "exit"


class _Machine:
    """One table and the one place `state` changes."""

    name = "voicemail"
    table: dict[Any, dict[Event, Any]] = {}

    def __init__(self, who: str, clock: Callable[[], float], initial: Any):
        self.who = who
        self.clock = clock
        self.state = initial
        self.turn = 0

    def _go(self, event: Event) -> None:
        new = self.table.get(self.state, {}).get(event)
        if new is None:
            raise StateMachineError(self.name, self.who, self.state.value, event.value)
        log.info("%s %s: %s -> %s", self.name, self.who, self.state.value, new.value)
        self.state = new

    def _play(self, *items: Audio) -> Play:
        self.turn += 1
        return Play(tuple(items), self.turn)

    def _timer(self, after_s: float) -> StartTimer:
        self.turn += 1
        return StartTimer(self.clock() + after_s, self.turn)

    def _stale(self, turn: int | None) -> bool:
        return turn is not None and turn != self.turn


# --- deposit: a caller leaves a message ---------------------------------------------------

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


class Deposit(_Machine):
    """One caller leaving a message in one box.

    `reason` is why the call came here (busy or unavailable); `recorded` the
    greetings the box has; `message_count` how many messages it holds now.
    """

    name = "voicemail deposit"
    table = DEPOSIT_TRANSITIONS

    def __init__(self, call_id: str, box: BoxConfig, caller: str, clock: Callable[[], float], *,
                 caller_name: str = "", reason: str = "unavailable",
                 recorded: Collection[str] = (), message_count: int = 0):
        super().__init__(call_id, clock, DepositState.NEW)
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
            return [Record(RecordAction.START, self.box.max_message_s), self._timer(self.box.max_message_s)]
        if self.state is D.FULL:
            self._go(E.PLAY_DONE)
            return [Hangup()]
        if self.state in (D.SAVED, D.DISCARDED):
            return [Hangup()]  # after the goodbye
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
        self.duration_s = round(self.clock() - (self.record_started or self.clock()), 3)
        out: list[Command] = [Record(RecordAction.STOP)]
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


# --- failed PIN attempts across calls -----------------------------------------------------

@dataclass
class PinGuard:
    """Locks a box after `max_failures` wrong PINs in a row, across calls, for `lockout_s`.

    Kept in memory by the core: a restart forgets failures, which costs an
    attacker a restart of the box per few guesses.
    """

    clock: Callable[[], float]
    max_failures: int = 6
    lockout_s: float = 900.0
    _failures: dict[str, int] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)

    def is_locked(self, box: str) -> bool:
        until = self._locked_until.get(box)
        if until is None:
            return False
        if self.clock() >= until:
            del self._locked_until[box]
            self._failures.pop(box, None)
            return False
        return True

    def failed(self, box: str) -> None:
        self._failures[box] = self._failures.get(box, 0) + 1
        if self._failures[box] >= self.max_failures:
            self._locked_until[box] = self.clock() + self.lockout_s
            log.warning("voicemail box %s locked for %ss after %d wrong PINs",
                        box, self.lockout_s, self._failures[box])

    def succeeded(self, box: str) -> None:
        self._failures.pop(box, None)


# --- access: the owner's phone menu -------------------------------------------------------

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
ACCESS_TRANSITIONS: dict[AccessState, dict[Event, AccessState]] = {
    A.NEW: {E.START: A.ASK_BOX, E.LOGIN: A.ASK_PIN, E.ACCEPTED: A.MAIN_MENU,
            E.LOCKED: A.GOODBYE, E.NO_BOX: A.GOODBYE, E.HANGUP: A.ENDED},
    A.ASK_BOX: {E.BOX_ENTERED: A.ASK_PIN, **_MENU},
    A.ASK_PIN: {E.ACCEPTED: A.MAIN_MENU, E.REFUSED: A.ASK_BOX, E.REDO: A.ASK_PIN,
                E.LOCKED: A.GOODBYE, **_MENU},
    A.MAIN_MENU: {E.NEW_MESSAGES: A.MESSAGE, E.OLD_MESSAGES: A.MESSAGE, E.OPTIONS: A.OPTIONS, **_MENU},
    A.MESSAGE: {E.MAIN_MENU: A.MAIN_MENU, E.ADVANCED: A.ADVANCED, E.OPTIONS: A.OPTIONS, **_MENU},
    A.ADVANCED: {E.BACK: A.MESSAGE, E.CALL_BACK: A.ENDED, **_MENU},
    A.OPTIONS: {E.RECORD_GREETING: A.RECORD_GREETING, E.TEMP_OPTIONS: A.TEMP_OPTIONS,
                E.CHANGE_PIN: A.NEW_PIN, E.BACK: A.MAIN_MENU, **_MENU},
    A.TEMP_OPTIONS: {E.RECORD_GREETING: A.RECORD_GREETING, E.DONE: A.OPTIONS, E.BACK: A.OPTIONS, **_MENU},
    A.RECORD_GREETING: {E.REVIEW: A.REVIEW_GREETING, E.HANGUP: A.ENDED},
    A.REVIEW_GREETING: {E.DONE: A.OPTIONS, E.REDO: A.RECORD_GREETING, E.BACK: A.OPTIONS, **_MENU},
    A.NEW_PIN: {E.PIN_ENTERED: A.CONFIRM_PIN, E.BACK: A.OPTIONS, **_MENU},
    A.CONFIRM_PIN: {E.DONE: A.OPTIONS, E.BACK: A.OPTIONS, **_MENU},
    A.GOODBYE: {E.DONE: A.ENDED, E.HANGUP: A.ENDED},
    A.ENDED: {},
}

# The prompt each waiting state repeats after silence or "*" for help.
STATE_PROMPT: dict[AccessState, str] = {
    A.ASK_BOX: "vm-enter-box", A.ASK_PIN: "vm-enter-pin", A.MAIN_MENU: "vm-main-menu",
    A.MESSAGE: "vm-message-menu", A.ADVANCED: "vm-advanced-menu", A.OPTIONS: "vm-options",
    A.TEMP_OPTIONS: "vm-temp-options", A.REVIEW_GREETING: "vm-review-greeting",
    A.NEW_PIN: "vm-new-pin", A.CONFIRM_PIN: "vm-confirm-pin",
}
_ENTRY_STATES = (A.ASK_BOX, A.ASK_PIN, A.NEW_PIN, A.CONFIRM_PIN)  # digits collected until '#'


class Access(_Machine):
    """A caller at the voicemail menu: of their own box (`box` given) or any box.

    `lookup(number)` returns the box's snapshot or None. `trusted` skips the
    PIN (the core may allow it for a caller authenticated as the box owner).
    """

    name = "voicemail access"
    table = ACCESS_TRANSITIONS

    def __init__(self, call_id: str, lookup: Callable[[str], BoxSnapshot | None], guard: PinGuard,
                 clock: Callable[[], float], *, box: str | None = None, trusted: bool = False,
                 digit_timeout_s: float = 8.0, max_greeting_s: float = 60.0):
        super().__init__(call_id, clock, AccessState.NEW)
        self.lookup, self.guard = lookup, guard
        self.box_number, self.trusted = box, trusted
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
            return [Hangup()]
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
            return [Record(RecordAction.START, self.max_greeting_s), self._timer(self.max_greeting_s)]
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
        return [self._play(Prompt(STATE_PROMPT[self.state]))]

    def hangup(self) -> list[Command]:
        if self.state is A.ENDED:
            return []
        out: list[Command] = []
        if self.state is A.RECORD_GREETING and self.greeting_phase == "recording":
            out = [Record(RecordAction.STOP), DiscardRecording()]
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
            return []
        if d == "*":
            self.entry = ""
            if self.state in (A.NEW_PIN, A.CONFIRM_PIN):
                self._go(E.BACK)
                return [self._play(Prompt("vm-options"))]
            return [self._play(Prompt(STATE_PROMPT[self.state]))]
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
        if self.trusted or self.box_number and self._own_box_call:
            self._go(E.REDO)
            return [self._play(Prompt("vm-incorrect"), Prompt("vm-enter-pin"))]
        self._go(E.REFUSED)
        self.box_number = None
        return [self._play(Prompt("vm-incorrect"), Prompt("vm-enter-box"))]

    @property
    def _own_box_call(self) -> bool:
        return self.table is ACCESS_TRANSITIONS and self._started_with_box

    _started_with_box = False

    def _main_key(self, d: str) -> list[Command]:
        if d in "12" and d:
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
        msg = self.messages[self.index]
        if d == "5":
            return self._show(self.index)
        if d == "4":
            if self.index == 0:
                return [self._play(Prompt("vm-no-more"), Prompt("vm-message-menu"))]
            return self._show(self.index - 1)
        if d == "6":
            return self._show(self.index + 1)
        if d in "79" and d:
            out: list[Command] = [DeleteMessage(self._box, msg.id) if d == "7" else SaveMessage(self._box, msg.id)]
            self._forget(msg.id)
            if d == "9":
                self.messages.insert(self.index, replace(msg, folder=Folder.OLD))
                self.index += 1
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

    def _forget(self, message_id: str) -> None:
        """Keep the snapshot's counts true after a delete or save in this call."""
        self.messages = [m for m in self.messages if m.id != message_id]
        snap = self._snapshot
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
        return [Record(RecordAction.STOP), self._play(Prompt("vm-review-greeting"))]

    def _goodbye(self, why: Event) -> list[Command]:
        self._go(why)
        return [self._play(Prompt("vm-goodbye"))]


# --- message waiting indication -----------------------------------------------------------

MESSAGE_SUMMARY = "application/simple-message-summary"


def message_summary(new: int, old: int, account_uri: str,
                    urgent_new: int = 0, urgent_old: int = 0) -> tuple[str, str]:
    """The body of an MWI NOTIFY (RFC 3842) and its content type."""
    for n in (new, old, urgent_new, urgent_old):
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ValidationError(f"message counts are whole numbers >= 0, got {n!r}")
    if any(c in account_uri for c in "\r\n") or ":" not in account_uri:
        raise ValidationError(f"{account_uri!r} is not a SIP URI")
    body = (f"Messages-Waiting: {'yes' if new else 'no'}\r\n"
            f"Message-Account: {account_uri}\r\n"
            f"Voice-Message: {new}/{old} ({urgent_new}/{urgent_old})\r\n")
    return MESSAGE_SUMMARY, body
