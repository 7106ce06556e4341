"""A report asked without days covers the business's today (box.timezone), not the server's UTC day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo


def test_the_default_report_day_is_the_box_day(core_factory):
    # Kiritimati is 14 hours ahead of UTC and Etc/GMT+12 12 hours behind: at any moment at least one
    # of them is on another day than UTC, which the server's clock used to give.
    for zone in ("Pacific/Kiritimati", "Etc/GMT+12"):
        core = core_factory({"box.timezone": zone})
        status, body = core.api("GET", "/api/reports/queues")
        today = datetime.now(ZoneInfo(zone)).date().isoformat()
        assert status == 200 and (body["from"], body["to"]) == (today, today), (zone, body["from"])
        core.stop()
