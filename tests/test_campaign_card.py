"""The agent's campaign card (GET /api/campaigns/{id}/card): which person an agent works now.

Read only: the dialer's calls say who is on a call, the list says who answered without a result
yet, and a running preview campaign offers the next person due within calling hours."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from tinydb import TinyDB
from tinydb.storages import MemoryStorage

from appliance.campaigns import Campaigns
from appliance.control.campaigns import CampaignRoutes
from appliance.logic.campaigns.model import Result
from appliance.logic.handlers.campaign_call import AttemptOver

ALWAYS = {d: [{"start": "00:00", "end": "24:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
NOW = 1_800_000_000.0


@dataclass
class Dialer:
    calls: dict = field(default_factory=dict)

    def on_call(self, cid: str, entry: str, agent: str) -> None:
        call = SimpleNamespace(id=f"cmp-{cid}-{entry}", campaign=cid, entry=entry, agent=agent)
        self.calls[call.id] = SimpleNamespace(call=call, ended=False)


def _box(tmp_path, mode: str = "preview"):
    service = Campaigns(tables=TinyDB(storage=MemoryStorage).table, folder=tmp_path, clock=lambda: NOW,
                        publish=lambda *a, **k: None, queues=lambda: ["support"])
    service.save({"id": "r", "name": "Repairs", "mode": mode, "queue": "support", "hours": ALWAYS})
    service.add_people("r", [{"number": "600100201", "name": "Anna"}, {"number": "600100202", "name": "Bożena"}])
    dialer = Dialer()
    routes = CampaignRoutes(service, None, None, lambda: NOW, dialer=lambda: dialer)
    return service, dialer, lambda agent: routes.card("r", service.describe("r"), agent)


def test_a_draft_gives_no_card_and_a_running_preview_the_next_person(tmp_path):
    service, _, card = _box(tmp_path)
    assert card("1001") == {"step": None, "entry": None, "call_id": None}
    service.control("r", "start")
    assert (card("1001")["step"], card("1001")["entry"]["name"]) == ("preview", "Anna")


def test_the_call_then_the_result_then_the_next(tmp_path):
    service, dialer, card = _box(tmp_path)
    service.control("r", "start")
    service.dialling("r", "1")
    dialer.on_call("r", "1", "1001")
    assert (card("1001")["step"], card("1001")["call_id"]) == ("call", "cmp-r-1")
    assert card("1002")["entry"]["name"] == "Bożena"  # another agent previews the next person
    del dialer.calls["cmp-r-1"]
    service.attempt_over(AttemptOver("r", "1", Result.ANSWERED, agent="1001"))
    assert (card("1001")["step"], card("1001")["entry"]["name"]) == ("result", "Anna")
    service.set_result("r", "1", agent="1001", result="Done")
    assert (card("1001")["step"], card("1001")["entry"]["name"]) == ("preview", "Bożena")


def test_a_retry_another_agent_is_on_is_not_the_last_agents_call(tmp_path):
    service, dialer, card = _box(tmp_path, mode="progressive")
    service.control("r", "start")
    service.dialling("r", "1")
    service.attempt_over(AttemptOver("r", "1", Result.BUSY, agent="1001"))  # Anna's entry names 1001 now
    service.entry("r", "1").due = 0
    service.dialling("r", "1")
    dialer.on_call("r", "1", "1002")
    assert card("1002")["step"] == "call"
    assert card("1001")["step"] is None  # progressive: no preview card either


def test_a_message_campaign_has_no_card(tmp_path):
    service = Campaigns(tables=TinyDB(storage=MemoryStorage).table, folder=tmp_path, clock=lambda: NOW,
                        publish=lambda *a, **k: None, queues=lambda: [])
    service.save({"id": "m", "name": "Reminder", "mode": "message", "message": "reminder"})
    routes = CampaignRoutes(service, None, None, lambda: NOW)
    assert routes.card("m", service.describe("m"), "1001")["step"] is None
