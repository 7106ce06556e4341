"""The heart of the box, end to end with real phones: a caller dials the service number, hears the
menu, presses 1, waits in the queue with music, and the logged-in agent's phone rings and talks."""

from __future__ import annotations

import time

import pytest

from tests.integration.test_calls import call_records, hear_each_other, registered_phone
from tests.peers.audio import tone_present, write_sine

pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
pytestmark = pytest.mark.peers

FLOWS = {
    "schema": 1, "version": 1, "language": "en",
    "routes": [{"name": "service", "did": "500", "destination": "menu"}],
    "nodes": {
        "menu": {"kind": "ivr_menu", "prompt": "menu", "choices": {"1": "sales"}, "timeout_s": 5,
                 "retries": 1, "invalid_destination": "bye"},
        "sales": {"kind": "queue", "queue": "sales"},
        "bye": {"kind": "hangup"},
    },
}


def prompts_with_the_menu(box, seconds: float = 0.5):
    """The English prompts folder, with the menu prompt in it as a 600 Hz tone."""
    en = box.data_dir / "prompts" / "en"
    en.mkdir(parents=True, exist_ok=True)
    write_sine(en / "menu.wav", 600, seconds)
    return en


def sales_queue(box, agent: str = "1010", **settings) -> None:
    """The queue "sales" behind the menu's 1 (FLOWS), with `agent` in it and logged in."""
    status, body = box.api("POST", "/api/queues", {"name": "sales", **settings})
    assert status == 201, body
    assert box.api("POST", f"/api/agents/{agent}", {"queues": ["sales"]})[0] == 201
    status, body = box.api("PUT", "/api/flows", FLOWS)
    assert status == 200, body
    assert box.api("POST", f"/api/agents/{agent}/login", {})[1]["status"] == "AVAILABLE"


def call_sales(box, customer) -> None:
    """The customer calls the service number and, once the menu answers, presses 1 for sales."""
    customer.call(f"sip:500@127.0.0.1:{box.sip_port}")
    customer.wait_for("call_state", state="CONFIRMED", timeout=15)
    time.sleep(0.8)
    customer.dtmf("1")


def agent_answers(agent) -> None:
    agent.wait_for("incoming", timeout=15)
    agent.answer()
    agent.wait_for("call_state", state="CONFIRMED", timeout=15)


def queue_call(box, phones, customer_number="1001", agent_number="1010", **queue_settings):
    """A customer talking to an agent of the sales queue: the two phones, once the agent answered."""
    prompts_with_the_menu(box)
    customer = registered_phone(box, phones, customer_number)
    agent = registered_phone(box, phones, agent_number)
    sales_queue(box, agent_number, ring_timeout_s=15, **queue_settings)
    call_sales(box, customer)
    agent_answers(agent)
    return customer, agent


def test_flows_with_a_dangling_node_are_refused_with_the_node_named(box):
    bad = dict(FLOWS, nodes=dict(FLOWS["nodes"], menu=dict(FLOWS["nodes"]["menu"], choices={"1": "nowhere"})))
    status, body = box.api("PUT", "/api/flows", bad)
    assert status == 400
    assert any(p["id"] == "menu" for p in body["problems"]) and "nowhere" in body["error"]
    assert box.api("GET", "/api/flows")[0] == 404  # nothing was stored


def test_ivr_queue_agent_with_audio(box, phones, tmp_path):
    prompts_with_the_menu(box, seconds=1.0)
    customer = registered_phone(box, phones, "1001")
    agent = registered_phone(box, phones, "1010")
    sales_queue(box, "1010", ring_timeout_s=15)
    customer.call(f"sip:500@127.0.0.1:{box.sip_port}")
    customer.wait_for("call_state", state="CONFIRMED", timeout=15)  # the box answered: the IVR
    customer.record(tmp_path / "customer-menu.wav")
    time.sleep(1.2)
    customer.stop_record()
    assert tone_present(tmp_path / "customer-menu.wav", 600, start_s=0.2)  # heard the menu
    customer.dtmf("1")
    incoming = agent.wait_for("incoming", timeout=15)  # the queue rings the agent
    assert "1001" in incoming["from"]
    agent.answer()
    time.sleep(0.5)
    hear_each_other(customer, agent, tmp_path)
    customer.hangup()
    agent.wait_for("call_state", state="DISCONNECTED", timeout=10)
    record = call_records(box)[0]
    assert (record["queue"], record["agent"], record["outcome"]) == ("sales", "1010", "ANSWERED")
    assert record["flow"][:2] == ["menu", "sales"]
    kinds = [e["event"] for e in box.api("GET", "/api/queue-log")[1]["events"]]
    assert "ENTERED" in kinds and "ANSWERED" in kinds
    # The manager's numbers come from the same records.
    status, today = box.api("GET", "/api/reports/today")
    assert status == 200, today
    sales = next(q for q in today["queues"] if q["queue"] == "sales")
    assert (sales["offered"], sales["answered"]) == (1, 1)
    status, csv_text = box.api("GET", "/api/reports/queues.csv")
    assert status == 200 and "sales" in csv_text


