"""Who a queue callback may reach: the callbacks' class of service, never the agent's.

The number of a callback is the caller's word (their caller ID, or what they typed): a fraudster
calling in with a satellite number as caller ID must not get the box to dial it back."""

from __future__ import annotations

import pytest

from appliance.core import Core


@pytest.fixture
def core(tmp_path):
    c = Core(tmp_path / "data", {"prompts.builtin_languages": [], "engine.enabled": False})
    c.trunks.create({"name": "gw", "kind": "peer", "host": "10.231.0.9", "port": 5060})
    c.trunks.put_routes({"outbound": [{"name": "all", "patterns": ["0.", "00.", "X."], "trunks": ["gw"]}]})
    c.create_extension({"number": "1010", "name": "Agent", "class_of_service": "international"})
    yield c
    c.audit_trail.close()
    c.queue_log.close()
    c.store.close()


def test_the_agent_may_call_abroad_but_a_callback_to_a_satellite_number_is_refused(core):
    decision, attempts = core.trunks.plan("1010", "0088161234567")
    assert decision.allowed and attempts            # the agent's own call
    decision, attempts = core.trunks.plan_callback("0088161234567")
    assert not decision.allowed and attempts == []  # the caller's number is not a permission
    assert str(decision.verdict) == "COS_TOO_LOW"


def test_a_callback_to_a_national_number_goes_out_and_the_setting_can_close_it(core):
    decision, attempts = core.trunks.plan_callback("0221234567")
    assert decision.allowed and attempts[0]["trunk"] == "gw"
    core.change_settings({"callbacks.class_of_service": "internal"})
    decision, attempts = core.trunks.plan_callback("0221234567")
    assert not decision.allowed and attempts == []
