"""Campaigns that really dial, with real peers: a SIP provider played by sipp (one sipp per kind of
callee: one answers, one is busy, one lets it ring out with 408, each reached through its own
outbound route so the number decides), agents on pjsua2 phones, and a pjsua2 phone as a callee
who presses 9.

Retries: a campaign's shortest retry delay is 60 s and the core has no clock to move, so the fast
test checks what the list says after a busy attempt (waiting, due 60 s after it, one BUSY try) and
the slow one waits the real minute for the retry, with the provider's route changed meanwhile so
that the second attempt is answered.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest

from tests.integration.sipp import sipp_available
from tests.integration.sipp_providers import start_provider
from tests.integration.test_calls import registered_phone
from tests.peers.audio import write_sine
from tests.peers.phones import PhoneError

pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
pytestmark = [pytest.mark.peers, pytest.mark.skipif(not sipp_available(), reason="sipp is not installed")]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = {d: [{"start": "00:00", "end": "24:00"}] for d in DAYS}
ANSWERS, BUSY, SILENT = "0221", "0222", "0223"  # the first digits choose the provider's answer


def providers(box, sipp_procs, tmp_path) -> None:
    """Three trunks, and the numbering plan sending each kind of number to one of them."""
    for name, ip, scenario in (("answers", "127.0.0.3", "campaign_answer.xml"),
                               ("busy", "127.0.0.4", "campaign_busy.xml"),
                               ("silent", "127.0.0.5", "campaign_noanswer.xml")):
        port = start_provider(sipp_procs, tmp_path, ip, scenario)  # answers every call the same way
        status, body = box.api("POST", "/api/trunks", {"name": name, "kind": "peer", "host": ip, "port": port})
        assert status == 201, body
    routes(box, {ANSWERS: "answers", BUSY: "busy", SILENT: "silent"})
    time.sleep(0.3)


def routes(box, by_prefix: dict[str, str], extra: list[dict] | None = None) -> None:
    status, body = box.api("PUT", "/api/routes", {"outbound": [
        {"name": f"r{prefix}", "patterns": [f"{prefix}XXXXXX"], "trunks": [trunk]}
        for prefix, trunk in by_prefix.items()] + (extra or [])})
    assert status == 200, body


class Agent:
    """A pjsua2 phone whose person takes every call, talks a moment and hangs up."""

    def __init__(self, box, phones, number: str, talk_s: float = 0.6):
        self.phone = registered_phone(box, phones, number)
        self.talk_s, self.calls = talk_s, 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while not self.stopping.is_set():
            try:
                self.phone.wait_for("incoming", timeout=0.5)
                self.phone.answer()
                self.phone.wait_for("call_state", state="CONFIRMED", timeout=10)
                self.calls += 1
                time.sleep(self.talk_s)
                self.phone.hangup()
                self.phone.wait_for("call_state", state="DISCONNECTED", timeout=10)
            except PhoneError:
                continue

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(5)


def campaign(box, cid: str, people: list[dict], **settings) -> None:
    body = {"id": cid, "name": cid.title(), "hours": ALWAYS, "zone": "UTC", "ring_timeout_s": 10} | settings
    status, made = box.api("POST", "/api/campaigns", body)
    assert status == 201, made
    status, out = box.api("POST", f"/api/campaigns/{cid}/people", {"people": people})
    assert status == 200 and out["added"] == len(people), out


def entries(box, cid: str) -> dict[str, dict]:
    return {e["number"]: e for e in box.api("GET", f"/api/campaigns/{cid}/entries?limit=1000")[1]["entries"]}


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what} within {timeout} s")


def campaign_records(box, cid: str) -> list[dict]:
    return [r for r in box.api("GET", "/api/cdr?limit=1000")[1]["records"] if r.get("campaign") == cid]


def test_a_progressive_campaign_through_a_sipp_provider_with_agents(core_factory, phones, sipp_procs, tmp_path):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 4})
    providers(box, sipp_procs, tmp_path)
    routes(box, {ANSWERS: "answers", BUSY: "busy", SILENT: "silent"},
           extra=[{"name": "abroad", "patterns": ["00."], "trunks": ["answers"]}])
    assert box.api("POST", "/api/queues", {"name": "sales", "wrap_up_s": 0})[0] == 201
    agents = []
    for number in ("1010", "1011"):
        agents.append(Agent(box, phones, number))
        assert box.api("POST", f"/api/agents/{number}", {"queues": ["sales"]})[0] == 201
        assert box.api("POST", f"/api/agents/{number}/login", {})[1]["status"] == "AVAILABLE"
    answering = [f"{ANSWERS}{i:06d}" for i in range(1, 13)]
    busy = [f"{BUSY}{i:06d}" for i in range(1, 5)]
    silent = [f"{SILENT}{i:06d}" for i in range(1, 5)]
    forbidden, abroad = f"{ANSWERS}000099", "0049301234567"
    people = [{"number": n, "name": f"Person {n[-2:]}"} for n in answering + busy + silent + [forbidden, abroad]]
    campaign(box, "followup", people, mode="progressive", queue="sales", caller_id="221234567",
             retries={"BUSY": {"delay_s": 60, "times": 1}, "NO ANSWER": {"delay_s": 3600, "times": 2}})
    # A second campaign, on a day that is not today nor near it: it must dial nobody meanwhile.
    closed_day = DAYS[(datetime.now(timezone.utc).weekday() + 3) % 7]
    campaign(box, "closed", [{"number": f"{ANSWERS}000077"}], mode="message", message="reminder",
             hours={closed_day: [{"start": "10:00", "end": "12:00"}]})
    assert box.api("POST", "/api/do-not-call", {"number": forbidden, "why": "asked by letter"})[0] == 201
    assert box.api("POST", "/api/campaigns/closed/start")[0] == 200
    started = time.time()
    assert box.api("POST", "/api/campaigns/followup/start")[1]["state"] == "running"
    dialled = len(people) - 1  # everyone but the do-not-call number

    def all_tried():
        now = entries(box, "followup")
        settled = [e for e in now.values() if e["state"] in ("waiting", "done", "do_not_call") and
                   (e["attempts"] or e["state"] == "do_not_call")]
        return now if len(settled) == len(people) else None

    try:
        final = wait_until(all_tried, 90, "every person tried once")
    finally:
        for a in agents:
            a.stop()
    for n in answering:
        assert (final[n]["state"], final[n]["result"], final[n]["attempts"]) == ("done", "ANSWERED", 1), final[n]
        assert final[n]["agent"] in ("1010", "1011")
    for n in busy:  # retried once, 60 s after the busy attempt
        e = final[n]
        assert (e["state"], e["result"], e["tries"]) == ("waiting", "BUSY", {"BUSY": 1}), e
        assert started + 60 <= e["due"] <= time.time() + 60
    for n in silent:  # no answer: an hour later
        assert (final[n]["state"], final[n]["result"]) == ("waiting", "NO ANSWER"), final[n]
        assert final[n]["due"] >= started + 3600
    assert (final[forbidden]["state"], final[forbidden]["result"], final[forbidden]["attempts"]) == \
        ("do_not_call", "BLOCKED", 0)
    # The plan refused it (international, campaigns are national): failed, and no retry for a failure here.
    assert (final[abroad]["state"], final[abroad]["result"], final[abroad]["attempts"]) == ("done", "FAILED", 1)
    assert all(a.calls for a in agents) and sum(a.calls for a in agents) == len(answering)

    records = wait_until(lambda: (r := campaign_records(box, "followup")) and len(r) >= dialled and r, 10,
                         "a call record for every attempt")
    assert len(records) == dialled
    by_number = {r["callee"]: r for r in records}
    assert {r["campaign_entry"] for r in records} == {e["id"] for n, e in final.items() if n != forbidden}
    for n in answering:
        r = by_number[n]
        assert (r["campaign_result"], r["disposition"], r["trunk"], r["outcome"]) == \
            ("ANSWERED", "ANSWERED", "answers", "CAMPAIGN"), r
        assert r["agent"] in ("1010", "1011") and r["talk_s"] > 0 and r["caller"] == "221234567"
    assert {by_number[n]["campaign_result"] for n in busy} == {"BUSY"}
    assert {by_number[n]["campaign_result"] for n in silent} == {"NO ANSWER"}
    assert (by_number[abroad]["campaign_result"], by_number[abroad]["trunk"]) == ("FAILED", None)

    status, report = box.api("GET", "/api/campaigns/followup/report")
    assert status == 200, report
    assert (report["contacts"], report["attempted"], report["reached"]) == (len(people), dialled, len(answering))
    assert report["results"] == {"ANSWERED": len(answering), "BUSY": len(busy), "NO ANSWER": len(silent),
                                 "FAILED": 1}
    assert (entries(box, "closed")[f"{ANSWERS}000077"]["attempts"], campaign_records(box, "closed")) == (0, [])
    agents_now = {a["extension"]: a for a in box.api("GET", "/api/agents")[1]["agents"]}
    assert {agents_now[n]["status"] for n in ("1010", "1011")} == {"AVAILABLE"}


def test_a_message_campaign_callee_presses_9_and_is_never_called_again(core_factory, phones, tmp_path):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2})
    prompts = box.data_dir / "prompts" / "en"
    prompts.mkdir(parents=True, exist_ok=True)
    write_sine(prompts / "reminder.wav", 500, 3.0)
    write_sine(prompts / "campaign-removed.wav", 700, 0.5)
    callee = phones("callee")  # a phone on a line of its own: the provider's far end
    status, body = box.api("POST", "/api/trunks", {"name": "line", "kind": "peer", "host": "127.0.0.1",
                                                   "port": callee.port})
    assert status == 201, body
    routes(box, {"0229": "line"})
    number = "0229000001"
    campaign(box, "reminders", [{"number": number, "name": "Dorota"}], mode="message", message="reminder",
             caller_id="221234567")
    assert box.api("POST", "/api/campaigns/reminders/start")[0] == 200
    incoming = callee.wait_for("incoming", timeout=15)
    assert "221234567" in incoming["from"]
    callee.answer()
    callee.wait_for("call_state", state="CONFIRMED", timeout=10)
    time.sleep(0.5)  # the reminder plays
    callee.dtmf("9")
    callee.wait_for("call_state", state="DISCONNECTED", timeout=15)  # "we will not call you again", then bye
    entry = wait_until(lambda: (e := entries(box, "reminders")[number])["state"] == "do_not_call" and e, 10,
                       "the entry on the do-not-call list")
    assert (entry["result"], entry["attempts"]) == ("REFUSED", 1)
    numbers = box.api("GET", "/api/do-not-call")[1]["numbers"]
    assert [n["number"] for n in numbers] == [number] and "reminders" in numbers[0]["why"]
    record = wait_until(lambda: campaign_records(box, "reminders"), 10, "the attempt's call record")[0]
    assert (record["campaign_result"], record["campaign_entry"], record["trunk"]) == ("REFUSED", entry["id"], "line")
    assert box.api("GET", "/api/campaigns/reminders")[1]["state"] == "finished"


def test_preview_the_agent_dials_from_the_card_and_their_phone_rings_first(core_factory, phones, sipp_procs,
                                                                            tmp_path):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2})
    providers(box, sipp_procs, tmp_path)
    assert box.api("POST", "/api/queues", {"name": "sales", "wrap_up_s": 0})[0] == 201
    agent = registered_phone(box, phones, "1010")
    assert box.api("POST", "/api/agents/1010", {"queues": ["sales"]})[0] == 201
    box.api("POST", "/api/agents/1010/login", {})
    number = f"{ANSWERS}000001"
    campaign(box, "cards", [{"number": number, "name": "Ewa"}], mode="preview", queue="sales")
    entry = entries(box, "cards")[number]
    assert box.api("POST", f"/api/campaigns/cards/entries/{entry['id']}/dial", {"agent": "1010"})[0] == 409
    assert box.api("POST", "/api/campaigns/cards/start")[0] == 200
    time.sleep(1.5)
    assert entries(box, "cards")[number]["attempts"] == 0  # the box dials nobody by itself
    status, out = box.api("POST", f"/api/campaigns/cards/entries/{entry['id']}/dial", {"agent": "1010"})
    assert status == 200 and out["dialled"], out
    incoming = agent.wait_for("incoming", timeout=10)  # the agent's own phone first, showing who is called
    assert number in incoming["from"]
    assert box.api("POST", f"/api/campaigns/cards/entries/{entry['id']}/dial", {"agent": "1010"})[0] == 409
    agent.answer()
    agent.wait_for("call_state", state="CONFIRMED", timeout=10)
    wait_until(lambda: entries(box, "cards")[number]["state"] == "connected", 10, "the callee answering")
    agent.hangup()
    record = wait_until(lambda: campaign_records(box, "cards"), 10, "the call record")[0]
    assert (record["campaign_result"], record["agent"], record["trunk"]) == ("ANSWERED", "1010", "answers")
    assert box.api("POST", "/api/campaigns/cards/entries/nope/dial", {"agent": "1010"})[0] == 404


@pytest.mark.slow
def test_a_busy_callee_is_called_again_after_the_retry_delay(core_factory, sipp_procs, tmp_path):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2})
    providers(box, sipp_procs, tmp_path)
    (box.data_dir / "prompts" / "en").mkdir(parents=True, exist_ok=True)
    write_sine(box.data_dir / "prompts" / "en" / "reminder.wav", 500, 1.0)
    number = f"{BUSY}000001"
    campaign(box, "again", [{"number": number}], mode="message", message="reminder",
             retries={"BUSY": {"delay_s": 60, "times": 2}})
    assert box.api("POST", "/api/campaigns/again/start")[0] == 200
    first = wait_until(lambda: (e := entries(box, "again")[number])["attempts"] == 1 and e, 20, "the busy attempt")
    assert (first["state"], first["result"]) == ("waiting", "BUSY")
    routes(box, {ANSWERS: "answers", BUSY: "answers", SILENT: "silent"})  # the person is free now
    time.sleep(50)
    assert entries(box, "again")[number]["attempts"] == 1  # not before the delay
    done = wait_until(lambda: (e := entries(box, "again")[number])["state"] == "done" and e, 30, "the retry")
    assert (done["result"], done["attempts"], done["tries"]) == ("ANSWERED", 2, {"BUSY": 1})
    assert [r["campaign_result"] for r in sorted(campaign_records(box, "again"), key=lambda r: r["start"])] == \
        ["BUSY", "ANSWERED"]
