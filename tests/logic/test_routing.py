"""Trunks and routing: class of service per numbering plan, outbound routes with
failover, inbound DID routes, trunk identification and the toll-fraud rules."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.errors import ValidationError
from appliance.logic.routing import (
    CHINA,
    FAILOVER_STATUSES,
    POLAND,
    Caller,
    CallerKind,
    ClassOfService,
    DialVerdict,
    InboundRoute,
    NumberClass,
    NumberingPlan,
    OutboundRoute,
    TrunkKind,
    classify,
    fails_over,
    identify_trunk,
    may_dial_out,
    next_trunk,
    permitted,
    plan_outbound,
    select_inbound,
    select_outbound,
    validate_inbound_route,
    validate_outbound_route,
    validate_trunk,
)

C = NumberClass
COS = ClassOfService

# --------------------------------------------------------------------------
# Numbering plans

POLAND_TABLE = [
    ("112", C.EMERGENCY), ("997", C.EMERGENCY), ("998", C.EMERGENCY), ("999", C.EMERGENCY),
    ("1001", C.INTERNAL), ("201", C.INTERNAL), ("*97", C.INTERNAL), ("#8", C.INTERNAL),
    ("221234567", C.NATIONAL), ("601234567", C.NATIONAL), ("0221234567", C.NATIONAL),
    ("+48601234567", C.NATIONAL), ("0048601234567", C.NATIONAL), ("48 601-234-567", C.NATIONAL),
    ("701234567", C.PREMIUM), ("0701234567", C.PREMIUM), ("+48708123456", C.PREMIUM),
    ("00493012345678", C.INTERNATIONAL), ("+442071234567", C.INTERNATIONAL),
    ("+881612345678", C.PREMIUM), ("00882123456", C.PREMIUM),
]

CHINA_TABLE = [
    ("110", C.EMERGENCY), ("119", C.EMERGENCY), ("120", C.EMERGENCY), ("122", C.EMERGENCY),
    ("8001", C.INTERNAL),
    ("65291234", C.LOCAL), ("6529123", C.LOCAL),
    ("13812345678", C.NATIONAL), ("02112345678", C.NATIONAL), ("+862112345678", C.NATIONAL),
    ("0086 138 1234 5678", C.NATIONAL),
    ("1680012", C.PREMIUM), ("0168001234", C.PREMIUM),
    ("0048601234567", C.INTERNATIONAL), ("+14155550100", C.INTERNATIONAL),
]


@pytest.mark.parametrize("number, expected", POLAND_TABLE)
def test_poland(number, expected):
    assert classify(number, POLAND) is expected


@pytest.mark.parametrize("number, expected", CHINA_TABLE)
def test_china(number, expected):
    assert classify(number, CHINA) is expected


def test_plan_fields_may_be_given_by_keyword():
    # The same digits change class with the plan: 0048... is home in Poland, abroad in China.
    assert classify("0048601234567") is C.NATIONAL
    assert classify("0048601234567", country_code="86") is C.INTERNATIONAL
    assert classify("+862112345678", country_code="86") is C.NATIONAL
    assert classify("911", emergency=("112",)) is C.INTERNAL


def test_area_code_makes_home_area_numbers_local():
    warsaw = dataclasses.replace(POLAND, area_code="22")
    assert classify("221234567", warsaw) is C.LOCAL
    assert classify("+48221234567", warsaw) is C.LOCAL
    assert classify("121234567", warsaw) is C.NATIONAL
    beijing = dataclasses.replace(CHINA, area_code="10")
    assert classify("01065291234", beijing) is C.LOCAL
    assert classify("02165291234", beijing) is C.NATIONAL


def test_premium_prefixes_are_configurable():
    plan = NumberingPlan(premium_prefixes=("70", "118", "+882"))
    assert classify("118913", plan) is C.PREMIUM
    assert classify("+882123", plan) is C.PREMIUM
    assert classify("+883123", plan) is C.INTERNATIONAL
    assert classify("118913", POLAND) is C.NATIONAL


def test_known_extensions_decide_internal():
    assert classify("1001", extensions={"1001"}) is C.INTERNAL
    assert classify("2002", extensions={"1001"}) is C.NATIONAL
    assert classify("12345", extensions={"12345"}) is C.INTERNAL


@pytest.mark.parametrize("number", ["", "12a4", "sip:1001@x", "++48", "1" * 40, None])
def test_undialable_numbers_are_refused(number):
    with pytest.raises(ValidationError):
        classify(number)


@given(st.text(max_size=40))
def test_classify_never_crashes_on_garbage(text):
    try:
        assert isinstance(classify(text), NumberClass)
    except ValidationError:
        pass


# --------------------------------------------------------------------------
# Class of service

LADDER = [COS.INTERNAL, COS.LOCAL, COS.NATIONAL, COS.INTERNATIONAL]
REACH = {C.INTERNAL: 0, C.LOCAL: 1, C.NATIONAL: 2, C.INTERNATIONAL: 3, C.PREMIUM: 3}


@pytest.mark.parametrize("cos", LADDER)
@pytest.mark.parametrize("number_class", [c for c in NumberClass if c is not C.EMERGENCY])
def test_the_ladder(cos, number_class):
    assert permitted(cos, number_class) is (LADDER.index(cos) >= REACH[number_class])


@pytest.mark.parametrize("cos", LADDER)
def test_emergency_is_always_permitted(cos):
    assert permitted(cos, C.EMERGENCY)
    for number in ("112", "999"):
        assert permitted(cos, classify(number, POLAND))
    for number in ("110", "120"):
        assert permitted(cos, classify(number, CHINA))


def test_premium_only_with_international():
    assert not permitted(COS.NATIONAL, classify("0701234567"))
    assert permitted(COS.INTERNATIONAL, classify("0701234567"))
    assert permitted("international", "premium")


# --------------------------------------------------------------------------
# Trunks

PROVIDER = dict(name="provider", kind="register", host="sip.example.net", username="4822000111",
                secret="Prov1derSecret", dids=["+48221234567", "+48221234568"])
GATEWAY = dict(name="gsm", kind="peer", host="192.168.1.50", dids=["48601234567"])


def test_validate_trunk_defaults():
    t = validate_trunk(PROVIDER)
    assert t.kind is TrunkKind.REGISTER and t.register
    assert (t.port, t.transport, t.register_expires, t.enabled) == (5060, "udp", 300, True)
    assert t.auth_user == "4822000111"
    assert t.domain == "sip.example.net"
    g = validate_trunk(GATEWAY)
    assert not g.register and [str(n) for n in g.networks] == ["192.168.1.50/32"]


@pytest.mark.parametrize("change, field", [
    ({"name": "bad name"}, "name"),
    ({"kind": "sometimes"}, "kind"),
    ({"host": "sip://x"}, "host"),
    ({"port": 70000}, "port"),
    ({"port": True}, "port"),
    ({"transport": "carrier-pigeon"}, "transport"),
    ({"secret": ""}, "secret"),
    ({"username": ""}, "username"),
    ({"register_expires": 5}, "register_expires"),
    ({"peer_networks": ["10.0.0.0/33"]}, "peer_networks"),
    ({"peer_networks": ["0.0.0.0/0"]}, "peer_networks"),
    ({"dids": ["not a number"]}, "dids"),
    ({"caller_id_number": "abc"}, "caller_id_number"),
    ({"max_channels": -1}, "max_channels"),
    ({"enabled": "yes"}, "enabled"),
    ({"colour": "blue"}, "colour"),
])
def test_validate_trunk_names_the_field(change, field):
    with pytest.raises(ValidationError, match=rf"\b{field}: "):
        validate_trunk(PROVIDER | change)


def test_peer_with_a_host_name_needs_networks():
    with pytest.raises(ValidationError, match="peer_networks: "):
        validate_trunk(GATEWAY | {"host": "gateway.lan"})
    t = validate_trunk(GATEWAY | {"host": "gateway.lan", "peer_networks": ["192.168.1.48/29"]})
    assert t.peer_networks == ("192.168.1.48/29",)
    with pytest.raises(ValidationError, match="register: "):
        validate_trunk(GATEWAY | {"register": True})


def test_every_problem_is_reported_at_once():
    with pytest.raises(ValidationError) as err:
        validate_trunk(PROVIDER | {"port": 0, "transport": "x"})
    assert "port: " in str(err.value) and "transport: " in str(err.value)


# --------------------------------------------------------------------------
# Outbound routes and failover

ROUTES = [
    OutboundRoute("emergency", ("112", "99[7-9]"), ("gsm", "provider")),
    OutboundRoute("mobile-via-gsm", ("_[5-8]XXXXXXXX",), ("gsm", "provider")),
    OutboundRoute("international", ("00.",), ("provider",), strip=2, prefix="+"),
    OutboundRoute("national", ("0ZXXXXXXXX",), ("provider", "gsm"), strip=1, prefix="48"),
]


@pytest.mark.parametrize("number, route, dial, trunks", [
    ("112", "emergency", "112", ("gsm", "provider")),
    ("998", "emergency", "998", ("gsm", "provider")),
    ("601234567", "mobile-via-gsm", "601234567", ("gsm", "provider")),
    ("0049301234567", "international", "+49301234567", ("provider",)),
    ("0221234567", "national", "48221234567", ("provider", "gsm")),
])
def test_first_matching_route_with_strip_and_prefix(number, route, dial, trunks):
    match = select_outbound(ROUTES, number)
    assert (match.route.name, match.dial_number, match.trunks) == (route, dial, trunks)


def test_order_decides_not_specificity():
    broad = OutboundRoute("all", ("!",), ("a",))
    narrow = OutboundRoute("narrow", ("601234567",), ("b",))
    assert select_outbound([broad, narrow], "601234567").route is broad
    assert select_outbound([narrow, broad], "601234567").route is narrow


def test_no_route():
    assert select_outbound(ROUTES, "4321") is None
    assert select_outbound([], "112") is None


def test_failover_goes_through_the_trunks_in_order():
    match = select_outbound(ROUTES, "0221234567")
    failed: set[str] = set()
    tried = []
    while (trunk := next_trunk(match, failed)) is not None:
        tried.append(trunk)
        failed.add(trunk)
    assert tried == ["provider", "gsm"]
    assert next_trunk(match, {"provider"}) == "gsm"


@pytest.mark.parametrize("status", [None, 408, 500, 502, 503, 504, 599])
def test_trunk_faults_fail_over(status):
    assert fails_over(status)


@pytest.mark.parametrize("status", [404, 480, 484, 486, 487, 488, 600, 603, 604, 200])
def test_callee_answers_do_not_fail_over(status):
    assert not fails_over(status)
    assert status not in FAILOVER_STATUSES


def test_validate_outbound_route():
    r = validate_outbound_route({"name": "intl", "patterns": ["00."], "trunks": ["provider"], "strip": 2,
                                 "prefix": "+", "cos_required": "international"}, {"provider"})
    assert r.cos_required is COS.INTERNATIONAL and r.matches("0044123")
    for bad, field in [({"patterns": ["0[9-1]"]}, "patterns"), ({"patterns": []}, "patterns"),
                       ({"trunks": ["nobody"]}, "trunks"), ({"trunks": ["provider", "provider"]}, "trunks"),
                       ({"strip": -1}, "strip"), ({"prefix": "abc"}, "prefix"),
                       ({"cos_required": "galactic"}, "cos_required")]:
        with pytest.raises(ValidationError, match=f"{field}: "):
            validate_outbound_route({"name": "x", "patterns": ["00."], "trunks": ["provider"]} | bad,
                                    {"provider"})


# --------------------------------------------------------------------------
# Inbound routes

INBOUND = [
    InboundRoute(did="", caller="", destination="flow:main", priority=10),
    InboundRoute(did="48221234567", caller="", destination="ring_group:sales"),
    InboundRoute(did="48221234567", caller="_48601XXXXXX", destination="extension:1001"),
    InboundRoute(did="_482212345[6-9]X", caller="", destination="ring_group:support"),
]


@pytest.mark.parametrize("did, caller, destination", [
    ("48221234567", "48501000000", "ring_group:sales"),
    ("+48221234567", "+48601000123", "extension:1001"),   # the VIP caller beats the plain DID
    ("48221234581", "", "ring_group:support"),
    ("48221234599", "48601000123", "ring_group:support"),
    ("48999999999", "48601000123", "flow:main"),          # the catch-all, tried last
])
def test_inbound_table(did, caller, destination):
    assert select_inbound(INBOUND, did, caller) == destination


def test_no_inbound_route():
    assert select_inbound(INBOUND[1:], "48999999999", "1") is None


def test_validate_inbound_route():
    r = validate_inbound_route({"did": "_4822XXXXXXX", "destination": "ring_group:sales", "priority": 5})
    assert (r.did, r.caller, r.priority) == ("_4822XXXXXXX", "", 5)
    for bad, field in [({"destination": "sales"}, "destination"), ({"did": "_[z]"}, "did"),
                       ({"priority": "high"}, "priority"), ({"trunk": "x"}, "trunk")]:
        with pytest.raises(ValidationError, match=f"{field}: "):
            validate_inbound_route({"did": "", "destination": "flow:main"} | bad)


# --------------------------------------------------------------------------
# Which trunk sent it


def trunks():
    return [
        validate_trunk(PROVIDER),
        validate_trunk(PROVIDER | {"name": "provider2", "username": "4822000999", "dids": ["+48221230000"]}),
        validate_trunk(GATEWAY),
        validate_trunk(dict(name="fxo", kind="peer", host="fxo.lan", peer_networks=["10.1.2.0/24"])),
        validate_trunk(dict(name="old", kind="peer", host="10.9.9.9", enabled=False)),
    ]


RESOLVED = {"sip.example.net": ["203.0.113.10", "203.0.113.11"]}


@pytest.mark.parametrize("ip, port, user, expected", [
    ("192.168.1.50", 5060, "48601234567", "gsm"),
    ("192.168.1.50", 41000, "anything", "gsm"),
    ("10.1.2.77", 5060, "", "fxo"),
    ("203.0.113.11", 5060, "4822000111", "provider"),
    ("203.0.113.10", 5060, "+48221230000", "provider2"),   # the DID tells two accounts apart
    ("203.0.113.10", 5060, "4822000999", "provider2"),     # so does the account's user name
    ("192.168.1.51", 5060, "48601234567", None),            # the next address on the LAN is a phone
    ("10.9.9.9", 5060, "", None),                           # a disabled trunk is nobody
    ("198.51.100.1", 5060, "4822000111", None),             # the internet is nobody
    ("not-an-ip", 5060, "", None),
])
def test_identify_trunk(ip, port, user, expected):
    found = identify_trunk(trunks(), ip, port, user, resolved=RESOLVED)
    assert (found.name if found else None) == expected


def test_provider_without_resolved_addresses_is_not_trusted():
    assert identify_trunk(trunks(), "203.0.113.10", 5060, "4822000111") is None


# --------------------------------------------------------------------------
# Toll fraud

ALICE = Caller(CallerKind.EXTENSION, "1001", authenticated=True, cos=COS.NATIONAL)
INTERN = Caller(CallerKind.EXTENSION, "1002", authenticated=True, cos=COS.INTERNAL)
BOSS = Caller(CallerKind.EXTENSION, "1003", authenticated=True, cos=COS.INTERNATIONAL)
STRANGER = Caller(CallerKind.UNKNOWN, "", authenticated=False, cos=COS.INTERNATIONAL)
UNVERIFIED = Caller(CallerKind.EXTENSION, "1001", authenticated=False, cos=COS.INTERNATIONAL)
FROM_GSM = Caller(CallerKind.TRUNK, "gsm", authenticated=True)


def test_only_authenticated_extensions_dial_out():
    assert may_dial_out(ALICE)
    assert not may_dial_out(INTERN)
    assert not may_dial_out(STRANGER)
    assert not may_dial_out(UNVERIFIED, C.EMERGENCY)
    assert not may_dial_out(STRANGER, C.EMERGENCY)


def test_class_of_service_applies():
    assert may_dial_out(ALICE, C.NATIONAL)
    assert not may_dial_out(ALICE, C.INTERNATIONAL)
    assert not may_dial_out(ALICE, C.PREMIUM)
    assert may_dial_out(BOSS, C.PREMIUM)
    assert may_dial_out(INTERN, C.EMERGENCY)


def test_route_may_ask_for_more():
    strict = OutboundRoute("costly-trunk", ("!",), ("provider",), cos_required=COS.INTERNATIONAL)
    assert not may_dial_out(ALICE, C.NATIONAL, strict)
    assert may_dial_out(BOSS, C.NATIONAL, strict)
    assert may_dial_out(INTERN, C.EMERGENCY, strict)


def test_trunk_to_trunk_only_where_a_route_names_the_trunk():
    closed = OutboundRoute("national", ("!",), ("provider",))
    forward = OutboundRoute("forward", ("!",), ("provider",), from_trunks=("gsm",))
    assert not may_dial_out(FROM_GSM, C.NATIONAL)
    assert not may_dial_out(FROM_GSM, C.NATIONAL, closed)
    assert may_dial_out(FROM_GSM, C.NATIONAL, forward)
    assert not may_dial_out(FROM_GSM, C.PREMIUM, forward)
    other = dataclasses.replace(FROM_GSM, name="provider")
    assert not may_dial_out(other, C.NATIONAL, forward)


@pytest.mark.parametrize("caller, number, verdict, route", [
    (ALICE, "0221234567", DialVerdict.ALLOWED, "national"),
    (ALICE, "0049301234567", DialVerdict.COS_TOO_LOW, "international"),
    (BOSS, "0049301234567", DialVerdict.ALLOWED, "international"),
    (INTERN, "112", DialVerdict.ALLOWED, "emergency"),
    (INTERN, "601234567", DialVerdict.COS_TOO_LOW, "mobile-via-gsm"),
    (STRANGER, "0049301234567", DialVerdict.NOT_AUTHENTICATED, None),
    (FROM_GSM, "0221234567", DialVerdict.TRUNK_TO_TRUNK, "national"),
    (ALICE, "1002", DialVerdict.INTERNAL, None),
    (BOSS, "12345", DialVerdict.NO_ROUTE, None),
])
def test_plan_outbound(caller, number, verdict, route):
    decision = plan_outbound(caller, number, ROUTES, POLAND)
    assert decision.verdict is verdict
    assert decision.allowed is (verdict is DialVerdict.ALLOWED)
    assert (decision.match.route.name if decision.match else None) == route
