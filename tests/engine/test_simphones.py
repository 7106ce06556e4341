"""Simulated agents and callers: their plans and call table, their voice, and the real thing
against a running box (caller -> IVR -> digit 1 -> queue -> simulated agent)."""

from __future__ import annotations

import importlib.util
import json
import random
import signal
import subprocess
import threading
import time
import wave
from pathlib import Path
from typing import Any

import pytest

from appliance.engine import demo_voice
from appliance.engine import simphones as sim
from appliance.engine.simphones import parse_accounts
from appliance.logic import simcalls
from appliance.logic.simcalls import (
    AgentHabits, AgentPlan, Answer, Arrivals, CallerHabits, CallerPlan, CallEvent, CallState,
    CancelTimers, HangUp, Range, Ring, SendDigits, StartTimer, admit, incoming_call, outgoing_call,
    parse_box, parse_digit_choices, parse_range, step)
from appliance.errors import StateMachineError, ValidationError
from tests.conftest import PYTHON, ROOT, free_port
from tests.integration.corebox import CoreProcess
from tests.peers.audio import dominant_frequency, read_samples, write_sine

# --- options ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, low, high", [
    ("2-6", 2, 6), ("3", 3, 3), ("0.5-1.5", 0.5, 1.5), (" 0-0 ", 0, 0)])
def test_ranges_parse(text, low, high):
    assert parse_range(text) == Range(low, high)


@pytest.mark.parametrize("text", ["", "6-2", "-1", "a-b", "1-2-3", "nan", "1-inf"])
def test_bad_ranges_are_refused_with_the_text_named(text):
    with pytest.raises(ValidationError, match="expected|need"):
        parse_range(text)


def test_accounts_parse_and_the_limit_per_process_holds(tmp_path):
    assert parse_accounts("1010:s3cr:et, 1011:x") == [("1010", "s3cr:et"), ("1011", "x")]
    listed = tmp_path / "accounts"
    listed.write_text("1010:a\n1011:b\n")
    assert parse_accounts(f"@{listed}") == [("1010", "a"), ("1011", "b")]
    nine = ",".join(f"10{i:02}:s" for i in range(9))
    with pytest.raises(ValidationError, match="at most 8"):
        parse_accounts(nine)
    assert len(parse_accounts(",".join(f"10{i:02}:s" for i in range(8)))) == 8
    for bad in ["1010", "1010:", ":s", "10 10:s", "1010:a,1010:b", ""]:
        with pytest.raises(ValidationError):
            parse_accounts(bad)


def test_box_and_digits_parse():
    assert parse_box("127.0.0.1:5060") == ("127.0.0.1", 5060)
    for bad in ["127.0.0.1", ":5060", "host:0", "host:99999", "host:x"]:
        with pytest.raises(ValidationError):
            parse_box(bad)
    assert parse_digit_choices("1|2") == ["1", "2"]
    assert parse_digit_choices("12#") == ["12#"]
    with pytest.raises(ValidationError, match="only 0-9"):
        parse_digit_choices("1|x")


def test_the_command_line_refuses_more_than_four_calls_at_once(capsys):
    parser = sim.build_parser()
    base = ["callers", "--box", "127.0.0.1:5060", "--account", "1001:s", "--dial", "500"]
    args = parser.parse_args(base + ["--max-concurrent", "4", "--digits", "1|2"])
    assert args.max_concurrent == 4 and args.digits == ["1", "2"]
    for bad in (["--max-concurrent", "5"], ["--rate-per-min", "0"], ["--abandon-share", "1.5"]):
        with pytest.raises(SystemExit):
            parser.parse_args(base + bad)
    with pytest.raises(SystemExit):
        parser.parse_args(["callers", "--box", "127.0.0.1:5060", "--account", "1001:s,1002:s",
                           "--dial", "500"])
    assert "at most 1" in capsys.readouterr().err


# --- plans and arrivals --------------------------------------------------------------------


