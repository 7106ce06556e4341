"""The front panel in the running core: simulated backend here, driven through the API like the web page does."""

from __future__ import annotations

import time


def test_panel_shows_ready_and_night_switch_is_an_event(core):
    from tests.integration.test_events import EventReader
    status, snap = core.api("GET", "/api/panel")
    assert status == 200 and snap["simulated"] is True
    deadline = time.monotonic() + 5
    while not core.api("GET", "/api/panel")[1]["leds"]["ready"].get("lit"):
        assert time.monotonic() < deadline, "the ready LED never came on"
        time.sleep(0.2)
    reader = EventReader(core, kinds="night_mode")
    try:
        status, snap = core.api("POST", "/api/panel/press", {"button": "night", "action": "toggle"})
        assert status == 200 and snap["night_mode"] is True
        event = reader.next("night_mode")
        assert (event["on"], event["by"]) == (True, "panel")
    finally:
        reader.close()
    assert core.api("POST", "/api/panel/press", {"button": "coffee"})[0] == 400
