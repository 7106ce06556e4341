"""Voicemail logic: every (state, event) pair of both machines, and the stories around them."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from appliance.errors import StateMachineError, ValidationError
from appliance.logic.voicemail import (
    ACCESS_TRANSITIONS, DEPOSIT_TRANSITIONS, MAX_SILENCES, Access, AccessState as A, BoxConfig,
    BoxSnapshot, CallBack, ChangePin, DeleteGreeting, DeleteMessage, Deposit, DepositState as D,
    DiscardRecording, Event, Folder, GreetingAudio, GreetingKind, Hangup, MarkHeard, MessageAudio,
    MessageInfo, PinGuard, Play, Prompt, Record, RecordAction, SaveGreeting, SaveMessage,
    SaveRecording, STATE_PROMPT, StartLogin, StartTimer, TakeAudio, check_pin, choose_greeting, hash_pin,
    message_summary, validate_pin)
from appliance.logic.voicemail.commands import Machine


class FakeClock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def kinds(commands) -> list[str]:
    return [type(c).__name__ for c in commands]


def prompts(commands) -> list[str]:
    return [item.name for c in commands if isinstance(c, Play) for item in c.items if isinstance(item, Prompt)]


@pytest.fixture
def fired(monkeypatch) -> set[tuple[str, object, object]]:
    """Every (machine, state, event) that went through a table, for the coverage checks."""
    seen: set[tuple[str, object, object]] = set()
    real = Machine._go

    def spy(self, event):
        seen.add((self.name, self.state, event))
        real(self, event)
    monkeypatch.setattr(Machine, "_go", spy)
    return seen


# --- box config, PIN, greetings, MWI -------------------------------------------------------

@pytest.mark.parametrize("pin", ["1234", "0000", "9876543210"])
def test_a_pin_of_4_to_10_digits_is_hashed_and_checks(pin):
    h = hash_pin(pin)
    scheme, _iterations, _salt, digest = h.split("$")
    assert scheme == "pbkdf2_sha256" and len(digest) == 64 and digest != pin
    assert check_pin(pin, h)
    assert not check_pin(pin[:-1] + str((int(pin[-1]) + 1) % 10), h)


@pytest.mark.parametrize("pin", ["123", "12345678901", "12a4", "", "١٢٣٤"])
def test_a_pin_that_is_not_4_to_10_digits_is_refused(pin):
    with pytest.raises(ValidationError):
        validate_pin(pin)


def test_two_hashes_of_one_pin_differ_by_their_salt():
    assert hash_pin("1234") != hash_pin("1234")


@pytest.mark.parametrize("stored", ["", "garbage", "md5$1$00$00", "pbkdf2_sha256$x$zz$00"])
def test_a_malformed_stored_hash_never_matches(stored):
    assert not check_pin("1234", stored)


def test_box_config_defaults_and_round_trip():
    box = BoxConfig("1001", owner="1001", email="ann@example.com").with_pin("4321")
    assert (box.max_message_s, box.max_messages) == (180, 100)
    again = BoxConfig.from_dict(box.to_dict())
    assert again == box and check_pin("4321", again.pin_hash)
    assert check_pin("5555", BoxConfig.from_dict({"number": "sales", "pin": "5555"}).pin_hash)


@pytest.mark.parametrize("bad", [{"number": ""}, {"number": "../etc"}, {"number": ".hidden"},
                                 {"number": "a/b"}, {"number": "1", "max_message_s": 0},
                                 {"number": "1", "max_messages": 0},
                                 {"number": "1", "email": "a@b.c, d@e.f"}, {"number": "1", "pin": "12"},
                                 {"number": "1", "unknown_field_is_ignored": 1, "max_messages": "x"},
                                 {"number": "1", "attach_audio": "yes"}, {"number": 1001}])
def test_a_bad_box_config_is_refused(bad):
    with pytest.raises(ValidationError):
        BoxConfig.from_dict(bad)


@pytest.mark.parametrize("reason, recorded, expected", [
    ("unavailable", set(), None),
    ("busy", set(), None),
    ("unavailable", {"unavailable", "busy"}, GreetingKind.UNAVAILABLE),
    ("busy", {"unavailable", "busy"}, GreetingKind.BUSY),
    ("busy", {"unavailable"}, None),
    ("busy", {"busy", "temporary"}, GreetingKind.TEMPORARY),
    ("unavailable", {"temporary"}, GreetingKind.TEMPORARY),
])
def test_the_temporary_greeting_overrides_the_others(reason, recorded, expected):
    assert choose_greeting(reason, recorded) == expected


@pytest.mark.parametrize("new, old, waiting", [(2, 8, "yes"), (0, 3, "no"), (0, 0, "no")])
def test_message_summary_follows_rfc_3842(new, old, waiting):
    ctype, body = message_summary(new, old, "sip:1001@box")
    assert ctype == "application/simple-message-summary"
    assert body == (f"Messages-Waiting: {waiting}\r\nMessage-Account: sip:1001@box\r\n"
                    f"Voice-Message: {new}/{old} (0/0)\r\n")


def test_message_summary_counts_urgent_messages():
    assert message_summary(3, 1, "sip:x@y", 1, 0)[1].endswith("Voice-Message: 3/1 (1/0)\r\n")


@pytest.mark.parametrize("args", [(-1, 0, "sip:a@b"), (1, True, "sip:a@b"), (1, 0, "sip:a@b\r\nX: y"),
                                  (1, 0, "nouri")])
def test_message_summary_refuses_bad_input(args):
    with pytest.raises(ValidationError):
        message_summary(*args)


# --- deposit -------------------------------------------------------------------------------

BOX = BoxConfig("1001", owner="1001", pin_hash=hash_pin("1234"), max_message_s=120, max_messages=3)


def deposit(clock: FakeClock, **kw) -> Deposit:
    return Deposit("call-1", BOX, "+48601234567", clock, caller_name="Ann", **kw)


def reach_deposit(state: D, clock: FakeClock) -> Deposit:
    d = deposit(clock, message_count=3 if state is D.FULL else 0)
    if state is D.NEW:
        return d
    d.start()
    steps: dict[D, list[Callable[[], object]]] = {
        D.GREETING: [], D.FULL: [], D.BEEP: [d.play_done], D.RECORDING: [d.play_done, d.play_done],
        D.LOGIN: [lambda: d.digit("*")],
        D.SAVED: [d.play_done, d.play_done, lambda: clock.advance(5), lambda: d.digit("#")],
        D.DISCARDED: [d.play_done, d.play_done, lambda: d.digit("#")],
    }
    for step in steps[state]:
        step()
    assert d.state is state
    return d


DEPOSIT_EVENTS: dict[str, Callable[[Deposit], list]] = {
    "play_done": lambda d: d.play_done(), "timeout": lambda d: d.timeout(), "hangup": lambda d: d.hangup(),
    "*": lambda d: d.digit("*"), "#": lambda d: d.digit("#"), "5": lambda d: d.digit("5"),
}
# (state, event) -> (new state, commands); states not listed for an event leave it unchanged, silently,
# except where a command is listed with the same state.
DEPOSIT_EXPECTED: dict[tuple[D, str], tuple[D, list[str]]] = {
    (D.NEW, "hangup"): (D.DISCARDED, []),
    (D.GREETING, "play_done"): (D.BEEP, ["Play"]),
    (D.GREETING, "#"): (D.BEEP, ["Play"]),
    (D.GREETING, "*"): (D.LOGIN, ["StartLogin"]),
    (D.GREETING, "hangup"): (D.DISCARDED, []),
    (D.BEEP, "play_done"): (D.RECORDING, ["Record", "StartTimer"]),
    (D.BEEP, "*"): (D.LOGIN, ["StartLogin"]),
    (D.BEEP, "hangup"): (D.DISCARDED, []),
    (D.RECORDING, "#"): (D.SAVED, ["Record", "SaveRecording", "Play"]),
    (D.RECORDING, "timeout"): (D.SAVED, ["Record", "SaveRecording", "Play"]),
    (D.RECORDING, "hangup"): (D.SAVED, ["Record", "SaveRecording"]),
    (D.FULL, "play_done"): (D.DISCARDED, ["Hangup"]),
    (D.FULL, "hangup"): (D.DISCARDED, []),
    (D.SAVED, "play_done"): (D.SAVED, ["Hangup"]),
    (D.DISCARDED, "play_done"): (D.DISCARDED, ["Hangup"]),
}


@pytest.mark.parametrize("state, event", list(itertools.product(D, DEPOSIT_EVENTS)))
def test_deposit_every_state_and_event(state, event, fired):
    clock = FakeClock()
    d = reach_deposit(state, clock)
    if state is D.RECORDING:
        clock.advance(5)  # long enough to keep
    out = DEPOSIT_EVENTS[event](d)
    new, commands = DEPOSIT_EXPECTED.get((state, event), (state, []))
    assert d.state is new
    assert kinds(out) == commands


def test_deposit_table_is_covered(fired):
    clock = FakeClock()
    for state, event in itertools.product(D, DEPOSIT_EVENTS):
        d = reach_deposit(state, clock)
        if state is D.RECORDING:
            clock.advance(5)
        DEPOSIT_EVENTS[event](d)
    test_a_message_under_one_second_is_discarded("#")
    table = {("voicemail deposit", s, e) for s, evs in DEPOSIT_TRANSITIONS.items() for e in evs}
    assert table <= fired, table - fired


@pytest.mark.parametrize("end", ["#", "hangup"])
def test_a_message_under_one_second_is_discarded(end):
    clock = FakeClock()
    d = reach_deposit(D.RECORDING, clock)
    clock.advance(0.6)
    out = d.digit("#") if end == "#" else d.hangup()
    assert d.state is D.DISCARDED
    assert Record(RecordAction.STOP) in out and DiscardRecording() in out
    assert not any(isinstance(c, SaveRecording) for c in out)


def test_a_kept_message_says_who_left_it_and_how_long_it_is():
    clock = FakeClock()
    d = reach_deposit(D.RECORDING, clock)
    clock.advance(42.5)
    out = d.hangup()
    assert SaveRecording("1001", "+48601234567", "Ann", 42.5) in out


def test_recording_is_limited_to_the_box_maximum():
    clock = FakeClock()
    d = reach_deposit(D.BEEP, clock)
    out = d.play_done()
    assert out[0] == Record(RecordAction.START, 120)
    assert isinstance(out[1], StartTimer) and out[1].at == clock.now + 120
    clock.advance(120)
    out = d.timeout(out[1].turn)
    assert d.state is D.SAVED and "vm-max-length-reached" in prompts(out)


def test_a_recorded_greeting_is_played_else_the_default_prompt_with_the_box_number():
    clock = FakeClock()
    out = deposit(clock, reason="busy", recorded={"busy"}).start()
    assert out[0].items == (GreetingAudio("1001", GreetingKind.BUSY),)
    out = deposit(clock, reason="busy", recorded={"unavailable"}).start()
    assert out[0].items[0].name == "vm-default-greeting" and out[0].items[0].args["box"] == "1001"


def test_a_full_box_says_so_and_hangs_up():
    clock = FakeClock()
    d = deposit(clock, message_count=3)
    out = d.start()
    assert prompts(out) == ["vm-box-full"] and d.state is D.FULL
    assert d.play_done(out[0].turn) == [Hangup()]
    assert d.digit("#") == [] and d.state is D.DISCARDED


def test_star_during_the_greeting_goes_to_the_owners_login():
    d = reach_deposit(D.GREETING, FakeClock())
    assert d.digit("*") == [StartLogin("1001")]


def test_the_end_of_an_interrupted_greeting_is_ignored():
    clock = FakeClock()
    d = deposit(clock)
    greeting_turn = d.start()[0].turn
    beep_turn = d.digit("#")[0].turn  # '#' skips the greeting
    assert d.play_done(greeting_turn) == [] and d.state is D.BEEP
    assert kinds(d.play_done(beep_turn)) == ["Record", "StartTimer"]


def test_a_timer_of_an_earlier_turn_does_not_end_the_recording():
    clock = FakeClock()
    d = reach_deposit(D.RECORDING, clock)
    clock.advance(10)
    assert d.timeout(turn=d.turn - 1) == [] and d.state is D.RECORDING


def test_an_event_outside_the_table_is_an_error_naming_state_and_event():
    d = deposit(FakeClock())
    with pytest.raises(StateMachineError, match="event keep is not allowed in state NEW"):
        d._go(Event.KEEP)


# --- the PIN guard -------------------------------------------------------------------------

def test_a_box_locks_after_repeated_failures_and_unlocks_after_the_lockout():
    clock = FakeClock()
    guard = PinGuard(clock, max_failures=3, lockout_s=600)
    for _ in range(2):
        guard.failed("1001")
    assert not guard.is_locked("1001")
    guard.failed("1001")
    assert guard.is_locked("1001") and not guard.is_locked("1002")
    clock.advance(599)
    assert guard.is_locked("1001")
    clock.advance(1)
    assert not guard.is_locked("1001")
    guard.failed("1001")
    assert not guard.is_locked("1001")  # the count started again


def test_a_right_pin_clears_the_failures():
    guard = PinGuard(FakeClock(), max_failures=3)
    guard.failed("1001")
    guard.failed("1001")
    guard.succeeded("1001")
    guard.failed("1001")
    assert not guard.is_locked("1001")


# --- access --------------------------------------------------------------------------------

MESSAGES = (MessageInfo("m1", Folder.NEW, "+48601111111", 900.0, 12.0),
            MessageInfo("m2", Folder.NEW, "", 950.0, 3.0),
            MessageInfo("m3", Folder.OLD, "+48602222222", 800.0, 30.0))


class Menu:
    """A caller at the voicemail menu, with the box's state as the store would give it."""

    def __init__(self, *, own: bool = False, trusted: bool = False, greetings=("temporary",),
                 messages=MESSAGES, guard: PinGuard | None = None, clock: FakeClock | None = None):
        self.clock = clock or FakeClock()
        self.snapshot = BoxSnapshot(BOX, tuple(messages), frozenset(greetings))
        self.guard = guard or PinGuard(self.clock)
        self.access = Access("call-2", self.lookup, self.guard, self.clock,
                             box="1001" if own or trusted else None, trusted=trusted)
        self.out: list = self.access.start()

    def lookup(self, number: str) -> BoxSnapshot | None:
        return self.snapshot if number == "1001" else None

    def keys(self, digits: str) -> list:
        """Press the keys; returns what the last one did."""
        for d in digits:
            self.out = self.access.digit(d)
        return self.out

    def done(self) -> list:
        self.out = self.access.play_done()
        return self.out

    @property
    def state(self) -> A:
        return self.access.state


