"""Validation of flow sets: every kind of fault is named with its node and field."""

import copy
import json

import pytest
from hypothesis import given, settings, strategies as st

from appliance.errors import FlowInvalid
from appliance.logic.flows import (
    NODE_FIELDS, FlowSet, Level, NodeKind, default_flows, load_flows, validate,
)

KNOWN = dict(queues={"sales", "support"}, extensions={"100", "101", "205"},
             voicemail_boxes={"100"}, ring_groups={"office"})


def base() -> dict:
    return default_flows({"mon": [("09:00", "17:00")], "tue": [("09:00", "17:00")]},
                         "sales", "100").to_dict()


def errors(data, **known) -> list[str]:
    return [str(p) for p in validate(data, **known) if p.level is Level.ERROR]


def test_template_is_valid_and_round_trips():
    data = base()
    assert validate(data, **KNOWN) == []
    flows = load_flows(data, **KNOWN)
    assert flows.to_dict() == data
    assert FlowSet.from_dict(json.loads(json.dumps(data))) == flows


def test_version_counts_saves_and_schema_is_checked():
    flows = load_flows(base())
    assert flows.next_version().version == flows.version + 1
    newer = base() | {"schema": 99}
    assert errors(newer) == ["flows: schema 99 is newer than this program understands (1)"]
    assert any("version" in e for e in errors(base() | {"version": 0}))


def test_time_condition_pointing_to_itself_is_a_loop():
    data = base()
    data["nodes"]["business_hours"]["open"] = "business_hours"
    assert errors(data) == ["node 'business_hours': open → 'business_hours' makes a loop: "
                            "business_hours → business_hours"]
    with pytest.raises(FlowInvalid) as caught:
        load_flows(data)
    assert caught.value.problems[0].node == "business_hours"
    assert caught.value.problems[0].field == "open"


def test_loop_through_play_and_language_is_rejected():
    data = base()
    nodes = data["nodes"]
    nodes["closed_greeting"]["next"] = "lang"
    nodes["lang"] = {"kind": "language", "language": "pl", "next": "business_hours"}
    found = errors(data)
    assert len(found) == 1
    assert "makes a loop: business_hours → closed_greeting → lang → business_hours" in found[0]


def test_a_menu_in_the_loop_breaks_it():
    data = base()
    nodes = data["nodes"]
    nodes["main_menu"]["choices"]["9"] = "business_hours"    # back to the start: caller's choice
    nodes["main_menu"]["repeat_digit"] = "*"
    assert errors(data) == []


def test_dangling_destinations_and_route():
    data = base()
    data["nodes"]["main_menu"]["choices"]["3"] = "billing"
    data["routes"][0]["destination"] = "nowhere"
    found = errors(data)
    assert "node 'main_menu': choices[3] → 'billing' does not exist" in found
    assert "route 'All calls': destination → 'nowhere' does not exist" in found


def test_unknown_names_are_checked_against_what_exists():
    data = base()
    data["nodes"]["sales"]["queue"] = "salse"
    data["nodes"]["operator"]["number"] = "999"
    data["nodes"]["closed_voicemail"]["box"] = "7"
    found = errors(data, **KNOWN)
    assert "node 'sales': queue 'salse' is not a known queue" in found
    assert "node 'operator': number '999' is not a known extension" in found
    assert "node 'closed_voicemail': box '7' is not a known voicemail box" in found
    assert errors(data) == []     # names not given: not checked


def test_unknown_prompt_when_prompts_are_given():
    found = errors(base(), prompts={"main-menu", "invalid-option"})
    assert found == ["node 'closed_greeting': prompt 'closed-greeting' is not a known prompt"]


def test_unknown_kind_missing_and_extra_fields():
    data = base()
    data["nodes"]["x"] = {"kind": "conference"}
    data["nodes"]["main_menu"]["colour"] = "blue"
    del data["nodes"]["sales"]["queue"]
    found = errors(data)
    assert any(e.startswith("node 'x': kind 'conference' is not a node kind") for e in found)
    assert "node 'main_menu': colour is not a field of ivr_menu nodes" in found
    assert "node 'sales': queue is missing" in found


def test_bad_digit_keys_and_repeat_clash():
    data = base()
    data["nodes"]["main_menu"]["choices"]["A"] = "sales"
    data["nodes"]["main_menu"]["choices"]["12"] = "sales"
    data["nodes"]["main_menu"]["repeat_digit"] = "1"
    found = errors(data)
    assert "node 'main_menu': choices[A] is not a key: use one of 0-9, * or #" in found
    assert "node 'main_menu': choices[12] is not a key: use one of 0-9, * or #" in found
    assert "node 'main_menu': repeat_digit '1' is also a choice; a digit can do only one thing" \
        in found


def test_field_ranges():
    data = base()
    data["nodes"]["main_menu"]["timeout_s"] = 0
    data["nodes"]["main_menu"]["retries"] = True
    found = errors(data)
    assert "node 'main_menu': timeout_s must be a number from 1 to 60" in found
    assert "node 'main_menu': retries must be a whole number from 0 to 9" in found


@pytest.mark.parametrize("interval, message", [
    ({"start": "17:00", "end": "09:00"},
     "week.mon[0].end 09:00 is before the start 17:00 (mark the interval \"overnight\""),
    ({"start": "09:00", "end": "09:00"}, "week.mon[0].end 09:00 equals the start"),
    ({"start": "25:00", "end": "26:00"}, "week.mon[0].start '25:00' is not a time of day"),
    ({"start": "22:00", "end": "23:00", "overnight": True},
     "week.mon[0].end 23:00 is not before the start 22:00"),
    ({"start": "09:00"}, "week.mon[0].end is missing"),
])
def test_bad_intervals(interval, message):
    data = base()
    data["nodes"]["business_hours"]["week"]["mon"] = [interval]
    found = errors(data)
    assert len(found) == 1 and found[0].startswith(f"node 'business_hours': {message}"), found


