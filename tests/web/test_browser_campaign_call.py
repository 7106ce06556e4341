"""A preview campaign worked in headless Chromium with a call really placed: a real core with the
engine on, the agent's desk phone and the callee's phone (another extension: the dialer rings
extensions directly) as pjsua2 phones. The agent sees the card and presses Dial; their own phone
rings first and is answered, then the callee's; each hears the other (FFT); the callee hangs up;
the agent chooses a result and writes a note on the card; the list's export and the call record
say so."""

from __future__ import annotations

import csv
import io
import time

import pytest

from tests.integration.corebox import CoreProcess
from tests.integration.test_calls import hear_each_other
from tests.integration.test_campaigns_calls import ALWAYS
from tests.web.conftest import ADMIN_PASSWORD
from tests.web.served_page import chromium, logged_in_window, serving
from tests.web.test_browser import ARTIFACTS
from web.api_client import ApiClient
from web.kit import hash_password

pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
pytestmark = pytest.mark.peers

@pytest.fixture
def office(tmp_path):
    """A core that places calls, agent 1001 of queue support, and the web page served against it."""
    from tests.peers.phones import Phone
    core = CoreProcess(tmp_path / "data", {"engine.enabled": True, "engine.max_calls": 2}).start()
    api = ApiClient.from_data_dir(core.data_dir)
    api.add_queue({"name": "support", "wrap_up_s": 0})
    phones = {}
    for number, name in (("1001", "desk"), ("1002", "callee")):
        ext = core.add_extension(number)
        phone = phones[number] = Phone(name)
        phone.register(f"sip:127.0.0.1:{core.sip_port}", number, ext["secret"])
        phone.wait_for("reg_state", code=200, timeout=15)
        core.wait_registered(number)
    api.add_agent("1001", ["support"])
    api.update_settings({"setup.wizard": {"step": "done"}})
    api.add_user("1001", "agent", hash_password(ADMIN_PASSWORD))
    try:
        with serving(api) as base:
            yield core, phones["1001"], phones["1002"], base
    finally:
        for phone in phones.values():
            phone.close()
        core.stop()


def test_the_agent_dials_from_the_card_talks_and_saves_the_result(office, tmp_path):
    core, desk, callee, base = office
    status, made = core.api("POST", "/api/campaigns", {
        "id": "repairs", "name": "After repairs", "mode": "preview", "queue": "support", "hours": ALWAYS,
        "zone": "UTC", "ring_timeout_s": 15, "dispositions": ["Fixed", "Still broken"],
        "script": "Good morning {name}, how is the washing machine?"})
    assert status == 201, made
    assert core.api("POST", "/api/campaigns/repairs/people",
                    {"people": [{"number": "1002", "name": "Bartek Klient"}]})[1]["added"] == 1
    assert core.api("POST", "/api/campaigns/repairs/start")[1]["state"] == "running"
    with chromium() as browser:
        agent = logged_in_window(browser, base, "1001")
        agent.goto(base + "/agent")
        agent.locator("#agent").get_by_role("button", name="Log in", exact=True).click()
        agent.get_by_text("You are available.").wait_for()
        card = agent.locator("#campaign-card")
        assert card.locator("#card-script").inner_text() == \
            "Good morning Bartek Klient, how is the washing machine?"
        card.get_by_role("button", name="Dial").click()
        agent.get_by_text("Your phone rings: pick it up to call the person.").wait_for()

        incoming = desk.wait_for("incoming", timeout=10)  # the agent's own phone first
        assert "1002" in incoming["from"]
        assert not callee.events("incoming")
        desk.answer()
        desk.wait_for("call_state", state="CONFIRMED", timeout=10)
        callee.wait_for("incoming", timeout=10)  # then the person's
        callee.answer()
        callee.wait_for("call_state", state="CONFIRMED", timeout=10)
        time.sleep(0.5)
        hear_each_other(desk, callee, tmp_path, listen_s=2.0)
        agent.locator("#card-step").get_by_text("on the call").wait_for()

        callee.hangup()
        desk.wait_for("call_state", state="DISCONNECTED", timeout=10)
        agent.locator("#card-step").get_by_text("choose the result").wait_for(timeout=20000)
        card = agent.locator("#campaign-card")
        card.get_by_label("Notes").fill("works again, wants a service plan")
        agent.screenshot(path=str(ARTIFACTS / "web-agent-campaign-call.png"), full_page=True)
        card.get_by_role("button", name="Fixed").click()
        agent.get_by_text("Result saved: Fixed.").wait_for()

    status, text = core.api("GET", "/api/campaigns/repairs/list.csv")
    assert status == 200, text
    row = next(r for r in csv.DictReader(io.StringIO(text)) if r["name"] == "Bartek Klient")
    assert (row["result"], row["notes"], row["agent"]) == ("Fixed", "works again, wants a service plan", "1001"), row
    records = [r for r in core.api("GET", "/api/cdr")[1]["records"] if r.get("campaign") == "repairs"]
    assert len(records) == 1, records
    assert (records[0]["campaign_result"], records[0]["agent"], records[0]["callee"]) == ("ANSWERED", "1001", "1002")