LOGIN = "1001#1234#"
REACH: dict[A, Callable[[Menu], None]] = {
    A.NEW: lambda m: None,
    A.ASK_BOX: lambda m: m.access.start(),
    A.ASK_PIN: lambda m: (m.access.start(), m.keys("1001#")),
    A.MAIN_MENU: lambda m: (m.access.start(), m.keys(LOGIN)),
    A.MESSAGE: lambda m: (m.access.start(), m.keys(LOGIN + "1")),
    A.ADVANCED: lambda m: (m.access.start(), m.keys(LOGIN + "13")),
    A.OPTIONS: lambda m: (m.access.start(), m.keys(LOGIN + "0")),
    A.TEMP_OPTIONS: lambda m: (m.access.start(), m.keys(LOGIN + "04")),
    A.RECORD_GREETING: lambda m: (m.access.start(), m.keys(LOGIN + "01")),
    A.REVIEW_GREETING: lambda m: (m.access.start(), m.keys(LOGIN + "01"), m.done(), m.done(), m.keys("#")),
    A.NEW_PIN: lambda m: (m.access.start(), m.keys(LOGIN + "05")),
    A.CONFIRM_PIN: lambda m: (m.access.start(), m.keys(LOGIN + "055678#")),
    A.GOODBYE: lambda m: (m.access.start(), m.keys(LOGIN + "#")),
    A.ENDED: lambda m: (m.access.start(), m.access.hangup()),
}