def test_prompts_from_text_and_upload_and_a_broken_upload_changes_nothing(box, tmp_path):
    status, info = box.api("PUT", "/api/prompts/pl/welcome", {"text": "Dzień dobry, witamy w firmie."})
    assert status == 201 and info["rate"] == 8000 and info["seconds"] > 0.5
    wav = write_sine(tmp_path / "hold.wav", 440, 1.0)
    status, info = box.api("PUT", "/api/prompts/en/hold", raw=wav.read_bytes())
    assert status == 201 and info["source"] == "upload"
    before = (box.data_dir / "prompts" / "en" / "hold.wav").read_bytes()
    status, body = box.api("PUT", "/api/prompts/en/hold", raw=b"RIFF\x00\x00garbage")
    assert status == 400 and body["error"]
    assert (box.data_dir / "prompts" / "en" / "hold.wav").read_bytes() == before
    names = {(p["language"], p["name"]) for p in box.api("GET", "/api/prompts")[1]["prompts"]}
    assert {("pl", "welcome"), ("en", "hold")} <= names


def test_agents_log_in_and_take_a_break_from_their_desk_phone(box, phones):
    agent = registered_phone(box, phones, "1010")
    assert box.api("POST", "/api/queues", {"name": "sales"})[0] == 201
    assert box.api("POST", "/api/agents/1010", {"queues": ["sales"]})[0] == 201

    def status() -> str:
        return next(a for a in box.api("GET", "/api/agents")[1]["agents"] if a["extension"] == "1010")["status"]

    for code, expected in (("*45", "AVAILABLE"), ("*46", "ON_BREAK"), ("*47", "AVAILABLE"), ("*45", "LOGGED_OUT")):
        agent.call(f"sip:{code}@127.0.0.1:{box.sip_port}")
        agent.wait_for("call_state", state="DISCONNECTED", timeout=15)
        assert status() == expected, code


def test_a_supervisors_whisper_reaches_the_agent_and_not_the_caller(box, phones, tmp_path):
    from tests.peers.audio import tone_share
    customer, agent = queue_call(box, phones)
    sup_ext = box.add_extension("1020", supervisor=True)
    supervisor = phones("supervisor")
    supervisor.register(f"sip:127.0.0.1:{box.sip_port}", "1020", sup_ext["secret"])
    supervisor.wait_for("reg_state", code=200, timeout=15)
    supervisor.call(f"sip:*311010@127.0.0.1:{box.sip_port}")  # whisper to agent 1010
    supervisor.wait_for("call_state", state="CONFIRMED", timeout=15)
    time.sleep(0.5)
    supervisor.play_tone(1500)
    customer.play_tone(1000)
    agent.record(tmp_path / "agent.wav")
    customer.record(tmp_path / "customer.wav")
    supervisor.record(tmp_path / "supervisor.wav")
    time.sleep(2.0)
    for p in (agent, customer, supervisor):
        p.stop_record()
    assert tone_share(tmp_path / "agent.wav", 1500, start_s=0.3) > 0.1       # the coach is heard by the agent
    assert tone_share(tmp_path / "customer.wav", 1500, start_s=0.3) < 0.02   # and not by the customer
    assert tone_share(tmp_path / "supervisor.wav", 1000, start_s=0.3) > 0.1  # who the supervisor hears
    # An extension that is not a supervisor may not listen in.
    status, body = box.api("POST", "/api/supervise", {"supervisor": "1001", "agent": "1010", "mode": "listen"})
    assert status == 403


