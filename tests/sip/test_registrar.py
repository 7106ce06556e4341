"""The registrar and location service (RFC 3261 §10.3)."""

from __future__ import annotations

import json

import pytest

from appliance.errors import SettingError, ValidationError
from appliance.sip.bindings import Binding, contact_key
from appliance.sip.registrar import Registrar
from appliance.sip.source import Source
from tests.sip.registrations import OTHER_PHONE, PHONE, FakeClock, contact, register, star, state


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def registrar(clock: FakeClock) -> Registrar:
    return Registrar(clock, min_expires=60, max_expires=3600, default_expires=1800)


# ---- expiry rules -----------------------------------------------------------


def test_contact_expires_param_beats_expires_header(registrar, clock):
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=120), expires=600))
    assert result.status == 200
    assert [b.expires_in(clock()) for b in result.bindings] == [120]


def test_expires_header_used_when_contact_has_no_param(registrar, clock):
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=600))
    assert [b.expires_in(clock()) for b in result.bindings] == [600]


def test_default_expires_when_neither_is_given(registrar, clock):
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062")))
    assert [b.expires_in(clock()) for b in result.bindings] == [1800]


def test_too_brief_interval_is_refused_with_min_expires(registrar):
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=59)))
    assert (result.status, result.reason, result.min_expires) == (423, "Interval Too Brief", 60)
    assert not result.changed
    assert registrar.bindings("1001") == []


def test_one_brief_contact_refuses_the_whole_request(registrar):
    result = registrar.register(
        register(contact("sip:1001@127.0.0.1:5062", expires=300), contact("sip:1001@127.0.0.1:5070", expires=10))
    )
    assert result.status == 423
    assert registrar.bindings("1001") == []


def test_min_expires_itself_is_accepted(registrar, clock):
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=60))
    assert result.status == 200
    assert result.bindings[0].expires_in(clock()) == 60


def test_expires_zero_removes_even_though_below_min(registrar):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062")))
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=0, cseq=2))
    assert result.status == 200
    assert result.changed
    assert result.bindings == []
    assert registrar.bindings("1001") == []


def test_expiry_is_clamped_to_max(registrar, clock):
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=86400)))
    assert result.status == 200
    assert result.bindings[0].expires_in(clock()) == 3600


def test_negative_expires_is_a_bad_request(registrar):
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=-1)))
    assert result.status == 400
    assert registrar.bindings("1001") == []


# ---- the wildcard -----------------------------------------------------------


def test_star_with_expires_zero_removes_all_bindings(registrar):
    registrar.register(
        register(contact("sip:1001@127.0.0.1:5062"), contact("sip:1001@127.0.0.1:5070"))
    )
    registrar.register(
        register(contact("sip:1002@127.0.0.1:5064"), aor="1002", call_id="other", source=OTHER_PHONE)
    )
    result = registrar.register(register(star(), expires=0, cseq=2))
    assert (result.status, result.changed, result.bindings) == (200, True, [])
    assert registrar.bindings("1001") == []
    assert [b.aor for b in registrar.all_bindings()] == ["1002"]
    assert registrar.is_registered_source(PHONE) is None


def test_star_with_other_contacts_is_a_bad_request(registrar):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062")))
    before = state(registrar)
    result = registrar.register(register(star(), contact("sip:1001@127.0.0.1:5070"), expires=0, cseq=2))
    assert result.status == 400
    assert state(registrar) == before


@pytest.mark.parametrize("expires", [3600, None])
def test_star_without_expires_zero_is_a_bad_request(registrar, expires):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062")))
    before = state(registrar)
    result = registrar.register(register(star(), expires=expires, cseq=2))
    assert result.status == 400
    assert state(registrar) == before


def test_star_out_of_order_is_refused(registrar):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), cseq=5))
    result = registrar.register(register(star(), expires=0, cseq=5))
    assert result.status == 500
    assert len(registrar.bindings("1001")) == 1


# ---- ordering by Call-ID and CSeq -------------------------------------------


@pytest.mark.parametrize("cseq", [4, 5])
def test_same_call_id_with_old_cseq_is_refused_and_changes_nothing(registrar, cseq):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=300), cseq=5))
    before = state(registrar)
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=0), cseq=cseq))
    assert result.status == 500
    assert not result.changed
    assert state(registrar) == before