def reach_access(state: A) -> Menu:
    m = Menu.__new__(Menu)
    m.clock = FakeClock()
    m.snapshot = BoxSnapshot(BOX, MESSAGES, frozenset({"temporary"}))
    m.guard = PinGuard(m.clock)
    m.access = Access("call-2", m.lookup, m.guard, m.clock)
    REACH[state](m)
    assert m.state is state
    return m


ACCESS_EVENTS: dict[str, Callable[[Access], list]] = {
    "play_done": lambda a: a.play_done(), "timeout": lambda a: a.timeout(), "hangup": lambda a: a.hangup(),
    **{d: (lambda a, d=d: a.digit(d)) for d in "0123456789*#"},
}
_ANY_MENU = {"#": A.GOODBYE, "hangup": A.ENDED}
# Pairs that change the state; every other (state, event) pair must leave it as it is.
ACCESS_EXPECTED: dict[A, dict[str, A]] = {
    A.NEW: {"hangup": A.ENDED},
    A.ASK_BOX: {"hangup": A.ENDED},
    A.ASK_PIN: {"#": A.ASK_BOX, "hangup": A.ENDED},  # an empty PIN is a wrong one
    A.MAIN_MENU: {"1": A.MESSAGE, "2": A.MESSAGE, "0": A.OPTIONS, **_ANY_MENU},
    A.MESSAGE: {"*": A.MAIN_MENU, "3": A.ADVANCED, "0": A.OPTIONS, **_ANY_MENU},
    A.ADVANCED: {"2": A.ENDED, "3": A.MESSAGE, "*": A.MESSAGE, **_ANY_MENU},
    A.OPTIONS: {"1": A.RECORD_GREETING, "2": A.RECORD_GREETING, "4": A.TEMP_OPTIONS, "5": A.NEW_PIN,
                "*": A.MAIN_MENU, **_ANY_MENU},
    A.TEMP_OPTIONS: {"1": A.RECORD_GREETING, "2": A.OPTIONS, "*": A.OPTIONS, **_ANY_MENU},
    A.RECORD_GREETING: {"hangup": A.ENDED},  # still announcing: keys wait for the beep
    A.REVIEW_GREETING: {"1": A.OPTIONS, "3": A.RECORD_GREETING, "*": A.OPTIONS, **_ANY_MENU},
    A.NEW_PIN: {"*": A.OPTIONS, "hangup": A.ENDED},
    A.CONFIRM_PIN: {"*": A.OPTIONS, "#": A.OPTIONS, "hangup": A.ENDED},  # empty: no match
    A.GOODBYE: {"play_done": A.ENDED, "hangup": A.ENDED},
    A.ENDED: {},
}


