"""The pure shaping of call records, live blocks, the panel snapshot and machine readings."""

from __future__ import annotations

from datetime import date, timedelta, timezone

import pytest

from appliance.errors import ValidationError
from appliance.hw.backends import select_backend
from appliance.hw.panel import Panel, PanelState
from web.kit import (CallFilter, Usage, fmt_bytes, fmt_duration, fmt_uptime, led_view, now_blocks,
                     panel_view, parse_call_filter, parse_loadavg, parse_meminfo, parse_temperature,
                     parse_uptime, read_machine, record_row)

MEMINFO = """MemTotal:        3884584 kB
MemFree:          203648 kB
MemAvailable:    2912200 kB
Buffers:           81472 kB
Cached:          2411380 kB
"""


def test_a_filter_turns_days_into_the_apis_half_open_range():
    wanted = parse_call_filter({"from": "2026-03-28", "to": "2026-03-29", "number": " 600 ",
                                "page": "3"})
    assert wanted == CallFilter(date(2026, 3, 28), date(2026, 3, 29), "600", 3)
    assert wanted.offset == 100
    plus_two = timezone(timedelta(hours=2))
    assert wanted.api_range(plus_two) == ("2026-03-28T00:00:00+02:00", "2026-03-30T00:00:00+02:00")
    assert wanted.query(4) == "from=2026-03-28&to=2026-03-29&number=600&page=4"
    assert wanted.query(1) == "from=2026-03-28&to=2026-03-29&number=600"
    assert parse_call_filter({}).api_range() == (None, None)


@pytest.mark.parametrize("query, field", [
    ({"from": "28.03.2026"}, "from:"), ({"to": "2026-02-30"}, "to:"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "to:"), ({"number": "1 OR 1=1"}, "number:"),
    ({"page": "-1"}, "page:"), ({"page": "x"}, "page:"), ({"page": "100001"}, "page:"),
])
def test_malformed_filters_name_their_field(query, field):
    with pytest.raises(ValidationError, match=field):
        parse_call_filter(query)


def test_a_record_row_reads_like_a_person_would_say_it():
    row = record_row({"id": "r1", "start": "2026-11-02T09:03:12+01:00", "caller": "0601234567",
                      "caller_name": "Ola", "callee": "1002", "disposition": "NO ANSWER",
                      "duration_s": 3725.4, "talk_s": 0})
    assert row["start"] == "2026-11-02 09:03:12"
    assert row["caller"] == "Ola <0601234567>"
    assert row["disposition_class"] == "disp-no-answer"
    assert (row["duration"], row["talk"]) == ("1:02:05", "0:00")
    assert fmt_duration(None) == "" and fmt_duration(59.6) == "1:00"


def test_now_blocks_count_the_floor_and_time_answered_calls_from_the_answer():
    engine = {"workers": [{"id": "w1", "alive": True, "max_calls": 4, "free": 3},
                          {"id": "w2", "alive": False, "max_calls": 4, "free": 0}],
              "calls": [{"call_id": "a", "state": "ANSWERED", "start": 900.0, "answer": 950.0},
                        {"call_id": "b", "state": "RINGING", "start": 990.0, "answer": None}]}
    blocks = now_blocks(engine, [], now=1000.0)
    assert blocks["summary"] == {"active": "2", "talking": "1", "waiting": "1", "workers": "1 of 2"}
    assert [(c["since"], c["since_text"]) for c in blocks["calls"]] == [(950.0, "0:50"), (990.0, "0:10")]
    assert blocks["workers"][0]["busy"] == "1 of 4"
    assert now_blocks(None, None, 0)["available"] == {"engine": False, "records": False}


def test_the_panel_view_reads_the_real_panels_snapshot():
    panel = Panel(select_backend("simulated"))
    panel.show(PanelState(ready=False, lines_ok=True, callers_waiting=9, voicemail_waiting=True,
                          faults=["sim_problem", "no_line"]))
    panel.press("reset")
    view = panel_view(panel.snapshot())
    assert view.simulated and view.backend == "simulated"
    leds = {led.name: led for led in view.leds}
    assert (leds["ready"].css, leds["line"].css) == ("led-slow", "led-on")
    assert leds["waiting"].css == "led-fast"
    assert leds["fault"].css == "led-code-1" and leds["fault"].colour == "red"
    assert view.faults == ["no_line (code 1)", "sim_problem (code 4)"]
    buttons = {b.name: b for b in view.buttons}
    assert buttons["reset"].pressed and buttons["reset"].actions == [("release", "Let go of reset")]
    assert buttons["night"].actions == [("toggle", "Turn night mode on")]


def test_the_panel_view_also_reads_the_short_form():
    view = panel_view({"backend": "rpi-gpio", "night_mode": True,
                       "leds": {"ready": {"lit": True, "pattern": None},
                                "fault": {"lit": False, "pattern": None},
                                "voicemail": {"lit": True, "pattern": {"on": 1.0, "off": 1.0}}},
                       "buttons": {"night": True, "status": False}})
    assert not view.simulated and view.night_mode
    assert [(led.name, led.css) for led in view.leds] == \
        [("ready", "led-on"), ("fault", "led-off"), ("voicemail", "led-slow")]
    assert {b.name: b.pressed for b in view.buttons} == {"night": True, "status": False}
    assert led_view("fault", {"lit": True, "mode": "blink",
                              "pattern": {"on": 0.3, "off": 0.4, "count": 7, "pause": 2}}).says \
        == "flashing code 7"


def test_machine_readings_are_parsed_from_proc_text(tmp_path):
    memory = parse_meminfo(MEMINFO)
    assert memory == Usage(3884584 * 1024, 2912200 * 1024) and memory.percent_used == 25
    assert parse_meminfo("nonsense") is None
    assert parse_uptime("350735.47 234388.90\n") == 350735.47 and parse_uptime("") is None
    assert parse_loadavg("0.52 0.58 0.59 1/467 31337\n") == (0.52, 0.58, 0.59)
    assert parse_temperature("48312\n") == 48.3
    proc = tmp_path / "proc"
    proc.mkdir()
    (proc / "meminfo").write_text(MEMINFO)
    (proc / "uptime").write_text("90061.0 1.0\n")
    info = read_machine(tmp_path, proc=proc, sys_dir=tmp_path / "nosys")
    assert info.memory == memory and info.uptime_s == 90061.0
    assert info.load is None and info.temperature_c is None
    assert info.disk is not None and 0 < info.disk.available <= info.disk.total
    assert fmt_uptime(info.uptime_s) == "1 d 1 h" and fmt_uptime(125 * 60) == "2 h 5 min"
    assert fmt_bytes(3884584 * 1024) == "3.7 GiB" and fmt_bytes(512) == "512 B"
