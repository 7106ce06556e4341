"""A caller leaving a message: every (state, event) pair of the deposit machine, and its stories."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from appliance.errors import StateMachineError
from appliance.logic.media import Hangup, Record, StartTimer, StopRecord
from appliance.logic.voicemail import (
    DEPOSIT_TRANSITIONS, TAKE, TIMER, Deposit, DepositState as D, DiscardRecording, Event, GreetingAudio,
    GreetingKind, SaveRecording, StartLogin)
from tests.logic.test_voicemail_support import BOX, LEG, FakeClock, fired, kinds, prompts  # noqa: F401 (fired: a fixture)


def deposit(clock: FakeClock, **kw) -> Deposit:
    return Deposit("call-1", BOX, "+48601234567", clock, caller_name="Ann", leg=LEG, **kw)


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
    (D.RECORDING, "#"): (D.SAVED, ["StopRecord", "SaveRecording", "Play"]),
    (D.RECORDING, "timeout"): (D.SAVED, ["StopRecord", "SaveRecording", "Play"]),
    (D.RECORDING, "hangup"): (D.SAVED, ["StopRecord", "SaveRecording"]),
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
    assert StopRecord(LEG) in out and DiscardRecording() in out
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
    assert out == [Record(LEG, TAKE, 120), StartTimer(TIMER, 120, turn=d.turn)]
    clock.advance(120)
    out = d.timeout(out[1].turn)
    assert d.state is D.SAVED and "vm-max-length-reached" in prompts(out)


def test_a_recorded_greeting_is_played_else_the_default_prompt_with_the_box_number():
    clock = FakeClock()
    out = deposit(clock, reason="busy", recorded={"busy"}).start()
    assert out[0].playlist == (GreetingAudio("1001", GreetingKind.BUSY),) and out[0].leg == LEG
    out = deposit(clock, reason="busy", recorded={"unavailable"}).start()
    assert out[0].prompt.name == "vm-default-greeting" and out[0].prompt.args["box"] == "1001"


def test_a_full_box_says_so_and_hangs_up():
    clock = FakeClock()
    d = deposit(clock, message_count=3)
    out = d.start()
    assert prompts(out) == ["vm-box-full"] and d.state is D.FULL
    assert d.play_done(out[0].turn) == [Hangup(LEG)]
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

