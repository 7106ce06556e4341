"""Agent figures from a hand-built queue log and call records."""

from __future__ import annotations

import pytest

from appliance.errors import ValidationError
from appliance.logic.stats import agent_stats, agent_stats_csv, merge, rollup_days
from appliance.logic.stats.export import AGENT_COLUMNS

DAY_START, DAY_END = "2026-11-10T00:00:00+00:00", "2026-11-11T00:00:00+00:00"


def ev(time, agent, event, reason=None):
    return {"time": f"2026-11-{time}+00:00", "queue": "sales", "call_id": None, "agent": agent,
            "event": event, "wait_s": None, "position": None, "reason": reason}


def answered(start, agent, talk, wrap, outcome="ANSWERED"):
    return {"id": f"{agent}-{start}", "start": f"2026-11-{start}+00:00", "direction": "inbound",
            "queue": "sales", "agent": agent, "talk_s": talk, "wrap_up_s": wrap, "wait_s": 3,
            "disposition": "ANSWERED", "outcome": outcome}


LOG = [
    # 201: a normal day 08:00-16:00 with lunch and a training break.
    ev("10T08:00:00", "201", "AGENT_LOGIN"),
    ev("10T10:00:00", "201", "MISSED_OFFER"),
    ev("10T12:00:00", "201", "AGENT_BREAK", "lunch"),
    ev("10T12:30:00", "201", "AGENT_AVAILABLE"),
    ev("10T14:00:00", "201", "AGENT_BREAK", "training"),
    ev("10T14:15:00", "201", "AGENT_AVAILABLE"),
    ev("10T16:00:00", "201", "AGENT_LOGOUT"),
    # 202: went on a break the evening before; the window starts mid-break.
    ev("09T23:00:00", "202", "AGENT_BREAK", "meeting"),
    ev("10T01:00:00", "202", "AGENT_AVAILABLE"),
    ev("10T02:00:00", "202", "AGENT_LOGOUT"),
    # 203: logs in late and is still logged in when the window ends.
    ev("10T22:00:00", "203", "AGENT_LOGIN"),
    # 204: nothing before an AGENT_AVAILABLE: on a break since the window began.
    ev("10T09:00:00", "204", "AGENT_AVAILABLE"),
    ev("10T10:00:00", "204", "AGENT_LOGOUT"),
]
CALLS = [
    answered("10T09:00:00", "201", 600, 60),
    answered("10T11:00:00", "201", 1200, 140, outcome="TRANSFERRED"),
    # Not handled by 201: abandoned in queue while ringing it.
    {**answered("10T11:30:00", "201", 0, 0), "outcome": "ABANDONED", "disposition": "NO ANSWER"},
    # Another day: outside the window.
    answered("11T09:00:00", "201", 999, 1),
]


def _by_agent():
    return {row.agent: row for row in agent_stats(CALLS, LOG, DAY_START, DAY_END)}


def test_a_normal_day():
    a = _by_agent()["201"]
    assert a.calls == 2
    assert (a.talk_s, a.wrap_up_s) == (1800, 200)
    assert a.logged_in_s == 8 * 3600                       # 08:00 -> 16:00
    assert a.break_s_by_reason == {"lunch": 1800, "training": 900}
    assert a.break_s == 2700
    assert a.missed_offers == 1
    # utilisation = talk / logged-in = 1800 / 28800
    assert a.utilisation == pytest.approx(0.0625)
    # occupancy = (talk + wrap-up) / (logged-in - breaks) = 2000 / 26100
    assert a.occupancy == pytest.approx(2000 / 26100)
    # average handle = (1800 + 200) / 2
    assert a.avg_handle_s == pytest.approx(1000)


def test_sessions_open_at_the_window_edges_are_clipped():
    rows = _by_agent()
    # 202: logged in from the window start (00:00) to 02:00, on break 00:00-01:00.
    assert rows["202"].logged_in_s == 7200
    assert rows["202"].break_s_by_reason == {"meeting": 3600}
    assert rows["202"].occupancy == 0.0
    # 203: 22:00 until the window ends at midnight; no calls, so nothing used.
    assert rows["203"].logged_in_s == 7200
    assert rows["203"].utilisation == 0.0
    # 204: logged in and on an unnamed break 00:00-09:00, logged out at 10:00.
    assert rows["204"].logged_in_s == 10 * 3600
    assert rows["204"].break_s_by_reason == {"unspecified": 9 * 3600}


def test_an_agent_never_logged_in_has_no_ratios():
    rows = {r.agent: r for r in agent_stats([], [ev("10T12:00:00", "205", "AGENT_LOGOUT")],
                                             "2026-11-10T12:00:00+00:00", DAY_END)}
    assert rows["205"].logged_in_s == 0
    assert rows["205"].utilisation is None and rows["205"].occupancy is None


def test_window_must_not_run_backwards():
    with pytest.raises(ValidationError):
        agent_stats(CALLS, LOG, DAY_END, DAY_START)


def test_day_rollups_carry_a_session_over_midnight():
    log = [
        ev("10T22:00:00", "301", "AGENT_LOGIN"),
        ev("11T01:00:00", "301", "AGENT_BREAK", "smoke"),
        ev("11T01:10:00", "301", "AGENT_AVAILABLE"),
        ev("11T02:00:00", "301", "AGENT_LOGOUT"),
        ev("12T09:00:00", "301", "AGENT_LOGIN"),
        ev("12T10:00:00", "301", "AGENT_LOGOUT"),
    ]
    days = rollup_days([], log, "UTC")
    per_day = [days[d].agents["301"].logged_in_s for d in sorted(days)]
    # 22:00-24:00, 00:00-02:00, 09:00-10:00; on the 11th nothing carried past the logout.
    assert per_day == [7200, 7200, 3600]
    whole = merge(days.values()).agents["301"]
    direct = {r.agent: r for r in agent_stats([], log, DAY_START, "2026-11-13T00:00:00+00:00")}["301"]
    assert whole.logged_in_s == direct.logged_in_s == 18000
    assert whole.break_s_by_reason == direct.break_s_by_reason == {"smoke": 600}


def test_agent_csv():
    text = agent_stats_csv(agent_stats(CALLS, LOG, DAY_START, DAY_END))
    header, first, *_ = text.split("\r\n")
    assert header.split(",") == list(AGENT_COLUMNS)
    row = dict(zip(AGENT_COLUMNS, first.split(",")))
    assert row["agent"] == "201"
    assert row["breaks_by_reason"] == "lunch=1800.0;training=900.0"
    assert row["utilisation"] == "0.0625"
