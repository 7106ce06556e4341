"""The campaign dialer and one campaign call at run time, over the real campaign service and the real
ACD, with a fake engine worker that records what it is told (and can refuse a leg)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from appliance.campaign_calls import CampaignCallRuntime, Line
from appliance.campaign_dialer import CampaignDialer, DialerPorts
from appliance.campaigns import Campaigns
from appliance.errors import Conflict, EngineError
from appliance.logic.acd import QueueConfig
from appliance.store.db import Store
from tests.logic.test_acd_support import Box

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = {d: [{"start": "00:00", "end": "24:00"}] for d in DAYS}
AGENTS = ("1001", "1002")


class Worker:
    """A fake engine worker: every command recorded; a leg in `refuse` is refused as when it is full."""

    def __init__(self, room: int = 8):
        self.room, self.sent, self.refuse, self.alive = room, [], set(), True

    async def command(self, name: str, fields: dict[str, Any]) -> dict:
        if name == "call" and fields["leg"] in self.refuse:
            raise EngineError("full: 4 calls in this worker")
        self.sent.append((name, fields))
        return {"ok": True}

    def names(self) -> list[tuple[str, str]]:
        return [(name, f.get("leg") or f.get("a", "")) for name, f in self.sent]


class Rig:
    def __init__(self, tmp_path):
        self.store = Store(tmp_path / "data")
        self.acd = Box(QueueConfig("support", wrap_up_s=0))
        self.acd.agents(*AGENTS)
        self.campaigns = Campaigns(tables=self.store.table, folder=tmp_path / "data" / "campaigns",
                                   clock=self.acd.clock, publish=lambda kind, **d: None, queues=lambda: ["support"])
        self.worker = Worker()
        self.runs: list[CampaignCallRuntime] = []
        self.records: list[dict] = []
        self.missing: set[str] = set()
        self.dialer = CampaignDialer(DialerPorts(
            clock=self.acd.clock, campaigns=self.campaigns, free_agents=self.acd.center.free_agents,
            campaign_offer=self.acd.center.campaign_offer, campaign_talking=self.acd.center.campaign_talking,
            campaign_done=self.acd.center.campaign_done, run_acd=self.acd.run, plan=self.plan,
            is_extension=lambda n: n in AGENTS or n == "2001",
            phone_of=lambda n: f"sip:{n}@10.0.0.9" if n in AGENTS else None, place=self.place,
            write_record=self.records.append))

    @staticmethod
    def plan(number: str, route: str) -> tuple[Any, list[dict]]:
        if number.startswith("00"):
            return SimpleNamespace(allowed=False, verdict="CLASS_OF_SERVICE"), []
        trunks = sorted(["gw", "gsm"], key=lambda t: t != route)
        return SimpleNamespace(allowed=True, verdict="OK"), [{"trunk": t, "uri": f"sip:{number}@{t}"} for t in trunks]

    def place(self, run: CampaignCallRuntime) -> bool:
        if self.worker.room < run.legs:
            return False
        self.worker.room -= run.legs
        run.attach(SimpleNamespace(id="w0"), Line(
            "w0", self.worker.command, own_leg=lambda leg, owner: None,
            finish=lambda owner, record: self.records.append(record),
            prompt_file=lambda name, language: None if name in self.missing else f"/prompts/{language}/{name}.wav",
            alive=lambda: self.worker.alive))
        self.runs.append(run)
        return True

    def campaign(self, cid: str, numbers: list[str], **settings) -> None:
        self.campaigns.save({"id": cid, "name": cid, "hours": ALWAYS, "zone": "UTC", **settings})
        self.campaigns.add_people(cid, [{"number": n, "name": f"P{n[-2:]}"} for n in numbers])
        self.campaigns.control(cid, "start")

    def state(self, cid: str, number: str) -> str:
        return next(e["state"] for e in self.campaigns.entries(cid) if e["number"] == number)


@pytest.fixture
def rig(tmp_path):
    r = Rig(tmp_path)
    yield r
    r.store.close()


def run(coroutine_steps) -> None:
    asyncio.run(coroutine_steps())


async def settle() -> None:
    for _ in range(3):
        await asyncio.sleep(0)


def test_progressive_one_call_per_free_agent_who_is_kept_until_the_call_ends(rig):
    rig.campaign("follow", ["600100201", "600100202", "600100203"], mode="progressive", queue="support",
                 caller_id="221234567", route="gsm")

    async def steps():
        rig.dialer.tick()
        await settle()
        assert len(rig.runs) == 2 and rig.acd.center.free_agents("support") == []
        assert [rig.acd.center.agent(a).state for a in AGENTS] == ["OFFERED", "OFFERED"]
        first = rig.runs[0]
        dial = rig.worker.sent[0][1]
        assert (dial["uri"], dial["caller_id"]["number"]) == ("sip:600100201@gsm", "221234567")  # the route first
        rig.dialer.tick()
        assert len(rig.runs) == 2  # both agents are kept: nobody else is dialled
        first.on_event("answered", {"leg": first.call.callee_leg})
        await settle()
        assert rig.state("follow", "600100201") == "connected"
        assert ("call", first.call.agent_leg) in rig.worker.names()  # the kept agent's phone rings
        first.on_event("answered", {"leg": first.call.agent_leg})
        await settle()
        assert ("bridge", first.call.callee_leg) in rig.worker.names()
        assert rig.acd.center.agent(first.call.agent).state == "TALKING"
        first.on_event("hangup", {"leg": first.call.callee_leg, "cause": 200})  # the callee says goodbye
        await settle()
        assert rig.state("follow", "600100201") == "done" and rig.records[-1]["campaign_result"] == "ANSWERED"
        assert rig.records[-1]["agent"] == first.call.agent and rig.records[-1]["trunk"] == "gsm"
        assert rig.acd.center.agent(first.call.agent).state == "IDLE"  # wrap-up of 0 s
        rig.worker.room += 2
        rig.dialer.tick()
        assert len(rig.runs) == 3 and rig.runs[2].call.agent == first.call.agent
    run(steps)


def test_the_higher_priority_campaign_gets_the_free_agents_first_and_a_booked_callback_its_agent(rig):
    rig.campaign("low", ["600100301", "600100302"], mode="progressive", queue="support", priority=2)
    rig.campaign("high", ["600100201"], mode="progressive", queue="support", priority=8)
    entry = rig.campaigns.entry("high", "1")
    entry.agent = "1002"  # the person asked this agent to call back

    async def steps():
        rig.dialer.tick()
        await settle()
        assert [(r.call.campaign, r.call.agent) for r in rig.runs] == [("high", "1002"), ("low", "1001")]
    run(steps)


def test_a_refused_number_is_a_failed_attempt_never_dialled_and_message_calls_fill_their_lines(rig):
    rig.campaign("remind", ["0049301234567", "600100201", "600100202", "600100203"], mode="message",
                 message="reminder", max_lines=2)

    async def steps():
        rig.dialer.tick()
        await settle()
        assert len(rig.runs) == 2 and [r.call.callee.number for r in rig.runs] == ["600100201", "600100202"]
        failed = rig.records[0]
        assert (failed["callee"], failed["campaign_result"], failed["disposition"], failed["trunk"]) == \
            ("0049301234567", "FAILED", "FAILED", None)
        entry = next(e for e in rig.campaigns.entries("remind") if e["number"] == "0049301234567")
        assert (entry["attempts"], entry["result"]) == (1, "FAILED")
        assert all(f["uri"] != "sip:0049301234567@gw" for _, f in rig.worker.sent)
    run(steps)


def test_an_extension_on_the_list_rings_its_phone_directly(rig):
    rig.campaign("inside", ["1001", "2001"], mode="message", message="reminder")

    async def steps():
        rig.dialer.tick()
        await settle()
        assert [f["uri"] for name, f in rig.worker.sent if name == "call"] == ["sip:1001@10.0.0.9"]
        assert rig.records[0]["callee"] == "2001" and rig.records[0]["campaign_result"] == "FAILED"  # no phone
    run(steps)


def test_a_full_box_dials_nobody_and_leaves_the_agent_free(rig):
    rig.campaign("follow", ["600100201"], mode="progressive", queue="support")
    rig.worker.room = 1  # one leg: not enough for a callee and an agent

    async def steps():
        rig.dialer.tick()
        await settle()
        assert rig.runs == [] and rig.state("follow", "600100201") == "waiting"
        assert rig.acd.center.free_agents("support") == list(AGENTS)
    run(steps)


def test_a_missing_prompt_counts_as_heard_and_a_refused_leg_as_a_failed_attempt(rig):
    rig.campaign("remind", ["600100201", "600100202"], mode="message", message="reminder")
    rig.missing.add("reminder")

    async def steps():
        rig.dialer.tick()
        heard, refused = rig.runs
        await settle()
        heard.on_event("answered", {"leg": heard.call.callee_leg})
        await settle()  # nothing to play: the message is over at once, no digit asked: goodbye
        assert heard.ended and rig.state("remind", "600100201") == "done"
        assert ("hangup", heard.call.callee_leg) in rig.worker.names()
        rig.worker.refuse.add(refused.call.callee_leg)
        await refused._command("call", {"leg": refused.call.callee_leg})
        await settle()
        assert refused.ended and rig.records[-1]["campaign_result"] == "FAILED"
        assert rig.state("remind", "600100202") == "waiting"  # failed: tried again later
    run(steps)


def test_a_worker_that_dies_ends_its_calls_and_frees_their_agents(rig):
    rig.campaign("follow", ["600100201"], mode="progressive", queue="support")

    async def steps():
        rig.dialer.tick()
        call = rig.runs[0]
        call.on_event("answered", {"leg": call.call.callee_leg})
        await settle()
        rig.worker.alive = False
        rig.dialer.tick()
        await settle()
        assert call.ended and rig.records[-1]["campaign_result"] == "ABANDONED"
        assert rig.acd.center.free_agents("support") == list(AGENTS)
    run(steps)


def test_preview_the_agent_chooses_and_their_phone_rings_first(rig):
    rig.campaign("cards", ["600100201", "600100202"], mode="preview", queue="support")
    rig.campaign("auto", ["600100301"], mode="message", message="reminder")
    rig.campaigns.forbid("600100202")

    async def steps():
        rig.dialer.tick()
        assert all(r.call.campaign != "cards" for r in rig.runs)  # nothing dialled by the box
        with pytest.raises(Conflict, match="message"):
            rig.dialer.dial_preview("auto", "1", "1001")
        with pytest.raises(Conflict, match="do-not-call"):
            rig.dialer.dial_preview("cards", "2", "1001")
        out = rig.dialer.dial_preview("cards", "1", "1001")
        await settle()
        call = rig.runs[-1]
        assert out == {"call_id": call.call_id, "dialled": True}
        assert rig.worker.sent[-1][1]["leg"] == call.call.agent_leg  # the agent's own phone first
        with pytest.raises(Conflict, match="not free"):
            rig.dialer.dial_preview("cards", "1", "1001")
        assert rig.state("cards", "600100201") == "dialling"
    run(steps)


def test_campaigns_dial_with_their_own_class_of_service_and_a_route_only_as_a_preference(tmp_path):
    from appliance.core import Core
    c = Core(tmp_path / "core", {"prompts.builtin_languages": [], "engine.enabled": False})
    try:
        for name, host in (("gw", "10.231.0.9"), ("gsm", "10.231.0.10"), ("other", "10.231.0.11")):
            c.trunks.create({"name": name, "kind": "peer", "host": host, "port": 5060})
        c.trunks.put_routes({"outbound": [{"name": "all", "patterns": ["0.", "00."], "trunks": ["gw", "gsm"]}]})
        decision, attempts = c.trunks.plan_campaign("0221234567")
        assert decision.allowed and [a["trunk"] for a in attempts] == ["gw", "gsm"]
        assert [a["trunk"] for a in c.trunks.plan_campaign("0221234567", "gsm")[1]] == ["gsm", "gw"]
        # A route the plan does not allow for the number opens nothing.
        assert [a["trunk"] for a in c.trunks.plan_campaign("0221234567", "other")[1]] == ["gw", "gsm"]
        decision, attempts = c.trunks.plan_campaign("0088161234567", "gsm")  # a satellite number
        assert not decision.allowed and attempts == [] and str(decision.verdict) == "COS_TOO_LOW"
        c.change_settings({"campaigns.class_of_service": "internal"})
        assert not c.trunks.plan_campaign("0221234567")[0].allowed
    finally:
        c.audit_trail.close()
        c.queue_log.close()
        c.store.close()
