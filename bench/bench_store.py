"""How long one call record append takes as the month grows.

The promise of the monthly JSON Lines shards is that a write never costs
more as history grows; this measures it at 1k, 10k and 100k records already
in the month. Each append is fsynced, so the numbers are the disk's: run it
on the box's own SD card (set CALLBOX_BENCH_DIR to a directory on it).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from appliance.store.atomic import encode_json
from appliance.store.records import CallRecords

SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
APPENDS = 200


def _record(n: int) -> dict:
    """A call record of realistic size (about 400 bytes)."""
    minute = n % (28 * 24 * 60)
    day, hour, mins = 1 + minute // 1440, minute // 60 % 24, minute % 60
    return {
        "id": f"{n:032x}",
        "start": f"2026-11-{day:02d}T{hour:02d}:{mins:02d}:00+01:00",
        "answer": f"2026-11-{day:02d}T{hour:02d}:{mins:02d}:07+01:00",
        "end": f"2026-11-{day:02d}T{hour:02d}:{mins:02d}:59+01:00",
        "direction": "inbound",
        "caller": f"+48601{n % 1_000_000:06d}",
        "callee": "+48221234567",
        "line": "gsm0",
        "ivr_path": ["main", "sales"],
        "queue": "sales",
        "agent": f"{200 + n % 20}",
        "wait_seconds": 7,
        "talk_seconds": 52,
        "result": "ANSWERED",
        "recording": f"recordings/2026/11/{n:032x}.wav",
        "disposition": None,
    }


def _fill(shard: Path, count: int) -> None:
    # Written in one go: prefilling through append() would fsync 100k times.
    shard.parent.mkdir(parents=True, exist_ok=True)
    with open(shard, "wb") as f:
        for n in range(count):
            f.write(encode_json(_record(n)) + b"\n")


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def run() -> dict:
    """Measure p50/p95 append time per month size; print a table; return the p95s."""
    from bench.box import quick
    appends = 30 if quick() else APPENDS
    base = os.environ.get("CALLBOX_BENCH_DIR")
    results: dict[str, float] = {}
    rows = []
    for label, count in SIZES.items():
        with tempfile.TemporaryDirectory(dir=base) as tmp:
            data_dir = Path(tmp)
            _fill(data_dir / "cdr" / "2026-11.jsonl", count)
            samples = []
            with CallRecords(data_dir) as log:
                log.append(_record(count))  # opens the shard, as the running core has
                for n in range(count + 1, count + 1 + appends):
                    record = _record(n)
                    began = time.perf_counter()
                    log.append(record)
                    samples.append((time.perf_counter() - began) * 1000)
        p50, p95 = statistics.median(samples), _percentile(samples, 95)
        results[f"cdr_insert_ms_{label}"] = round(p95, 3)
        rows.append((label, count, p50, p95))
    print(f"call record append, {appends} appends each, fsync per append ({base or tempfile.gettempdir()})")
    print(f"{'month holds':>12} {'records':>9} {'p50 ms':>9} {'p95 ms':>9}")
    for label, count, p50, p95 in rows:
        print(f"{label:>12} {count:>9} {p50:>9.3f} {p95:>9.3f}")
    return results


if __name__ == "__main__":
    print(run())