def test_a_callback_keeps_the_callers_place_and_the_box_calls_back(box, phones, tmp_path):
    customer = registered_phone(box, phones, "1001")
    agent = registered_phone(box, phones, "1010")
    prompts_with_the_menu(box)
    sales_queue(box, "1010", callback_enabled=True, callback_retry_delay_s=1, ring_timeout_s=15)
    box.api("POST", "/api/agents/1010/break", {"reason": "lunch"})  # nobody free: the caller waits
    call_sales(box, customer)
    time.sleep(1.5)
    customer.dtmf("1")          # in the queue: call me back
    customer.wait_for("call_state", state="DISCONNECTED", timeout=20)
    records = call_records(box)
    assert records[0]["outcome"] == "CALLBACK_REQUESTED"
    box.api("POST", "/api/agents/1010/available", {})
    agent.wait_for("incoming", timeout=20)  # the agent first
    agent.answer()
    customer.wait_for("incoming", timeout=20)  # then the customer
    customer.answer()
    time.sleep(0.5)
    agent.play_tone(400)
    customer.record(tmp_path / "customer.wav")
    time.sleep(1.5)
    customer.stop_record()
    assert tone_present(tmp_path / "customer.wav", 400, start_s=0.3)
    customer.hangup()
    agent.wait_for("call_state", state="DISCONNECTED", timeout=10)
    done = call_records(box, count=2)
    assert any(r["outcome"] == "CALLBACK_COMPLETED" and r["agent"] == "1010" for r in done)
    kinds = [e["event"] for e in box.api("GET", "/api/queue-log")[1]["events"]]
    assert "CALLBACK_REQUESTED" in kinds and "CALLBACK_COMPLETED" in kinds


def test_a_caller_who_declines_recording_is_not_recorded(core_factory, phones, tmp_path):
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2, "recording.policy": "always",
                        "recording.notice": {"*": "opt_out"}})
    en = box.data_dir / "prompts" / "en"
    en.mkdir(parents=True, exist_ok=True)
    for name, hz in (("this-call-may-be-recorded", 500), ("press-9-to-decline-recording", 700), ("menu", 600)):
        write_sine(en / f"{name}.wav", hz, 0.8)
    # Two callers: the test phone does not send RFC 4733 digits reliably on a second call after a bridge.
    customers = {True: registered_phone(box, phones, "1001"), False: registered_phone(box, phones, "1002")}
    agent = registered_phone(box, phones, "1010")
    sales_queue(box, "1010")

    def one_call(decline: bool) -> dict:
        customer = customers[decline]
        customer.call(f"sip:500@127.0.0.1:{box.sip_port}")
        customer.wait_for("call_state", state="CONFIRMED", timeout=15)
        time.sleep(0.4)
        if decline:
            customer.dtmf("9")  # during the notice
        time.sleep(2.0)        # notice over, the menu plays
        customer.dtmf("1")
        agent_answers(agent)
        time.sleep(1.0)
        customer.hangup()
        agent.wait_for("call_state", state="DISCONNECTED", timeout=10)
        customer.wait_for("call_state", state="DISCONNECTED", timeout=10)
        time.sleep(0.5)
        return call_records(box)[0]

    declined = one_call(decline=True)
    assert declined.get("recording_declined") is True and "recording" not in declined
    assert list((box.data_dir / "recordings").rglob("*.wav")) == []  # checked on disk
    accepted = one_call(decline=False)
    from tests.integration.test_calls import finished_wav
    finished_wav(box.data_dir / accepted["recording"])


def test_waiting_callers_hear_their_position_and_overflow_to_voicemail(core_factory, phones, tmp_path):
    from tests.peers.audio import tone_share
    box = core_factory({"engine.enabled": True, "engine.max_calls": 2})
    en = prompts_with_the_menu(box)
    write_sine(en / "you-are-caller-number.wav", 900, 0.6)  # stands in for the spoken sentence
    customer = registered_phone(box, phones, "1001")
    box.add_extension("1005")  # the team's voicemail box owner
    box.add_extension("1010")
    box.api("POST", "/api/queues", {"name": "sales", "announce_position_every_s": 2, "max_wait_s": 5,
                                    "overflow_to": "voicemail:1005", "join_empty": "never",
                                    "leave_when_empty": "never"})
    box.api("PUT", "/api/flows", FLOWS)
    call_sales(box, customer)
    customer.record(tmp_path / "waiting.wav")
    time.sleep(4.0)
    customer.stop_record()
    assert tone_share(tmp_path / "waiting.wav", 900, start_s=0.2) > 0.05  # "you are caller number ..."
    time.sleep(3.0)       # past max wait: the box takes a message instead
    customer.play_tone(700)
    time.sleep(2.5)
    customer.hangup()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        messages = box.api("GET", "/api/voicemail/1005")[1].get("messages", [])
        if messages:
            break
        time.sleep(0.3)
    assert messages and messages[0]["caller"] == "1001"
    record = call_records(box)[0]
    assert record["outcome"] in ("TIMEOUT", "VOICEMAIL")
    kinds = [e["event"] for e in box.api("GET", "/api/queue-log")[1]["events"]]
    assert "TIMEOUT" in kinds