def test_arrivals_follow_the_rate_per_minute_and_are_random_like_real_calls():
    arrivals = Arrivals(2.0, random.Random(7), now=0.0)
    per_minute = [arrivals.due(minute * 60.0) for minute in range(1, 1201)]
    mean = sum(per_minute) / len(per_minute)
    variance = sum((c - mean) ** 2 for c in per_minute) / len(per_minute)
    assert 1.9 < mean < 2.1  # 2 a minute over 20 hours
    # Poisson counts: variance equals the mean (a steady beat would have none), and about
    # e^-2 of the minutes bring no call at all
    assert 0.8 < variance / mean < 1.2
    assert 0.10 < per_minute.count(0) / len(per_minute) < 0.17
    assert arrivals.due(1200 * 60.0) == 0  # asking again at the same moment starts nothing new


def test_a_share_of_callers_abandons_early():
    habits = CallerHabits(["1", "2"], Range(1, 2), Range(30, 90), 0.25, Range(5, 20))
    rng = random.Random(3)
    plans = [habits.plan(rng) for _ in range(4000)]
    quitters = [p for p in plans if p.abandons]
    assert 0.22 < len(quitters) / len(plans) < 0.28
    assert all(5 <= p.hangup_after_s <= 20 for p in quitters)
    assert all(30 <= p.hangup_after_s <= 90 for p in plans if not p.abandons)
    assert {p.digits for p in plans} == {"1", "2"}
    never = CallerHabits([""], Range(1, 2), Range(30, 90), 0.0, Range(5, 20)).plan(rng)
    assert not never.abandons and never.digits == ""


def test_agent_plans_stay_in_their_ranges():
    rng = random.Random(1)
    plans = [AgentHabits(Range(2, 6), Range(20, 60)).plan(rng) for _ in range(500)]
    assert all(2 <= p.answer_after_s <= 6 and 20 <= p.talk_s <= 60 for p in plans)
    assert len({round(p.talk_s, 3) for p in plans}) > 100  # drawn, not fixed


@pytest.mark.parametrize("calls, busy, stopping, expected", [
    (0, False, False, None), (3, False, False, None), (4, False, False, 486),
    (1, True, False, 486), (0, False, True, 503)])
def test_admit_refuses_beyond_four_calls_a_busy_agent_and_while_stopping(calls, busy, stopping, expected):
    assert admit(calls, 4, busy, stopping) == expected


# --- the call table ---------------------------------------------------------------------------


def test_an_agent_call_rings_answers_talks_and_hangs_up():
    call, commands = incoming_call("1010-1", "1010", AgentPlan(2.5, 30.0), now=100.0)
    assert call.state == CallState.RINGING
    assert commands == [Ring(), StartTimer(CallEvent.ANSWER_DUE, 2.5)]
    assert step(call, CallEvent.ANSWER_DUE, 102.5) == [Answer()]
    assert step(call, CallEvent.CONNECTED, 102.6) == [StartTimer(CallEvent.HANGUP_DUE, 30.0)]
    assert call.state == CallState.TALKING and call.connected_at == 102.6
    assert step(call, CallEvent.HANGUP_DUE, 132.6) == [CancelTimers(), HangUp()]
    assert step(call, CallEvent.DISCONNECTED, 132.7) == [CancelTimers()]
    assert call.state == CallState.ENDED


def test_a_caller_presses_digits_after_the_box_answers_and_gives_up_when_patience_ends():
    plan = CallerPlan(digits="1", digits_after_s=1.5, hangup_after_s=12.0, abandons=True)
    call, commands = outgoing_call("1001-1", "1001", plan, now=0.0)
    assert commands == [StartTimer(CallEvent.HANGUP_DUE, simcalls.DIAL_TIMEOUT_S)]
    assert step(call, CallEvent.CONNECTED, 1.0) == [
        StartTimer(CallEvent.HANGUP_DUE, 12.0), StartTimer(CallEvent.DIGITS_DUE, 1.5)]
    assert step(call, CallEvent.DIGITS_DUE, 2.5) == [SendDigits("1")]
    assert step(call, CallEvent.HANGUP_DUE, 13.0) == [CancelTimers(), HangUp()]
    assert step(call, CallEvent.SHUTDOWN, 13.1) == []  # already hanging up: nothing twice
    assert step(call, CallEvent.DISCONNECTED, 13.2) == [CancelTimers()]


