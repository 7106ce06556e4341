"""Bridged calls through the box: how many at once with every call's own audio, and what each costs.

A real `callbox core` on loopback with engine workers started on demand, and
`engine.max_calls` above the highest level tried, so that the configured
capacity is never what stops the test. sipp carries the signalling:

- the agents' phones: one sipp socket registers extensions 2001..21NN with
  digest (bench/scenarios/register.xml) and rings and answers every INVITE the
  workers send there (ring.xml);
- the caller: extension 1001, a phone of the bench's own (bench/sipua.py,
  digest for REGISTER and for the INVITE's 407); each level adds 10 calls to
  the next 10 agents through the edge, placed at 1.5 a second (workers start
  as calls come). Calls of earlier levels stay up, so level N is N calls
  talking at once. At the end every call is hung up and the box must have
  written an ANSWERED call record for each.

The SDP of both ends names RTP sockets of the bench itself (bench/media.py):
every caller and every agent sends its own tone (all distinct, 13 Hz apart),
and once a level's calls are all up, what each end hears is recorded for a
window and checked by FFT: each caller must hear one agent's tone and that
agent must hear that caller's tone (a pairing, one to one), at least 90 % of
the packets must arrive, and most of the power must be that tone. A level
passes when every call is answered (the core's /api/engine says ANSWERED for
all), none failed in sipp, and every call's audio passes. The levels go up
until one fails (or the highest, 100 calls, passes).

During each window the CPU of the whole box (core, live workers, reaped
workers) is read from /proc. `cpu_pct_per_bridged_call` is the slope of the
box's CPU over the number of calls (least squares over the idle box and every
level that passed): what one more call costs, the workers it needs included.

    .venv/bin/python -m bench calls

CALLBOX_BENCH_KEEP=1 keeps the core's log, the data directory (engine logs in
run/) and every sipp trace, and prints where.
"""

from __future__ import annotations

import os
import shutil
import threading
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.box import SCENARIOS, Box, Sipp, free_udp_port, keep, quick, register, rss_mb, steal_and_load, \
    udp_sockets
from bench.media import End, Heard, RtpHub, analyse, tones
from bench.sipua import CallerPhone, CallFailed, Placed

STEP = 10                  # calls added per level
MAX_CALLS = 100            # the highest level tried
RAMP_PER_S = 1.5           # how fast a level's new calls are placed (workers start as calls come)
SETTLE_S = 2.0             # after every call of a level is up and heard, before the window
WINDOW_S = 8.0             # audio recorded and CPU read
IDLE_S = 10.0              # the idle box before the first level
MIN_SHARE = 0.9            # of the 50 packets a second each end should get
MIN_PURITY = 0.5           # of the heard power, within 4 Hz of the strongest tone
FIRST_AGENT = 2001
CALLER = "1001"


@dataclass
class LevelOfCalls:
    """One level of a benchmark that adds calls: `calls` talking at once through the box, what the
    box did with them over the window, and what is wrong with their audio."""

    calls: int
    up: int = 0                      # calls the core reported ANSWERED in the window
    failed: int = 0                  # calls that did not set up (sipp's failed calls, either side, included)
    window_s: float = 0.0
    cpu_pct: float = 0.0             # the whole box, % of one core
    workers: int = 0
    worker_drops: int = 0
    load: float = 0.0
    bad_audio: list[str] = field(default_factory=list)
    short_audio: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.failed == 0 and self.up == self.calls and not self.bad_audio and self.worker_drops == 0


@dataclass
class Level(LevelOfCalls):
    """A level of bridged calls, with the memory of the core and of its engine workers."""

    worker_rss_mb: list[float] = field(default_factory=list)
    core_rss_mb: float = 0.0

    @property
    def rss_per_worker(self) -> float:
        return sum(self.worker_rss_mb) / len(self.worker_rss_mb) if self.worker_rss_mb else 0.0