@pytest.mark.parametrize("state, event", list(itertools.product(A, ACCESS_EVENTS)))
def test_access_every_state_and_event(state, event):
    m = reach_access(state)
    ACCESS_EVENTS[event](m.access)
    assert m.state is ACCESS_EXPECTED[state].get(event, state)


def test_access_table_is_covered(fired):
    for state, event in itertools.product(A, ACCESS_EVENTS):
        ACCESS_EVENTS[event](reach_access(state).access)
    # The pairs that need more than one event, each as a short story.
    for story in (test_own_box_asks_only_the_pin, test_a_trusted_caller_goes_straight_to_the_menu,
                  test_a_locked_box_says_so_and_hangs_up, test_an_unknown_own_box_says_so,
                  test_a_wrong_pin_on_the_own_box_asks_the_pin_again,
                  test_three_wrong_pins_end_the_call, test_silence_ends_the_call,
                  test_the_greeting_is_recorded_reviewed_and_kept, test_pin_changed_after_entering_it_twice,
                  test_old_messages_are_on_2, test_four_records_a_temporary_greeting_when_there_is_none):
        story()
    for state in STATE_PROMPT:
        test_silence_in_any_waiting_state_ends_the_call(state)
    table = {("voicemail access", s, e) for s, evs in ACCESS_TRANSITIONS.items() for e in evs}
    seen = {f for f in fired if f[0] == "voicemail access"}
    assert table <= seen, sorted(table - seen)


