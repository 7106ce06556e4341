"""The campaign calls of web/api_client.py answer alike on the fake and on a real core.

The fake runs the core's own campaign service, so the shapes agree by construction; what this
holds is the HTTP around it (routes, query parameters, raw CSV bodies, status codes) and the
agent's card, which the fake answers with the control API's own `CampaignRoutes.card`.
"""

from __future__ import annotations

from tests.web.test_api_contract import both, fake, real_core  # noqa: F401 - the fixtures

ALWAYS = {d: [{"start": "00:00", "end": "24:00"}] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
CAMPAIGN = {"id": "contract-repairs", "name": "After repairs", "mode": "preview", "queue": "contract-support",
            "hours": ALWAYS, "dispositions": ["Fixed", "Call back later"], "script": "Hello {name}"}
LIST = "Telefon;Nazwa;Zlecenie\n+48 600 100 201;Anna Nowak;Z-1\nbez numeru;Celina;Z-3\n".encode("cp1250")


def test_campaigns_alike(both):
    both.same(lambda a: a.add_queue({"name": "contract-support"}))
    both.same(lambda a: a.campaigns())
    made = both.same(lambda a: a.save_campaign(CAMPAIGN), open_keys=(".hours", ".retries"))
    assert made["state"] == "draft"
    assert both.status(lambda a: a.save_campaign(CAMPAIGN | {"queue": "nope"})) == 400
    assert both.status(lambda a: a.save_campaign(CAMPAIGN | {"mode": "predictive"})) == 400
    assert both.status(lambda a: a.campaign("no-such-campaign")) == 404
    assert both.status(lambda a: a.campaign_action("contract-repairs", "start")) == 409  # nobody on the list
    imported = both.same(lambda a: a.import_campaign_csv("contract-repairs", LIST))
    assert imported["added"] == 1 and imported["errors"] == [{"line": 3, "error": "no phone number"}]
    both.same(lambda a: a.add_campaign_people("contract-repairs", {"people": [{"number": "600100202"}]}))
    both.same(lambda a: a.add_campaign_people("contract-repairs", {"called": {"queue": "", "days": 7}}))
    assert both.status(lambda a: a.add_campaign_people("contract-repairs", {"called": {"days": 0}})) == 400
    assert both.status(lambda a: a.add_campaign_people("contract-repairs", {"contacts": ["no-such"]})) == 404
    both.same(lambda a: a.campaign_entries("contract-repairs", "waiting"))
    head = [b"".join(c.campaign_list_csv("contract-repairs")).decode().splitlines()[0] for c in (both.fake, both.core)]
    assert head[0] == head[1]
    both.same(lambda a: a.campaign("contract-repairs"), open_keys=(".hours", ".retries"))
    both.same(lambda a: a.campaign_card("contract-repairs", "1001"))  # a draft: no card
    both.same(lambda a: a.campaign_action("contract-repairs", "start"), open_keys=(".hours", ".retries"))
    assert both.status(lambda a: a.campaign_action("contract-repairs", "resume")) == 409
    card = both.same(lambda a: a.campaign_card("contract-repairs", "1001"))
    assert card["step"] == "preview" and card["entry"]["name"] == "Anna Nowak"
    assert both.status(lambda a: a.campaign_card("no-such-campaign", "1001")) == 404
    assert both.status(lambda a: a.set_campaign_result("contract-repairs", "1", "1001", "Nope")) == 400
    assert both.status(lambda a: a.set_campaign_result("contract-repairs", "99", "1001", "Fixed")) == 404
    both.same(lambda a: a.set_campaign_result("contract-repairs", "1", "1001", "Call back later", "on holiday",
                                              callback_at=4_000_000_000))
    assert both.status(lambda a: a.dial_campaign_entry("contract-repairs", "99", "1001")) == 404
    both.same(lambda a: a.campaign_report("contract-repairs"))
    both.same(lambda a: a.campaign_action("contract-repairs", "pause"), open_keys=(".hours", ".retries"))
    both.same(lambda a: a.campaigns(), open_keys=("[].hours", "[].retries"))
    both.same(lambda a: a.campaign_action("contract-repairs", "stop"), open_keys=(".hours", ".retries"))
    both.same(lambda a: a.delete_campaign("contract-repairs"))
    assert both.status(lambda a: a.delete_campaign("contract-repairs")) == 404


def test_do_not_call_and_csat_alike(both):
    both.same(lambda a: a.add_do_not_call("+48 600 100 203", "asked by phone"))
    assert both.status(lambda a: a.add_do_not_call("x")) == 400
    both.same(lambda a: a.do_not_call())
    both.same(lambda a: a.remove_do_not_call("600100203"))
    assert both.status(lambda a: a.remove_do_not_call("600100203")) == 404
    both.same(lambda a: a.csat("queue", 1), open_keys=(".groups",))
    both.same(lambda a: a.csat(), open_keys=(".groups",))
    assert both.status(lambda a: a.csat("planet")) == 400
    assert both.status(lambda a: a.csat("agent", 0)) == 400
