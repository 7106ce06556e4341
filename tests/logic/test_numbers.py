"""One namespace of numbers: who holds a number, and the routes whose number is held already."""

from __future__ import annotations

import pytest

from appliance.errors import Conflict
from appliance.logic.numbers import NumberDirectory, check_free, owner_of, route_clashes, taken

BOX = NumberDirectory(extensions=frozenset({"1001", "1002"}), ring_groups={"600": "office"},
                      voicemail_boxes=frozenset({"650"}), routes=(("500", "main"), ("_8XX", "night")))


@pytest.mark.parametrize("number, owner", [
    ("1001", "extension 1001"),
    ("600", "ring group 'office'"),
    ("650", "voicemail box 650"),
    ("500", "call-flow route 'main'"),
    ("801", "call-flow route 'night' (its pattern _8XX)"),
    ("*97", "feature code *97 (your own voicemail)"),
    ("*45", "feature code *45 (agent log in or out)"),
    ("*311001", "feature code *31<agent> (whisper)"),
    ("1003", None), ("8000", None), ("*99", None),
])
def test_owner_of(number, owner):
    assert owner_of(number, BOX) == owner


def test_the_error_names_the_owner():
    assert taken("500", BOX) == "500 is already the number of call-flow route 'main'"
    with pytest.raises(Conflict, match=r"^number: 500 is already the number of call-flow route 'main'$"):
        check_free("500", BOX)
    check_free("501", BOX)


def test_routes_clash_with_what_holds_their_number_but_not_with_each_other():
    others = BOX.without_routes()
    assert route_clashes([("500", "main"), ("500", "vip callers")], others) == []
    assert route_clashes([("1001", "a"), ("*98", "b"), ("", "catch-all")], others) == [
        ("a", "1001 is already the number of extension 1001"),
        ("b", "*98 is already the number of feature code *98 (any voicemail box)")]
    assert route_clashes([("_6XX", "c")], others) == [
        ("c", "_6XX would take 600, which is already the number of ring group 'office'")]
    assert route_clashes([("_+4822XXXXXXX", "trunk block")], others) == []
