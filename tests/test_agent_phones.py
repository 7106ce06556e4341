"""Agents follow their phones (appliance/agent_phones.py): a phone gone means no offers at once; a
panel the agent closed logs them out; a network that dropped does not."""

from __future__ import annotations

from appliance.agent_phones import CLOSED_GRACE_S, PAGE_CLOSED, AgentPhones
from appliance.logic.acd import QueueConfig
from tests.logic.test_acd_support import Box


def _agents_with_phones(*registered: str):
    box = Box(QueueConfig("sales", ring_timeout_s=15))
    box.agents("1001", "1002")
    phones = set(registered)
    logged_out: list[str] = []

    def log_out(ext: str) -> None:
        logged_out.append(ext)
        box.agent_logout(ext)

    agent_phones = AgentPhones(box.center, registered=lambda ext: ext in phones, run_acd=box.run, log_out=log_out,
                               later=lambda seconds, fn: box.waiting.append((seconds, fn)))
    box.waiting = []
    agent_phones.restore()
    return box, phones, agent_phones, logged_out


def _time_passes(box) -> None:
    waiting, box.waiting = box.waiting, []
    assert all(seconds == CLOSED_GRACE_S for seconds, _ in waiting)
    for _, fn in waiting:
        fn()


def test_an_agent_who_closed_the_panel_is_logged_out_and_one_whose_network_dropped_is_not():
    box, phones, agent_phones, logged_out = _agents_with_phones("1001", "1002")
    phones -= {"1001", "1002"}
    agent_phones.on_event("unregistration", {"aor": "1001", "reason": PAGE_CLOSED})
    agent_phones.on_event("unregistration", {"aor": "1002", "reason": "connection closed"})
    assert logged_out == [] and box.center.agent("1001").state == "NO_PHONE"   # offered nothing meanwhile
    _time_passes(box)
    assert logged_out == ["1001"]
    assert box.center.agent("1001").status == "LOGGED_OUT"
    assert (box.center.agent("1002").status, box.center.agent("1002").state) == ("AVAILABLE", "NO_PHONE")
    # The panel reconnects: offered calls again, with nothing to do for the agent.
    phones.add("1002")
    agent_phones.on_event("registration", {"aor": "1002"})
    assert box.center.agent("1002").state == "IDLE"
    box.caller_joins("sales", "c1", "+48601000001")
    assert [c.agent_id for c in box.last if hasattr(c, "agent_id")] == ["1002"]


def test_a_desk_phone_still_registered_or_a_panel_back_soon_keeps_an_agent_who_closed_the_panel_in():
    box, phones, agent_phones, logged_out = _agents_with_phones("1001", "1002")
    agent_phones.on_event("unregistration", {"aor": "1001", "reason": PAGE_CLOSED})
    phones.discard("1002")
    agent_phones.on_event("unregistration", {"aor": "1002", "reason": PAGE_CLOSED})
    phones.add("1002")                       # reloaded, or another tab took over
    agent_phones.on_event("registration", {"aor": "1002"})
    _time_passes(box)
    assert logged_out == [] and box.center.agent("1001").state == "IDLE" and box.center.agent("1002").state == "IDLE"


def test_at_start_agents_without_a_phone_are_shown_so_and_other_events_change_nothing():
    box, phones, agent_phones, logged_out = _agents_with_phones("1001")
    assert box.center.agent("1002").state == "NO_PHONE" and box.center.agent("1001").state == "IDLE"
    agent_phones.on_event("call", {"aor": "1001", "reason": PAGE_CLOSED})
    agent_phones.on_event("unregistration", {"aor": "9999", "reason": PAGE_CLOSED})
    assert logged_out == []
