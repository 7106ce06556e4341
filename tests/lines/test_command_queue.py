"""The command queue: one command in flight, routing, deadlines, the SMS prompt."""

from __future__ import annotations

from appliance.lines.at_parser import ATParser, FinalKind, FinalResult, Info, Unsolicited
from appliance.lines.command_queue import (
    CTRL_Z, ESC, TRANSITIONS, CmdState, CommandQueue, Completed, Outcome,
)


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def feed(q: CommandQueue, data: bytes) -> list:
    return q.feed(ATParser().feed(data))


def test_one_command_in_flight_at_a_time():
    q = CommandQueue(FakeClock())
    a = q.submit("AT+CSQ", timeout=5)
    b = q.submit("AT+COPS?", timeout=5, expect="+COPS")
    assert q.due_writes() == [b"AT+CSQ\r"]
    assert q.due_writes() == []  # still waiting for AT+CSQ
    out = feed(q, b"\r\n+CSQ: 20,99\r\n\r\nOK\r\n")
    assert out == [Completed(a)] and a.ok and a.lines == ["+CSQ: 20,99"]
    assert q.due_writes() == [b"AT+COPS?\r"]
    assert b.state == CmdState.WAITING


def test_urcs_interleaved_with_a_reply_go_out():
    q = CommandQueue(FakeClock())
    cmd = q.submit("AT+CREG?", timeout=5, expect="+CREG")
    q.due_writes()
    out = feed(q, b'\r\nRING\r\n\r\n+CREG: 2,1,"00C3","1A2B"\r\n\r\n+CLIP: "+48601",145\r\n\r\nOK\r\n')
    assert [e.name for e in out if isinstance(e, Unsolicited)] == ["RING", "+CLIP"]
    assert cmd.lines == ['+CREG: 2,1,"00C3","1A2B"'] and cmd.ok


def test_a_notification_with_the_same_name_outside_a_query_goes_out():
    q = CommandQueue(FakeClock())
    out = feed(q, b"\r\n+CREG: 1\r\n")
    assert out == [Unsolicited("+CREG", "1", "+CREG: 1")]


def test_echo_is_dropped():
    q = CommandQueue(FakeClock())
    cmd = q.submit("ATI", timeout=5)
    q.due_writes()
    feed(q, b"ATI\r\r\nhuawei\r\n\r\nOK\r\n")
    assert cmd.lines == ["huawei"]


def test_deadline_completes_as_timeout_and_frees_the_queue():
    clock = FakeClock()
    q = CommandQueue(clock)
    done = []
    cmd = q.submit("ATZ", timeout=5, on_done=done.append)
    q.submit("ATE0", timeout=5)
    q.due_writes()
    clock.advance(4.9)
    assert q.tick() == []
    clock.advance(0.2)
    assert q.tick() == [Completed(cmd)]
    assert cmd.outcome == Outcome.TIMEOUT and done == [cmd]
    assert q.due_writes() == [b"ATE0\r"]


def test_error_results_end_the_command():
    q = CommandQueue(FakeClock())
    cmd = q.submit('AT+CPIN="1111"', timeout=5)
    q.due_writes()
    feed(q, b"\r\n+CME ERROR: incorrect password\r\n")
    assert cmd.outcome == Outcome.ERROR and cmd.result.kind == FinalKind.CME_ERROR


def test_no_carrier_ends_only_call_commands():
    q = CommandQueue(FakeClock())
    csq = q.submit("AT+CSQ", timeout=5)
    q.due_writes()
    out = feed(q, b"\r\nNO CARRIER\r\n")
    assert out == [FinalResult(FinalKind.NO_CARRIER, None, "NO CARRIER")] and q.in_flight is csq
    feed(q, b"\r\nOK\r\n")
    atd = q.submit("ATD123;", timeout=30, call_progress=True)
    q.due_writes()
    feed(q, b"\r\nBUSY\r\n")
    assert atd.outcome == Outcome.ERROR and atd.result.kind == FinalKind.BUSY


def test_sms_two_step():
    q = CommandQueue(FakeClock())
    cmd = q.submit("AT+CMGS=19", timeout=30, expect="+CMGS", body=b"0011AABB")
    assert q.due_writes() == [b"AT+CMGS=19\r"]
    assert cmd.state == CmdState.AWAITING_PROMPT
    feed(q, b"\r\n> ")
    assert cmd.state == CmdState.BODY_SENT
    assert q.due_writes() == [b"0011AABB" + CTRL_Z]
    feed(q, b"\r\n+CMGS: 42\r\n\r\nOK\r\n")
    assert cmd.ok and cmd.lines == ["+CMGS: 42"]


def test_prompt_that_never_comes_is_cancelled_with_esc():
    clock = FakeClock()
    q = CommandQueue(clock)
    cmd = q.submit("AT+CMGS=19", timeout=10, body=b"00")
    q.due_writes()
    clock.advance(11)
    q.tick()
    assert cmd.outcome == Outcome.TIMEOUT
    assert q.due_writes() == [ESC]


def test_stray_prompt_and_lines_without_a_command_go_out():
    q = CommandQueue(FakeClock())
    out = feed(q, b"\r\nhello\r\n\r\n> ")
    assert out[0] == Info("hello") and len(out) == 2


def test_cancel_all_ends_everything():
    q = CommandQueue(FakeClock())
    a = q.submit("AT", timeout=1)
    b = q.submit("AT", timeout=1)
    q.due_writes()
    assert [c.command for c in q.cancel_all()] == [a, b]
    assert a.outcome == b.outcome == Outcome.CANCELLED and q.idle


def test_transition_table_has_no_way_out_of_done():
    assert TRANSITIONS[CmdState.DONE] == {}
    for state, moves in TRANSITIONS.items():
        if state != CmdState.DONE:
            assert CmdState.DONE in moves.values()
