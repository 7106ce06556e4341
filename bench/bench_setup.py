"""Call set-up through the box: the caller's authenticated INVITE to the 180 Ringing it gets.

A real `callbox core` on loopback with engine workers (engine.max_calls 40,
started on demand). The agents' phones are sipp: one socket registers
extensions 2001..2020 with digest (bench/scenarios/register.xml) and rings at
once (180) and answers every INVITE the workers send there
(bench/scenarios/ring.xml). The caller is extension 1001, a small phone of the
bench's own (bench/sipua.py) that registers and calls the agents in turn
through the edge: 500 calls at 10 a second (50 at --quick), each hung up
200 ms after it is answered, after a warm-up of 30 calls the same way (the
pool of engine workers grows as calls come, as in a busy hour).

The edge challenges each INVITE with 407; the INVITE sent again with
Proxy-Authorization is what is timed, from the moment it is sent until the
180 Ringing reaches the caller's socket (perf_counter, µs). In between: the
edge checks the digest and forwards to a worker, the worker makes a leg and
tells the core, the core routes the call and commands the worker to ring the
caller (180) and to dial the agent's phone; the 180 travels back through the
edge. The box sends that 180 when it starts ringing the agent, not when the
agent's phone answers the worker with its own 180 (a phone slow to ring does
not change it). `setup_answer_p95_ms` times the same INVITE to the 200 OK,
which includes the worker's call to the agent's phone (answered at once) and
the bridge. Returns `setup_p95_ms`, `setup_p50_ms`, `setup_p99_ms`,
`setup_answer_p95_ms` and `setup_calls`.

    .venv/bin/python -m bench setup
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.box import SCENARIOS, Box, Sipp, free_udp_port, keep, percentile, quick, register, steal_and_load
from bench.sipua import CallerPhone, CallFailed, Placed

CALLS = 500
WARM_UP = 30
RATE = 10               # calls placed per second
HOLD_S = 0.2            # from the 200 OK to the BYE
AGENTS = 20
CALLER = "1001"
FIRST_AGENT = 2001
SETTINGS = {"engine.max_calls": 40, "security.rate_limit_per_s": 100000, "security.rate_burst": 1000000}


def place(phone: CallerPhone, agents: list[str], calls: int, media_port: int) -> tuple[list[Placed], list[str]]:
    """`calls` calls at RATE a second, each to the next agent; the calls that went through and the errors
    of those that did not."""
    done: list[Placed] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        try:
            placed = phone.call(agents[i % len(agents)], media_port)
        except CallFailed as e:
            with lock:
                errors.append(str(e))
            return
        time.sleep(HOLD_S)
        phone.bye(placed)
        with lock:
            done.append(placed)

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for i in range(calls):
            time.sleep(max(0.0, began + i / RATE - time.monotonic()))
            pool.submit(one, i)
    return done, errors


def run() -> dict:
    calls = 50 if quick() else CALLS
    with tempfile.TemporaryDirectory(prefix="callbox-bench-setup-") as tmp:
        work = Path(tempfile.mkdtemp(prefix="callbox-bench-setup-")) if keep() else Path(tmp)
        if keep():
            print(f"logs and sipp traces are kept in {work}")
        box = Box(work, SETTINGS)
        # Where both ends say their audio goes: a socket nobody reads (the kernel drops what comes).
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        sink_port = sink.getsockname()[1]
        try:
            box.wait_ready(workers=1)
            box.settle()
            agent_port = free_udp_port()
            caller_secret = box.add_extension(CALLER)
            agents = [str(FIRST_AGENT + i) for i in range(AGENTS)]
            register(work, "register-agents", box, agent_port, [(a, box.add_extension(a)) for a in agents])
            (work / "agents.csv").write_text("SEQUENTIAL\n" + f"{sink_port}\n" * 10)
            ring = Sipp("agents", work, SCENARIOS / "ring.xml",
                        ["-inf", str(work / "agents.csv"), "-p", str(agent_port), "-m", str(calls + 100),
                         "-timeout", f"{int(calls / RATE + 120)}s"])
            phone = CallerPhone(box.sip_port, CALLER, caller_secret)
            try:
                phone.register()
                warm, warm_errors = place(phone, agents, 10 if quick() else WARM_UP, sink_port)
                began = time.monotonic()
                done, errors = place(phone, agents, calls, sink_port)
                took = time.monotonic() - began
            finally:
                phone.close()
                ring.kill()
            workers = len(box.worker_pids())
        except Exception:
            print(f"core log, end:\n{box.log_tail()}")
            raise
        finally:
            sink.close()
            box.stop()
    authed = sorted(p.setup_ms for p in done if p.challenged and p.setup_ms is not None)
    answer = sorted((p.answered_at - p.invite_at) * 1000 for p in done if p.challenged and p.answered_at)
    unchallenged = sorted(p.setup_ms for p in done if not p.challenged and p.setup_ms is not None)
    no_ringing = sum(1 for p in done if p.ringing_at is None)
    retrans = sum(p.retransmissions for p in done)
    failed, warm_failed = len(errors), len(warm_errors)
    samples = authed or unchallenged
    p50, p95, p99 = (percentile(samples, p) for p in (50, 95, 99))
    print(f"call set-up through the box, {calls} calls at {RATE}/s in {took:.0f} s, {workers} engine workers at "
          f"the end; {steal_and_load()}")
    print(f"{'timed':>30} {'calls':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for name, s in (("authenticated INVITE -> 180", authed), ("unchallenged INVITE -> 180", unchallenged),
                    ("authenticated INVITE -> 200", answer)):
        if s:
            print(f"{name:>30} {len(s):>6} {percentile(s, 50):>7.2f} {percentile(s, 95):>7.2f} "
                  f"{percentile(s, 99):>7.2f} {s[-1]:>7.2f}")
    print(f"{len(done)} calls went through ({no_ringing} without a 180, {retrans} INVITEs retransmitted), "
          f"{failed} failed; before them, a warm-up of {len(warm) + warm_failed} calls: {warm_failed} failed")
    for line in sorted(set(errors + warm_errors))[:4]:
        print(f"  failed: {line}")
    limits = {}
    if not authed and unchallenged:
        limits["setup_p95_ms"] = "the edge let the INVITEs through without a 407: timed from the first INVITE"
    elif p95 is not None and p95 > 4:
        limits["setup_p95_ms"] = ("before the 180 the INVITE crosses three processes: the edge (digest check, "
                                  "forward), the worker (a new pjsua2 leg, an event to the core), the core (route, "
                                  "commands back) and the worker again (180 out, through the edge); each hop is an "
                                  "event-loop turn of a Python process, and the slow tail is those processes waiting "
                                  f"for a CPU on a shared 2-core machine ({steal_and_load()})")
    if failed:
        limits["setup_p95_ms"] = limits.get("setup_p95_ms", "") + f"; {failed} of {calls} calls failed"
    if warm_failed:
        limits["setup_p95_ms"] = limits.get("setup_p95_ms", "") + (
            f"; in the warm-up before, {warm_failed} of {len(warm) + warm_failed} calls at {RATE}/s were refused "
            "while engine workers started on demand")
    r2 = (lambda v: None if v is None else round(v, 2))
    return {"setup_p95_ms": r2(p95), "setup_p50_ms": r2(p50), "setup_p99_ms": r2(p99), "setup_calls": len(samples),
            "setup_answer_p95_ms": r2(percentile(answer, 95)),
            "setup_failed_calls": failed,
            "setup_warmup_failed_calls": warm_failed, "_limits": limits}


if __name__ == "__main__":
    print(run())
