"""A voicemail call as a table: every (state, event) pair, refused pairs, and the caller's stories."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.errors import StateMachineError
from appliance.logic import voicemail as vm
from appliance.logic.handlers.voicemail_call import (
    MACHINE, TABLE, TIMER, DiscardTake, FileMessage, KeepGreeting, VoicemailCall, VoicemailCallEvent as E,
    VoicemailCallState as S, VoicemailOutcome)
from appliance.logic.media import CancelTimer, Hangup, Play, Record, StartTimer, StopRecord, WriteRecord
from tests.fake_clock import FakeClock
from tests.logic.test_call_machine_support import kinds, table_checks
from tests.logic.test_voicemail_support import BOX


MESSAGES = (vm.MessageInfo("m1", vm.Folder.NEW, "+48601111111", 900.0, 12.0),)


class Mailbox:
    """The ports a voicemail call gets: files of audio, takes, the owner's menu; what it asked is kept."""

    def __init__(self, clock: FakeClock, *, missing: tuple[str, ...] = (), trusted: bool = False):
        self.clock, self.missing, self.trusted = clock, missing, trusted
        self.snapshot = vm.BoxSnapshot(BOX, MESSAGES, frozenset())
        self.guard = vm.PinGuard(clock)
        self.takes: list[str] = []

    def audio_file(self, item: vm.Audio) -> str | None:
        if isinstance(item, vm.Prompt):
            return None if item.name in self.missing else f"/prompts/{item.name}.wav"
        if isinstance(item, vm.MessageAudio):
            return f"/voicemail/{item.box}/{item.message_id}.wav"
        return None  # no greeting recorded

    def take_path(self, box: str, greeting: bool) -> str:
        self.takes.append(box)
        return f"/voicemail/{box}/greetings/.take-{len(self.takes)}.wav" if greeting else \
            f"/incoming/{box}-{len(self.takes)}.wav"

    def lookup(self, number: str) -> vm.BoxSnapshot | None:
        return self.snapshot if number == "1001" else None

    def open_menu(self, box: str | None = None) -> vm.Access:
        return vm.Access("vm-1", self.lookup, self.guard, self.clock, box=box, trusted=self.trusted)

    def deposit(self) -> vm.Deposit:
        return vm.Deposit("vm-1", BOX, "+48601234567", self.clock, caller_name="Ann")


def voicemail_call(clock: FakeClock | None = None, *, menu: bool = False, **kw) -> tuple[VoicemailCall, Mailbox]:
    clock = clock or FakeClock()
    box = Mailbox(clock, **kw)
    mailbox = box.open_menu() if menu else box.deposit()
    c = VoicemailCall("vm-1", "in1", "+48601234567", "Ann", "" if menu else "1001", "w1", clock, mailbox,
                      audio_file=box.audio_file, take_path=box.take_path, open_menu=box.open_menu,
                      outcome=VoicemailOutcome.VOICEMAIL_ACCESS if menu else VoicemailOutcome.VOICEMAIL)
    return c, box


def reach(state: S, *, menu: bool = False) -> VoicemailCall:
    c, _ = voicemail_call(menu=menu or state is S.AT_MENU)
    if state is not S.NEW:
        c.begin()
    if state is S.ENDED:
        c.hung_up()
    assert c.state is state
    return c


def open_menu(c: VoicemailCall) -> list:
    c.mailbox = vm.Access("vm-1", lambda n: None, vm.PinGuard(c.clock), c.clock)
    return c.begin()


EVENTS: dict[E, Callable[[VoicemailCall], list]] = {
    E.LEAVE_MESSAGE: lambda c: c.begin(),
    E.OPEN_MENU: open_menu,
    E.LOGIN: lambda c: c.digit("*"),  # during the greeting
    E.DIGIT: lambda c: c.digit("5"),
    E.PLAY_DONE: lambda c: c.play_done(),
    E.TIMER: lambda c: c.timer(TIMER),
    E.HANGUP: lambda c: c.hung_up(),
}

END = ["CancelTimer", "WriteRecord"]
EXPECTED: dict[tuple[S, E], list[str]] = {
    (S.NEW, E.LEAVE_MESSAGE): ["Play"],  # the greeting
    (S.NEW, E.OPEN_MENU): ["Play"],  # "enter your box"
    (S.NEW, E.HANGUP): END,
    (S.LEAVING_MESSAGE, E.DIGIT): [],
    (S.LEAVING_MESSAGE, E.PLAY_DONE): ["Play"],  # the beep
    (S.LEAVING_MESSAGE, E.TIMER): [],  # no timer of this turn runs
    (S.LEAVING_MESSAGE, E.LOGIN): ["Play"],  # "enter your PIN"
    (S.LEAVING_MESSAGE, E.HANGUP): END,
    (S.AT_MENU, E.DIGIT): ["StartTimer"],  # a digit of the box number: the full pause again
    (S.AT_MENU, E.PLAY_DONE): ["StartTimer"],
    (S.AT_MENU, E.TIMER): [],
    (S.AT_MENU, E.HANGUP): END,
    (S.ENDED, E.DIGIT): [],
    (S.ENDED, E.PLAY_DONE): [],
    (S.ENDED, E.TIMER): [],
    (S.ENDED, E.HANGUP): [],  # one record only
}


TestTheTable = table_checks(TABLE, EXPECTED, reach, EVENTS, refuse=MACHINE.fire)


@pytest.mark.parametrize("event", [E.DIGIT, E.PLAY_DONE, E.TIMER])
def test_nothing_happens_on_the_leg_before_it_is_answered(event):
    c = reach(S.NEW)
    with pytest.raises(StateMachineError):
        EVENTS[event](c)
    assert c.state is S.NEW


