"""The bridge process: every bad command gets a clear reply, and the process goes on."""

from __future__ import annotations

import pytest

from tests.webrtc.captures import CHROMIUM_OFFER, PJSUA2_OFFER
from tests.webrtc.peers import BridgeProcess


@pytest.fixture
def bridge():
    made = BridgeProcess("127.0.0.1")
    yield made
    made.close()


def test_bad_commands_get_clear_replies_and_change_nothing(bridge):
    bridge.send_line("this is not json")
    bridge.send_line("[1, 2]")
    assert bridge.command("dance")["error"] == "unknown command 'dance'"
    assert bridge.command("engine_answers", call="nobody", answer=PJSUA2_OFFER)["error"] == "no call 'nobody'"
    assert "unexpected keyword" in bridge.command("hang_up", call="c1", colour="red")["error"]
    refused = bridge.command("browser_calls", call="c1", offer="v=0\r\nnonsense")
    assert not refused["ok"] and refused["error"].startswith("browser offer")
    assert bridge.command("stats")["calls"] == {}       # the refused call left nothing behind
    assert bridge.proc.poll() is None


def test_calls_are_kept_apart_by_their_id(bridge):
    first = bridge.command("browser_calls", call="c1", offer=CHROMIUM_OFFER)
    assert first["ok"] and "UDP/TLS/RTP/SAVPF 9 126" in first["answer"]
    assert bridge.command("browser_calls", call="c1", offer=CHROMIUM_OFFER)["error"] == "call id 'c1' is empty or taken"
    ringing = bridge.command("ring_browser", call="c2", engine_offer=PJSUA2_OFFER)
    assert ringing["ok"] and "a=setup:actpass" in ringing["offer"]
    assert set(bridge.command("stats")["calls"]) == {"c1", "c2"}
    assert bridge.command("hang_up", call="c1")["ok"]
    assert set(bridge.command("stats")["calls"]) == {"c2"}
    assert bridge.command("hang_up", call="c1")["ok"]     # already gone: nothing to do


def test_a_hang_up_during_set_up_leaves_nothing_behind(bridge):
    setting_up = bridge.ask("browser_calls", call="c1", offer=CHROMIUM_OFFER)
    hanging_up = bridge.ask("hang_up", call="c1")
    assert bridge.reply(hanging_up)["ok"]
    bridge.reply(setting_up)          # answered either way: set up before the hang-up, or refused
    bridge.command("hang_up", call="c1")
    assert bridge.command("stats")["calls"] == {}
