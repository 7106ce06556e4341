"""The set-up wizard end to end through the WSGI app, against the fake control API."""

from __future__ import annotations

import re

from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.wsgi_client import WsgiClient

STAFF = "1001 Anna\n1002 Piotr Nowak\n\n1003 Li"


def _step(client: WsgiClient, step: str, form: dict):
    return client.submit(f"/wizard/{step}", f"/wizard/{step}", form)


def test_first_login_of_the_admin_opens_the_wizard_and_later_ones_do_not(browser, fake_api):
    add_user(fake_api, "boss", "admin", ADMIN_PASSWORD)
    assert log_in(browser, "boss", ADMIN_PASSWORD).location == "/wizard"
    assert browser.get("/wizard").location == "/wizard/business"
    assert fake_api.settings["setup.wizard"] == {"step": "business"}  # opened: kept in the core
    again = WsgiClient(browser.app, remote_addr="127.0.0.9")
    assert log_in(again, "boss", ADMIN_PASSWORD).location == "/"


def test_the_wizard_walks_from_business_to_test_call_and_resumes_after_a_reload(admin, fake_api):
    reply = _step(admin, "business", {"name": "Kwiaciarnia Róża", "timezone": "Europe/Warsaw"})
    assert (reply.status, reply.location) == (303, "/wizard/hours")
    assert fake_api.settings["box.name"] == "Kwiaciarnia Róża"
    assert fake_api.settings["box.timezone"] == "Europe/Warsaw"
    # A reload (or another browser) resumes where the core says the wizard stands.
    assert admin.get("/wizard").location == "/wizard/hours"
    assert "continue the set-up wizard" in admin.get("/").text

    hours = {"mon-open": "on", "mon-start": "08:00", "mon-end": "16:00",
             "sat-open": "on", "sat-start": "10:00", "sat-end": "14:00"}
    reply = _step(admin, "hours", hours)
    assert reply.location == "/wizard/staff"
    assert fake_api.settings["setup.wizard"]["hours"] == {"mon": [["08:00", "16:00"]],
                                                          "sat": [["10:00", "14:00"]]}

    reply = _step(admin, "staff", {"staff": STAFF})
    assert reply.status == 200
    assert set(fake_api.extensions) == {"1001", "1002", "1003"}
    assert fake_api.extensions["1002"]["name"] == "Piotr Nowak"
    secrets = {e["secret"] for e in fake_api.extensions.values()}
    assert len(secrets) == 3 and all(len(s) >= 12 for s in secrets)
    for number in ("1001", "1002", "1003"):
        assert f'href="/extensions/{number}/sheet"' in reply.text
    assert secrets.isdisjoint(reply.text.split())  # secrets live on the sheets only
    sheet = admin.get("/extensions/1001/sheet")
    assert fake_api.extensions["1001"]["secret"] in sheet.text
    assert admin.get("/wizard").location == "/wizard/flows"

    reply = _step(admin, "flows", {"queue": "sales", "support": "support", "operator": "1001",
                                   "box": "1001", "service": "700",
                                   "agents": ["1002", "1003"], "logins": "on"})
    assert reply.location == "/wizard/voicemail", reply.text
    # The agents got their logins here, not on another page; the passwords are shown once.
    assert {u: fake_api.users[u]["role"] for u in ("1002", "1003")} == {"1002": "agent", "1003": "agent"}
    page = admin.get("/wizard/voicemail").text
    assert "shown only now" in page and "1002: " in page
    assert "shown only now" not in admin.get("/wizard/voicemail").text
    assert set(fake_api.queues) == {"sales", "support"}
    assert {a: sorted(v["queues"]) for a, v in fake_api.agents.items()} == {
        "1002": ["sales", "support"], "1003": ["sales", "support"]}
    flows = fake_api.flow_versions[-1]
    business = flows["nodes"]["business_hours"]
    assert business["timezone"] == "Europe/Warsaw"
    assert business["week"]["sat"] == [{"start": "10:00", "end": "14:00"}]
    assert "tue" not in business["week"]
    assert flows["nodes"]["operator"]["number"] == "1001"
    assert flows["nodes"]["main_menu"]["choices"] == {"0": "operator", "1": "sales", "2": "support"}
    # Desk phones reach the menu only through a route with a number: the service number.
    assert {(r["did"], r["destination"]) for r in flows["routes"]} == {
        ("700", "business_hours"), ("", "business_hours")}

    fake_api.voicemail_boxes["1001"]["email"] = ""
    reply = _step(admin, "voicemail", {"box": "1001", "pin": "2468", "email": "anna@kwiaty.test"})
    assert reply.location == "/wizard/provider", reply.text
    assert fake_api.box_changes[-1] == ("1001", {"pin": "2468", "email": "anna@kwiaty.test"})

    reply = _step(admin, "provider", {"host": "sip.operator.test", "username": "48221234567",
                                      "secret": "Provider-Secret-9", "number": "+48221234567"})
    assert reply.location == "/wizard/lines", reply.text
    trunk = fake_api.trunks["provider"]  # as the core validated it
    assert (str(trunk.kind), trunk.host, trunk.register) == ("register", "sip.operator.test", True)
    assert trunk.dids == ("+48221234567",)
    assert "Provider-Secret-9" not in str(fake_api.audit)

    page = admin.get("/wizard/lines")
    assert "none yet" in page.text
    # A System matter, for admins (a worker's id, not a random token that happens to hold "w1").
    assert not re.search(r"\bw\d+: (running|down)", page.text) and "Engine workers" not in page.text
    assert admin.post("/wizard/lines", {"csrf_token": page.csrf()}).location == "/wizard/test"
    page = admin.get("/wizard/test")
    assert 'data-source="/events"' in page.text and 'id="wizard-words"' in page.text
    assert '<strong id="service-number">700</strong>' in page.text
    reply = admin.post("/wizard/test", {"csrf_token": page.csrf()})
    assert reply.location == "/"
    assert fake_api.settings["setup.wizard"]["step"] == "done"
    assert "continue the set-up wizard" not in admin.get("/").text
    assert [a["action"] for a in fake_api.audit if a["action"].startswith("wizard")] == [
        "wizard_finished", "wizard_flows", "wizard_hours", "wizard_business"]