def _nearest(freq: float | None, wanted: dict[int, str], within: float = 4.0) -> str | None:
    if freq is None:
        return None
    best = min(wanted, key=lambda f: abs(f - freq))
    return wanted[best] if abs(best - freq) <= within else None


def check_audio(callers: list[End], agents: list[End], seconds: float) -> tuple[list[str], int]:
    """What is wrong with each call's audio (empty: every call heard its own partner, both ways), and how
    many ends got fewer packets than they should."""
    by_tone = {e.tone: e.name for e in callers + agents}
    heard: dict[str, Heard] = {e.name: analyse(bytes(e.heard), seconds) for e in callers + agents}
    partner = {name: _nearest(h.freq, by_tone) for name, h in heard.items()}
    problems: list[str] = []
    short = 0
    for end in callers + agents:
        h = heard[end.name]
        other = partner[end.name]
        if h.pps < 50 * MIN_SHARE:
            short += 1
            problems.append(f"{end.name} got {h.pps:.0f} packets/s")
        elif other is None:
            problems.append(f"{end.name} heard no tone of this test ({h.freq} Hz)")
        elif other == end.name:
            problems.append(f"{end.name} heard its own tone")
        elif partner.get(other) != end.name:
            problems.append(f"{end.name} heard {other}, which heard {partner.get(other)}")
        elif (end in callers) == (other.startswith("caller")):
            problems.append(f"{end.name} heard {other}, on its own side")
        elif h.purity < MIN_PURITY:
            problems.append(f"{end.name} heard {other} at {h.purity:.0%} of its power")
    return problems, short


def count_answered(box: Box, call_ids: list[str]) -> int:
    """How many of the calls `call_ids`, hung up just now, the box wrote as ANSWERED call records (printed)."""
    time.sleep(1)
    records = {r.get("call_id"): r.get("disposition") for r in box.call_records()}
    answered = sum(1 for call_id in call_ids if records.get(call_id) == "ANSWERED")
    print(f"hung up {len(call_ids)} calls; {answered} ANSWERED call records for them", flush=True)
    return answered