def test_the_box_hanging_up_ends_a_ringing_call_and_a_missing_pair_is_an_error():
    call, _ = incoming_call("1010-2", "1010", AgentPlan(5, 5), now=0.0)
    assert step(call, CallEvent.DISCONNECTED, 1.0) == [CancelTimers()]
    with pytest.raises(StateMachineError, match="ENDED"):
        step(call, CallEvent.ANSWER_DUE, 5.0)
    ringing, _ = incoming_call("1010-3", "1010", AgentPlan(5, 5), now=0.0)
    with pytest.raises(StateMachineError, match="DIGITS_DUE"):
        step(ringing, CallEvent.DIGITS_DUE, 1.0)


def test_every_state_can_be_shut_down_or_is_over():
    for state, row in simcalls.TRANSITIONS.items():
        assert CallEvent.SHUTDOWN in row or state == CallState.ENDED
        assert all(new in simcalls.TRANSITIONS for new in row.values())


# --- the voice ------------------------------------------------------------------------------


def test_the_synthetic_voice_is_telephone_audio_with_pauses_like_speech(tmp_path):
    path = demo_voice.synthetic_voice(tmp_path / "v.wav", "agent", seconds=4.0, seed=5)
    with wave.open(str(path), "rb") as w:
        assert (w.getframerate(), w.getsampwidth(), w.getnchannels()) == (8000, 2, 1)
        assert w.getnframes() == 32000
    data, rate = read_samples(path)
    frames = data[: len(data) // 400 * 400].reshape(-1, 400)  # 50 ms frames
    loud = (abs(frames).max(axis=1) > 3000).mean()
    assert 0.3 < loud < 0.95  # syllables with gaps between words, not a steady tone
    assert 80 < dominant_frequency(path) < 1500  # voiced energy sits low, like a voice
    other = demo_voice.synthetic_voice(tmp_path / "c.wav", "caller", seconds=4.0, seed=5)
    assert path.read_bytes() != other.read_bytes()


def test_make_voice_uses_a_given_wav_and_refuses_stereo(tmp_path):
    mono = demo_voice.synthetic_voice(tmp_path / "mono.wav", "agent", seconds=0.5)
    assert demo_voice.make_voice(str(mono), "agent", tmp_path) == (mono, "file")
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0\0\0" * 100)
    with pytest.raises(ValidationError, match="mono"):
        demo_voice.make_voice(str(stereo), "agent", tmp_path)
    path, source = demo_voice.make_voice("synthetic", "caller", tmp_path, seed=2)
    assert source == "synthetic" and path.exists()


# --- the real processes ----------------------------------------------------------------------


class SimProcess:
    """A simphones process; its JSON events collected as they come."""

    def __init__(self, log_dir: Path, role: str, *args: str):
        self.role = role
        self.events: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._log = open(log_dir / f"simphones-{role}.log", "wb")
        self.log_path = Path(self._log.name)
        self.proc = subprocess.Popen([PYTHON, "-m", "appliance.engine.simphones", role, *args],
                                     cwd=ROOT, stdout=subprocess.PIPE, stderr=self._log, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "not json", "line": line}
            with self._cond:
                self.events.append(event)
                self._cond.notify_all()

    def seen(self, event: str, **match: Any) -> list[dict[str, Any]]:
        with self._cond:
            return [e for e in self.events
                    if e.get("event") == event and all(e.get(k) == v for k, v in match.items())]

    def wait_for(self, event: str, timeout: float = 20.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self.seen(event, **match)
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"{self.role}: no {event} {match}; events "
                                         f"{[e.get('event') for e in self.events]}\n"
                                         f"{self.log_path.read_text(errors='replace')[-3000:]}")
                self._cond.wait(min(left, 0.5))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


@pytest.fixture
def simphones(tmp_path):
    started: list[SimProcess] = []

    def start(role: str, *args: str) -> SimProcess:
        p = SimProcess(tmp_path, role, *args)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def box(tmp_path):
    core = CoreProcess(tmp_path / "data", {"engine.enabled": True, "engine.max_calls": 4})
    yield core.start()
    core.stop()


FLOWS = {
    "schema": 1, "version": 1, "language": "en",
    "routes": [{"name": "service", "did": "500", "destination": "menu"}],
    "nodes": {
        "menu": {"kind": "ivr_menu", "prompt": "menu", "choices": {"1": "sales"}, "timeout_s": 8,
                 "retries": 0, "invalid_destination": "bye"},
        "sales": {"kind": "queue", "queue": "sales"},
        "bye": {"kind": "hangup"},
    },
}


def _answered_queue_records(box: CoreProcess, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    records: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        status, body = box.api("GET", "/api/cdr")
        records = body.get("records", []) if status == 200 else []
        done = [r for r in records if r.get("outcome") == "ANSWERED" and r.get("agent") in ("1010", "1011")]
        if done:
            return done
        time.sleep(0.3)
    raise AssertionError(f"no answered queue call in {timeout} s: {records}\n{box.log()}")


needs_pjsua2 = pytest.mark.skipif(importlib.util.find_spec("pjsua2") is None,
                                  reason="the pjsua2-python wheel is x86-64 only")


@pytest.mark.peers
@needs_pjsua2
def test_simulated_callers_reach_simulated_agents_through_ivr_and_queue(box, simphones):
    (box.data_dir / "prompts" / "en").mkdir(parents=True, exist_ok=True)
    write_sine(box.data_dir / "prompts" / "en" / "menu.wav", 600, 1.0)
    secrets = {n: box.add_extension(n)["secret"] for n in ("1001", "1010", "1011")}
    assert box.api("POST", "/api/queues", {"name": "sales", "ring_timeout_s": 15})[0] == 201
    for agent in ("1010", "1011"):
        assert box.api("POST", f"/api/agents/{agent}", {"queues": ["sales"]})[0] == 201
    status, body = box.api("PUT", "/api/flows", FLOWS)
    assert status == 200, body
    for agent in ("1010", "1011"):
        assert box.api("POST", f"/api/agents/{agent}/login", {})[1]["status"] == "AVAILABLE"
    where = f"127.0.0.1:{box.sip_port}"

    accounts = f"1010:{secrets['1010']},1011:{secrets['1011']}"
    agents = simphones("agents", "--box", where, "--accounts", accounts,
                       "--answer-after", "0.3-0.8", "--talk", "1.5-2.5", "--seed", "11")
    for agent in ("1010", "1011"):
        agents.wait_for("registered", account=agent)
        box.wait_registered(agent)
    callers = simphones("callers", "--box", where, "--account", f"1001:{secrets['1001']}", "--dial", "500",
                        "--digits", "1", "--digits-after", "0.5-1", "--rate-per-min", "40",
                        "--max-concurrent", "2", "--hangup-after", "40-60", "--seed", "12")
    callers.wait_for("registered", account="1001")

    records = _answered_queue_records(box, timeout=40)
    assert records[0]["queue"] == "sales" and records[0]["flow"][:2] == ["menu", "sales"]
    kinds = [e["event"] for e in box.api("GET", "/api/queue-log")[1]["events"]]
    assert "ENTERED" in kinds and "ANSWERED" in kinds

    # the story each side told on stdout
    dialled = callers.wait_for("call_started", direction="out")
    assert dialled["to"] == f"sip:500@{where}" and dialled["digits"] == "1"
    assert callers.wait_for("dtmf_sent", call=dialled["call"])["digits"] == "1"
    took = agents.wait_for("hung_up", by="local")  # the agent ended the call after talking
    assert took["talk_s"] >= 1.0
    assert agents.seen("answered", call=took["call"])
    assert "1001" in agents.seen("call_started", call=took["call"])[0]["from"]
    assert callers.wait_for("hung_up", by="remote", cause=200)

    for p in (callers, agents):
        assert p.stop() == 0
        assert p.seen("stopped"), p.events[-5:]
    assert agents.seen("unregistered", account="1010") and agents.seen("unregistered", account="1011")
    box.wait_registered("1010", present=False)
    box.wait_registered("1001", present=False)


@pytest.mark.peers
@needs_pjsua2
def test_a_busy_agent_talks_refuses_a_second_call_and_sigterm_hangs_up_the_first(simphones, tmp_path):
    from tests.peers.phones import Phone
    nobody = f"127.0.0.1:{free_port()}"  # no box: the phones call the agent directly
    agents = simphones("agents", "--box", nobody, "--accounts", "1010:secret", "--answer-after", "0.2",
                       "--talk", "60", "--voice", "synthetic")
    port = agents.wait_for("ready")["sip_port"]
    first, second = Phone("first"), Phone("second")
    try:
        first.call(f"sip:1010@127.0.0.1:{port}")
        first.wait_for("call_state", state="CONFIRMED", timeout=15)
        assert agents.wait_for("answered", account="1010")
        first.record(tmp_path / "heard.wav")
        time.sleep(1.5)
        first.stop_record()
        heard, _ = read_samples(tmp_path / "heard.wav")
        assert abs(heard[4000:]).max() > 2000  # the agent talks...
        assert 80 < dominant_frequency(tmp_path / "heard.wav", start_s=0.5) < 1500  # ...in a voice
        second.call(f"sip:1010@127.0.0.1:{port}")
        refused = second.wait_for("call_state", state="DISCONNECTED", timeout=15)
        assert refused["last_status"] == 486
        assert agents.wait_for("refused", account="1010")["status"] == 486
        assert agents.stop() == 0
        first.wait_for("call_state", state="DISCONNECTED", timeout=10)
        assert agents.seen("hung_up", account="1010", by="local")
    finally:
        first.close()
        second.close()


@pytest.mark.peers
@needs_pjsua2
def test_impatient_callers_abandon_the_queue(box, simphones):
    (box.data_dir / "prompts" / "en").mkdir(parents=True, exist_ok=True)
    write_sine(box.data_dir / "prompts" / "en" / "menu.wav", 600, 1.0)
    secret = box.add_extension("1001")["secret"]
    box.add_extension("1010")
    assert box.api("POST", "/api/queues", {"name": "sales", "ring_timeout_s": 15})[0] == 201
    assert box.api("POST", "/api/agents/1010", {"queues": ["sales"]})[0] == 201
    assert box.api("PUT", "/api/flows", FLOWS)[0] == 200
    box.api("POST", "/api/agents/1010/login", {})
    assert box.api("POST", "/api/agents/1010/break", {"reason": "lunch"})[1]["status"] != "AVAILABLE"
    callers = simphones("callers", "--box", f"127.0.0.1:{box.sip_port}", "--account", f"1001:{secret}",
                        "--dial", "500", "--digits", "1", "--digits-after", "0.3-0.5", "--rate-per-min", "30",
                        "--max-concurrent", "1", "--hangup-after", "120", "--abandon-share", "1",
                        "--abandon-after", "2-2.5", "--voice", "synthetic", "--seed", "4")
    gave_up = callers.wait_for("hung_up", timeout=40, by="local")
    started = callers.seen("call_started", call=gave_up["call"])[0]
    assert started["abandons"] is True and 2 <= started["hangup_after_s"] <= 2.5
    assert callers.seen("dtmf_sent", call=gave_up["call"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        records = box.api("GET", "/api/cdr")[1]["records"]
        if records:
            break
        time.sleep(0.2)
    assert records and records[0]["outcome"] == "ABANDONED" and records[0]["queue"] == "sales"
    assert "ABANDONED" in [e["event"] for e in box.api("GET", "/api/queue-log")[1]["events"]]
    assert callers.stop() == 0
