"""How long the report logic takes over a year, in one Python process with no core: from daily
roll-ups, and cold from the calls. (What the running core takes, through its API, is
`year_report_ms` of bench_pages.py.)

A year of traffic (200 calls a day, 73,000 calls, three queues, eight agents
with logins, breaks and logouts) is written as monthly call-record shards
into a temporary data directory. Daily roll-ups are built once; the year
report then merges 365 stored roll-ups (JSON text) and derives the queue KPIs,
the agent table and the staffing advice. The cold path reads every call of
the year back from the shards and rolls up each day first.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from appliance.logic.stats import (
    KpiSettings,
    Rollup,
    merge,
    queue_kpis_csv,
    rollup_days,
    staffing_from_rollup,
)
from appliance.store.atomic import encode_json
from appliance.store.records import CallRecords

TZ = "Europe/Warsaw"
YEAR = 2026
CALLS_PER_DAY = 200
AGENTS = [f"{200 + n}" for n in range(8)]
QUEUES = ["sales", "support", "billing"]
RUNS = 15


def _quick() -> bool:
    from bench.box import quick
    return quick()


def _year(seed: int = 7) -> tuple[list[dict], list[dict]]:
    """A year of call records and queue-log events, the same every run."""
    rng = random.Random(seed)
    tz = ZoneInfo(TZ)
    records: list[dict] = []
    events: list[dict] = []
    day = date(YEAR, 1, 1)
    while day.year == YEAR:
        opening = datetime(day.year, day.month, day.day, 8, tzinfo=tz)
        for agent in AGENTS:
            login = opening + timedelta(minutes=rng.randint(-10, 20))
            lunch = opening + timedelta(hours=4, minutes=rng.randint(0, 60))
            for when, kind, reason in (
                (login, "AGENT_LOGIN", None),
                (lunch, "AGENT_BREAK", "lunch"),
                (lunch + timedelta(minutes=30), "AGENT_AVAILABLE", None),
                (opening + timedelta(hours=9), "AGENT_LOGOUT", None),
            ):
                events.append({"time": when.isoformat(), "queue": None, "call_id": None,
                               "agent": agent, "event": kind, "wait_s": None,
                               "position": None, "reason": reason})
        for n in range(CALLS_PER_DAY):
            start = opening + timedelta(seconds=rng.randint(0, 9 * 3600 - 1))
            wait = int(rng.expovariate(1 / 25))
            roll = rng.random()
            outcome = ("ANSWERED" if roll < 0.82 else "ABANDONED" if roll < 0.93
                       else "TIMEOUT" if roll < 0.97 else "CALLBACK_REQUESTED")
            answered = outcome == "ANSWERED"
            talk = int(rng.expovariate(1 / 170)) if answered else 0
            wrap = rng.randint(0, 40) if answered else 0
            records.append({
                "id": f"{day.isoformat()}-{n:04d}",
                "start": start.isoformat(),
                "answer": (start + timedelta(seconds=wait)).isoformat() if answered else None,
                "end": (start + timedelta(seconds=wait + talk)).isoformat(),
                "duration_s": wait + talk, "talk_s": talk,
                "disposition": "ANSWERED" if answered else "NO ANSWER",
                "direction": "inbound", "queue": rng.choice(QUEUES),
                "agent": rng.choice(AGENTS) if answered else None,
                "caller": f"+48601{rng.randint(0, 999_999):06d}", "callee": "+48221234567",
                "wait_s": wait, "wrap_up_s": wrap, "outcome": outcome, "trunk": "gsm0", "worker": 0,
            })
        day += timedelta(days=1)
    return records, events


def _write_shards(data_dir: Path, records: list[dict]) -> None:
    # Written in one go: append() fsyncs each record, 73,000 times.
    shards: dict[str, list[bytes]] = {}
    for record in records:
        shards.setdefault(record["start"][:7], []).append(encode_json(record) + b"\n")
    cdr = data_dir / "cdr"
    cdr.mkdir(parents=True, exist_ok=True)
    for month, lines in shards.items():
        (cdr / f"{month}.jsonl").write_bytes(b"".join(lines))


def _report(stored: list[str]) -> tuple[Rollup, str]:
    merged = merge(Rollup.from_dict(json.loads(text)) for text in stored)
    table = queue_kpis_csv(merged.queue_kpis())
    merged.agent_stats()
    staffing_from_rollup(merged)
    return merged, table


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def run() -> dict:
    """Time the year report from roll-ups and cold; print a table; return the p95s."""
    records, events = _year()
    settings = KpiSettings()
    with tempfile.TemporaryDirectory(dir=os.environ.get("CALLBOX_BENCH_DIR")) as tmp:
        data_dir = Path(tmp)
        _write_shards(data_dir, records)
        began = time.perf_counter()
        days = rollup_days(records, events, TZ, settings)
        build_ms = (time.perf_counter() - began) * 1000
        stored = [json.dumps(days[d].to_dict()) for d in sorted(days)]

        warm = []
        for _ in range(RUNS):
            began = time.perf_counter()
            merged, _ = _report(stored)
            warm.append((time.perf_counter() - began) * 1000)

        cold = []
        for _ in range(1 if _quick() else 3):
            began = time.perf_counter()
            log = CallRecords(data_dir, read_only=True)
            calls = [r for month in log.months() for r in log.iter_month(month)]
            fresh = rollup_days(calls, events, TZ, settings)
            _report([json.dumps(fresh[d].to_dict()) for d in sorted(fresh)])
            cold.append((time.perf_counter() - began) * 1000)

    assert merged.total().offered == len(records)
    size_kb = sum(len(s) for s in stored) / 1024
    print(f"year report, {len(records)} calls, {len(events)} queue-log events, {len(days)} daily roll-ups "
          f"({size_kb:.0f} KiB of JSON)")
    print(f"{'path':>28} {'runs':>5} {'p50 ms':>10} {'p95 ms':>10}")
    print(f"{'from roll-ups':>28} {RUNS:>5} {statistics.median(warm):>10.1f} {_percentile(warm, 95):>10.1f}")
    print(f"{'cold (read calls, roll up)':>28} {len(cold):>5} {statistics.median(cold):>10.1f} "
          f"{_percentile(cold, 95):>10.1f}")
    print(f"{'building 365 roll-ups once':>28} {1:>5} {build_ms:>10.1f} {build_ms:>10.1f}")
    return {
        "year_report_logic_ms": round(_percentile(warm, 95), 2),
        "year_report_logic_cold_ms": round(_percentile(cold, 95), 2),
        "rollup_build_ms": round(build_ms, 2),
    }


if __name__ == "__main__":
    print(run())