def _least_squares_slope(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else None


def run() -> dict:
    """Step up 10 calls at a time until a level fails; print a table; return the numbers."""
    if shutil.which("sipp") is None:
        raise RuntimeError("sipp is not installed (apt-get install sip-tester)")
    step, max_calls = (4, 8) if quick() else (STEP, MAX_CALLS)
    window = 4.0 if quick() else WINDOW_S
    idle_s = 4.0 if quick() else IDLE_S
    levels: list[Level] = []
    sipps: list[Sipp] = []
    placed: list[Placed] = []
    phone: CallerPhone | None = None
    answered_records = -1
    hub = RtpHub()
    freqs = tones(2 * max_calls)
    callers = [hub.add(f"caller{i + 1}", freqs[2 * i]) for i in range(max_calls)]
    agents = [hub.add(f"agent{i + 1}", freqs[2 * i + 1]) for i in range(max_calls)]
    settings = {"engine.max_calls": max_calls + 4, "security.rate_limit_per_s": 100000,
                "security.rate_burst": 1000000}
    with tempfile.TemporaryDirectory(prefix="callbox-bench-calls-") as tmp:
        work = Path(tempfile.mkdtemp(prefix="callbox-bench-calls-")) if keep() else Path(tmp)
        if keep():
            print(f"logs, sipp traces and the data directory are kept in {work}")
        box = Box(work, settings)
        try:
            began = time.monotonic()
            box.wait_ready(workers=1)
            print(f"core ready in {time.monotonic() - began:.1f} s (engine.max_calls {settings['engine.max_calls']})",
                  flush=True)
            agent_port = free_udp_port()
            numbers = [str(FIRST_AGENT + i) for i in range(max_calls)]
            register(work, "register-agents", box, agent_port, [(a, box.add_extension(a)) for a in numbers])
            (work / "agents.csv").write_text("SEQUENTIAL\n" + "".join(f"{e.port}\n" for e in agents))
            sipps.append(Sipp("agents", work, SCENARIOS / "ring.xml",
                              ["-inf", str(work / "agents.csv"), "-p", str(agent_port), "-m", str(max_calls),
                               "-timeout", "3600s"]))
            hub.start()
            phone = CallerPhone(box.sip_port, CALLER, box.add_extension(CALLER))
            phone.register()
            # The idle box, for the first point of the CPU line, once the first start's work is done.
            box.settle()
            before, t0 = box.cpu_seconds(), time.monotonic()
            time.sleep(idle_s)
            idle_pct = (box.cpu_seconds() - before) / (time.monotonic() - t0) * 100
            for total in range(step, max_calls + 1, step):
                level = run_level(box, phone, placed, total, step, callers, agents, sipps, hub, window)
                levels.append(level)
                print(f"  {total} calls: {level.up} up, {level.failed} failed, audio "
                      f"{'ok' if not level.bad_audio else 'BAD'}, CPU {level.cpu_pct:.1f} %, "
                      f"{level.workers} workers, {steal_and_load()}", flush=True)
                if not level.clean:
                    break
            # Every call hung up; the box's word on each: an ANSWERED call record.
            for call in placed:
                phone.bye(call)
            answered_records = count_answered(box, [call.call_id for call in placed])
        except Exception:
            print(f"core (exit {box.proc.poll()}) log, end:\n{box.log_tail()}")
            raise
        finally:
            for s in sipps:
                s.kill()
            if phone is not None:
                phone.close()
            hub.stop()
            box.stop()
    print_table(levels, idle_pct, window)

    clean = [lv for lv in levels if lv.clean]
    best = clean[-1] if clean and clean == levels[:len(clean)] else None
    first_failed = next((lv for lv in levels if not lv.clean), None)
    slope = _least_squares_slope([(0, idle_pct)] + [(lv.calls, lv.cpu_pct) for lv in clean])
    limits: dict[str, str] = {}
    if best is not None and answered_records >= 0 and answered_records < len(placed):
        limits["bridged_calls_max_ok"] = (f"only {answered_records} of the {len(placed)} calls placed were written "
                                          "as ANSWERED call records")
    if first_failed is not None:
        why = "; ".join((first_failed.notes + first_failed.bad_audio)[:4]) or "see the table"
        limits["bridged_calls_max_ok"] = f"the level of {first_failed.calls} calls failed: {why}"
    elif best is not None:
        limits["bridged_calls_max_ok"] = f"the highest level tried ({best.calls}) passed; the box may carry more"
    if slope is not None and slope > 0.15:
        limits["cpu_pct_per_bridged_call"] = (
            "with the pjsua2 wheel a worker holds 4 legs, so every second bridged call starts one more "
            "worker process with its own pjsua2 event loop and 8 kHz conference clock; the call's own media "
            "(two G.711 streams through the conference bridge) is part of it")
    return {
        "bridged_calls_max_ok": best.calls if best else 0,
        "bridged_calls_first_failed": first_failed.calls if first_failed else 0,
        "cpu_pct_per_bridged_call": round(slope, 3) if slope is not None else None,
        "cpu_pct_per_bridged_call_all_in": round(best.cpu_pct / best.calls, 3) if best else None,
        "rss_mb_per_worker": round(best.rss_per_worker, 1) if best else None,
        "_limits": limits,
    }


def run_level(box: Box, phone: CallerPhone, placed: list[Placed], total: int, step: int, callers: list[End],
              agents: list[End], sipps: list[Sipp], hub: RtpHub, window: float) -> Level:
    """Add `step` calls to those already up, check every call's audio, read the CPU."""
    level = Level(total)
    first = total - step
    errors: list[str] = []

    def one(i: int) -> None:
        try:
            placed.append(phone.call(str(FIRST_AGENT + i), callers[i].port))
        except CallFailed as e:
            errors.append(f"call to {FIRST_AGENT + i}: {e}")

    threads = []
    began = time.monotonic()
    for n, i in enumerate(range(first, total)):
        time.sleep(max(0.0, began + n / RAMP_PER_S - time.monotonic()))
        t = threading.Thread(target=one, args=(i,), daemon=True)
        t.start()
        threads.append(t)
    for t in threads:
        t.join(timeout=30)
    ends = callers[:total] + agents[:total]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not errors:
        if box.talking() >= total and all(e.peer is not None for e in ends):
            break
        time.sleep(0.3)
    time.sleep(SETTLE_S)
    pids = [box.pid] + box.worker_pids()
    drops_before = sum(s.drops for s in udp_sockets(pids[1:]))
    hub.record(True)
    cpu_before, t0 = box.cpu_seconds(), time.monotonic()
    time.sleep(window)
    level.cpu_pct = (box.cpu_seconds() - cpu_before) / (time.monotonic() - t0) * 100
    hub.record(False)
    level.window_s = time.monotonic() - t0
    level.up = box.talking()
    level.load = os.getloadavg()[0]
    pids = [box.pid] + box.worker_pids()
    level.workers = len(pids) - 1
    level.worker_drops = sum(s.drops for s in udp_sockets(pids[1:])) - drops_before
    level.worker_rss_mb = [r for r in (rss_mb(p) for p in pids[1:]) if r is not None]
    level.core_rss_mb = rss_mb(box.pid) or 0.0
    level.failed = len(errors) + sum(s.count("FailedCall(C)") for s in sipps)
    level.bad_audio, level.short_audio = check_audio(callers[:total], agents[:total], level.window_s)
    for e in ends:
        e.heard = bytearray()
        e.packets = 0
    level.notes += errors[:3]
    if level.failed:
        for s in sipps:
            if s.count("FailedCall(C)"):
                level.notes += [f"{s.name}: {line}" for line in s.errors(2)]
        log = box.log_tail(20000)
        refused = log.count("no engine worker has room")
        if refused:
            level.notes.append(f"the core refused {refused} call(s) with 503: no engine worker had room "
                               "(workers start as calls come)")
    if level.up < level.calls:
        level.notes.append(f"only {level.up} of {level.calls} calls answered in the core's view")
    if level.worker_drops:
        level.notes.append(f"the workers' sockets dropped {level.worker_drops} datagrams (the box fell behind)")
    return level


def print_table(levels: list[Level], idle_pct: float, window: float) -> None:
    print(f"bridged calls through callbox core, loopback, G.711 A-law both ways, each end its own tone; "
          f"CPU and audio over {window:.0f} s per level")
    print(f"idle box: {idle_pct:.1f} % of one core")
    print(f"{'calls':>5} {'up':>4} {'failed':>6} {'audio':>6} {'short':>5} {'workers':>7} {'CPU %':>6} "
          f"{'CPU %/call':>10} {'RSS/worker':>10} {'core RSS':>8} {'drops':>5} {'load':>5}")
    for lv in levels:
        print(f"{lv.calls:>5} {lv.up:>4} {lv.failed:>6} {'ok' if not lv.bad_audio else 'BAD':>6} "
              f"{lv.short_audio:>5} {lv.workers:>7} {lv.cpu_pct:>6.1f} {lv.cpu_pct / lv.calls:>10.2f} "
              f"{lv.rss_per_worker:>8.1f}MB {lv.core_rss_mb:>6.1f}MB {lv.worker_drops:>5} {lv.load:>5.1f}")
        for note in (lv.notes + lv.bad_audio)[:8]:
            print(f"      {note}")
    print("up: calls the core reported ANSWERED; audio: every caller and agent heard exactly its partner's "
          "tone (FFT);\nshort: ends that got under 90 % of 50 packets/s; CPU: core + every worker, % of one core; "
          "drops: datagrams the workers' sockets dropped;\n"
          f"load: the machine's load average (it runs sipp and the bench's RTP too; {os.cpu_count()} cores)")


if __name__ == "__main__":
    print(run())