def test_a_caller_leaves_a_message_and_it_is_filed_before_the_record_is_written():
    clock = FakeClock(1_000.0)
    c, box = voicemail_call(clock)
    assert c.begin() == [Play("in1", "/prompts/vm-default-greeting.wav")]
    assert c.play_done() == [Play("in1", "/prompts/beep.wav")]
    assert c.play_done() == [Record("in1", "/incoming/1001-1.wav", 120), StartTimer(TIMER, 120, turn=c.mailbox.turn)]
    clock.advance(42.5)
    out = c.hung_up()
    assert out[:3] == [CancelTimer(TIMER), StopRecord("in1"),
                       FileMessage("1001", "/incoming/1001-1.wav", "+48601234567", "Ann")]
    assert isinstance(out[3], WriteRecord)
    assert out[3].record == {
        "call_id": "vm-1", "start": 1_000.0, "answer": 1_000.0, "end": 1_042.5, "duration_s": 42.5, "talk_s": 0.0,
        "disposition": "ANSWERED", "direction": "internal", "caller": "+48601234567", "caller_name": "Ann",
        "callee": "1001", "answered_by": "voicemail", "hangup_by": "caller", "trunk": None, "worker": "w1",
        "outcome": "VOICEMAIL"}
    assert box.takes == ["1001"]


def recording_a_message(clock: FakeClock) -> VoicemailCall:
    """A caller past the greeting and the beep: the message is being recorded."""
    c, _ = voicemail_call(clock)
    c.begin()
    c.play_done()
    c.play_done()
    return c


def test_a_recording_that_reaches_the_box_maximum_is_kept_with_a_goodbye():
    clock = FakeClock()
    c = recording_a_message(clock)
    clock.advance(120)
    out = c.timer(TIMER)
    assert out == [StopRecord("in1"), FileMessage("1001", "/incoming/1001-1.wav", "+48601234567", "Ann"),
                   Play("in1", "/prompts/vm-max-length-reached.wav")]
    assert c.play_done() == [Play("in1", "/prompts/vm-goodbye.wav")]  # the rest of the playlist
    assert c.play_done() == [Hangup("in1")]


def test_a_message_too_short_is_discarded():
    clock = FakeClock()
    c = recording_a_message(clock)
    clock.advance(0.4)
    assert c.hung_up()[1:3] == [StopRecord("in1"), DiscardTake("/incoming/1001-1.wav")]


def test_a_missing_prompt_counts_as_played():
    c, _ = voicemail_call(missing=("beep",))
    c.begin()
    assert kinds(c.play_done()) == ["Record", "StartTimer"]  # no beep to hear: recording starts at once


def test_star_during_the_greeting_opens_the_owners_menu_and_the_record_says_so():
    clock = FakeClock()
    c, _ = voicemail_call(clock)
    c.begin()
    assert c.digit("*") == [Play("in1", "/prompts/vm-enter-pin.wav")]
    assert c.state is S.AT_MENU and isinstance(c.mailbox, vm.Access)
    assert c.play_done() == [StartTimer(TIMER, 8.0, turn=c.mailbox.turn)]
    for d in "1234":
        c.digit(d)
    assert c.digit("#")[0] == Play("in1", "/prompts/vm-main-menu.wav")
    record = c.hung_up()[-1].record
    assert record["outcome"] == "VOICEMAIL_LOGIN" and record["callee"] == "1001"


def test_the_owner_hears_a_message_and_it_is_marked_heard():
    c, _ = voicemail_call(menu=True, trusted=True)
    c.mailbox = c.open_menu("1001")
    c.begin()
    assert c.digit("1") == [Play("in1", "/voicemail/1001/m1.wav")]
    assert c.play_done() == [vm.MarkHeard("1001", "m1"), Play("in1", "/prompts/vm-message-menu.wav")]
    assert c.digit("7") == [vm.DeleteMessage("1001", "m1"), Play("in1", "/prompts/vm-deleted.wav")]
    assert c.hung_up()[-1].record["outcome"] == "VOICEMAIL_ACCESS"


def test_a_new_greeting_is_recorded_reviewed_and_kept():
    clock = FakeClock()
    c, box = voicemail_call(clock, menu=True, trusted=True)
    c.mailbox = c.open_menu("1001")
    c.begin()
    c.digit("0")
    assert c.digit("1") == [Play("in1", "/prompts/vm-record-greeting.wav")]
    c.play_done()
    assert c.play_done() == [Record("in1", "/voicemail/1001/greetings/.take-1.wav", 60.0), StartTimer(TIMER, 60.0, turn=c.mailbox.turn)]
    clock.advance(5)
    assert c.digit("#") == [StopRecord("in1"), Play("in1", "/prompts/vm-review-greeting.wav")]
    assert c.digit("2") == [Play("in1", "/voicemail/1001/greetings/.take-1.wav")]  # the take itself, then the menu
    assert c.play_done() == [Play("in1", "/prompts/vm-review-greeting.wav")]
    out = c.digit("1")
    assert out[0] == KeepGreeting("1001", vm.GreetingKind.UNAVAILABLE, "/voicemail/1001/greetings/.take-1.wav")


def test_a_timer_comes_due_as_an_event_and_a_stale_one_is_ignored():
    clock = FakeClock()
    c, _ = voicemail_call(clock, menu=True)
    c.begin()
    assert c.play_done() == [StartTimer(TIMER, 8.0, turn=c.mailbox.turn)]
    clock.advance(8)
    assert c.timer(TIMER) == [Play("in1", "/prompts/vm-enter-box.wav")]  # silence: the prompt again
    assert c.timer(TIMER) == []  # the timer of an earlier turn
