"""What an idle box costs: CPU of the core and every process it runs, with no call.

A real `callbox core` on loopback with its defaults (engine on, provisioning
on, the built-in prompts) and `engine.max_calls` 40, i.e. room for 40
conversations. The core starts engine workers on demand and keeps one spare,
so an idle box should run one worker. Once it has settled after the start
(prompts made, the first worker up), the CPU of the core, its live
descendants (workers, line gateways) and its reaped children is read from
/proc over 60 s (10 s with --quick). Returns `idle_cpu_pct`.

    .venv/bin/python -m bench idle
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.box import Box, cpu_seconds, keep, quick, steal_and_load

MAX_CONVERSATIONS = 40
SETTLE_S = 10.0            # at least; then until the box is quiet (the first start makes prompts)
WINDOW_S = 60.0


def run() -> dict:
    window = 10.0 if quick() else WINDOW_S
    settle = 5.0 if quick() else SETTLE_S
    with tempfile.TemporaryDirectory(prefix="callbox-bench-idle-") as tmp:
        work = Path(tempfile.mkdtemp(prefix="callbox-bench-idle-")) if keep() else Path(tmp)
        box = Box(work, {"engine.max_calls": MAX_CONVERSATIONS})
        try:
            began = time.monotonic()
            box.wait_ready(workers=1)
            ready_s = time.monotonic() - began
            time.sleep(settle)
            settled_s = settle + box.settle()
            procs = box.processes()
            per_before = {pid: cpu_seconds(pid) for pid, _ in procs}
            before = box.cpu_seconds()
            t0 = time.monotonic()
            time.sleep(window)
            used = box.cpu_seconds() - before
            elapsed = time.monotonic() - t0
            per = {pid: (cpu_seconds(pid) - per_before[pid]) / elapsed * 100 for pid, _ in procs}
            after = box.processes()
            workers = len(box.worker_pids())
        except Exception:
            print(f"core log, end:\n{box.log_tail()}")
            raise
        finally:
            box.stop()
    pct = used / elapsed * 100
    print(f"idle box: core ready with its first worker in {ready_s:.1f} s, quiet {settled_s:.0f} s later; "
          f"{elapsed:.0f} s measured; {steal_and_load()}")
    print(f"{'pid':>8} {'CPU %':>7}  process")
    for pid, cmd in procs:
        print(f"{pid:>8} {per.get(pid, 0.0):>7.2f}  {cmd[:90]}")
    print(f"{'':>8} {pct:>7.2f}  the whole box ({len(after)} processes at the end, {workers} engine workers "
          f"for {MAX_CONVERSATIONS} conversations)")
    limits = {}
    if pct > 2:
        busiest = max(procs, key=lambda p: per.get(p[0], 0.0))
        limits["idle_cpu_pct"] = (f"{len(procs)} processes idle; the busiest is {busiest[1][:60]!r} at "
                                  f"{per.get(busiest[0], 0.0):.1f} % (an engine worker's pjsua2 event loop and "
                                  "8 kHz conference clock run with no call)")
    return {"idle_cpu_pct": round(pct, 2), "idle_engine_workers": workers, "_limits": limits}


if __name__ == "__main__":
    print(run())