def test_out_of_order_on_one_contact_refuses_the_new_ones_too(registrar):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), cseq=5))
    before = state(registrar)
    result = registrar.register(
        register(contact("sip:1001@127.0.0.1:5070"), contact("sip:1001@127.0.0.1:5062"), cseq=3)
    )
    assert result.status == 500
    assert state(registrar) == before


def test_new_call_id_replaces_binding_whatever_its_cseq(registrar):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), call_id="before-reboot", cseq=50))
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062"), call_id="after-reboot", cseq=1))
    assert result.status == 200
    assert result.changed
    [binding] = registrar.bindings("1001")
    assert (binding.call_id, binding.cseq) == ("after-reboot", 1)


def test_refresh_with_higher_cseq_updates_expiry_without_a_change(registrar, clock):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=600, cseq=1))
    clock.advance(500)
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=600, cseq=2))
    assert result.status == 200
    assert not result.changed
    [binding] = registrar.bindings("1001")
    assert binding.expires_in(clock()) == 600
    assert binding.cseq == 2


# ---- several contacts, queries, limits --------------------------------------


def test_several_contacts_in_one_request(registrar, clock):
    result = registrar.register(
        register(
            contact("sip:1001@127.0.0.1:5062", expires=300, q=0.5),
            contact("sip:1001@127.0.0.1:5070", expires=600, q=1.0),
        )
    )
    assert result.status == 200
    assert [(b.contact, b.expires_in(clock())) for b in result.bindings] == [
        ("sip:1001@127.0.0.1:5070", 600),
        ("sip:1001@127.0.0.1:5062", 300),
    ]


def test_lookup_orders_by_q_then_newest(registrar, clock):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062", q=0.5)))
    clock.advance(1)
    registrar.register(register(contact("sip:1001@127.0.0.1:5070", q=0.5), call_id="desk"))
    clock.advance(1)
    registrar.register(register(contact("sip:1001@127.0.0.1:5080", q=0.9), call_id="mobile"))
    assert [b.contact.rsplit(":", 1)[1] for b in registrar.lookup("1001")] == ["5080", "5070", "5062"]


def test_register_without_contact_is_a_query(registrar, clock):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=600))
    clock.advance(100)
    before = state(registrar)
    result = registrar.register(register(cseq=2))
    assert (result.status, result.changed) == (200, False)
    assert [(b.contact, b.expires_in(clock())) for b in result.bindings] == [("sip:1001@127.0.0.1:5062", 500)]
    assert state(registrar) == before


def test_too_many_contacts_is_forbidden_and_changes_nothing(clock):
    registrar = Registrar(clock, max_contacts_per_aor=2)
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), contact("sip:1001@127.0.0.1:5064")))
    before = state(registrar)
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5066"), call_id="third"))
    assert (result.status, result.reason) == (403, "Too many contacts")
    assert state(registrar) == before


def test_removing_one_contact_makes_room_in_the_same_request(clock):
    registrar = Registrar(clock, max_contacts_per_aor=2)
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), contact("sip:1001@127.0.0.1:5064")))
    result = registrar.register(
        register(contact("sip:1001@127.0.0.1:5062", expires=0), contact("sip:1001@127.0.0.1:5066"), cseq=2)
    )
    assert result.status == 200
    assert sorted(b.contact for b in result.bindings) == ["sip:1001@127.0.0.1:5064", "sip:1001@127.0.0.1:5066"]


def test_contact_uris_compare_with_case_insensitive_scheme_and_host(registrar):
    registrar.register(register(contact("sip:Alice@Phone.LAN:5062;transport=udp")))
    registrar.register(register(contact("SIP:Alice@phone.lan:5062;transport=udp"), cseq=2))
    assert len(registrar.bindings("1001")) == 1
    registrar.register(register(contact("sip:alice@phone.lan:5062;transport=udp"), cseq=3))
    assert len(registrar.bindings("1001")) == 2


def test_contact_key_keeps_user_and_parameters():
    assert contact_key("<SIP:Bob@EXAMPLE.org:5070;Line=Ab1>") == "sip:Bob@example.org:5070;Line=Ab1"
    assert contact_key("sip:192.0.2.1;transport=TCP") == "sip:192.0.2.1;transport=TCP"


