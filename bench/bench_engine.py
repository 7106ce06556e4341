"""How long one command to an engine worker takes, there and back.

    .venv/bin/python -m bench engine

The core drives every leg through commands (dial, answer, bridge, play), so
a call's set-up pays this round trip several times.
"""

from __future__ import annotations

import asyncio
import time

from appliance.engine.client import WorkerProcess

COMMANDS = 300


async def _measure(n: int) -> list[float]:
    worker = WorkerProcess(worker_id="bench")
    client = await worker.start()
    try:
        for _ in range(20):  # warm-up
            await client.command("status")
        times = []
        for _ in range(n):
            start = time.perf_counter()
            await client.command("status")
            times.append((time.perf_counter() - start) * 1000)
        return sorted(times)
    finally:
        await worker.stop()


def run(n: int = COMMANDS) -> dict:
    from bench.box import quick
    if quick():
        n = 50
    times = asyncio.run(_measure(n))
    p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95)]
    print(f"engine worker 'status' command round trip, {n} commands")
    print(f"   p50 ms    p95 ms    max ms\n  {p50:7.2f}   {p95:7.2f}   {times[-1]:7.2f}")
    return {"engine_command_rtt_p50_ms": round(p50, 2), "engine_command_rtt_p95_ms": round(p95, 2)}