def test_own_box_asks_only_the_pin():
    m = Menu(own=True)
    assert prompts(m.out) == ["vm-enter-pin"] and m.state is A.ASK_PIN
    out = m.keys("1234#")
    assert m.state is A.MAIN_MENU
    assert out[0].items == (Prompt("vm-main-menu", {"new": 2, "old": 1}),)


def test_a_trusted_caller_goes_straight_to_the_menu():
    m = Menu(trusted=True)
    assert m.state is A.MAIN_MENU and prompts(m.out) == ["vm-main-menu"]


def test_an_unknown_own_box_says_so():
    m = Menu()
    m.access = Access("c", lambda n: None, m.guard, m.clock, box="2002")
    out = m.access.start()
    assert prompts(out) == ["vm-no-box", "vm-goodbye"] and m.state is A.GOODBYE
    assert m.done() == [Hangup()] and m.state is A.ENDED


def test_a_wrong_pin_on_the_own_box_asks_the_pin_again():
    m = Menu(own=True)
    out = m.keys("9999#")
    assert m.state is A.ASK_PIN and prompts(out) == ["vm-incorrect", "vm-enter-pin"]


def test_an_unknown_box_sounds_like_a_wrong_pin():
    m = Menu()
    unknown = m.keys("4040#1234#")
    m2 = Menu()
    wrong = m2.keys("1001#0000#")
    assert prompts(unknown) == prompts(wrong)[-2:] == ["vm-incorrect", "vm-enter-box"]
    assert m.state is m2.state is A.ASK_BOX


