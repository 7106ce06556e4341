from __future__ import annotations

import json
import stat

import pytest

from appliance.errors import NotFound, StoreCorrupt, ValidationError
from appliance.provisioning.macs import Vendor
from appliance.provisioning.registry import PhoneRegistry
from appliance.provisioning.store import RegistryStore


def test_binding_makes_a_password_per_phone_and_keeps_it_when_rebound():
    reg = PhoneRegistry()
    a = reg.bind("00:15:65:AA:AA:AA", "1001", "yealink", now=5)
    b = reg.bind("001565bbbbbb", "1002", Vendor.SNOM)
    assert a.mac == "001565aaaaaa" and len(a.password) >= 20 and a.password != b.password
    moved = reg.bind("001565-AA-AA-AA", "1002", "yealink", now=9)
    assert moved.password == a.password and moved.extension == "1002" and moved.created == 5
    assert [p.mac for p in reg.phones_of("1002")] == ["001565aaaaaa", "001565bbbbbb"]
    assert "password" not in a.public() and a.password not in repr(a)


@pytest.mark.parametrize("mac,ext,vendor", [
    ("nope", "1001", "yealink"), ("001565aaaaaa", "01", "yealink"), ("001565aaaaaa", "1001", "cisco"),
])
def test_bad_bindings_are_refused_and_change_nothing(mac, ext, vendor):
    reg = PhoneRegistry()
    with pytest.raises(ValidationError):
        reg.bind(mac, ext, vendor)
    assert reg.bindings() == [] and reg.version == 0


def test_pending_phones_are_remembered_then_approved():
    reg = PhoneRegistry()
    first = reg.saw_unbound("001565aaaaaa", ip="192.0.2.5", now=10, vendor=Vendor.YEALINK,
                            user_agent="Yealink SIP-T46U", filename="001565aaaaaa.cfg")
    again = reg.saw_unbound("001565aaaaaa", ip="192.0.2.6", now=70)
    assert (first.first_seen, again.first_seen, again.last_seen, again.ip, again.requests) == (10, 10, 70, "192.0.2.6", 2)
    assert again.vendor is Vendor.YEALINK
    binding = reg.approve("00:15:65:aa:aa:aa", "1001", now=80)
    assert binding.vendor is Vendor.YEALINK and reg.pending() == []
    assert reg.saw_unbound("001565aaaaaa", ip="192.0.2.6", now=90) is None
    with pytest.raises(NotFound):
        reg.approve("001565cccccc", "1001")


def test_a_phone_of_unknown_make_needs_the_vendor_said():
    reg = PhoneRegistry()
    reg.saw_unbound("aa0000000001", ip="192.0.2.5", now=1)
    with pytest.raises(ValidationError):
        reg.approve("aa0000000001", "1001")
    assert reg.approve("aa0000000001", "1001", "fanvil").vendor is Vendor.FANVIL


def test_the_pending_list_is_bounded_forgetting_the_stalest():
    reg = PhoneRegistry(max_pending=3)
    for i in range(5):
        reg.saw_unbound(f"0015650000{i:02d}", ip="192.0.2.5", now=i)
    assert [p.mac for p in reg.pending()] == ["001565000002", "001565000003", "001565000004"]


def test_polling_a_pending_phone_is_not_a_change_to_save():
    reg = PhoneRegistry()
    reg.saw_unbound("001565aaaaaa", ip="192.0.2.5", now=1)
    version = reg.version
    reg.saw_unbound("001565aaaaaa", ip="192.0.2.5", now=61)
    assert reg.version == version


def test_deleting_an_extension_unbinds_its_phones():
    reg = PhoneRegistry()
    reg.bind("001565aaaaaa", "1001", "snom")
    reg.bind("001565bbbbbb", "1002", "snom")
    assert [b.mac for b in reg.forget_extension("1001")] == ["001565aaaaaa"]
    assert reg.binding("001565aaaaaa") is None and reg.binding("001565bbbbbb") is not None


def test_the_store_round_trips_and_keeps_the_file_private(tmp_path):
    store = RegistryStore(tmp_path / "phones.json")
    reg = store.load()
    a = reg.bind("001565aaaaaa", "1001", "poly", model="VVX 450", now=3)
    reg.saw_unbound("000b82123456", ip="192.0.2.9", now=4, vendor=Vendor.GRANDSTREAM)
    assert store.save_if_changed(reg) is True
    assert store.save_if_changed(reg) is False
    assert stat.S_IMODE((tmp_path / "phones.json").stat().st_mode) == 0o600
    again = RegistryStore(tmp_path / "phones.json").load()
    assert again.binding("001565aaaaaa") == a
    assert [p.public() for p in again.pending()] == [p.public() for p in reg.pending()]


def test_a_corrupt_file_is_reported_and_left_alone(tmp_path):
    path = tmp_path / "phones.json"
    path.write_text(json.dumps({"bindings": [{"mac": "zz", "extension": "1001"}]}))
    before = path.read_bytes()
    with pytest.raises(StoreCorrupt):
        RegistryStore(path).load()
    assert path.read_bytes() == before
