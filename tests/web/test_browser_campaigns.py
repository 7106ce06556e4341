"""Headless Chromium against a real core (engine off): an admin creates a preview campaign, uploads
its call list and starts it; the agent's panel shows the card with the script filled in; the
agent's Dial is refused in words (no engine places calls here), so the agent books a callback
with a result and a note; the list the admin exports says so."""

from __future__ import annotations

import csv
import io

import pytest

from tests.integration.corebox import CoreProcess
from tests.web.conftest import ADMIN_PASSWORD
from tests.web.served_page import chromium, logged_in_window, serving
from tests.web.test_browser import ARTIFACTS
from web.api_client import ApiClient
from web.kit import hash_password

LIST = ("Telefon;Nazwa;Zlecenie\n+48 600 100 201;Anna Nowak;Z-1\n+48 600 100 202;Bożena Ćwik;Z-2\n"
        "bez numeru;Celina;Z-3\n").encode("cp1250")
ALWAYS = "\n".join(f"{d} 00:00-24:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))


@pytest.fixture
def on_core(tmp_path):
    """A real core with a queue and agent 1001, and the web page served against it."""
    core = CoreProcess(tmp_path / "data").start()
    api = ApiClient.from_data_dir(core.data_dir)
    api.add_queue({"name": "support"})
    api.add_extension("1001", "Anna Agent")
    api.add_agent("1001", ["support"])
    api.update_settings({"setup.wizard": {"step": "done"}})
    for username, role in (("boss", "admin"), ("1001", "agent")):
        api.add_user(username, role, hash_password(ADMIN_PASSWORD))
    with serving(api) as base:
        yield base, tmp_path
    core.stop()


def test_a_preview_campaign_from_the_editor_to_the_agents_result(on_core):
    base, tmp_path = on_core
    with chromium() as browser:
        owner = logged_in_window(browser, base, "boss")
        owner.goto(base + "/campaigns/new")
        owner.get_by_label("Id", exact=True).fill("repairs")
        owner.get_by_label("Name", exact=True).fill("After repairs")
        owner.get_by_label("Mode", exact=True).select_option("preview")
        owner.get_by_label("Queue whose agents work it").select_option("support")
        owner.get_by_label("Own calling hours (empty: the country’s)").fill(ALWAYS)
        owner.get_by_label("Result buttons (one a line)").fill("Fixed\nStill broken\nCall back later")
        owner.get_by_label("Script").fill("Good morning {name}, we are calling about your order {Zlecenie}.")
        owner.get_by_role("button", name="Save campaign").click()
        owner.wait_for_url(base + "/campaigns/repairs/list")
        owner.get_by_label("CSV file", exact=True).set_input_files(
            files=[{"name": "list.csv", "mimeType": "text/csv", "buffer": LIST}])
        owner.get_by_role("button", name="Import").click()
        owner.get_by_text("Line 4: no phone number").wait_for()
        assert owner.locator("#entries").get_by_text("Bożena Ćwik").is_visible()
        owner.get_by_role("button", name="Start After repairs").click()
        owner.get_by_text("Campaign After repairs is running.").wait_for()
        owner.screenshot(path=str(ARTIFACTS / "web-campaign-list.png"), full_page=True)

        agent = logged_in_window(browser, base, "1001")
        assert agent.locator("#campaign-card").is_hidden()  # logged out of the queue: no card
        agent.locator("#agent").get_by_role("button", name="Log in", exact=True).click()
        agent.get_by_text("You are available.").wait_for()
        card = agent.locator("#campaign-card")
        assert card.is_visible()
        assert card.locator("#card-script").inner_text() == \
            "Good morning Anna Nowak, we are calling about your order Z-1."
        card.get_by_role("button", name="Dial").click()
        agent.get_by_text("The call was not placed: the box places no calls now").wait_for()
        card = agent.locator("#campaign-card")
        card.get_by_label("Notes").fill("back from holiday on Monday")
        card.get_by_label("Call back at").fill("2030-01-07T10:30")
        agent.screenshot(path=str(ARTIFACTS / "web-agent-campaign-card.png"), full_page=True)
        card.get_by_role("button", name="Call back later").click()
        agent.get_by_text("Result saved: Call back later.").wait_for()
        # Anna waits for her callback: the next person is on the card.
        assert "Bożena Ćwik" in agent.locator("#campaign-card").inner_text()

        # The admin pauses the campaign: the agent's card follows without a reload.
        owner.goto(base + "/campaigns")
        owner.get_by_role("button", name="Pause After repairs").click()
        owner.get_by_text("Campaign After repairs is paused.").wait_for()
        agent.locator("#campaign-card").wait_for(state="hidden")
        reply = owner.request.get(base + "/campaigns/repairs/list.csv")
        assert reply.ok
        rows = {r["name"]: r for r in csv.DictReader(io.StringIO(reply.text()))}
        assert (rows["Anna Nowak"]["result"], rows["Anna Nowak"]["notes"], rows["Anna Nowak"]["agent"]) == \
            ("Call back later", "back from holiday on Monday", "1001")
        owner.goto(base + "/campaigns/repairs/report")
        owner.screenshot(path=str(ARTIFACTS / "web-campaign-report.png"), full_page=True)