def test_three_wrong_pins_end_the_call():
    m = Menu()
    m.keys("1001#1111#1001#2222#")
    assert m.state is A.ASK_BOX
    out = m.keys("1001#3333#")
    assert m.state is A.GOODBYE and prompts(out) == ["vm-incorrect", "vm-goodbye"]
    assert m.done() == [Hangup()]


def test_a_locked_box_says_so_and_hangs_up():
    clock = FakeClock()
    guard = PinGuard(clock, max_failures=6, lockout_s=900)
    for _ in range(2):  # two calls, three wrong PINs each
        Menu(own=True, guard=guard, clock=clock).keys("0000#0000#0000#")
    m = Menu(own=True, guard=guard, clock=clock)
    assert m.state is A.GOODBYE and prompts(m.out) == ["vm-locked", "vm-goodbye"]
    m = Menu(guard=guard, clock=clock)  # by box number: the right PIN does not open it either
    assert prompts(m.keys(LOGIN)) == ["vm-locked", "vm-goodbye"]
    clock.advance(900)
    m = Menu(own=True, guard=guard, clock=clock)
    m.keys("1234#")
    assert m.state is A.MAIN_MENU


def test_a_box_without_a_pin_cannot_be_opened_by_phone():
    m = Menu(own=True)
    m.snapshot = BoxSnapshot(BoxConfig("1001"), MESSAGES)
    m.keys("#")
    assert m.state is A.ASK_PIN and m.access.attempts == 1


