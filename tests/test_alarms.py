"""Alarms: raised, repeated, cleared or acknowledged; events mapped by one table; stray errors caught."""

from __future__ import annotations

import logging

import pytest

from appliance.alarms import AlarmLog, Alarms, Clear, Raise, alarm_extra, alarm_for, follow_events
from appliance.events import EventBus


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def bus_and_alarms():
    clock = Clock()
    bus = EventBus(clock=clock)
    alarms = Alarms(bus.publish, clock)
    bus.listen(follow_events(alarms))
    return bus, alarms, clock


def test_a_condition_is_raised_once_counted_and_cleared(bus_and_alarms):
    bus, alarms, clock = bus_and_alarms
    alarms.raise_alarm("line", "Line gsm1 cannot take calls.", "Check the SIM.", key="gsm1")
    clock.now += 5
    alarms.raise_alarm("line", "Line gsm1 cannot take calls.", "Check the SIM.", key="gsm1")
    [alarm] = alarms.active()
    assert (alarm["count"], alarm["since"], alarm["last"]) == (2, 1000.0, 1005.0)
    assert alarms.clear("line", "gsm1") and alarms.active() == []
    kinds = [e.kind for e in bus._history]
    assert kinds == ["alarm", "alarm", "alarm_cleared"]


def test_an_incident_stays_until_someone_acknowledges_it(bus_and_alarms):
    _, alarms, _ = bus_and_alarms
    a = alarms.raise_alarm("engine", "Engine worker w1 stopped.", "It restarts.", key="w1", incident=True)
    assert not alarms.clear("engine", "w1") and len(alarms.active()) == 1
    assert alarms.acknowledge(a.id) and alarms.active() == []
    assert not alarms.acknowledge(a.id)


RULES = [
    ("engine", {"worker": "w2", "state": "died", "exit": -9}, Raise, "engine", "w2"),
    ("engine", {"worker": "w2", "state": "ready"}, type(None), None, None),
    ("trunk", {"name": "prov", "state": "failed", "reason": "403 Forbidden"}, Raise, "trunk", "prov"),
    ("trunk", {"name": "prov", "state": "registered", "reason": ""}, Clear, "trunk", "prov"),
    ("line", {"line": "gsm1", "state": "restarting"}, Raise, "line", "gsm1"),
    ("line", {"line": "gsm1", "event": "status", "state": "sim_problem", "indicator": "fault",
              "last_error": {"kind": "sim_pin_wrong", "text": "wrong PIN"}}, Raise, "line", "gsm1"),
    ("line", {"line": "gsm1", "event": "status", "state": "idle", "indicator": "on"}, Clear, "line", "gsm1"),
    ("line", {"line": "gsm1", "event": "call", "state": "talking"}, type(None), None, None),
    ("registration", {"aor": "1001"}, type(None), None, None),
]


@pytest.mark.parametrize("kind,data,what,akind,key", RULES)
def test_what_each_event_means(kind, data, what, akind, key):
    got = alarm_for(kind, data)
    assert isinstance(got, what)
    if got is not None:
        assert (got.kind, got.key) == (akind, key)


def test_events_on_the_bus_raise_and_clear_alarms(bus_and_alarms):
    bus, alarms, _ = bus_and_alarms
    bus.publish("trunk", name="prov", state="failed", reason="no answer")
    assert [a["kind"] for a in alarms.active()] == ["trunk"]
    assert "Trunks page" in alarms.active()[0]["action"]
    bus.publish("trunk", name="prov", state="registered", reason="")
    assert alarms.active() == []


def test_an_unforeseen_error_in_the_log_becomes_an_alarm_once_a_minute(bus_and_alarms):
    _, alarms, clock = bus_and_alarms
    handler = AlarmLog(alarms, clock)
    log = logging.getLogger("callbox.test-alarms")
    log.addHandler(handler)
    try:
        log.error("could not file the message: no audio file")
        log.error("could not file the message: no audio file")
        log.error("a known failure with its own alarm", extra=alarm_extra())
        log.warning("only a warning")
        [alarm] = alarms.active()
        assert alarm["kind"] == "error" and "could not file the message" in alarm["text"] and alarm["incident"]
        clock.now += 61
        log.error("could not file the message: no audio file")
        assert alarms.active()[0]["count"] == 2
    finally:
        log.removeHandler(handler)
