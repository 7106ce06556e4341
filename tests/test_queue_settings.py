"""A queue's settings through the contact center's admin: made, changed, stored, loaded again."""

from __future__ import annotations

import pytest

from appliance.center_admin import CenterAdmin
from appliance.errors import NotFound, ValidationError
from appliance.logic.acd import ContactCenter
from appliance.ports import DataDir
from tests.test_service_ports import EXTENSIONS, Events, FakeTables


def admin(tables: FakeTables, tmp_path, center: ContactCenter | None = None) -> CenterAdmin:
    return CenterAdmin(center=center or ContactCenter(lambda: 0.0), tables=tables, clock=lambda: 0.0,
                       publish=Events(), paths=DataDir(tmp_path), extension=EXTENSIONS.get,
                       extension_numbers=EXTENSIONS.keys, registered=lambda ext: True, run_acd=lambda commands: None,
                       ring_groups=lambda: [], voicemail_boxes=lambda: [], route_clashes=lambda routes: [])


def test_the_survey_is_turned_on_and_off_and_kept(tmp_path):
    tables = FakeTables(queues=[{"name": "sales", "ring_timeout_s": 15}])
    center = ContactCenter(lambda: 0.0)
    a = admin(tables, tmp_path, center)
    assert a.queues()[0]["survey"] is False
    assert a.change_queue("sales", {"survey": True}) == {"name": "sales", "ring_timeout_s": 15, "survey": True}
    assert center.queue_config("sales").survey is True and center.queue_config("sales").ring_timeout_s == 15
    again = admin(tables, tmp_path)  # a restart reads the store
    assert again.queues()[0]["survey"] is True
    a.change_queue("sales", {"survey": False})
    assert admin(tables, tmp_path).queues()[0]["survey"] is False


@pytest.mark.parametrize("name,data,error", [
    ("sales", {"survey": "yes"}, ValidationError),
    ("sales", {"name": "support"}, ValidationError),
    ("sales", {"loudness": 3}, ValidationError),
    ("sales", ["survey"], ValidationError),
    ("nowhere", {"survey": True}, NotFound),
])
def test_a_bad_change_changes_nothing(tmp_path, name, data, error):
    tables = FakeTables(queues=[{"name": "sales"}])
    center = ContactCenter(lambda: 0.0)
    a = admin(tables, tmp_path, center)
    with pytest.raises(error):
        a.change_queue(name, data)
    assert tables.docs["queues"] == [{"name": "sales"}] and center.queue_config("sales").survey is False