def test_silence_ends_the_call():
    m = Menu(own=True)
    m.keys("1234#")
    for _ in range(MAX_SILENCES - 1):
        out = m.access.timeout()
        assert m.state is A.MAIN_MENU and prompts(out) == ["vm-main-menu"]
    out = m.access.timeout()
    assert m.state is A.GOODBYE and prompts(out) == ["vm-goodbye"]


@pytest.mark.parametrize("state", list(STATE_PROMPT))
def test_silence_in_any_waiting_state_ends_the_call(state):
    m = reach_access(state)
    for _ in range(MAX_SILENCES - 1):
        assert prompts(m.access.timeout()) and m.state is state
    assert prompts(m.access.timeout()) == ["vm-goodbye"] and m.state is A.GOODBYE


def test_a_pin_typed_without_hash_is_taken_after_the_pause():
    m = Menu(own=True)
    m.keys("1234")
    m.access.timeout()
    assert m.state is A.MAIN_MENU


def test_a_menu_prompt_ends_with_a_timer_and_an_old_timer_is_ignored():
    m = Menu(trusted=True)
    timer = m.done()[0]
    assert isinstance(timer, StartTimer) and timer.at == m.clock.now + m.access.digit_timeout_s
    m.keys("0")  # a key: the options prompt is a new turn
    assert m.access.timeout(timer.turn) == [] and m.state is A.OPTIONS


def test_listening_marks_a_new_message_heard_and_keys_move_between_messages():
    m = Menu(trusted=True)
    out = m.keys("1")
    assert out[0].items == (MessageAudio("1001", "m1", 1),)
    out = m.done()
    assert out[0] == MarkHeard("1001", "m1") and prompts(out) == ["vm-message-menu"]
    assert m.keys("5")[0].items == (MessageAudio("1001", "m1", 1),)  # repeat
    assert m.keys("6")[0].items == (MessageAudio("1001", "m2", 2),)  # next
    assert m.keys("4")[0].items == (MessageAudio("1001", "m1", 1),)  # previous
    assert prompts(m.keys("4")) == ["vm-no-more", "vm-message-menu"]
    m.keys("66")
    assert m.state is A.MAIN_MENU and prompts(m.out) == ["vm-no-more", "vm-main-menu"]


def test_delete_and_save_then_the_next_message():
    m = Menu(trusted=True)
    m.keys("1")
    out = m.keys("7")
    assert out[0] == DeleteMessage("1001", "m1") and prompts(out) == ["vm-deleted"]
    assert m.done()[0].items == (MessageAudio("1001", "m2", 1),)
    out = m.keys("9")
    assert out[0] == SaveMessage("1001", "m2") and prompts(out) == ["vm-saved"]
    out = m.done()
    assert m.state is A.MAIN_MENU
    assert out[0].items[-1] == Prompt("vm-main-menu", {"new": 0, "old": 2})


def test_a_key_during_the_deleted_notice_only_skips_it():
    m = Menu(trusted=True, messages=MESSAGES[:1])
    m.keys("17")
    out = m.keys("7")  # pressed twice: the second must not delete anything
    assert not any(isinstance(c, DeleteMessage) for c in out)
    assert m.state is A.MAIN_MENU and prompts(out) == ["vm-no-more", "vm-main-menu"]


def test_each_digit_of_a_pin_restarts_the_pause():
    m = Menu(own=True)
    m.done()
    [timer] = m.keys("12")
    assert isinstance(timer, StartTimer) and timer.at == m.clock.now + m.access.digit_timeout_s
    assert m.access.timeout(timer.turn - 1) == [] and m.state is A.ASK_PIN
    m.keys("34")
    m.access.timeout(m.access.turn)
    assert m.state is A.MAIN_MENU


def test_old_messages_are_on_2():
    m = Menu(trusted=True)
    assert m.keys("2")[0].items == (MessageAudio("1001", "m3", 1),)
    assert not any(isinstance(c, MarkHeard) for c in m.done())


