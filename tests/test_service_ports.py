"""Services built from ports alone: small working fakes in, no Core, in any order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from appliance.center_admin import CenterAdmin
from appliance.errors import Conflict
from appliance.logic.acd import ContactCenter
from appliance.numbers_runtime import Numbers
from appliance.ports import DataDir
from appliance.ring_groups import RingGroups
from appliance.voicemail_mail import VoicemailMail


class FakeTables:
    """The store's tables in memory (TinyDB's calls, conditions as callables)."""

    def __init__(self, **tables: list[dict[str, Any]]):
        self.docs = {name: [dict(d) for d in docs] for name, docs in tables.items()}

    def __call__(self, name: str) -> FakeTables.Table:
        return FakeTables.Table(self.docs.setdefault(name, []))

    class Table:
        def __init__(self, docs: list[dict[str, Any]]):
            self.docs = docs

        def all(self):
            return list(self.docs)

        def get(self, cond):
            return next((d for d in self.docs if cond(d)), None)

        def insert(self, doc):
            self.docs.append(dict(doc))

        def update(self, fields, cond):
            for d in self.docs:
                if cond(d):
                    d.update(fields)

        def remove(self, cond):
            self.docs[:] = [d for d in self.docs if not cond(d)]

        def truncate(self):
            self.docs.clear()


class Events(list):
    def __call__(self, kind: str, **data: Any) -> None:
        self.append((kind, data))


EXTENSIONS = {"1001": {"number": "1001", "name": "Anna"}, "1002": {"number": "1002", "name": "Bartek"}}


def test_the_contact_center_loads_before_any_ring_group_exists(tmp_path):
    tables = FakeTables(queues=[{"name": "sales"}], agents=[{"extension": "1001", "queues": {"sales": 1}}])
    groups: list[str] = []   # no ring group service yet: the port is asked only when a flow is checked
    admin = CenterAdmin(center=ContactCenter(lambda: 0.0), tables=tables, clock=lambda: 0.0, publish=Events(),
                        paths=DataDir(tmp_path), extension=EXTENSIONS.get, extension_numbers=EXTENSIONS.keys,
                        registered=lambda ext: ext == "1001", run_acd=lambda commands: None,
                        ring_groups=lambda: groups, voicemail_boxes=lambda: [], route_clashes=lambda routes: [])
    assert [q["name"] for q in admin.queues()] == ["sales"]
    assert [a["name"] for a in admin.agents()] == ["Anna"]
    groups.append("front-desk")
    assert admin.known_names()["ring_groups"] == {"front-desk"}


def test_a_ring_group_cannot_take_an_extensions_number():
    tables = FakeTables()
    groups: list[RingGroups] = []
    numbers = Numbers(extension_numbers=EXTENSIONS.keys, queue_names=lambda: [],
                      ring_groups=lambda: groups[0].all(), voicemail_boxes=lambda: [], routes=lambda: ())
    groups.append(RingGroups(tables=tables, extension_numbers=EXTENSIONS.keys, check_free=numbers.check_free))
    with pytest.raises(Conflict, match="1001"):
        groups[0].create({"name": "desk", "number": "1001", "members": ["1002"]})
    groups[0].create({"name": "desk", "number": "600", "members": ["1001", "1002"]})
    with pytest.raises(Conflict, match="desk"):
        numbers.check_free("600")


class FakeMailer:
    def __init__(self):
        self.queued: list[tuple] = []

    def queue(self, to, subject, body, attachment=None, ref=""):
        self.queued.append((to, subject, attachment, ref))


class Box:
    number, email, attach_audio, notify_unsolicited = "1001", "anna@example.com", True, False


class Message:
    def to_dict(self):
        return {"id": "m1", "caller": "+48601234567", "duration_s": 4.2}


class FakeMailbox:
    def __init__(self):
        self.emailed: list[tuple[str, str]] = []

    def audio_path(self, box, message_id):
        return Path(f"/voicemail/{box}/{message_id}.wav")

    def mark_emailed(self, box, message_id):
        self.emailed.append((box, message_id))


def test_a_new_voicemail_lights_the_lamp_and_is_mailed_to_its_owner():
    mailer, mailbox, events, lamps = FakeMailer(), FakeMailbox(), Events(), []
    mail = VoicemailMail(mailer=mailer, mailbox=mailbox, box=lambda number: Box(), publish=events,
                         notify_mwi=lambda box, unsolicited: lamps.append(box))
    mail.deposited("1001", Message())
    assert events == [("voicemail", {"box": "1001", "action": "new", "id": "m1", "caller": "+48601234567",
                                     "duration_s": 4.2})]
    assert lamps == ["1001"]
    assert mailer.queued == [("anna@example.com", "Voicemail from +48601234567 for 1001",
                              Path("/voicemail/1001/m1.wav"), "1001/m1")]
    mail.sent({"ref": "1001/m1", "state": "sent"})
    assert mailbox.emailed == [("1001", "m1")]
