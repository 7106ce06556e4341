"""The campaign service on the real store: lists in and out, start/pause/stop, results, do-not-call."""

from datetime import datetime, timezone

import pytest

from appliance.campaigns import Campaigns
from appliance.errors import Conflict, NotFound, ValidationError
from appliance.logic.campaigns.model import EntryState, Result
from appliance.logic.handlers.campaign_call import AttemptOver
from appliance.store.db import Store

MONDAY_NOON = datetime(2026, 12, 7, 11, 0, tzinfo=timezone.utc).timestamp()  # 12:00 in Warsaw


class Clock:
    def __init__(self):
        self.now = MONDAY_NOON

    def __call__(self):
        return self.now


@pytest.fixture
def box(tmp_path):
    store = Store(tmp_path / "data")
    events = []
    clock = Clock()

    def make():
        return Campaigns(tables=store.table, folder=tmp_path / "data" / "campaigns", clock=clock,
                         publish=lambda kind, **d: events.append((kind, d)), queues=lambda: ["support"])

    yield make, clock, events
    store.close()


LIST = ("Phone,Name,Order\n+48 600 100 201,Anna,Z-1\n+48 600 100 202,Bogdan,Z-2\n"
        "+48 600 100 203,Celina,Z-3\n600100201,Anna twice,Z-4\nno number,Dawid,Z-5\n").encode()


def campaign(c, **kw):
    return c.save({"id": "repairs", "name": "After repairs", "mode": "progressive", "queue": "support",
                   "retries": {"BUSY": {"delay_s": 600, "times": 1}}, **kw})


def test_a_list_is_imported_worked_and_survives_a_restart(box):
    make, clock, events = box
    c = make()
    campaign(c)
    with pytest.raises(Conflict):
        c.control("repairs", "start")  # nobody on the list yet
    out = c.import_csv("repairs", LIST)
    assert out["added"] == 3 and out["duplicates"] == 1 and [e["line"] for e in out["errors"]] == [6]
    c.control("repairs", "start")
    due = c.due("repairs", free_agents=2)
    assert [e.name for e in due] == ["Anna", "Bogdan"]
    for e in due:
        c.dialling("repairs", e.id)
    assert c.due("repairs", free_agents=2) == []  # both agents have a call ringing
    c.attempt_over(AttemptOver("repairs", due[0].id, Result.BUSY))
    c.answered("repairs", due[1].id)
    c.attempt_over(AttemptOver("repairs", due[1].id, Result.ANSWERED, agent="1001", talk_s=30.0))
    anna, bogdan = c.entry("repairs", due[0].id), c.entry("repairs", due[1].id)
    assert anna.state is EntryState.WAITING and anna.due == MONDAY_NOON + 600
    assert bogdan.state is EntryState.DONE and bogdan.result == "ANSWERED" and bogdan.agent == "1001"
    again = make()  # a restart: the list and the results are on disk
    assert again.entry("repairs", due[0].id).attempts == 1 and again.describe("repairs")["state"] == "running"
    assert [e.name for e in again.due("repairs", free_agents=5)] == ["Celina"]
    clock.now += 601
    assert {e.name for e in again.due("repairs", free_agents=5)} == {"Anna", "Celina"}
    assert [d["result"] for k, d in events if k == "campaign_attempt"] == ["BUSY", "ANSWERED"]


def test_a_call_cut_by_a_restart_is_tried_again(box):
    make, _, _ = box
    c = make()
    campaign(c)
    c.import_csv("repairs", LIST)
    c.control("repairs", "start")
    first = c.due("repairs", free_agents=1)[0]
    c.dialling("repairs", first.id)
    assert make().entry("repairs", first.id).state is EntryState.WAITING


def test_retries_end_and_the_campaign_finishes(box):
    make, clock, events = box
    c = make()
    campaign(c)
    c.add_people("repairs", [{"number": "600100301", "name": "Ewa"}])
    c.control("repairs", "start")
    for _ in range(2):
        e = c.due("repairs", free_agents=1)[0]
        c.dialling("repairs", e.id)
        c.attempt_over(AttemptOver("repairs", e.id, Result.BUSY))
        clock.now += 601
    assert c.entry("repairs", "1").state is EntryState.DONE and c.entry("repairs", "1").attempts == 2
    assert c.describe("repairs")["state"] == "finished"
    assert c.add_people("repairs", [{"number": "600100302"}])["added"] == 1
    assert c.describe("repairs")["state"] == "paused"  # new people: the admin resumes when ready