def test_out_of_hours_callers_hear_the_closed_greeting(box, phones, tmp_path):
    en = box.data_dir / "prompts" / "en"
    en.mkdir(parents=True, exist_ok=True)
    write_sine(en / "closed.wav", 350, 2.0)
    flows = {"schema": 1, "version": 1, "language": "en",
             "routes": [{"name": "service", "did": "500", "destination": "hours"}],
             "nodes": {"hours": {"kind": "time_condition", "timezone": "UTC", "week": {},  # never open
                                 "open": "bye", "closed": "closed"},
                       "closed": {"kind": "play", "prompt": "closed", "next": "bye"},
                       "bye": {"kind": "hangup"}}}
    assert box.api("PUT", "/api/flows", flows)[0] == 200
    customer = registered_phone(box, phones, "1001")
    customer.call(f"sip:500@127.0.0.1:{box.sip_port}")
    customer.wait_for("call_state", state="CONFIRMED", timeout=15)
    customer.record(tmp_path / "closed.wav")
    time.sleep(1.2)
    customer.stop_record()
    assert tone_present(tmp_path / "closed.wav", 350, start_s=0.2)
    customer.wait_for("call_state", state="DISCONNECTED", timeout=10)  # and the box hangs up after it
    assert call_records(box)[0]["flow"] == ["hours", "closed", "bye"]
    # The owner opens by hand (e.g. a late shift): the same time condition now says open.
    assert box.api("PUT", "/api/flows/override", {"node": "hours", "override": "force_open"})[0] == 200
    customer.call(f"sip:500@127.0.0.1:{box.sip_port}")
    customer.wait_for("call_state", state="DISCONNECTED", timeout=15)
    assert call_records(box, count=2)[0]["flow"] == ["hours", "bye"]


def test_an_agent_holds_the_caller_with_music_then_transfers_them_to_a_colleague(box, phones, tmp_path):
    from tests.peers.audio import dominant_frequency
    customer, agent = queue_call(box, phones)
    colleague = registered_phone(box, phones, "1003")
    agent.play_tone(700)
    agent.hold()                                          # a re-INVITE, a=sendonly
    time.sleep(1.0)
    customer.record(tmp_path / "held.wav")
    time.sleep(2.0)
    customer.stop_record()
    assert 150 <= dominant_frequency(tmp_path / "held.wav", start_s=0.3) <= 350   # the box's music on hold
    agent.unhold()
    time.sleep(1.0)
    customer.record(tmp_path / "resumed.wav")
    time.sleep(1.5)
    customer.stop_record()
    assert abs(dominant_frequency(tmp_path / "resumed.wav", start_s=0.3) - 700) <= 30   # the agent again

    agent.transfer(f"sip:1003@127.0.0.1:{box.sip_port}")  # blind: the box rings the colleague
    colleague.wait_for("incoming", timeout=15)
    agent.wait_for("call_state", state="DISCONNECTED", timeout=10)
    colleague.answer()
    colleague.wait_for("call_state", state="CONFIRMED", timeout=15)
    hear_each_other(customer, colleague, tmp_path)
    status, agents = box.api("GET", "/api/agents")
    assert next(a for a in agents["agents"] if a["extension"] == "1010")["state"] == "WRAP_UP"
    colleague.hangup()
    customer.wait_for("call_state", state="DISCONNECTED", timeout=10)
    records = call_records(box, count=2)
    queue_part = next(r for r in records if r.get("queue") == "sales")
    assert queue_part["transferred_to"] == "1003" and queue_part["answered_by"] == "1010"
    assert any(r.get("answered_by") == "1003" for r in records)


def test_an_agents_transfer_to_a_number_that_is_no_extension_leaves_the_call_with_the_agent(box, phones, tmp_path):
    customer, agent = queue_call(box, phones)
    agent.transfer(f"sip:0048221234567@127.0.0.1:{box.sip_port}")   # an outside number: not by REFER
    time.sleep(1.5)
    hear_each_other(customer, agent, tmp_path)
    assert "refused: not one of the box's extensions" in box.log()
