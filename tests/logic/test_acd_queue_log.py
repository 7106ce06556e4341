"""The queue log the ACD writes is the one the statistics read."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from appliance.logic.acd import QueueConfig
from appliance.logic.stats.agents import agent_tallies
from tests.logic.test_acd_support import Box

EPOCH_2026 = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc).timestamp()


def test_agent_sessions_breaks_and_misses_add_up_in_the_statistics():
    box = Box(QueueConfig("sales", ring_timeout_s=20, no_answer_backoff_s=0, max_no_answer=0))
    box.clock.now = EPOCH_2026
    box.agents("1001")  # 08:00 login
    box.advance(3600)
    box.agent_go_on_break("1001", "lunch")  # 09:00
    box.advance(1800)
    box.agent_available("1001")  # 09:30
    box.caller_joins("sales", "c1", "+48601")
    box.advance(20)  # missed
    box.offer_answered("c1", "1001")
    box.advance(580)
    box.agent_logout("1001")  # 09:40, still talking: the session ends anyway
    lines = [json.loads(json.dumps(e.to_dict())) for e in box.entries()]
    tally = agent_tallies([], lines, datetime(2026, 11, 2, tzinfo=timezone.utc),
                          datetime(2026, 11, 3, tzinfo=timezone.utc))["1001"]
    assert tally.logged_in_s == 3600 + 1800 + 600
    assert tally.break_s_by_reason == {"lunch": 1800}
    assert tally.missed_offers == 1


def test_every_settled_caller_has_one_line_with_its_result():
    box = Box(QueueConfig("sales", max_callers=1, overflow_to="vm"))
    box.agents("1001")
    box.agent_go_on_break("1001", "meeting")
    box.caller_joins("sales", "c1", "+1")
    box.caller_joins("sales", "c2", "+2")
    box.caller_hangs_up("c1")
    results = [e.to_dict() for e in box.entries() if e.result]
    assert [(r["call_id"], r["event"], r["result"]) for r in results] == [
        ("c2", "FULL", "FULL"), ("c1", "ABANDONED", "ABANDONED")]