def test_same_instance_and_reg_id_replaces_the_old_contact(registrar):
    outbound = dict(instance="<urn:uuid:00000000-0000-0000-0000-000000000001>", reg_id="1")
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), **outbound))
    result = registrar.register(
        register(contact("sip:1001@127.0.0.1:6000"), source=OTHER_PHONE, cseq=2, **outbound)
    )
    assert result.changed
    assert [b.contact for b in registrar.bindings("1001")] == ["sip:1001@127.0.0.1:6000"]
    assert registrar.is_registered_source(PHONE) is None


def test_bad_settings_are_refused(clock):
    with pytest.raises(SettingError):
        Registrar(clock, min_expires=600, max_expires=60)
    with pytest.raises(SettingError):
        Registrar(clock, default_expires=10, min_expires=60)


def test_default_expires_follows_a_lowered_max(clock):
    registrar = Registrar(clock, max_expires=900)
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062")))
    assert result.bindings[0].expires_in(clock()) == 900


# ---- expiry over time -------------------------------------------------------


def test_binding_expires_after_its_time(registrar, clock):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=120))
    clock.advance(119)
    assert len(registrar.lookup("1001")) == 1
    assert registrar.expire() == []
    clock.advance(1)
    # Gone from every answer even before the sweep collects it.
    assert registrar.lookup("1001") == []
    assert registrar.all_bindings() == []
    assert registrar.is_registered_source(PHONE) is None
    gone = registrar.expire()
    assert [(b.aor, b.contact) for b in gone] == [("1001", "sip:1001@127.0.0.1:5062")]
    assert registrar.expire() == []
    assert len(registrar) == 0


def test_refresh_postpones_expiry(registrar, clock):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=120, cseq=1))
    clock.advance(100)
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=120, cseq=2))
    clock.advance(100)
    assert registrar.expire() == []
    assert len(registrar.bindings("1001")) == 1
    clock.advance(20)
    assert len(registrar.expire()) == 1


def test_expired_binding_dropped_by_a_register_is_still_reported_once(registrar, clock):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=120))
    clock.advance(200)
    registrar.register(register(contact("sip:1001@127.0.0.1:5070"), call_id="desk"))
    assert [b.contact for b in registrar.expire()] == ["sip:1001@127.0.0.1:5062"]
    assert registrar.expire() == []
    assert [b.contact for b in registrar.bindings("1001")] == ["sip:1001@127.0.0.1:5070"]


def test_expired_binding_registered_again_is_not_reported_as_gone(registrar, clock):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=120, cseq=1))
    clock.advance(200)
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=120, cseq=2))
    assert result.changed
    assert registrar.expire() == []
    assert len(registrar.bindings("1001")) == 1


def test_expires_in_counts_down_and_stops_at_zero(registrar, clock):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=300))
    [binding] = registrar.bindings("1001")
    clock.advance(100.5)
    assert binding.expires_in(clock()) == 200
    clock.advance(1000)
    assert binding.expires_in(clock()) == 0


# ---- the source index -------------------------------------------------------


def test_registered_source_follows_register_and_removal(registrar):
    assert registrar.is_registered_source(PHONE) is None
    registrar.register(register(contact("sip:1001@127.0.0.1:5062")))
    assert registrar.is_registered_source(PHONE) == "1001"
    assert registrar.is_registered_source(Source("tcp", "127.0.0.1", 5062)) is None
    assert registrar.is_registered_source(Source("udp", "127.0.0.1", 5063)) is None
    registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=0), cseq=2))
    assert registrar.is_registered_source(PHONE) is None


def test_registered_source_moves_when_phone_registers_from_another_port(registrar):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), cseq=1))
    result = registrar.register(register(contact("sip:1001@127.0.0.1:5062"), cseq=2, source=OTHER_PHONE))
    assert result.changed
    assert registrar.is_registered_source(PHONE) is None
    assert registrar.is_registered_source(OTHER_PHONE) == "1001"


def test_registered_source_cleared_by_expire_and_remove_aor(registrar, clock):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), expires=120))
    registrar.register(register(contact("sip:1002@127.0.0.1:5064"), aor="1002", source=OTHER_PHONE))
    clock.advance(121)
    registrar.expire()
    assert registrar.is_registered_source(PHONE) is None
    assert registrar.is_registered_source(OTHER_PHONE) == "1002"
    removed = registrar.remove_aor("1002")
    assert [b.aor for b in removed] == ["1002"]
    assert registrar.is_registered_source(OTHER_PHONE) is None
    assert registrar.all_bindings() == []


