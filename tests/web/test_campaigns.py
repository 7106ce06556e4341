"""The campaign pages, the do-not-call page, the agent's campaign card and the wallboard's
campaign and satisfaction lines, against the fake core (which runs the core's campaign service)."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime, timezone

import pytest

from tests.web import fake_campaigns
from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.wsgi_client import WsgiClient
from web.kit import (campaign_progress_rows, card_view, csat_rows, default_place, error_field_of,
                     event_is_for_agent, fill_script, parse_callback, parse_campaign_form, pick_card)

LIST = ("Telefon;Nazwa;Zlecenie\n+48 600 100 201;Anna Nowak;Z-1\n+48 600 100 202;Bożena Ćwik;Z-2\n"
        "bez numeru;Celina;Z-3\n").encode("cp1250")
ALWAYS = "\n".join(f"{d} 00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
FORM = {"id": "repairs", "name": "After repairs", "mode": "preview", "queue": "support", "priority": "5",
        "max_lines": "2", "ring_timeout_s": "25", "max_attempts": "4", "country": "PL",
        "zone": "Europe/Warsaw", "hours": ALWAYS, "dispositions": "Fixed\nStill broken\nCall back later",
        "script": "Good morning {name}, we are calling about order {Zlecenie}.", "retry-BUSY-delay": "10",
        "retry-BUSY-times": "3"}


def _as(app, fake_api, username: str, role: str) -> WsgiClient:
    client = WsgiClient(app, remote_addr=f"127.0.0.{60 + len(fake_api.users)}")
    add_user(fake_api, username, role, ADMIN_PASSWORD)
    assert log_in(client, username, ADMIN_PASSWORD).status == 303
    return client


def _center(fake_api) -> None:
    fake_api.queues["support"] = {"name": "support"}
    fake_api.extensions["1001"] = {"number": "1001", "name": "Anna", "secret": "s" * 16,
                                   "class_of_service": "national", "voicemail": True}
    fake_api.agents["1001"] = {"extension": "1001", "name": "Anna", "status": "AVAILABLE",
                               "state": "IDLE", "break_reason": "", "queues": {"support": 1}}


def _campaign(admin, fake_api, **changes) -> None:
    """An admin creates the campaign on the page and uploads the list."""
    _center(fake_api)
    reply = admin.submit("/campaigns/new", "/campaigns/new", FORM | changes)
    assert reply.status == 303, reply.text
    token = admin.get("/campaigns/repairs/list").csrf()
    reply = admin.post_multipart("/campaigns/repairs/list/import", {"csrf_token": token},
                                 {"file": ("list.csv", LIST)})
    assert reply.status == 200 and "Line 4: no phone number" in reply.text


# -- pure helpers -------------------------------------------------------------------------------

def test_the_form_is_read_and_its_shape_checked():
    body, errors = parse_campaign_form(FORM | {"collect_digit": "on"})
    assert errors == {}
    assert body["hours"]["sat"] == [{"start": "00:00", "end": "24:00"}]
    assert body["retries"] == {"BUSY": {"delay_s": 600, "times": 3}}
    assert body["dispositions"] == ["Fixed", "Still broken", "Call back later"]
    assert body["collect_digit"] is True and body["survey"] is False and body["priority"] == 5
    _, errors = parse_campaign_form(FORM | {"priority": "12", "hours": "monday 9-5", "retry-BUSY-delay": "x"})
    assert set(errors) == {"priority", "hours", "retries"}
    assert errors["priority"] == ("a whole number from {low} to {high}", {"low": 1, "high": 9})
    assert error_field_of("there is no queue 'x'") == "queue"
    assert error_field_of("priority must be a number from 1 to 9") == "priority"


def test_a_new_campaign_starts_with_the_boxs_zone_and_its_countrys_hours():
    assert default_place("Asia/Shanghai") == ("CN", "Asia/Shanghai")
    assert default_place("Europe/Paris") == ("EU", "Europe/Paris")
    assert default_place("America/New_York") == ("EU", "America/New_York")  # the strictest we know
    assert default_place("UTC") == ("PL", "Europe/Warsaw") and default_place("") == ("PL", "Europe/Warsaw")


def test_the_script_is_filled_in_and_a_missing_field_shows():
    entry = {"name": "Anna", "number": "+48600100201", "fields": {"Zlecenie": "Z-1"}}
    assert fill_script("Hello {name} ({number}), order {Zlecenie}, {Nope}", entry) == \
        "Hello Anna (+48600100201), order Z-1, {Nope}"


def test_a_call_comes_before_a_result_and_a_result_before_a_preview():
    a, b = {"id": "a", "priority": 9}, {"id": "b", "priority": 1}
    preview, result = {"step": "preview", "entry": {"id": "1"}}, {"step": "result", "entry": {"id": "2"}}
    assert pick_card([(a, preview), (b, result)]) == (b, result)
    assert pick_card([(a, {"step": None, "entry": None})]) is None
    view = card_view({"id": "a", "mode": "preview", "dispositions": ["Ok"], "script": "Hi {name}"},
                     {"step": "preview", "entry": {"id": "1", "name": "Ola", "tries": {"BUSY": 2, "FAILED": 0}}},
                     "Europe/Warsaw", 0)
    assert view["can_dial"] and view["callback_required"] and view["script"] == "Hi Ola"
    assert view["tries"] == [("BUSY", 2)]


def test_a_callback_is_read_on_the_boxs_clock():
    at = parse_callback("2026-12-08T10:30", "Europe/Warsaw")
    assert at == datetime(2026, 12, 8, 9, 30, tzinfo=timezone.utc).timestamp()
    assert parse_callback("", "UTC") is None
    with pytest.raises(ValueError):
        parse_callback("tomorrow", "UTC")


def test_wallboard_lines_for_campaigns_and_satisfaction():
    running = {"id": "r", "name": "Repairs", "state": "running",
               "progress": {"total": 4, "states": {"done": 1, "do_not_call": 1}, "done_pct": 50.0}}
    rows = campaign_progress_rows([running, running | {"state": "paused"}], {"r": {"reached": 1, "abandoned_pct": 0.0}})
    assert rows == [{"name": "Repairs", "done": "50.0%", "progress": "2/4", "reached": "1", "abandoned": "0.0%"}]
    assert csat_rows({"groups": {"sales": {"offered": 3, "answered": 2, "average": 4.5, "csat_pct": 100.0}}}) == \
        [{"queue": "sales", "average": "4.50", "csat": "100.0%", "answered": "2/3"}]


def test_the_agent_hears_their_own_campaign_events_only():
    assert event_is_for_agent("campaign_attempt", {"agent": "1001"}, "1001")
    assert not event_is_for_agent("campaign_attempt", {"agent": "1002"}, "1001")
    assert event_is_for_agent("campaign", {"id": "x", "state": "running"}, "1001")


# -- the admin's pages ----------------------------------------------------------------------------

def test_an_admin_creates_a_campaign_uploads_a_list_and_runs_it(admin, fake_api):
    _campaign(admin, fake_api)
    page = admin.get("/campaigns/repairs/list")
    assert "Anna Nowak" in page.text and "Zlecenie: Z-1" in page.text
    assert admin.get("/campaigns/repairs/list?state=done").text.count("Anna Nowak") == 0
    listed = admin.get("/campaigns")
    assert 'data-campaign="repairs"' in listed.text and "0 of 2 done" in listed.text
    assert 'action="/campaigns/repairs/start"' in listed.text
    assert admin.submit("/campaigns", "/campaigns/repairs/start", {}).status == 303
    assert fake_api.campaign_service.describe("repairs")["state"] == "running"
    assert "is running" in admin.get("/campaigns").text
    assert 'action="/campaigns/repairs/pause"' in admin.get("/campaigns").text
    # Changing a running campaign: the core's refusal in words, the input kept.
    reply = admin.submit("/campaigns/repairs/edit", "/campaigns/repairs/edit", FORM | {"name": "Renamed"})
    assert reply.status == 409 and "pause it to change it" in reply.text and 'value="Renamed"' in reply.text
    assert admin.submit("/campaigns", "/campaigns/repairs/pause", {}).status == 303
    assert admin.submit("/campaigns/repairs/edit", "/campaigns/repairs/edit", FORM | {"name": "Renamed"}).status == 303
    assert fake_api.campaign_service.describe("repairs")["name"] == "Renamed"
    actions = [a["action"] for a in fake_api.audit]
    assert {"campaign_saved", "campaign_start", "campaign_pause", "campaign_list_imported"} <= set(actions)


def test_a_campaign_is_deleted_and_an_unknown_action_is_not_found(admin, fake_api):
    _campaign(admin, fake_api)
    assert admin.submit("/campaigns", "/campaigns/repairs/explode", {}).status == 404
    assert admin.submit("/campaigns/repairs/edit", "/campaigns/repairs/delete", {}).status == 303
    assert fake_api.campaign_service.list() == [] and fake_api.audit[0]["action"] == "campaign_deleted"


def test_refusals_are_shown_next_to_their_fields_and_nothing_is_lost(admin, fake_api):
    _center(fake_api)
    reply = admin.submit("/campaigns/new", "/campaigns/new", FORM | {"priority": "0", "hours": "someday"})
    assert reply.status == 400 and 'id="f-priority-error"' in reply.text and 'id="f-hours-error"' in reply.text
    assert "Good morning {name}" in reply.text  # the script typed is still there
    reply = admin.submit("/campaigns/new", "/campaigns/new", FORM | {"queue": "nope"})
    assert reply.status == 400 and 'id="f-queue-error"' in reply.text and "there is no queue" in reply.text
    reply = admin.submit("/campaigns/new", "/campaigns/new", FORM | {"id": "Bad Id"})
    assert reply.status == 400 and 'id="f-id-error"' in reply.text
    assert fake_api.campaign_service.list() == []


def test_people_come_from_contacts_and_from_who_called(admin, fake_api):
    _campaign(admin, fake_api)
    from tests.web import fake_contacts
    c = fake_contacts.add_contact(fake_api, "Ola Kowalczyk", ["+48601234567"], company="Kwiaty")
    page = admin.get("/campaigns/repairs/list?q=Ola")
    assert f'value="{c["id"]}"' in page.text
    reply = admin.submit("/campaigns/repairs/list", "/campaigns/repairs/list/people",
                         {"source": "contacts", "contact": c["id"]})
    assert reply.status == 200 and "1 added, 0 already on the list." in reply.text
    fake_api.add_call_record(direction="inbound", caller="+48500111222", queue="support",
                             start=datetime.now(timezone.utc).isoformat())
    reply = admin.submit("/campaigns/repairs/list", "/campaigns/repairs/list/people",
                         {"source": "called", "queue": "support", "days": "7"})
    assert reply.status == 200 and "1 added" in reply.text
    reply = admin.submit("/campaigns/repairs/list", "/campaigns/repairs/list/people",
                         {"source": "called", "queue": "", "days": "0"})
    assert reply.status == 400
    assert fake_api.campaign_service.progress("repairs")["total"] == 4


def test_the_list_exports_and_the_report_follows(admin, fake_api):
    _campaign(admin, fake_api)
    reply = admin.get("/campaigns/repairs/list.csv")
    assert reply.status == 200 and reply.header("Content-Type").startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.text)))
    assert [r["name"] for r in rows] == ["Anna Nowak", "Bożena Ćwik"] and rows[0]["state"] == "waiting"
    assert fake_api.audit[0]["action"] == "campaign_list_exported"
    page = admin.get("/campaigns/repairs/report")
    assert page.status == 200 and 'data-data="/campaigns/repairs/report.json"' in page.text
    data = json.loads(admin.get("/campaigns/repairs/report.json").text)
    assert data["summary"]["contacts"] == "2" and data["summary"]["waiting"] == "2"
    assert admin.get("/campaigns/nope/report").status == 404


def test_the_do_not_call_list(admin, fake_api):
    assert admin.submit("/do-not-call", "/do-not-call", {"number": "+48 600 100 203", "why": "asked"}).status == 303
    page = admin.get("/do-not-call")
    assert "+48 600 100 203" in page.text and "asked" in page.text
    reply = admin.submit("/do-not-call", "/do-not-call", {"number": "x", "why": ""})
    assert reply.status == 400 and "not a phone number" in reply.text
    # As a server hands the path on: decoded (the page quotes it in the form's action).
    assert 'action="/do-not-call/%2B48%20600%20100%20203/remove"' in page.text
    assert admin.submit("/do-not-call", "/do-not-call/+48 600 100 203/remove", {}).status == 303
    assert fake_api.campaign_service.do_not_call() == []


def test_roles_and_csrf(app, admin, fake_api):
    _campaign(admin, fake_api)
    supervisor = _as(app, fake_api, "lead", "supervisor")
    assert supervisor.get("/campaigns").status == 200
    assert "/campaigns/repairs/start" not in supervisor.get("/campaigns").text
    assert supervisor.get("/campaigns/repairs/list.csv").status == 200
    assert supervisor.get("/campaigns/new").status == 403 and supervisor.get("/do-not-call").status == 403
    assert supervisor.submit("/campaigns", "/campaigns/repairs/start", {}).status == 403
    agent = _as(app, fake_api, "1001", "agent")
    assert agent.get("/campaigns").status == 403
    assert admin.post("/campaigns/repairs/start", {}).status == 403  # no CSRF token
    assert fake_api.campaign_service.describe("repairs")["state"] == "draft"


# -- the agent's card -------------------------------------------------------------------------------

def test_the_agent_previews_dials_and_gives_a_result(app, admin, fake_api):
    _campaign(admin, fake_api)
    admin.submit("/campaigns", "/campaigns/repairs/start", {})
    agent = _as(app, fake_api, "1001", "agent")
    panel = agent.get("/agent")
    assert 'id="campaign-card"' in panel.text and "next person to call" in panel.text
    assert "Good morning Anna Nowak, we are calling about order Z-1." in panel.text
    assert 'action="/agent/campaign/repairs/1/dial"' in panel.text
    assert agent.submit("/agent", "/agent/campaign/repairs/1/dial", {}).status == 303
    assert fake_api.campaign_dials == [("repairs", "1", "1001")]
    card = agent.get("/agent/campaign/card")
    assert "on the call" in card.text and 'value="Still broken"' in card.text and "campaign-card" in card.text
    fake_campaigns.campaign_call_ends(fake_api, "repairs", "1")
    assert "choose the result" in agent.get("/agent/campaign/card").text
    reply = agent.submit("/agent", "/agent/campaign/repairs/1/result", {"result": "Still broken", "notes": "the pump"})
    assert reply.status == 303
    entry = fake_api.campaign_service.entry("repairs", "1")
    assert (entry.result, entry.notes, entry.agent, entry.state.value) == ("Still broken", "the pump", "1001", "done")
    # The next person is on the card now.
    assert "Bożena Ćwik" in agent.get("/agent").text


def test_an_agent_answers_only_for_the_person_on_their_card(app, admin, fake_api):
    _campaign(admin, fake_api)
    admin.submit("/campaigns", "/campaigns/repairs/start", {})
    agent = _as(app, fake_api, "1001", "agent")
    agent.submit("/agent", "/agent/campaign/repairs/2/dial", {})  # Bożena is not on the card: Anna is
    agent.submit("/agent", "/agent/campaign/repairs/2/result", {"result": "Fixed"})
    assert "That person is not on your card now." in agent.get("/agent").text
    assert fake_api.campaign_dials == [] and fake_api.campaign_service.entry("repairs", "2").result == ""


def test_before_the_call_a_result_books_a_callback(app, admin, fake_api):
    _campaign(admin, fake_api)
    admin.submit("/campaigns", "/campaigns/repairs/start", {})
    agent = _as(app, fake_api, "1001", "agent")
    agent.submit("/agent", "/agent/campaign/repairs/1/result", {"result": "Call back later", "callback_required": "1"})
    assert "choose when to call back" in agent.get("/agent").text
    when = datetime.fromtimestamp(time.time() + 86400).strftime("%Y-%m-%dT%H:%M")
    agent.submit("/agent", "/agent/campaign/repairs/1/result",
                 {"result": "Call back later", "notes": "on holiday", "callback_at": when, "callback_required": "1"})
    entry = fake_api.campaign_service.entry("repairs", "1")
    assert (entry.result, entry.notes, entry.state.value) == ("Call back later", "on holiday", "waiting")
    assert entry.due > time.time() + 3600
    assert "Bożena Ćwik" in agent.get("/agent").text  # Anna waits for her callback


def test_a_refused_dial_is_told_in_words(app, admin, fake_api):
    _campaign(admin, fake_api)  # a draft: no card yet
    agent = _as(app, fake_api, "1001", "agent")
    assert 'id="campaign-card"' in agent.get("/agent").text and 'id="card-title"' not in agent.get("/agent").text
    admin.submit("/campaigns", "/campaigns/repairs/start", {})
    fake_api.agents["1001"]["status"] = "ON_BREAK"
    agent.submit("/agent", "/agent/campaign/repairs/1/dial", {})
    assert "The call was not placed: agent 1001 is not free in queue support" in agent.get("/agent").text


def test_the_wallboard_shows_running_campaigns_and_satisfaction(app, admin, fake_api):
    _campaign(admin, fake_api)
    admin.submit("/campaigns", "/campaigns/repairs/start", {})
    fake_api.add_call_record(queue="support", csat=5, start=datetime.now(timezone.utc).isoformat())
    fake_api.add_call_record(queue="support", csat=None, start=datetime.now(timezone.utc).isoformat())
    data = json.loads(admin.get("/wallboard.json").text)
    assert data["campaigns"] == [{"name": "After repairs", "done": "0.0%", "progress": "0/2", "reached": "0",
                                  "abandoned": "0.0%"}]
    assert data["csat"] == [{"queue": "support", "average": "5.00", "csat": "100.0%", "answered": "1/2"}]
    admin.submit("/", "/language", {"language": "pl", "next": "/"})
    data = json.loads(admin.get("/wallboard.json").text)
    assert data["csat"][0]["average"] == "5,00" and data["campaigns"][0]["done"] == "0,0%"
    page = admin.get("/wallboard")
    assert 'data-block="campaigns"' in page.text and 'data-block="csat"' in page.text


# -- every word in the reader's language -------------------------------------------------------------

@pytest.mark.parametrize("lang", ["pl", "zh"])
def test_the_campaign_pages_are_fully_translated(app, admin, fake_api, lang):
    from tests.web import page_walk as pw
    from web.kit import set_marking
    _campaign(admin, fake_api, survey="on")
    admin.submit("/campaigns", "/campaigns/repairs/start", {})
    fake_api.add_call_record(queue="support", csat=4, start=datetime.now(timezone.utc).isoformat())
    admin.submit("/do-not-call", "/do-not-call", {"number": "+48600100299", "why": "asked"})
    agent = _as(app, fake_api, "1001", "agent")
    set_marking(True)
    try:
        pages = []
        for client in (admin, agent):
            pw.choose_language(client, lang)
        for path in ("/campaigns", "/campaigns/new", "/campaigns/repairs/edit", "/campaigns/repairs/list",
                     "/campaigns/repairs/list?state=done", "/campaigns/repairs/report", "/do-not-call",
                     "/wallboard"):
            pages.append((path, admin.get(path)))
        pages.append(("refused form", admin.submit("/campaigns/new", "/campaigns/new", FORM | {"priority": "0"})))
        pages.append(("refused by the core", admin.submit("/campaigns/new", "/campaigns/new", FORM | {"queue": "x"})))
        pages.append(("agent preview", agent.get("/agent")))
        agent.submit("/agent", "/agent/campaign/repairs/1/dial", {})
        pages.append(("agent on the call", agent.get("/agent")))
        fake_campaigns.campaign_call_ends(fake_api, "repairs", "1")
        pages.append(("agent result", agent.get("/agent/campaign/card")))
        words = pw.data_words(fake_api) | set(pw.WORD.findall(" ".join(
            str(v) for e in fake_api.campaign_service.entries("repairs") for v in (e["name"], e["fields"])) +
            " After repairs Fixed Still broken Call back later Good morning we are calling about order asked"
            " mon tue wed thu fri sat sun"))  # the hours' day names are the form's syntax
        found = {piece: label for label, reply in pages for piece in pw.untranslated(reply.text, words)}
    finally:
        set_marking(False)
    assert all(reply.status < 500 for _, reply in pages)
    assert not found, "\n".join(f"{label}: {piece}" for piece, label in found.items())


def test_the_wallboard_asks_for_a_campaigns_report_at_most_every_15_s(app, admin, fake_api, clock):
    _campaign(admin, fake_api)
    admin.submit("/campaigns", "/campaigns/repairs/start", {})
    asked = lambda: sum(1 for r in fake_api.requests if r == ("GET", "/api/campaigns/repairs/report"))  # noqa: E731
    admin.get("/wallboard.json")
    admin.get("/wallboard.json")
    assert asked() == 1
    clock.advance(16)
    admin.get("/wallboard.json")
    assert asked() == 2
