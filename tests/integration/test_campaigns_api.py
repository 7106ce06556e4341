"""Campaigns through the control API of a real core: a list in and out, control, results, DNC, CSAT."""

from __future__ import annotations

LIST = ("Telefon;Nazwa;Zlecenie\n+48 600 100 201;Anna Nowak;Z-1\n+48 600 100 202;Bożena Ćwik;Z-2\n"
        "bez numeru;Celina;Z-3\n").encode("cp1250")


def test_a_campaign_through_the_api_survives_a_restart(core_factory):
    core = core_factory()
    assert core.api("POST", "/api/queues", {"name": "support"})[0] == 201
    status, made = core.api("POST", "/api/campaigns", {"id": "repairs", "name": "After repairs",
                                                       "mode": "progressive", "queue": "support"})
    assert status == 201 and made["state"] == "draft" and made["progress"]["total"] == 0
    assert core.api("POST", "/api/campaigns/repairs/start")[0] == 409  # nobody on the list
    status, out = core.api("POST", "/api/campaigns/repairs/list.csv", raw=LIST)
    assert status == 200 and out["added"] == 2 and out["errors"] == [{"line": 4, "error": "no phone number"}]
    assert out["encoding"] == "windows-1250"
    status, people = core.api("POST", "/api/campaigns/repairs/people", {"people": [{"number": "600100202"},
                                                                                   {"number": "600100203"}]})
    assert people == {"added": 1, "duplicates": 1, "errors": []}
    assert core.api("POST", "/api/campaigns/repairs/start")[1]["state"] == "running"
    assert core.api("POST", "/api/campaigns/repairs/resume")[0] == 409
    assert core.api("POST", "/api/campaigns/repairs/pause")[1]["state"] == "paused"
    status, text = core.api("GET", "/api/campaigns/repairs/list.csv")
    assert status == 200 and "Anna Nowak" in text and text.count("\n") == 4
    status, entries = core.api("GET", "/api/campaigns/repairs/entries?state=waiting")
    assert [e["fields"] for e in entries["entries"]][:1] == [{"Zlecenie": "Z-1"}]
    assert core.api("POST", "/api/do-not-call", {"number": "+48 600 100 203", "why": "asked by phone"})[0] == 201
    assert core.api("GET", "/api/do-not-call")[1]["numbers"][0]["why"] == "asked by phone"
    status, report = core.api("GET", "/api/campaigns/repairs/report")
    assert status == 200 and report["contacts"] == 3 and report["attempted"] == 0
    core.stop()
    again = core_factory(data_dir=core.data_dir)
    listed = again.api("GET", "/api/campaigns")[1]["campaigns"]
    assert [(c["id"], c["state"], c["progress"]["total"]) for c in listed] == [("repairs", "paused", 3)]
    assert again.api("DELETE", "/api/do-not-call/600100203")[0] == 204
    assert again.api("DELETE", "/api/do-not-call/600100203")[0] == 404


def test_bad_campaign_input_is_a_4xx_with_a_reason(core):
    core.api("POST", "/api/queues", {"name": "support"})
    for body, why in [({"id": "x", "name": "X", "mode": "predictive", "queue": "support"}, "mode"),
                      ({"id": "x", "name": "X", "mode": "progressive", "queue": "nope"}, "queue"),
                      ({"id": "x", "name": "X", "mode": "message"}, "prompt"),
                      ([1, 2], "campaign")]:
        status, out = core.api("POST", "/api/campaigns", body)
        assert status == 400 and why in out["error"]
    assert core.api("GET", "/api/campaigns/nope")[0] == 404
    assert core.api("POST", "/api/campaigns/nope/explode")[0] in (404, 405)
    assert core.api("POST", "/api/campaigns", None, raw=b"{not json")[0] == 400
    assert core.api("GET", "/api/csat?by=planet")[0] == 400
    status, csat = core.api("GET", "/api/csat?by=agent&days=7")
    assert status == 200 and csat["groups"] == {}
    assert core.api("POST", "/api/do-not-call", {"number": "x"})[0] == 400