def test_two_lines_of_one_phone_share_a_source(registrar):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062"), aor="1001", call_id="line1"))
    registrar.register(register(contact("sip:1002@127.0.0.1:5062"), aor="1002", call_id="line2"))
    assert registrar.is_registered_source(PHONE) in {"1001", "1002"}
    registrar.remove_aor("1001")
    assert registrar.is_registered_source(PHONE) == "1002"


# ---- persistence ------------------------------------------------------------


def test_binding_dict_round_trip_is_json_safe(registrar):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062", q=0.7)))
    [binding] = registrar.bindings("1001")
    assert Binding.from_dict(json.loads(json.dumps(binding.to_dict()))) == binding


def test_snapshot_restore_round_trip_drops_expired(clock):
    wall = FakeClock(1_700_000_000.0)
    before = Registrar(clock, wall_clock=wall)
    before.register(register(contact("sip:1001@127.0.0.1:5062"), expires=600, aor="1001"))
    before.register(register(contact("sip:1002@127.0.0.1:5064"), expires=120, aor="1002", source=OTHER_PHONE))
    items = json.loads(json.dumps(before.snapshot()))
    assert {item["expires_at"] for item in items} == {wall() + 600, wall() + 120}

    # The box restarts 200 s later: a new monotonic clock, the wall clock goes on.
    wall.advance(200)
    after_clock = FakeClock(5.0)
    after = Registrar(after_clock, wall_clock=wall)
    assert after.restore(items) == 1
    [binding] = after.all_bindings()
    assert (binding.aor, binding.contact) == ("1001", "sip:1001@127.0.0.1:5062")
    assert binding.expires_in(after_clock()) == 400
    assert after.is_registered_source(PHONE) == "1001"
    assert after.is_registered_source(OTHER_PHONE) is None
    after_clock.advance(400)
    assert [b.aor for b in after.expire()] == ["1001"]


def test_restore_never_grants_more_than_max_expires(clock):
    wall = FakeClock(1_700_000_000.0)
    items = Registrar(clock, wall_clock=wall)
    items.register(register(contact("sip:1001@127.0.0.1:5062"), expires=600))
    snapshot = items.snapshot()
    # A box without a real-time clock may boot with its wall clock far behind.
    wall.advance(-86_400)
    after = Registrar(FakeClock(0.0), wall_clock=wall, max_expires=900)
    after.restore(snapshot)
    assert after.all_bindings()[0].expires_in(0.0) == 900


def test_restore_leaves_out_a_contact_that_does_not_point_at_its_phone(clock):
    wall = FakeClock(1_700_000_000.0)
    before = Registrar(clock, wall_clock=wall)
    before.register(register(contact("sip:1001@127.0.0.1:5062"), expires=600, aor="1001"))
    items = before.snapshot()
    # Written by a box from before the rule: 1002 registered a gateway's address as its Contact.
    forged = dict(items[0], aor="1002", contact="sip:0088161234567@127.0.0.5:5099")
    after = Registrar(FakeClock(5.0), wall_clock=wall)
    assert after.restore(items + [forged]) == 1
    assert [b.aor for b in after.all_bindings()] == ["1001"]


def test_malformed_snapshot_changes_nothing(registrar):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062")))
    before = state(registrar)
    good = registrar.snapshot()
    with pytest.raises(ValidationError):
        registrar.restore(good + [{"aor": "1002"}])
    with pytest.raises(ValidationError):
        registrar.restore([dict(good[0], source={"transport": "udp", "ip": "127.0.0.1", "port": "x"})])
    assert state(registrar) == before


def test_the_same_register_sent_again_gets_its_200_again(registrar):
    first = registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=300), cseq=5))
    before = state(registrar)
    again = registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=300), cseq=5))
    assert (again.status, again.changed) == (200, False)
    assert [b.contact for b in again.bindings] == [b.contact for b in first.bindings]
    assert state(registrar) == before


def test_the_same_call_id_and_cseq_asking_for_something_else_is_out_of_order(registrar, clock):
    registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=300), cseq=5))
    before = state(registrar)
    other = registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=60), cseq=5))
    assert other.status == 500
    clock.advance(40)  # past Timer F: no client re-sends this late
    late = registrar.register(register(contact("sip:1001@127.0.0.1:5062", expires=300), cseq=5))
    assert late.status == 500
    assert state(registrar) == before
