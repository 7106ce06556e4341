"""Queues and agents, the wallboard and the agent's panel through the WSGI app."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta

from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.wsgi_client import WsgiClient

SUPERVISOR_PAGES = ("/queues", "/wallboard", "/wallboard.json", "/wallboard/kiosk",
                    "/wallboard/kiosk.json")


def _as(app, fake_api, username: str, role: str) -> WsgiClient:
    client = WsgiClient(app, remote_addr=f"127.0.0.{30 + len(fake_api.users)}")
    add_user(fake_api, username, role, ADMIN_PASSWORD)
    assert log_in(client, username, ADMIN_PASSWORD).status == 303
    return client


def _center(fake_api, agents=("1001", "1002")) -> None:
    fake_api.queues["sales"] = {"name": "sales"}
    for n in agents:
        fake_api.extensions[n] = {"number": n, "name": f"Agent {n}", "secret": "s" * 16,
                                  "class_of_service": "national", "voicemail": True}
        fake_api.agents[n] = {"extension": n, "name": f"Agent {n}", "status": "AVAILABLE",
                              "state": "IDLE", "break_reason": "", "queues": {"sales": 1}}


# -- roles and CSRF ------------------------------------------------------------------------

def test_agents_cannot_see_queues_or_the_wallboard_nor_change_others(app, fake_api):
    _center(fake_api)
    agent = _as(app, fake_api, "1001", "agent")
    for path in SUPERVISOR_PAGES + ("/ivr", "/wizard"):
        assert agent.get(path).status == 403, path
    token = agent.get("/").csrf()
    assert agent.post("/agents/1002/logout", {"csrf_token": token}).status == 403
    assert agent.post("/queues", {"csrf_token": token, "name": "x"}).status == 403
    assert fake_api.agents["1002"]["status"] == "AVAILABLE" and "x" not in fake_api.queues


def test_supervisors_watch_and_change_agents_but_do_not_add_queues(app, fake_api):
    _center(fake_api)
    sue = _as(app, fake_api, "sue", "supervisor")
    for path in SUPERVISOR_PAGES:
        assert sue.get(path).status == 200, path
    for path in ("/ivr", "/ivr/nodes/sales", "/wizard"):
        assert sue.get(path).status == 403, path
    page = sue.get("/queues")
    assert "Add a queue" not in page.text and "Make an extension an agent" not in page.text
    reply = sue.post("/agents/1002/break", {"csrf_token": page.csrf(), "reason": "lunch"})
    assert reply.location == "/queues"
    assert (fake_api.agents["1002"]["status"], fake_api.agents["1002"]["break_reason"]) == \
        ("ON_BREAK", "lunch")
    assert "on break (lunch)" in sue.get("/queues").text
    assert sue.post("/queues", {"csrf_token": page.csrf(), "name": "vip"}).status == 403
    assert sue.post("/agents", {"csrf_token": page.csrf(), "extension": "1001"}).status == 403
    assert fake_api.audit[0]["action"] == "agent_break"


def test_every_new_form_needs_the_csrf_token(app, fake_api, admin):
    _center(fake_api)
    fake_api.extensions["1003"] = {"number": "1003", "name": "C", "secret": "s" * 16,
                                   "class_of_service": "national", "voicemail": True}
    agent = _as(app, fake_api, "1001", "agent")
    for client, path, form in (
            (admin, "/queues", {"name": "vip"}),
            (admin, "/agents", {"extension": "1003", "queues": "sales"}),
            (admin, "/agents/1002/logout", {}),
            (admin, "/ivr/nodes", {"id": "x", "kind": "hangup"}),
            (admin, "/ivr/nodes/x", {"kind": "hangup"}),
            (admin, "/ivr/nodes/x/delete", {}),
            (agent, "/agent/status", {"action": "logout"})):
        for token in (None, "forged"):
            form = dict(form) | ({"csrf_token": token} if token else {})
            assert client.post(path, form).status == 403, path
    assert "vip" not in fake_api.queues and "1003" not in fake_api.agents
    assert fake_api.agents["1001"]["status"] == fake_api.agents["1002"]["status"] == "AVAILABLE"


# -- queues and agents ---------------------------------------------------------------------

def test_admin_adds_a_queue_from_the_queueconfig_form(admin, fake_api):
    page = admin.get("/queues")
    for name in ("ring_timeout_s", "wrap_up_s", "max_callers", "overflow_to", "vip_numbers",
                 "announce_position_every_s"):
        assert f'name="{name}"' in page.text, name
    reply = admin.post("/queues", {"csrf_token": page.csrf(), "name": "sales",
                                   "strategy": "ringall", "ring_timeout_s": "15",
                                   "wrap_up_s": "10.0", "max_callers": "5",
                                   "vip_numbers": "+48601, +48602"})
    assert reply.location == "/queues"
    assert fake_api.queues["sales"] == {"name": "sales", "strategy": "ringall",
                                        "ring_timeout_s": 15, "max_callers": 5,
                                        "vip_numbers": ["+48601", "+48602"]}


def test_a_queue_the_core_refuses_keeps_the_form_and_says_why(admin, fake_api):
    page = admin.get("/queues")
    reply = admin.post("/queues", {"csrf_token": page.csrf(), "name": "bad name!",
                                   "max_callers": "3"})
    assert reply.status == 400 and "name" in reply.text and "letters, digits" in reply.text
    assert 'value="3"' in reply.text
    reply = admin.post("/queues", {"csrf_token": page.csrf(), "name": "ok",
                                   "max_callers": "many"})
    assert reply.status == 400 and "must be a whole number" in reply.text
    assert fake_api.queues == {}


def test_admin_makes_an_extension_an_agent_and_supervises_them(admin, fake_api):
    _center(fake_api, agents=())
    fake_api.extensions["1005"] = {"number": "1005", "name": "Ewa", "secret": "s" * 16,
                                   "class_of_service": "national", "voicemail": True}
    page = admin.get("/queues")
    assert '<option value="1005">' in page.text
    reply = admin.post("/agents", {"csrf_token": page.csrf(), "extension": "1005",
                                   "queues": "sales"})
    assert reply.location == "/queues"
    assert fake_api.agents["1005"]["queues"] == {"sales": 1}
    for action, status in (("login", "AVAILABLE"), ("break", "ON_BREAK"),
                           ("available", "AVAILABLE"), ("logout", "LOGGED_OUT")):
        admin.post(f"/agents/1005/{action}", {"csrf_token": page.csrf()})
        assert fake_api.agents["1005"]["status"] == status, action
    reply = admin.post("/agents", {"csrf_token": page.csrf(), "extension": "1005",
                                   "queues": "sales"})
    assert reply.status == 409 and "agent already" in reply.text


# -- the wallboard -------------------------------------------------------------------------

def test_wallboard_json_counts_callers_agents_and_alarms(admin, fake_api, clock):
    _center(fake_api, agents=("1001", "1002", "1003"))
    fake_api.agents["1002"]["state"] = "TALKING"
    fake_api.agents["1003"]["status"] = "ON_BREAK"
    fake_api.caller_waits("sales", "+48601111111", waited_s=40)
    fake_api.caller_waits("sales", "+48602222222", waited_s=5)
    fake_api.workers.append({"id": "w2", "alive": False, "sip_port": 40002, "max_calls": 4,
                             "free": 4, "room": 4, "restarts": 3})
    fake_api.ban("192.0.2.9")
    data = json.loads(admin.get("/wallboard.json").text)
    assert data["summary"]["waiting"] == "2"
    assert data["summary"]["available"] == "1" and data["summary"]["talking"] == "1"
    assert data["summary"]["on_break"] == "1"
    sales = data["queues"][0]
    assert sales["name"] == "sales" and sales["waiting"] == "2" and sales["ready"] == "1"
    assert 39 <= clock() - sales["since"] <= 60  # the longest waiter's clock starts 40 s ago
    assert any("w2 is down" in a for a in data["alarms"])
    assert any("192.0.2.9" in a for a in data["alarms"])
    page = admin.get("/wallboard")
    assert "Callers waiting" in page.text and 'data-block="queues"' in page.text
    assert 'data-refresh-on="queue agent call_record engine' in page.text


def test_service_level_today_counts_calls_answered_within_20_seconds(admin, fake_api):
    now = datetime.now().astimezone()
    for answer_after in (5, 10, 60, None):
        start = now - timedelta(minutes=5)
        fake_api.add_call_record(start=start.isoformat(), direction="inbound",
                                 answer=(start + timedelta(seconds=answer_after)).isoformat()
                                 if answer_after is not None else None)
    fake_api.add_call_record(start=(now - timedelta(days=2)).isoformat(), direction="inbound")
    data = json.loads(admin.get("/wallboard.json").text)
    assert data["service_level"]["offered"] == 4
    assert data["summary"]["service_level"] == "50 %"


def test_kiosk_view_has_no_menus_and_keeps_its_session(app, fake_api, clock):
    sue = _as(app, fake_api, "sue", "supervisor")
    page = sue.get("/wallboard/kiosk")
    assert 'class="kiosk"' in page.text and 'aria-label="Main"' not in page.text
    assert 'data-data="/wallboard/kiosk.json"' in page.text
    for _ in range(4):  # two hours of the TV refreshing, 20 minutes between refreshes
        clock.advance(20 * 60)
        assert sue.get("/wallboard/kiosk.json").status == 200
    # The desk page's own polling does not keep a session alive.
    desk = _as(app, fake_api, "sam", "supervisor")
    for _ in range(2):
        clock.advance(20 * 60)
        desk.get("/wallboard.json")
    assert desk.get("/wallboard.json").status == 403


# -- the agent's panel ---------------------------------------------------------------------

def test_agent_panel_changes_only_the_agents_own_status(app, fake_api):
    _center(fake_api)
    anna = _as(app, fake_api, "1001", "agent")
    page = anna.get("/")
    assert "Agent 1001" in page.text and 'data-agent-events="/agent/events"' in page.text
    reply = anna.post("/agent/status", {"csrf_token": page.csrf(), "action": "break",
                                        "reason": "lunch", "extension": "1002"})
    assert reply.location == "/agent"
    assert fake_api.agents["1001"]["status"] == "ON_BREAK"
    assert fake_api.agents["1001"]["break_reason"] == "lunch"
    assert fake_api.agents["1002"]["status"] == "AVAILABLE"
    anna.post("/agent/status", {"csrf_token": page.csrf(), "action": "logout"})
    assert fake_api.agents["1001"]["status"] == "LOGGED_OUT"
    assert "Log in" in anna.get("/agent").text


def test_an_agent_user_that_is_no_agent_is_told_the_convention(app, fake_api):
    _center(fake_api)
    ola = _as(app, fake_api, "ola", "agent")
    page = ola.get("/")
    assert "is not an agent" in page.text and "username is their extension" in page.text
    reply = ola.post("/agent/status", {"csrf_token": page.csrf(), "action": "login"})
    assert reply.status == 404 and "is not an agent" in reply.text


def test_agent_panel_shows_the_call_offered_to_them(app, fake_api):
    _center(fake_api)
    call = fake_api.caller_waits("sales", "+48601234567")
    fake_api.offer(call, "1001")
    anna = _as(app, fake_api, "1001", "agent")
    page = anna.get("/agent")
    assert "+48601234567" in page.text and "Ringing" in page.text
    fake_api.answer(call, "1001")
    assert "On a call" in anna.get("/agent").text
    fake_api.hang_up_agent("1001")
    assert 'id="screen-pop" aria-labelledby="pop-title" hidden' in anna.get("/agent").text


def test_agent_event_stream_carries_only_the_agents_own_events(app, fake_api, clock):
    _center(fake_api)
    anna = _as(app, fake_api, "1001", "agent")
    got: dict = {}

    def listen():
        got["reply"] = anna.get("/agent/events")

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    deadline = time.monotonic() + 10
    while fake_api.subscribers() == 0:
        assert time.monotonic() < deadline, "the relay never subscribed"
        time.sleep(0.05)
    other = fake_api.caller_waits("sales", "+48609999999")
    fake_api.offer(other, "1002")
    mine = fake_api.caller_waits("sales", "+48601234567")
    fake_api.offer(mine, "1001")
    fake_api.emit("registration", {"aor": "1002", "source": "udp:127.0.0.1:5062"})
    clock.advance(6)  # past the relay's 5 s limit (the app fixture): it ends on its own
    reader.join(30)
    text = got["reply"].text
    assert "+48601234567" in text and '"extension": "1001"' in text
    assert "+48609999999" not in text and '"extension": "1002"' not in text
    assert "registration" not in text
