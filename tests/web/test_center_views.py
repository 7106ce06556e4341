"""The pure shaping of the contact-center pages."""

from __future__ import annotations

import pytest

from web.kit import (agent_says, current_call, next_step, parse_hours,
                     parse_node_form, parse_queue_form, parse_staff, service_level)


@pytest.mark.parametrize("status, state, says", [
    ("LOGGED_OUT", "IDLE", "logged out"), ("AVAILABLE", "IDLE", "available"),
    ("AVAILABLE", "OFFERED", "ringing"), ("AVAILABLE", "TALKING", "talking"),
    ("ON_BREAK", "WRAP_UP", "wrap-up"), ("ON_BREAK", "IDLE", "on break"),
    ("AVAILABLE", "NO_ANSWER_BACKOFF", "missed a call")])
def test_what_an_agent_is_doing_puts_the_call_before_the_status(status, state, says):
    assert agent_says({"status": status, "state": state}) == says


def test_service_level_ignores_outbound_calls_and_counts_unanswered_as_missed():
    records = [{"start": "2026-11-02T09:00:00+01:00", "answer": "2026-11-02T09:00:19+01:00"},
               {"start": "2026-11-02T09:00:00+01:00", "answer": "2026-11-02T09:00:21+01:00"},
               {"start": "2026-11-02T09:00:00+01:00", "answer": None},
               {"start": "2026-11-02T09:00:00+01:00", "answer": "2026-11-02T09:00:01+01:00",
                "direction": "outbound"}]
    level = service_level(records)
    assert (level["offered"], level["in_time"], level["text"]) == (3, 1, "33 %")
    assert service_level([])["text"] == "–"


def test_queue_form_sends_only_what_differs_from_the_defaults():
    config, errors = parse_queue_form({"name": "sales", "strategy": "leastrecent",
                                       "ring_timeout_s": "20.0", "wrap_up_s": "5",
                                       "skills_required": "polish:2, english:1"})
    assert errors == {}
    assert config == {"name": "sales", "wrap_up_s": 5.0,
                      "skills_required": {"polish": 2, "english": 1}}
    _, errors = parse_queue_form({"name": "x", "skills_required": "polish"})
    assert "skill:level" in errors["skills_required"]


def test_staff_lines_and_hours_are_read_like_a_person_writes_them():
    staff, errors = parse_staff("1001 Anna\n  1002   Piotr Nowak \n0123 Zero\n1001 Again")
    assert staff == [("1001", "Anna"), ("1002", "Piotr Nowak")]
    assert errors[0].startswith("line 3") and "listed twice" in errors[1]
    hours, errors = parse_hours({"mon-open": "on", "mon-start": "09:00", "mon-end": "17:00",
                                 "tue-start": "10:00", "tue-end": "12:00",
                                 "wed-open": "on", "wed-start": "9", "wed-end": "17:00"})
    assert hours == {"mon": [["09:00", "17:00"]]} and set(errors) == {"wed"}
    assert parse_hours({}) == ({}, {"": "open at least one day"})


def test_wizard_steps_follow_each_other_and_end_done():
    assert next_step("") == "business"
    assert next_step("business") == "hours"
    assert next_step("test") == "done"


def test_node_form_reads_week_choices_and_booleans():
    node, errors, _ = parse_node_form("time_condition", {
        "timezone": "Europe/Warsaw", "week": "mon 09:00-17:00\nfri 22:00-06:00 overnight",
        "holidays": "12-25, 2026-11-11", "open": "menu", "closed": "bye"})
    assert errors == {}
    assert node["week"] == {"mon": [{"start": "09:00", "end": "17:00"}],
                            "fri": [{"start": "22:00", "end": "06:00", "overnight": True}]}
    assert node["holidays"] == ["12-25", "2026-11-11"]
    assert node["follows_night_mode"] is False and node["shared_holidays"] is False
    _, errors, _ = parse_node_form("time_condition", {"week": "monday nine to five"})
    assert "mon 09:00-17:00" in errors["week"]


def test_the_screen_pop_takes_the_newest_queue_line_naming_the_agent():
    log = [{"event": "ANSWERED", "agent": "1002", "number": "+48600000002", "call_id": "b"},
           {"event": "OFFERED", "agent": "1001", "number": "+48600000001", "call_id": "a",
            "queue": "sales"},
           {"event": "OFFERED", "agent": "1001", "number": "+48600000000", "call_id": "old"}]
    call = current_call("1001", {"state": "OFFERED"}, log)
    assert (call["number"], call["call_id"], call["queue"]) == ("+48600000001", "a", "sales")
    assert current_call("1001", {"state": "IDLE"}, log) is None