def test_wizard_steps_refuse_bad_input_and_change_nothing(admin, fake_api):
    reply = _step(admin, "business", {"name": "", "timezone": "Mars/Olympus"})
    assert reply.status == 400 and "Pick a time zone" in reply.text
    assert fake_api.settings["box.name"] == "Callbox"
    reply = _step(admin, "hours", {"mon-open": "on", "mon-start": "17:00", "mon-end": "09:00"})
    assert reply.status == 400 and "closing time must be after opening time" in reply.text
    assert "hours" not in fake_api.settings["setup.wizard"]
    reply = _step(admin, "staff", {"staff": "1001 Anna\nAnna 1002"})
    assert reply.status == 400 and "line 2" in reply.text
    assert fake_api.extensions == {}


def test_rerunning_the_staff_step_keeps_existing_phones(admin, fake_api):
    fake_api.extensions["1001"] = {"number": "1001", "name": "Anna", "secret": "OldSecret1234",
                                   "class_of_service": "national", "voicemail": True}
    reply = _step(admin, "staff", {"staff": "1001 Anna\n1004 Ola"})
    assert reply.status == 200
    assert fake_api.extensions["1001"]["secret"] == "OldSecret1234"
    assert "1004" in fake_api.extensions
    assert "kept as it is" in reply.text


def test_the_lines_step_lists_the_lines_the_core_found(admin, fake_api):
    page = admin.get("/wizard/lines")
    assert "none yet" in page.text
    fake_api.lines.append({"name": "gsm1", "kind": "gsm", "number": "+48601000000",
                           "simulated": True, "sip_port": 40100, "restarts": 0})
    page = admin.get("/wizard/lines")
    assert "none yet" not in page.text
    assert "gsm1" in page.text and "+48601000000" in page.text and "simulated" in page.text


def test_the_service_number_must_not_be_an_extension(admin, fake_api):
    fake_api.extensions["500"] = {"number": "500", "name": "Desk", "secret": "x" * 16,
                                  "class_of_service": "national", "voicemail": True}
    reply = _step(admin, "flows", {"queue": "sales", "support": "", "operator": "",
                                   "box": "500", "service": "500"})
    assert reply.status == 400 and "500 is an extension" in reply.text
    assert fake_api.flow_versions == [] and fake_api.queues == {}


def test_the_flows_step_shows_the_cores_refusal(admin, fake_api):
    fake_api.extensions["1001"] = {"number": "1001", "name": "Anna", "secret": "x" * 16,
                                   "class_of_service": "national", "voicemail": True}
    # An operator that is not an extension: the core's validator refuses the flows.
    reply = _step(admin, "flows", {"queue": "sales", "support": "", "operator": "1999",
                                   "box": "1001", "service": "500"})
    assert reply.status == 400
    assert "operator" in reply.text and "1999" in reply.text
    assert fake_api.flow_versions == []


def test_wizard_is_for_admins_only_and_needs_csrf(app, fake_api, admin):
    sue = WsgiClient(app, remote_addr="127.0.0.20")
    add_user(fake_api, "sue", "supervisor", ADMIN_PASSWORD)
    assert log_in(sue, "sue", ADMIN_PASSWORD).status == 303
    assert sue.get("/wizard/business").status == 403
    token = sue.get("/").csrf()
    assert sue.post("/wizard/business", {"csrf_token": token, "name": "X",
                                         "timezone": "UTC"}).status == 403
    for step in ("business", "hours", "staff", "flows", "voicemail", "provider", "lines", "test"):
        assert admin.post(f"/wizard/{step}", {"name": "X", "timezone": "UTC"}).status == 403
    assert fake_api.settings["box.name"] == "Callbox"


def test_a_provider_server_with_a_port_is_split(admin, fake_api):
    reply = _step(admin, "provider", {"host": "sip.operator.test:5080", "username": "48221234567",
                                      "secret": "Provider-Secret-9", "number": ""})
    assert reply.location == "/wizard/lines", reply.text
    trunk = fake_api.trunks["provider"]
    assert (trunk.host, trunk.port) == ("sip.operator.test", 5080)