def test_do_not_call_and_press_9(box):
    make, _, events = box
    c = make()
    campaign(c, mode="message", queue="", message="reminder")
    c.add_people("repairs", [{"number": "+48 600 100 401"}, {"number": "600100402"}, {"number": "600100403"}])
    c.forbid("600 100 401")
    c.control("repairs", "start")
    due = c.due("repairs", free_agents=0)
    assert [e.number for e in due] == ["600100402", "600100403"]  # two lines by default; the first is blocked
    assert c.entry("repairs", "1").state is EntryState.DO_NOT_CALL and c.entry("repairs", "1").result == "BLOCKED"
    c.dialling("repairs", due[0].id)
    c.attempt_over(AttemptOver("repairs", due[0].id, Result.REFUSED, digit="9", never_again=True))
    assert c.entry("repairs", due[0].id).state is EntryState.DO_NOT_CALL
    assert any(d["key"] == "600100402" for d in c.do_not_call())
    c.allow("600100402")
    with pytest.raises(NotFound):
        c.allow("600100402")
    with pytest.raises(ValidationError):
        c.forbid("x")


def test_agent_results_notes_and_callbacks(box):
    make, clock, _ = box
    c = make()
    campaign(c)
    c.add_people("repairs", [{"number": "600100501", "name": "Franek"}])
    c.control("repairs", "start")
    e = c.due("repairs", free_agents=1)[0]
    c.dialling("repairs", e.id)
    c.answered("repairs", e.id)
    with pytest.raises(ValidationError):
        c.set_result("repairs", e.id, agent="1001", result="Sold a car")
    c.set_result("repairs", e.id, agent="1001", result="Call back later", notes="after 5",
                 callback_at=clock.now + 3600)
    c.attempt_over(AttemptOver("repairs", e.id, Result.ANSWERED, agent="1001"))
    booked = c.entry("repairs", e.id)
    assert booked.state is EntryState.WAITING and booked.agent == "1001" and booked.result == "Call back later"
    assert c.due("repairs", free_agents=1) == []
    clock.now += 3601
    assert c.due("repairs", free_agents=1)[0].id == e.id


def test_changes_and_bad_input(box):
    make, _, _ = box
    c = make()
    campaign(c)
    c.add_people("repairs", [{"number": "600100601"}])
    c.control("repairs", "start")
    with pytest.raises(Conflict):
        campaign(c, name="Renamed")  # running: pause first
    with pytest.raises(Conflict):
        c.control("repairs", "resume")
    c.control("repairs", "pause")
    assert campaign(c, name="Renamed")["name"] == "Renamed"
    with pytest.raises(ValidationError):
        c.control("repairs", "explode")
    with pytest.raises(ValidationError):
        c.save({"id": "x", "name": "X", "mode": "progressive", "queue": "nope"})
    with pytest.raises(ValidationError):
        c.import_csv("repairs", b"")
    c.control("repairs", "stop")
    with pytest.raises(Conflict):
        c.import_csv("repairs", LIST)


def test_csv_out_is_safe_and_report_counts(box):
    make, _, _ = box
    c = make()
    campaign(c)
    c.add_people("repairs", [{"number": "600100701", "name": "=HYPERLINK(\"x\")"}, {"number": "600100702"}])
    text = c.to_csv("repairs")
    assert text.splitlines()[0].startswith("number,name") and "'=HYPERLINK" in text
    records = [{"campaign": "repairs", "campaign_entry": "1", "campaign_result": "ANSWERED", "talk_s": 40.0,
                "agent": "1001", "csat": 5},
               {"campaign": "repairs", "campaign_entry": "2", "campaign_result": "ABANDONED", "talk_s": 0.0},
               {"campaign": "other", "campaign_entry": "1", "campaign_result": "ANSWERED", "talk_s": 99.0}]
    c.entry("repairs", "1").attempts = 1
    c.entry("repairs", "2").attempts = 1
    r = c.report("repairs", records)
    assert r["attempts"] == 2 and r["reached"] == 1 and r["talk_s"] == 40.0 and r["abandoned_pct"] == 50.0
    assert r["csat"]["distribution"]["5"] == 1 and r["attempts_per_contact"] == 1.0
