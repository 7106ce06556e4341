"""Queue settings: sane defaults, clear refusals."""

from __future__ import annotations

import json

import pytest

from appliance.errors import ValidationError
from appliance.logic.acd import EmptyRule, QueueConfig, QueueLogEntry, QueueLogKind, Strategy


def test_defaults_and_coercion_from_text():
    cfg = QueueConfig("sales", strategy="ringall", join_empty="never",
                      vip_numbers={"+48601000001"})
    assert cfg.strategy is Strategy.RINGALL
    assert cfg.join_empty is EmptyRule.NEVER
    assert cfg.vip_numbers == frozenset({"+48601000001"})


@pytest.mark.parametrize(("changes", "named"), [
    ({"name": ""}, "name"),
    ({"name": "has space"}, "name"),
    ({"strategy": "loudest"}, "strategy"),
    ({"join_empty": "sometimes"}, "join_empty"),
    ({"leave_when_empty": 3}, "leave_when_empty"),
    ({"ring_timeout_s": 0}, "ring_timeout_s"),
    ({"ring_timeout_s": float("nan")}, "ring_timeout_s"),
    ({"wrap_up_s": -1}, "wrap_up_s"),
    ({"max_wait_s": "soon"}, "max_wait_s"),
    ({"max_callers": -1}, "max_callers"),
    ({"max_callers": 2.5}, "max_callers"),
    ({"max_no_answer": True}, "max_no_answer"),
    ({"announce_wait": "yes"}, "announce_wait"),
    ({"overflow_to": None}, "overflow_to"),
    ({"vip_numbers": "+48601"}, "vip_numbers"),
    ({"skills_required": {"polish": 0}}, "skills_required"),
    ({"skills_required": ["polish"]}, "skills_required"),
    ({"strategy": "skills"}, "strategy"),
    ({"default_handle_time_s": 0}, "default_handle_time_s"),
    ({"survey": "on"}, "survey"),
    ({"callback_retries": -2}, "callback_retries"),
])
def test_bad_settings_are_refused_with_the_setting_named(changes, named):
    values = {"name": "sales", **changes}
    with pytest.raises(ValidationError, match=named):
        QueueConfig(**values)


def test_from_dict_refuses_unknown_keys_and_missing_name():
    with pytest.raises(ValidationError, match="ring_timeout"):
        QueueConfig.from_dict({"name": "sales", "ring_timeout": 5})
    with pytest.raises(ValidationError):
        QueueConfig.from_dict({"strategy": "linear"})
    cfg = QueueConfig.from_dict({"name": "sales", "vip_numbers": ["+1"], "max_callers": 4})
    assert cfg.max_callers == 4 and "+1" in cfg.vip_numbers


def test_the_survey_is_off_unless_asked_for():
    assert QueueConfig("sales").survey is False
    assert QueueConfig.from_dict({"name": "sales", "survey": True}).survey is True


def test_vip_priority():
    cfg = QueueConfig("sales", vip_numbers={"+48601"}, vip_priority=10)
    assert cfg.priority_of("+48601", 0) == 10
    assert cfg.priority_of("+48601", 20) == 20
    assert cfg.priority_of("+48602", 3) == 3


def test_queue_log_entries_are_plain_json():
    entry = QueueLogEntry(12.5, QueueLogKind.ABANDONED, queue="sales", call_id="c1",
                          position=2, wait_s=30.0, result="ABANDONED")
    back = json.loads(json.dumps(entry.to_dict()))
    assert back == {"time": "1970-01-01T00:00:12.500000+00:00", "event": "ABANDONED",
                    "queue": "sales", "call_id": "c1", "position": 2, "wait_s": 30.0,
                    "result": "ABANDONED"}