def test_overlapping_intervals_including_overnight_spill():
    data = base()
    week = data["nodes"]["business_hours"]["week"]
    week["mon"] = [{"start": "09:00", "end": "13:00"}, {"start": "12:00", "end": "17:00"}]
    week["sun"] = [{"start": "22:00", "end": "10:00", "overnight": True}]   # into Monday
    found = errors(data)
    assert "node 'business_hours': week.mon[1] overlaps week.mon[0] (09:00-13:00)" in found
    assert any("week.mon[0] overlaps week.sun[0] (22:00-10:00 overnight)" in e for e in found)
    week["mon"] = [{"start": "10:00", "end": "12:00"}, {"start": "12:00", "end": "17:00"}]
    assert errors(data) == []    # touching intervals and the spill ending at 10:00 are fine


def test_bad_dates_ranges_and_time_zone():
    data = base()
    tc = data["nodes"]["business_hours"]
    tc["holidays"] = ["2025-02-30", "02-30", "12-25"]
    tc["holiday_ranges"] = [{"from": "2025-12-31", "to": "2025-12-24"}]
    tc["timezone"] = "Mars/Olympus"
    found = errors(data)
    assert "node 'business_hours': holidays[0] '2025-02-30' is not a date in the calendar" in found
    assert "node 'business_hours': holidays[1] '02-30' is not a day of the year like 12-25" \
        in found
    assert "node 'business_hours': holiday_ranges[0].to 2025-12-24 is before from 2025-12-31" \
        in found
    assert "node 'business_hours': timezone 'Mars/Olympus' is not a known time zone" in found


def test_unreachable_node_is_only_a_warning():
    data = base()
    data["nodes"]["spare"] = {"kind": "hangup"}
    problems = validate(data)
    assert [(p.level, str(p)) for p in problems] == [
        (Level.WARNING, "node 'spare': is not reached from any inbound route")]
    assert "spare" in load_flows(data).nodes


def test_bad_route_patterns():
    data = base()
    data["routes"].append({"name": "bad", "did": "_48[X", "destination": "sales"})
    data["routes"].append({"name": "bad", "caller": "12a", "destination": "sales"})
    found = errors(data)
    assert "route 'bad': did '_48[X' has a '[' without its ']'" in found
    assert any(e.startswith("route 'bad': caller '12a' may hold only digits") for e in found)
    assert "route 'bad': name is used by another route" in found


def test_every_declared_field_is_documented():
    from pathlib import Path
    doc = (Path(__file__).parents[2] / "docs" / "call-flows.md").read_text()
    for kind, specs in NODE_FIELDS.items():
        assert f"`{kind}`" in doc, kind
        for spec in specs:
            assert f"`{spec.name}`" in doc, (kind, spec.name)


# --- never raises -------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20)

_field_names = sorted({s.name for specs in NODE_FIELDS.values() for s in specs}
                      | {"start", "end", "mon", "from", "to"})
_plausible = (json_values | st.sampled_from(
    ["09:00", "24:00", "22:00", "Europe/Warsaw", "12-25", "2024-02-29", "tc", "m", "1", "#",
     "force_open", "pl", "_48X.", 0, 5, 1e308, float("nan")]))
flowish_node = st.fixed_dictionaries(
    {"kind": st.sampled_from([str(k) for k in NodeKind] + ["bogus"])},
    optional={name: st.one_of(_plausible, st.lists(_plausible, max_size=3),
                              st.dictionaries(st.sampled_from(_field_names + ["1", "*"]),
                                              _plausible | st.lists(st.dictionaries(
                                                  st.sampled_from(_field_names), _plausible,
                                                  max_size=3), max_size=3), max_size=3))
              for name in _field_names})
flowish = st.fixed_dictionaries(
    {"schema": st.sampled_from([1, 2, "1", None]),
     "nodes": st.dictionaries(st.sampled_from(["tc", "m", "q", "x y", ""]), flowish_node,
                              max_size=5),
     "routes": st.lists(st.dictionaries(
         st.sampled_from(["name", "did", "caller", "priority", "destination", "zz"]), _plausible,
         max_size=5), max_size=3)},
    optional={"version": _plausible, "holidays": _plausible, "language": _plausible})


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_random_json_gives_problems_not_exceptions(data):
    problems = validate(data)
    assert isinstance(problems, list)
    if not isinstance(data, dict):
        assert problems


@settings(max_examples=150, deadline=None)
@given(flowish)
def test_flow_shaped_json_gives_problems_not_exceptions(data):
    problems = validate(copy.deepcopy(data), **KNOWN)
    assert all(p.reason for p in problems)
    if not any(p.level is Level.ERROR for p in problems):
        flows = load_flows(data)
        assert load_flows(flows.to_dict()) == flows


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for n, child in enumerate(value):
            yield from _paths(child, prefix + (n,))


_TEMPLATE_PATHS = [p for p in _paths(base()) if p]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(_TEMPLATE_PATHS), json_values | _plausible)
def test_one_field_of_a_valid_flow_set_broken_at_random(path, value):
    data = base()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    problems = validate(data, **KNOWN)
    if not any(p.level is Level.ERROR for p in problems):
        flows = load_flows(data, **KNOWN)
        assert load_flows(flows.to_dict(), **KNOWN) == flows