def test_an_empty_folder_says_so_and_stays_in_the_menu():
    m = Menu(trusted=True, messages=MESSAGES[2:])
    out = m.keys("1")
    assert m.state is A.MAIN_MENU and prompts(out) == ["vm-no-messages", "vm-main-menu"]


def test_advanced_options_call_back_and_envelope():
    m = Menu(trusted=True)
    m.keys("13")
    out = m.keys("3")
    assert m.state is A.MESSAGE
    assert out[0].items[0] == Prompt("vm-envelope", {"caller": "+48601111111", "received": 900.0,
                                                     "duration_s": 12.0})
    m.keys("3")
    assert m.keys("2") == [CallBack("+48601111111")] and m.state is A.ENDED
    m = Menu(trusted=True)
    m.keys("163")  # m2 has no caller number: nothing to call back
    assert m.keys("2") == [] and m.state is A.ADVANCED


def test_the_greeting_is_recorded_reviewed_and_kept():
    m = Menu(trusted=True, greetings=())
    assert prompts(m.keys("02")) == ["vm-record-greeting"]
    assert m.state is A.RECORD_GREETING and m.out[0].items[0].args == {"kind": "busy"}
    assert prompts(m.done()) == ["beep"]
    assert kinds(m.done()) == ["Record", "StartTimer"]
    out = m.keys("#")
    assert out[0] == Record(RecordAction.STOP) and m.state is A.REVIEW_GREETING
    assert m.keys("2")[0].items == (TakeAudio(), Prompt("vm-review-greeting"))
    out = m.keys("3")  # again
    assert out[0] == DiscardRecording() and m.state is A.RECORD_GREETING and prompts(out) == ["beep"]
    m.done()
    m.access.timeout()  # the maximum length ends the take too
    assert m.state is A.REVIEW_GREETING
    out = m.keys("1")
    assert out[0] == SaveGreeting("1001", GreetingKind.BUSY) and m.state is A.OPTIONS


def test_hanging_up_while_recording_a_greeting_discards_it():
    m = Menu(trusted=True)
    m.keys("01")
    m.done()
    m.done()
    assert m.access.hangup() == [Record(RecordAction.STOP), DiscardRecording()]


def test_four_records_a_temporary_greeting_when_there_is_none():
    m = Menu(trusted=True, greetings=())
    m.keys("04")
    assert m.state is A.RECORD_GREETING and m.out[0].items[0].args == {"kind": "temporary"}


def test_four_offers_to_remove_an_existing_temporary_greeting():
    m = Menu(trusted=True)
    m.keys("04")
    out = m.keys("2")
    assert out[0] == DeleteGreeting("1001", GreetingKind.TEMPORARY) and m.state is A.OPTIONS
    m.keys("4")  # gone now: 4 records a new one
    assert m.state is A.RECORD_GREETING


def test_pin_changed_after_entering_it_twice():
    m = Menu(trusted=True)
    m.keys("05")
    assert prompts(m.keys("12#")) == ["vm-pin-invalid", "vm-new-pin"] and m.state is A.NEW_PIN
    m.keys("8642#")
    out = m.keys("8642#")
    assert isinstance(out[0], ChangePin) and check_pin("8642", out[0].pin_hash)
    assert m.state is A.OPTIONS and prompts(out) == ["vm-pin-changed", "vm-options"]


def test_pins_that_differ_change_nothing():
    m = Menu(trusted=True)
    out = m.keys("058642#8643#")
    assert not any(isinstance(c, ChangePin) for c in out)
    assert m.state is A.OPTIONS and prompts(out)[-2:] == ["vm-pin-mismatch", "vm-options"]


def test_guessing_many_box_numbers_keeps_the_guard_small_and_locks_in_place():
    guard = PinGuard(FakeClock(), max_failures=2)
    guard.failed("1001")
    guard.failed("1001")
    for n in range(20_000):
        guard.failed(f"9{n}")
    assert guard.is_locked("1001") and len(guard._failures) <= 10_001
