"""The voicemail menu by phone: every (state, event) pair of the access machine, and its stories."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from appliance.logic.media import Hangup, Record, StartTimer, StopRecord
from appliance.logic.voicemail import (
    ACCESS_TRANSITIONS, MAX_SILENCES, STATE_PROMPT, TAKE, TIMER, Access, AccessState as A, BoxConfig,
    BoxSnapshot, CallBack, ChangePin, DeleteGreeting, DeleteMessage, DiscardRecording, Folder,
    GreetingKind, MarkHeard, MessageAudio, MessageInfo, PinGuard, Prompt, SaveGreeting, SaveMessage,
    TakeAudio, check_pin)
from tests.logic.test_voicemail_support import BOX, LEG, FakeClock, fired, prompts  # noqa: F401 (fired: a fixture)


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
                             box="1001" if own or trusted else None, trusted=trusted, leg=LEG)
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
    m.access = Access("call-2", m.lookup, m.guard, m.clock, leg=LEG)
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
    assert out[0].playlist == (Prompt("vm-main-menu", {"new": 2, "old": 1}),)


def test_a_trusted_caller_goes_straight_to_the_menu():
    m = Menu(trusted=True)
    assert m.state is A.MAIN_MENU and prompts(m.out) == ["vm-main-menu"]


def test_an_unknown_own_box_says_so():
    m = Menu()
    m.access = Access("c", lambda n: None, m.guard, m.clock, box="2002", leg=LEG)
    out = m.access.start()
    assert prompts(out) == ["vm-no-box", "vm-goodbye"] and m.state is A.GOODBYE
    assert m.done() == [Hangup(LEG)] and m.state is A.ENDED


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
    assert m.done() == [Hangup(LEG)]


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
    assert timer == StartTimer(TIMER, m.access.digit_timeout_s, turn=m.access.turn)
    m.keys("0")  # a key: the options prompt is a new turn
    assert m.access.timeout(timer.turn) == [] and m.state is A.OPTIONS


def test_listening_marks_a_new_message_heard_and_keys_move_between_messages():
    m = Menu(trusted=True)
    out = m.keys("1")
    assert out[0].playlist == (MessageAudio("1001", "m1", 1),)
    out = m.done()
    assert out[0] == MarkHeard("1001", "m1") and prompts(out) == ["vm-message-menu"]
    assert m.keys("5")[0].playlist == (MessageAudio("1001", "m1", 1),)  # repeat
    assert m.keys("6")[0].playlist == (MessageAudio("1001", "m2", 2),)  # next
    assert m.keys("4")[0].playlist == (MessageAudio("1001", "m1", 1),)  # previous
    assert prompts(m.keys("4")) == ["vm-no-more", "vm-message-menu"]
    m.keys("66")
    assert m.state is A.MAIN_MENU and prompts(m.out) == ["vm-no-more", "vm-main-menu"]


def test_delete_and_save_then_the_next_message():
    m = Menu(trusted=True)
    m.keys("1")
    out = m.keys("7")
    assert out[0] == DeleteMessage("1001", "m1") and prompts(out) == ["vm-deleted"]
    assert m.done()[0].playlist == (MessageAudio("1001", "m2", 1),)
    out = m.keys("9")
    assert out[0] == SaveMessage("1001", "m2") and prompts(out) == ["vm-saved"]
    out = m.done()
    assert m.state is A.MAIN_MENU
    assert out[0].playlist[-1] == Prompt("vm-main-menu", {"new": 0, "old": 2})


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
    assert timer == StartTimer(TIMER, m.access.digit_timeout_s, turn=m.access.turn)
    assert m.access.timeout(timer.turn - 1) == [] and m.state is A.ASK_PIN
    m.keys("34")
    m.access.timeout(m.access.turn)
    assert m.state is A.MAIN_MENU


def test_old_messages_are_on_2():
    m = Menu(trusted=True)
    assert m.keys("2")[0].playlist == (MessageAudio("1001", "m3", 1),)
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
    assert out[0].prompt == Prompt("vm-envelope", {"caller": "+48601111111", "received": 900.0,
                                                     "duration_s": 12.0})
    m.keys("3")
    assert m.keys("2") == [CallBack("+48601111111")] and m.state is A.ENDED
    m = Menu(trusted=True)
    m.keys("163")  # m2 has no caller number: nothing to call back
    assert m.keys("2") == [] and m.state is A.ADVANCED


def test_the_greeting_is_recorded_reviewed_and_kept():
    m = Menu(trusted=True, greetings=())
    assert prompts(m.keys("02")) == ["vm-record-greeting"]
    assert m.state is A.RECORD_GREETING and m.out[0].prompt.args == {"kind": "busy"}
    assert prompts(m.done()) == ["beep"]
    assert m.done() == [Record(LEG, TAKE, 60.0), StartTimer(TIMER, 60.0, turn=m.access.turn)]
    out = m.keys("#")
    assert out[0] == StopRecord(LEG) and m.state is A.REVIEW_GREETING
    assert m.keys("2")[0].playlist == (TakeAudio(), Prompt("vm-review-greeting"))
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
    assert m.access.hangup() == [StopRecord(LEG), DiscardRecording()]


def test_four_records_a_temporary_greeting_when_there_is_none():
    m = Menu(trusted=True, greetings=())
    m.keys("04")
    assert m.state is A.RECORD_GREETING and m.out[0].prompt.args == {"kind": "temporary"}


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

