"""FlowRun: a call walks the flows; commands come out, caller events go in."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from appliance.logic.flows import (
    CollectDigits, Dial, FlowRun, Hangup, Override, Play, RunState, SetLanguage, ToExtension,
    ToQueue, ToRingGroup, ToVoicemail, default_flows, load_flows, match_route,
)
from appliance.logic.flows.model import Route

WARSAW = ZoneInfo("Europe/Warsaw")
HOURS = {d: [("09:00", "17:00")] for d in ("mon", "tue", "wed", "thu", "fri")}
MONDAY_10 = datetime(2024, 6, 10, 10, tzinfo=WARSAW)
MONDAY_20 = datetime(2024, 6, 10, 20, tzinfo=WARSAW)


class FakeClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def run(flows=None, now=MONDAY_10, **kw) -> FlowRun:
    flows = flows or default_flows(HOURS, "sales", "100")
    return FlowRun(flows, "c1", "48221234567", "+48601234567", FakeClock(now), **kw)


MENU = [Play("main-menu", "en", interruptible=True), CollectDigits(1, 5)]


def test_ivr_happy_path():
    call = run()
    assert call.start() == MENU
    assert call.state is RunState.IN_MENU
    assert call.play_done() == []
    assert call.digit("2") == [ToQueue("support")]
    assert call.state is RunState.HANDED_OFF
    assert call.trail == ["business_hours", "main_menu", "support"]
    assert call.hangup() == [] and call.state is RunState.ENDED


def test_closed_goes_to_greeting_then_voicemail():
    call = run(now=MONDAY_20)
    assert call.start() == [Play("closed-greeting", "en")]
    assert call.digit("1") == []          # an announcement is not a menu
    assert call.play_done() == [ToVoicemail("100")]


def test_night_mode_and_override_are_read_when_the_node_is_reached():
    switch = {"on": True}
    call = run(night_mode=lambda: switch["on"])
    assert call.start() == [Play("closed-greeting", "en")]
    forced = run(now=MONDAY_20, overrides={"business_hours": Override.FORCE_OPEN})
    assert forced.start() == MENU


def test_invalid_digit_retries_then_final_destination():
    call = run()
    call.start()
    notice = [Play("invalid-option", "en")]
    for _ in range(2):                     # retries = 2: two more offers of the menu
        assert call.digit("7") == notice
        assert call.state is RunState.NOTICE
        assert call.play_done() == MENU
    assert call.digit("7") == notice
    assert call.play_done() == [ToExtension("100")]    # invalid_destination: the operator
    assert call.outcome == ToExtension("100")


def test_timeout_repeats_the_menu_then_gives_up():
    call = run()
    call.start()
    assert call.digits_timeout() == MENU   # no timeout prompt: straight back to the menu
    assert call.digits_timeout() == MENU
    assert call.digits_timeout() == [ToExtension("100")]


def test_valid_digit_after_a_timeout_still_works():
    call = run()
    call.start()
    call.digits_timeout()
    assert call.digit("1") == [ToQueue("sales")]


def menu_flows(**menu_extra):
    return load_flows({
        "schema": 1, "version": 3, "language": "en",
        "routes": [{"destination": "menu"}],
        "nodes": {
            "menu": {"kind": "ivr_menu", "prompt": "menu", "choices": {"1": "sales", "0": "op"},
                     "invalid_destination": "op", "timeout_destination": "vm",
                     "timeout_prompt": "no-input", "retries": 1, **menu_extra},
            "sales": {"kind": "queue", "queue": "sales"},
            "op": {"kind": "ring_group", "group": "office"},
            "vm": {"kind": "voicemail", "box": "100"},
        }})


def test_timeout_prompt_and_timeout_destination():
    call = run(menu_flows())
    call.start()
    assert call.digits_timeout() == [Play("no-input", "en")]
    assert call.play_done() == [Play("menu", "en", True), CollectDigits(1, 5)]
    assert call.digits_timeout() == [Play("no-input", "en")]
    assert call.play_done() == [ToVoicemail("100")]


def test_repeat_digit_plays_the_menu_again_without_using_a_retry():
    call = run(menu_flows(repeat_digit="*", retries=0))
    call.start()
    for _ in range(3):
        assert call.digit("*") == [Play("menu", "en", True), CollectDigits(1, 5)]
    assert call.digit("0") == [ToRingGroup("office")]


def test_direct_dial_collects_the_rest_of_the_extension():
    call = run(menu_flows(direct_dial=True, direct_dial_window_s=3),
               extensions={"101", "102", "205", "1010"})
    call.start()
    assert call.digit("1") == [CollectDigits(3, 3)]    # 1 starts 101, 102 and 1010
    assert call.state is RunState.DIALING
    assert call.digit("0") == []
    assert call.digit("2") == [ToExtension("102")]     # nothing longer starts with 102


def test_direct_dial_waits_when_a_longer_extension_is_possible():
    call = run(menu_flows(direct_dial=True), extensions={"101", "1010"})
    call.start()
    call.digit("1"), call.digit("0"), call.digit("1")
    assert call.state is RunState.DIALING
    assert call.digits_timeout() == [ToExtension("101")]


def test_direct_dial_hash_ends_the_number():
    call = run(menu_flows(direct_dial=True), extensions={"101", "1010"})
    call.start()
    call.digit("1"), call.digit("0"), call.digit("1")
    assert call.digit("#") == [ToExtension("101")]


def test_direct_dial_single_digit_then_silence_is_the_menu_choice():
    call = run(menu_flows(direct_dial=True), extensions={"101"})
    call.start()
    assert call.digit("1") == [CollectDigits(2, 3)]
    assert call.digits_timeout() == [ToQueue("sales")]


def test_direct_dial_of_a_number_that_does_not_exist_is_invalid():
    call = run(menu_flows(direct_dial=True, invalid_prompt="bad"), extensions={"101"})
    call.start()
    call.digit("1")
    assert call.digit("5") == [Play("bad", "en")]
    assert call.play_done() == [Play("menu", "en", True), CollectDigits(1, 5)]


def test_without_direct_dial_extensions_are_not_dialled():
    call = run(menu_flows(), extensions={"101"})
    call.start()
    assert call.digit("1") == [ToQueue("sales")]


def test_language_node_changes_the_prompts():
    flows = load_flows({
        "schema": 1, "version": 1,
        "routes": [{"destination": "pick"}],
        "nodes": {
            "pick": {"kind": "ivr_menu", "prompt": "choose-language",
                     "choices": {"1": "en", "2": "pl", "3": "zh"}, "invalid_destination": "en"},
            "en": {"kind": "language", "language": "en", "next": "hello"},
            "pl": {"kind": "language", "language": "pl", "next": "hello"},
            "zh": {"kind": "language", "language": "zh", "next": "hello"},
            "hello": {"kind": "play", "prompt": "welcome", "next": "out"},
            "out": {"kind": "external", "number": "+48601000000"},
        }})
    call = run(flows)
    assert call.start() == [Play("choose-language", "en", True), CollectDigits(1, 5)]
    assert call.digit("2") == [SetLanguage("pl"), Play("welcome", "pl")]
    assert call.language == "pl"
    assert call.play_done() == [Dial("+48601000000")]


def test_caller_hanging_up_ends_the_run_and_later_events_do_nothing():
    call = run()
    call.start()
    assert call.hangup() == []
    assert call.state is RunState.ENDED
    assert call.digit("1") == [] and call.digits_timeout() == [] and call.play_done() == []


def test_hangup_node_and_no_route():
    flows = load_flows({"schema": 1, "version": 1,
                        "routes": [{"did": "100", "destination": "bye"}],
                        "nodes": {"bye": {"kind": "hangup"}}})
    assert FlowRun(flows, "c", "100", "", FakeClock(MONDAY_10)).start() == [Hangup()]
    lost = FlowRun(flows, "c", "200", "", FakeClock(MONDAY_10))
    assert lost.start() == [Hangup("no_route")]
    assert lost.state is RunState.ENDED


def test_a_loop_that_skipped_validation_still_ends():
    flows = default_flows(HOURS, "sales", "100")
    tc = flows.nodes["business_hours"]
    from dataclasses import replace
    looped = replace(flows, nodes=flows.nodes | {"business_hours": replace(
        tc, open="business_hours")})
    assert run(looped).start() == [Hangup("flow_loop")]


# --- route matching -----------------------------------------------------------

ROUTES = [
    Route(name="fallback", destination="any", priority=100),
    Route(name="poland mobile callers", did="_48XXXXXXXXX", caller="_+48[5-8]XXXXXXXX",
          destination="mobile"),
    Route(name="poland", did="_48XXXXXXXXX", destination="national"),
    Route(name="main number", did="48221234567", destination="main"),
    Route(name="vip", did="48221234567", caller="48601000000", destination="vip"),
    Route(name="short codes", did="_1ZN", destination="short"),
    Route(name="star codes", did="_*X.", destination="star"),
    Route(name="anything after 99", did="_99!", destination="ninety-nine"),
]


@pytest.mark.parametrize("did, caller, expected", [
    ("48221234567", "+48601000000", "vip"),          # exact DID + exact caller, + optional
    ("48221234567", "+48221111111", "main"),         # exact DID beats the pattern
    ("48229999999", "+48601234567", "mobile"),        # caller pattern beats DID-only
    ("48229999999", "+48221111111", "national"),      # landline caller: DID pattern only
    ("+48229999999", "", "national"),                 # + on the DID, withheld caller
    ("4822999999", "", "any"),                        # one digit short
    ("123", "", "short"),                             # Z=1-9, N=2-9
    ("111", "", "any"),                               # N does not match 1
    ("103", "", "any"),                               # Z does not match 0
    ("*1", "", "any"),                                # '.' needs at least one more
    ("*12", "", "star"),
    ("99", "", "ninety-nine"),                        # '!' matches nothing too
    ("", "", "any"),
])
def test_route_matching_table(did, caller, expected):
    assert match_route(ROUTES, did, caller) == expected


def test_priority_beats_specificity_and_listing_order_breaks_ties():
    routes = [Route(name="a", destination="a", priority=5),
              Route(name="b", did="100", destination="b", priority=10),
              Route(name="c", destination="c", priority=5)]
    assert match_route(routes, "100", "") == "a"
    assert match_route([], "100", "") is None
