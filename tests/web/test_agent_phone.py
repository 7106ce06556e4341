"""The agent panel's phone through the WSGI app: who gets a ticket for which extension, the CSRF
rule, the core's refusals in words, and the page's policy that lets the phone reach the box."""

from __future__ import annotations

import json

from tests.web.conftest import ADMIN_PASSWORD, add_user, log_in
from tests.web.test_center import _as, _center


def _ticket(client, token: str):
    return client.post("/agent/phone/ticket", {}, headers={"X-CSRF-Token": token})


def test_an_agent_gets_a_ticket_for_their_own_extension_only(app, fake_api):
    _center(fake_api)
    agent = _as(app, fake_api, "1001", "agent")
    page = agent.get("/agent")
    assert 'id="phone"' in page.text and 'data-extension="1001"' in page.text
    assert "/static/jssip.min.js" in page.text and "/static/phone.js" in page.text
    reply = _ticket(agent, page.csrf())
    assert reply.status == 200, reply.text
    body = json.loads(reply.text)
    assert (body["extension"], body["port"], body["expires_in"]) == ("1001", 7443, 60)
    assert fake_api.tickets[-1]["extension"] == "1001" and body["ticket"] == fake_api.tickets[-1]["ticket"]
    # No form field names the extension: the username is the extension, whatever is sent.
    reply = agent.post("/agent/phone/ticket", {"extension": "1002"}, headers={"X-CSRF-Token": page.csrf()})
    assert json.loads(reply.text)["extension"] == "1001"
    assert {t["extension"] for t in fake_api.tickets} == {"1001"}


def test_a_ticket_needs_the_csrf_token_and_a_session(app, fake_api):
    _center(fake_api)
    agent = _as(app, fake_api, "1001", "agent")
    assert agent.post("/agent/phone/ticket", {}).status == 403
    assert _ticket(agent, "forged").status == 403
    assert fake_api.tickets == []


def test_users_who_are_not_agents_get_no_ticket_and_are_told_why(app, fake_api):
    _center(fake_api, agents=("1001",))
    fake_api.extensions["1002"] = {"number": "1002", "name": "Desk", "secret": "s" * 16,
                                   "class_of_service": "national", "voicemail": True}
    for username, role in (("1002", "agent"), ("boss", "admin")):
        client = _as(app, fake_api, username, role)
        reply = _ticket(client, client.get("/").csrf())
        assert reply.status == 403
        assert "is not an agent" in json.loads(reply.text)["error"]
    assert fake_api.tickets == []


def test_browser_phones_off_on_the_box_is_a_409_in_words(app, fake_api):
    _center(fake_api)
    fake_api.wss_port = 0
    agent = _as(app, fake_api, "1001", "agent")
    reply = _ticket(agent, agent.get("/agent").csrf())
    assert reply.status == 409
    assert "off" in json.loads(reply.text)["error"]


def test_the_panel_may_open_a_websocket_to_its_own_host_and_nowhere_else(app, fake_api):
    _center(fake_api)
    agent = _as(app, fake_api, "1001", "agent")
    for path in ("/", "/agent"):
        policy = agent.get(path).header("Content-Security-Policy")
        assert "connect-src 'self' wss://callbox.test:*" in policy, path
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "script-src" not in policy and "unsafe" not in policy  # still no inline script
    assert "wss:" not in agent.get("/contacts").header("Content-Security-Policy")

    def policy(host: str) -> str:
        return agent.get("/agent", headers={"Host": host}).header("Content-Security-Policy")

    assert policy("[fe80::1]:8443").endswith("connect-src 'self' wss://[fe80::1]:*")
    assert policy("192.168.1.20").endswith("connect-src 'self' wss://192.168.1.20:*")
    for hostile in ("evil.example; script-src *", "a b", "x" * 300):
        assert policy(hostile).endswith("connect-src 'self'"), hostile


def test_the_phone_words_are_in_the_readers_language(app, fake_api):
    _center(fake_api)
    add_user(fake_api, "1001", "agent", ADMIN_PASSWORD)
    from tests.web.wsgi_client import WsgiClient
    client = WsgiClient(app, remote_addr="127.0.0.90")
    assert log_in(client, "1001", ADMIN_PASSWORD).status == 303
    client.post("/language", {"csrf_token": client.get("/agent").csrf(), "language": "pl"})
    page = client.get("/agent").text
    words = json.loads(page.split('id="phone-words">')[1].split("</script>")[0])
    assert words["mic_denied"] != "The browser refused the microphone to this page, so calls cannot " \
        "ring here. Allow the microphone in the site settings (the icon left of the address), then reload the page."
