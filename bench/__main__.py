"""Run the benchmarks: `python -m bench [name ...]` (what `make bench` runs).

Every bench/bench_NAME.py with a `run() -> dict` is a benchmark; it prints its
own table and returns its numbers. The numbers are merged into
bench/results/latest.json (keys from earlier runs that were not run again are
kept) and docs/benchmarks.md is written from that file, each number next to
its target. One benchmark failing does not stop the others; the exit status
says whether any failed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import math
import os
import platform
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.store.atomic import atomic_write_bytes

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results" / "latest.json"
DOC = ROOT / "docs" / "benchmarks.md"
PREFIX = "bench_"


@dataclass(frozen=True)
class Target:
    """What a number must reach: at most (`<=`) or at least (`>=`) `limit`."""

    direction: str
    limit: float
    meaning: str

    def met(self, value: Any) -> bool | None:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return None
        return value <= self.limit if self.direction == "<=" else value >= self.limit


TARGETS: dict[str, Target] = {
    "cpu_pct_per_bridged_call": Target(
        "<=", 0.15, "CPU one bridged call (two legs through an engine worker's conference bridge) "
        "costs, in percent of one core."),
    "setup_p95_ms": Target(
        "<=", 4, "95th percentile of call setup through the box (INVITE in to the call ringing), in ms."),
    "bridged_calls_max_ok": Target(
        ">=", 40, "Most simultaneous bridged calls the box carries with every call's audio intact."),
    "register_per_s": Target(
        ">=", 3600, "Authenticated REGISTER transactions (401 challenge, then 200) per second that the "
        "core answers on one CPU core, with under 0.1 % failed."),
    "acd_decision_p95_us": Target(
        "<=", 200, "95th percentile of the time the ACD takes to choose an agent for a waiting call, in µs."),
    "cdr_insert_ms_100k": Target(
        "<=", 5, "95th percentile of appending one call record (fsynced) when the month already holds "
        "100,000 records, in ms."),
    "year_report_ms": Target(
        "<=", 300, "Time to compute the reports over a year of call records, in ms."),
    "core_rss_mb": Target(
        "<=", 60, "Resident memory of `callbox core` after the REGISTER benchmark (1000 extensions, "
        "all registered), in MB."),
    "rss_mb_per_worker": Target(
        "<=", 40, "Resident memory of one engine worker, in MB."),
    "line_audio_latency_ms": Target(
        "<=", 60, "Audio delay from a modem line to a SIP phone and back through a line gateway, in ms."),
    "page_p95_ms": Target(
        "<=", 100, "95th percentile of serving an admin web page, in ms."),
}

# Numbers measured along the way that have no target of their own.
NOTES: dict[str, str] = {
    "register_p95_ms": "95th percentile response time of the authenticated REGISTER (the second one, "
    "answered with 200) at the highest clean rate, in ms.",
    "sip_parse_per_s": "SIP REGISTER messages one core parses per second (parser alone).",
    "digest_verify_per_s": "Digest (SHA-256) Authorization headers one core verifies per second.",
    "cdr_insert_ms_1k": "As cdr_insert_ms_100k, with 1,000 records in the month.",
    "engine_command_rtt_p95_ms": "95th percentile of one command to an engine worker and its reply, in ms.",
    "cdr_insert_ms_10k": "As cdr_insert_ms_100k, with 10,000 records in the month.",
}


# --------------------------------------------------------------------------
# Finding and running benchmarks


def discover() -> list[str]:
    """Names of the benchmarks (bench_NAME.py -> NAME), sorted."""
    return sorted(p.stem[len(PREFIX):] for p in BENCH_DIR.glob(f"{PREFIX}*.py"))


def run_one(name: str) -> dict[str, Any]:
    """Import bench_NAME and return what its run() returns, checked to be a dict of numbers."""
    module = importlib.import_module(f"bench.{PREFIX}{name}")
    run = getattr(module, "run", None)
    if not callable(run):
        raise TypeError(f"bench/{PREFIX}{name}.py has no run() function")
    result = run()
    if not isinstance(result, dict) or not all(isinstance(k, str) for k in result):
        raise TypeError(f"{PREFIX}{name}.run() returned {type(result).__name__}, not a dict with str keys")
    bad = [k for k in result if k.startswith("_")]
    if bad:
        raise ValueError(f"{PREFIX}{name}.run() returned reserved keys {bad}")
    return result


# --------------------------------------------------------------------------
# The machine


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or platform.machine()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        # x86 says "model name"; a Raspberry Pi's ARM kernel says "Model" (the board) or nothing.
        if key.strip() in ("model name", "Model", "Hardware", "cpu model"):
            return value.strip()
    return platform.machine()


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "arch": platform.machine(),
        "kernel": platform.release(),
    }


# --------------------------------------------------------------------------
# Results file


def load_results(path: Path | None = None) -> dict[str, Any]:
    path = path or RESULTS
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        # A broken results file must not stop a new run; the new one replaces it.
        print(f"bench: ignoring unreadable {path}: {e}", file=sys.stderr)
        return {}
    return data if isinstance(data, dict) else {}


def merge(old: dict[str, Any], new: dict[str, Any], ran: list[str], when: dt.datetime,
          host: dict[str, Any]) -> dict[str, Any]:
    """Old results updated with new ones; `_meta` says when and where."""
    merged = {k: v for k, v in old.items() if not k.startswith("_")}
    merged.update(new)
    previous = old.get("_meta") if isinstance(old.get("_meta"), dict) else {}
    runs = dict(previous.get("runs") or {}) if isinstance(previous.get("runs"), dict) else {}
    for name in ran:
        runs[name] = when.isoformat(timespec="seconds")
    merged["_meta"] = {"time": when.isoformat(timespec="seconds"), "machine": host, "runs": runs}
    return dict(sorted(merged.items()))


def save_results(results: dict[str, Any], path: Path | None = None) -> None:
    path = path or RESULTS
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(results, indent=2, sort_keys=True) + "\n").encode())


# --------------------------------------------------------------------------
# docs/benchmarks.md


def _fmt(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "`" + json.dumps(value) + "`"
    if isinstance(value, int) or not math.isfinite(value):
        return f"{value}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 1:
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def render_doc(results: dict[str, Any]) -> str:
    meta = results.get("_meta") or {}
    host = meta.get("machine") or {}
    where = (f"{host.get('cpu', '?')}, {host.get('cores', '?')} cores, Python {host.get('python', '?')}"
             if host else "no machine recorded")
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench` from bench/results/latest.json; edits here are overwritten. -->",
        "",
        f"Numbers come from `make bench` on the machine recorded in `_meta` of "
        f"`bench/results/latest.json`: {where}, last run {meta.get('time', 'never')}. "
        "A Raspberry Pi is slower than a desktop; run it on the box to know the box.",
        "",
        "| key | value | target | met |",
        "|---|---|---|---|",
    ]
    for key, target in TARGETS.items():
        value = results.get(key)
        met = target.met(value)
        shown = "not measured" if key not in results else _fmt(value)
        verdict = "—" if met is None else ("yes" if met else "**no**")
        lines.append(f"| `{key}` | {shown} | {target.direction} {_fmt(target.limit)} | {verdict} |")
    extra = [k for k in results if not k.startswith("_") and k not in TARGETS]
    for key in extra:
        lines.append(f"| `{key}` | {_fmt(results[key])} | — | — |")
    runs = meta.get("runs") or {}
    if runs:
        lines += ["", "Last run of each benchmark: " + ", ".join(f"`{n}` {t}" for n, t in sorted(runs.items())) + "."]
    lines += [
        "",
        "## How to run",
        "",
        "    make bench                             # every benchmark",
        "    .venv/bin/python -m bench register store   # only bench/bench_register.py and bench/bench_store.py",
        "    .venv/bin/python -m bench --list       # the benchmarks there are",
        "",
        "Each benchmark prints its own table. The numbers it returns are merged into",
        "`bench/results/latest.json` (numbers of benchmarks not run this time are kept)",
        "and this page is rewritten from that file. The exit status is non-zero when a",
        "benchmark failed; the others still run. Run on an otherwise idle machine: the",
        "REGISTER benchmark pins the core to CPU 0 and sipp to CPU 1.",
        "",
        "`CALLBOX_BENCH_DIR` chooses where the call-record benchmark writes (put it on",
        "the box's SD card to measure the card).",
        "",
        "The REGISTER benchmark starts a real `callbox core` on loopback, creates 1000",
        "extensions through the control API, registers every phone once, then has sipp",
        "offer 1000, 2000, ... 6000 digest-authenticated registrations per second for",
        "10 s each, stopping at the first rate the box does not keep up with (0.1 % or",
        "more failed, or under 90 % of the offered rate answered). Its table shows, per",
        "rate: answered per second, failures, retransmissions, UDP datagrams dropped on",
        "full receive buffers, p50/p95 of the authenticated REGISTER, the core's CPU, and",
        "`wait %`, the time the core was ready to run but another process held its CPU.",
        "A high `wait %` means the machine was busy and the number understates the box.",
        "`CALLBOX_BENCH_PROFILE=DIR` runs the core under cProfile and prints its hot spots.",
        "",
        "## What the numbers mean",
        "",
    ]
    for key, target in TARGETS.items():
        lines.append(f"- `{key}`: {target.meaning}")
    for key in extra:
        if key in NOTES:
            lines.append(f"- `{key}`: {NOTES[key]}")
    return "\n".join(lines) + "\n"


def write_doc(results: dict[str, Any], path: Path | None = None) -> None:
    path = path or DOC
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, render_doc(results).encode())


# --------------------------------------------------------------------------
# Command line


def _wanted(args: list[str], known: list[str]) -> list[str]:
    names = [a[len(PREFIX):] if a.startswith(PREFIX) else a.removesuffix(".py") for a in args]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"bench: no such benchmark {', '.join(unknown)} (there are: {', '.join(known)})")
    return names or known


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Run the Callbox benchmarks.")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all), e.g. register store")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--no-save", action="store_true",
                        help="print only; leave latest.json and docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    known = discover()
    if args.list:
        print("\n".join(known))
        return 0
    names = _wanted(args.names, known)

    new: dict[str, Any] = {}
    ran: list[str] = []
    failed: list[str] = []
    for name in names:
        print(f"\n== {name} ==", flush=True)
        began = time.monotonic()
        try:
            result = run_one(name)
        except (Exception, SystemExit) as e:  # noqa: BLE001 - one broken benchmark must not stop the rest
            traceback.print_exc()
            print(f"{name}: FAILED after {time.monotonic() - began:.1f} s: {e!r}", flush=True)
            failed.append(name)
            continue
        ran.append(name)
        new.update(result)
        for key, value in result.items():
            target = TARGETS.get(key)
            met = target.met(value) if target else None
            note = "" if met is None else f"  (target {target.direction} {_fmt(target.limit)}: " \
                                          f"{'met' if met else 'NOT met'})"
            print(f"  {key} = {_fmt(value).strip('`')}{note}")
        print(f"{name}: done in {time.monotonic() - began:.1f} s", flush=True)

    if not args.no_save:
        results = merge(load_results(), new, ran, dt.datetime.now(dt.timezone.utc).astimezone(), machine())
        save_results(results)
        write_doc(results)
        print(f"\nresults: {RESULTS.relative_to(ROOT)}, {DOC.relative_to(ROOT)}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
