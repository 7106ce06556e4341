"""The worker as a process: capacity, bad input, losing the core, stopping."""

import asyncio
import json
import os
import signal

import pytest

from appliance.engine.client import WorkerProcess
from appliance.engine.probe import probe_pjsua2
from appliance.errors import EngineError
from tests.engine.conftest import call_in

pytestmark = pytest.mark.peers


def test_ready_reports_the_build_call_limit(engine):
    probed = probe_pjsua2()
    assert engine.ready["max_calls"] == probed["max_calls"] > 0
    assert engine.ready["sip_port"] > 0
    assert any(c.startswith("PCMA/8000") for c in probed["codecs"])
    status = engine.command("status")
    assert (status["free"], status["legs"]) == (probed["max_calls"], [])


def test_a_full_worker_refuses_calls_cleanly_and_stays_alive(engine, make_phone):
    limit = engine.ready["max_calls"]
    if limit > 8:
        pytest.skip("this pjproject build allows more calls than the test can fill cheaply")
    phones = [make_phone(f"desk{i}") for i in range(limit)]
    for i, phone in enumerate(phones):
        engine.command("call", leg=f"out-{i}", uri=phone.uri)
        phone.wait_for("incoming")
    assert engine.wait_event("capacity", free=0)

    extra = make_phone("extra")
    with pytest.raises(EngineError, match="full"):
        engine.command("call", leg="out-extra", uri=extra.uri)
    # pjsua itself turns away an INVITE above its limit.
    extra.call(engine.uri())
    assert extra.wait_for("call_state", state="DISCONNECTED")["last_status"] == 486

    phones[0].answer(486)
    engine.wait_event("hangup", leg="out-0")
    assert engine.wait_event("capacity", free=1)
    assert engine.command("status")["free"] == 1
    engine.command("call", leg="out-again", uri=extra.uri)
    assert extra.wait_for("incoming")


def test_malformed_commands_get_error_replies_and_the_worker_goes_on(engine):
    client = engine.client
    engine.send_raw(b"this is not json\n")
    engine.send_raw(b'[1, 2]\n')
    engine.send_raw(json.dumps({"id": 7, "cmd": "launch_rockets"}).encode() + b"\n")
    engine.send_raw(json.dumps({"id": 8, "cmd": "answer"}).encode() + b"\n")
    engine.send_raw(json.dumps({"id": 9, "cmd": "send_dtmf", "leg": "x",
                                "digits": "12Z"}).encode() + b"\n")
    engine.send_raw(json.dumps({"id": 10, "cmd": "call", "leg": "a b",
                                "uri": "sip:x@127.0.0.1"}).encode() + b"\n")
    engine.send_raw(json.dumps({"id": 11, "cmd": "call", "leg": "a",
                                "uri": "http://x"}).encode() + b"\n")
    with pytest.raises(EngineError, match="unknown field"):
        engine.command("hangup", leg="x", color="blue")
    with pytest.raises(EngineError, match="status"):
        engine.command("reject", leg="x", status=200)
    assert engine.command("status")["free"] == engine.ready["max_calls"]
    assert engine.worker.process.returncode is None
    replies = client.unmatched_replies
    assert [r["ok"] for r in replies] == [False] * 7
    assert [r["reply"] for r in replies] == [None, None, 7, 8, 9, 10, 11]
    assert "unknown command" in replies[2]["error"]
    assert "missing leg" in replies[3]["error"]


def test_losing_the_core_hangs_up_calls_and_the_worker_exits(engine, make_phone):
    phone = make_phone("caller")
    call_in(engine, phone)
    engine.drop_connection()
    assert phone.wait_for("call_state", state="DISCONNECTED")
    assert engine.wait_exit() == 0


def test_sigterm_hangs_up_and_exits_cleanly(engine, make_phone, tmp_path):
    phone = make_phone("caller")
    leg = call_in(engine, phone)
    engine.command("record_start", leg=leg, file=str(tmp_path / "rec.wav"))
    os.kill(engine.worker.process.pid, signal.SIGTERM)
    assert phone.wait_for("call_state", state="DISCONNECTED")
    assert engine.wait_exit() == 0
    # The recording was closed properly on the way out.
    with open(tmp_path / "rec.wav", "rb") as f:
        head = f.read(8)
    assert int.from_bytes(head[4:8], "little") == os.path.getsize(tmp_path / "rec.wav") - 8


def test_a_worker_that_cannot_start_is_reported(engine):
    async def second_on_same_port():
        worker = WorkerProcess("w1", sip_port=engine.ready["sip_port"])
        try:
            await worker.start(timeout_s=15)
        finally:
            await worker.stop()

    with pytest.raises(EngineError, match="w1 failed to start"):
        asyncio.run(second_on_same_port())
    assert engine.command("status")["free"] == engine.ready["max_calls"]


def test_a_command_nobody_declared_never_leaves_the_core(engine):
    with pytest.raises(EngineError, match="unknown command"):
        engine.command("launch_rockets")
    assert engine.client.unmatched_replies == []  # refused before it was written
    assert engine.command("status")["free"] == engine.ready["max_calls"]


def test_every_declared_command_has_one_handler_and_every_handler_a_declaration():
    from appliance.engine.commands import check_declared, worker_handlers
    from appliance.engine.protocol import COMMAND_TABLE, GATEWAY_COMMAND_TABLE

    class Anything:  # every attribute is a handler
        def __getattr__(self, name):
            return lambda **args: None

    handlers = worker_handlers(Anything(), Anything(), lambda: {})
    assert set(handlers) == set(COMMAND_TABLE)
    with pytest.raises(RuntimeError, match="without a declaration \\['launch'\\]"):
        check_declared({**handlers, "launch": lambda: None}, COMMAND_TABLE)
    with pytest.raises(RuntimeError, match="without a handler \\['send_sms'\\]"):
        check_declared({}, GATEWAY_COMMAND_TABLE)
