"""Where the box rings a number: one outcome per test, as click-to-dial, campaigns, callbacks and
phones' outside calls all meet them."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.errors import ValidationError
from appliance.logic.calls import Target as CallsTarget
from appliance.logic.dial_targets import Reach, Target, Unreachable, through_trunks, where_to_ring
from appliance.logic.routing.dial_out import DialVerdict, OutboundDecision

PHONES = {"1002": "sip:1002@192.0.2.12:5062"}
EXTENSIONS = {"1002", "1003"}  # 1003 has no phone registered
PROVIDER = {"trunk": "provider", "uri": "sip:0221234567@provider.example:5060",
            "auth": {"username": "u", "password": "p", "realm": "*", "domain": ""}}
GSM = {"trunk": "line-gsm1", "uri": "sip:0221234567@127.0.0.1:5071"}


class Plan:
    """The numbering plan for one caller, as the trunks answer it; it remembers what it was asked."""

    def __init__(self, verdict: DialVerdict = DialVerdict.ALLOWED, attempts: list[dict[str, Any]] | None = None):
        self.verdict, self.attempts, self.asked = verdict, attempts or [], []

    def __call__(self, number: str) -> tuple[OutboundDecision, list[dict[str, Any]]]:
        self.asked.append(number)
        if not number.isdigit():
            raise ValidationError(f"number: {number!r} is not a dialable number")
        return OutboundDecision(self.verdict), [dict(a) for a in self.attempts]


def ring(number: str, plan: Plan) -> Reach:
    return where_to_ring(number, is_extension=EXTENSIONS.__contains__, phone_of=PHONES.get, plan=plan)


def test_an_extension_rings_its_registered_phone_and_the_plan_is_not_asked():
    plan = Plan(attempts=[PROVIDER])
    reach = ring("1002", plan)
    assert reach.why_not is None
    assert reach.targets == (Target("sip:1002@192.0.2.12:5062", "1002", number="1002"),)
    assert reach.first.trunk is None and plan.asked == []


def test_an_extension_with_no_registered_phone_is_no_phone():
    plan = Plan(attempts=[PROVIDER])
    assert ring("1003", plan) == Reach(why_not=Unreachable.NO_PHONE)
    assert plan.asked == []


def test_a_number_the_plan_cannot_read_is_unreadable():
    assert ring("not-a-number", Plan(attempts=[PROVIDER])) == Reach(why_not=Unreachable.UNREADABLE)


@pytest.mark.parametrize("verdict", [DialVerdict.COS_TOO_LOW, DialVerdict.NO_ROUTE, DialVerdict.INTERNAL])
def test_a_number_the_plan_refuses_is_refused_with_its_verdict(verdict):
    reach = ring("0088161234567", Plan(verdict, attempts=[PROVIDER]))
    assert reach.why_not is Unreachable.REFUSED and reach.verdict is verdict
    assert reach.targets == ()


def test_an_allowed_number_with_no_trunk_up_has_no_trunk():
    assert ring("0221234567", Plan(attempts=[])) == Reach(why_not=Unreachable.NO_TRUNK)


def test_an_outside_number_rings_the_trunks_in_the_plans_failover_order_with_their_credentials():
    reach = ring("0221234567", Plan(attempts=[PROVIDER, GSM]))
    assert reach.why_not is None
    assert [(t.trunk, t.uri, t.number, t.extension) for t in reach.targets] == [
        ("provider", PROVIDER["uri"], "0221234567", None), ("line-gsm1", GSM["uri"], "0221234567", None)]
    assert reach.first.auth == PROVIDER["auth"] and reach.targets[1].auth is None


def test_through_trunks_asks_only_the_plan():
    plan = Plan(attempts=[GSM])
    assert through_trunks("1002", plan).first == Target(GSM["uri"], trunk="line-gsm1", number="1002")
    assert plan.asked == ["1002"]


def test_a_targets_credentials_never_decide_whether_two_targets_are_the_same():
    assert Target("sip:a@h", trunk="t", auth={"username": "x"}) == Target("sip:a@h", trunk="t")
    assert hash(Target("sip:a@h", auth={"username": "x"})) == hash(Target("sip:a@h"))


def test_the_call_table_rings_the_same_target():
    assert CallsTarget is Target
