"""Every time a page shows is on the box's clock (box.timezone), not the server's (UTC on the box)
nor the browser's, and written 24-hour in every language: no AM/PM in Polish."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from web.kit import Translator, fmt_time

ROOT = Path(__file__).resolve().parents[2]
AFTERNOON = datetime(2026, 11, 10, 13, 5, 9, tzinfo=timezone.utc)  # 14:05:09 in Warsaw, 21:05:09 in Shanghai


def test_the_translator_shows_moments_on_the_box_clock():
    pl = Translator("pl", "Europe/Warsaw")
    assert pl.datetime(AFTERNOON.isoformat()) == "10 listopada 2026 14:05"
    assert pl.datetime(AFTERNOON.timestamp()) == "10 listopada 2026 14:05"
    assert pl.time(AFTERNOON) == "14:05:09"
    assert Translator("zh", "Asia/Shanghai").time(AFTERNOON.timestamp()) == "21:05:09"
    assert Translator("en").time(AFTERNOON) == "13:05:09"  # UTC until the box has a time zone
    assert Translator("en", "No/Such_Zone").time(AFTERNOON) == "13:05:09"
    # A record written while the box's clock was at +01:00 stays that wall time in Warsaw.
    assert fmt_time("2026-11-10T14:05:09+01:00", "Europe/Warsaw") == "2026-11-10 14:05:09"
    assert fmt_time("2026-07-10T12:00:00+00:00", "Europe/Warsaw") == "2026-07-10 14:00:00"  # summer time
    assert fmt_time(AFTERNOON.timestamp(), "Europe/Warsaw") == "2026-11-10 14:05:09"


@pytest.fixture
def warsaw(fake_api):
    fake_api.settings["box.timezone"] = "Europe/Warsaw"
    return fake_api


def test_calls_and_now_pages_show_the_box_time(admin, warsaw):
    warsaw.add_call_record(caller="601234567", start=AFTERNOON.isoformat())
    calls = admin.get("/calls").text
    assert "Nov 10, 2026, 14:05:09" in calls and "13:05:09" not in calls
    now = admin.get("/now").text
    assert "Nov 10, 2026, 14:05:09" in now
    recent = json.loads(admin.get("/now.json").text)["recent"]
    assert recent[0]["start"] == "Nov 10, 2026, 14:05:09"
    admin.submit("/", "/language", {"language": "pl", "next": "/"})  # in the page's language
    assert "10 lis 2026, 14:05:09" in admin.get("/calls").text
    assert 'data-timezone="Europe/Warsaw"' in now  # for the times the page's script writes


def test_the_calls_filter_takes_the_box_days(admin, warsaw):
    admin.get("/calls?from=2026-11-10&to=2026-11-10")
    query = warsaw.queries[-1][1]
    assert query["from"] == ["2026-11-10T00:00:00+01:00"] and query["to"] == ["2026-11-11T00:00:00+01:00"]


def test_reports_say_as_of_on_the_box_clock(admin, warsaw):
    warsaw.settings["box.timezone"] = "Asia/Shanghai"
    page = admin.get("/reports?from=2026-11-16&to=2026-11-22").text
    assert "as of November 22, 2026, 21:05" in page  # the core's 14:05+01:00, in Shanghai


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize("lang, tz, expected", [
    ("pl", "Europe/Warsaw", "14:05:09"), ("en", "Europe/Warsaw", "14:05:09"),
    ("zh-Hans", "Asia/Shanghai", "21:05:09"), ("pl", "", None), ("en", "Not/AZone", None),
])
def test_the_event_feed_writes_box_time_24_hour(lang, tz, expected):
    # app.js's boxTime, run by node with the page's <html lang> and <body data-timezone>, an en-US default
    # locale, as a browser on many machines has: the feed once said "1:05:09 PM" on a Polish page.
    script = """
    global.document = { documentElement: { getAttribute: function () { return LANG; } },
                        body: { getAttribute: function () { return TZ; } },
                        getElementById: function () { return null; }, addEventListener: function () {} };
    global.window = {};
    eval(require("fs").readFileSync(APP, "utf8") + "; global.boxTime = boxTime;");
    process.stdout.write(boxTime(new Date(Date.UTC(2026, 10, 10, 13, 5, 9))));
    """.replace("LANG", json.dumps(lang)).replace("TZ", json.dumps(tz)).replace(
        "APP", json.dumps(str(ROOT / "web" / "static" / "app.js")))
    out = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30,
                         env={"LANG": "en_US.UTF-8", "TZ": "UTC", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "AM" not in out.stdout and "PM" not in out.stdout
    if expected:
        assert out.stdout == expected
    else:
        assert len(out.stdout) == 8 and out.stdout[2] == ":"
