"""Run the benchmarks: `python -m bench [name ...]` (what `make bench` runs).

Every bench/bench_NAME.py with a `run() -> dict` is a benchmark; it prints its
own table and returns its numbers. It may add `_limits`: {key: what limits that
number}, shown beside a missed target. The numbers are merged into
bench/results/latest.json (keys from earlier runs that were not run again are
kept, each with the commit, date and machine it was measured on under `_keys`)
and docs/benchmarks.md is written from that file, each number next to its
target. One benchmark failing does not stop the others; the exit status says
whether any failed.

`--quick` (or CALLBOX_BENCH_QUICK=1) runs a short smoke version of each
benchmark, to check that it works on a busy machine; its numbers are printed,
not saved (unless `--save`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import math
import os
import platform
import subprocess
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
        "<=", 0.15, "CPU that one more bridged call costs the whole box (core, engine workers, the workers "
        "started for it), in percent of one core: the slope of the box's CPU over the number of calls "
        "between the levels of the bridged-call benchmark that carried every call."),
    "idle_cpu_pct": Target(
        "<=", 2, "CPU of the whole box with no call (core, every engine worker and line gateway it runs), "
        "with engine.max_calls 40, in percent of one core, read from /proc over 60 s."),
    "setup_p95_ms": Target(
        "<=", 4, "95th percentile of call set-up through the box: from the caller's authenticated INVITE "
        "(the one carrying Proxy-Authorization, after the edge's 407) to the 180 Ringing the caller gets, "
        "through the SIP edge, an engine worker (new leg), the core (routing) and the worker again (which "
        "sends the 180 as it starts to dial the agent's phone); over 500 calls at 10 a second, in ms."),
    "bridged_calls_max_ok": Target(
        ">=", 40, "Most simultaneous bridged calls the box carried with every call's own audio intact "
        "both ways (each caller and each agent sends its own tone; each must hear exactly its partner's "
        "tone, by FFT), found by stepping up 10 calls at a time until a level fails."),
    "register_per_s": Target(
        ">=", 3600, "Highest offered rate of authenticated REGISTER transactions (401 challenge, then 200) "
        "per second at which the whole core (engine workers, provisioning and prompts on) answers every "
        "one with a p95 of the authenticated REGISTER within 50 ms and no retransmission."),
    "acd_decision_p95_us": Target(
        "<=", 200, "95th percentile of the time the ACD takes to choose an agent for a waiting call, in µs."),
    "ivr_to_agent_p95_ms": Target(
        "<=", 30, "95th percentile from a caller's DTMF digit in the IVR menu to the agent's phone ringing, "
        "through a real core and engine worker, in ms (includes the test phones' own event plumbing)."),
    "cdr_insert_ms_100k": Target(
        "<=", 5, "95th percentile of appending one call record (fsynced) when the month already holds "
        "100,000 records, in ms."),
    "year_report_ms": Target(
        "<=", 300, "95th percentile of the running core answering every report of the reports page "
        "(queues, agents, staffing, heat map, today) for a year of call records through its control API, "
        "after the first (warm), in ms."),
    "core_rss_mb": Target(
        "<=", 60, "Resident memory of `callbox core` (engine, provisioning and prompts on) after the "
        "REGISTER benchmark (1000 extensions, all registered), in MB."),
    "rss_mb_per_worker": Target(
        "<=", 40, "Resident memory of one engine worker carrying calls, in MB (mean over the workers at "
        "the largest clean level of the bridged-call benchmark)."),
    "line_audio_latency_ms": Target(
        "<=", 60, "Round trip of audio from a modem line through a line gateway to a SIP phone that loops "
        "it back, and back to the modem: a tone burst's first sample sent by the simulated modem to its "
        "return heard at the modem, both timed at the modem; median of the bursts, in ms."),
    "page_p95_ms": Target(
        "<=", 100, "95th percentile of serving the admin pages a supervisor keeps open (/wallboard, "
        "/wallboard.json, /now, /calls, /reports as it opens) by the real web app and core, with a year "
        "of call records, 20 agents logged in and 5 queues, in ms."),
    "webrtc_added_p95_ms": Target(
        "<=", 20, "What the browser phone's media bridge adds to audio between a browser (ICE, DTLS-SRTP) and "
        "an engine worker's plain RTP: 95th percentile of the bridged path's one-way delay minus the same "
        "peers' direct path, one call, in ms."),
    "report_page_cold_ms": Target(
        "<=", 1000, "The first reports page for the whole year after the core starts (roll-ups not yet in "
        "memory), through the web app, in ms."),
}

# Numbers measured along the way that have no target of their own.
NOTES: dict[str, str] = {
    "register_p95_ms": "95th percentile response time of the authenticated REGISTER (the second one, "
    "answered with 200) at register_per_s, in ms.",
    "register_per_s_any_p95": "Highest offered REGISTER rate answered with no failure and under 0.1 % "
    "retransmitted, whatever the latency (the old register_per_s).",
    "sip_parse_per_s": "SIP REGISTER messages one core parses per second (parser alone).",
    "digest_verify_per_s": "Digest (SHA-256) Authorization headers one core verifies per second.",
    "cdr_insert_ms_1k": "As cdr_insert_ms_100k, with 1,000 records in the month.",
    "cdr_insert_ms_10k": "As cdr_insert_ms_100k, with 10,000 records in the month.",
    "engine_command_rtt_p50_ms": "Median of one command to an engine worker and its reply, in ms.",
    "engine_command_rtt_p95_ms": "95th percentile of one command to an engine worker and its reply, in ms.",
    "setup_p50_ms": "Median of setup_p95_ms's samples, in ms.",
    "setup_calls": "Calls timed for setup_p50_ms and setup_p95_ms.",
    "setup_answer_p95_ms": "95th percentile from the same authenticated INVITE to the 200 OK: the worker's call "
    "to the agent's phone (which answers at once) and the bridge included, in ms.",
    "cpu_pct_per_bridged_call_all_in": "The whole box's CPU at bridged_calls_max_ok divided by the calls "
    "(idle workers included).",
    "bridged_calls_first_failed": "The first level of the bridged-call benchmark that did not carry every "
    "call with its audio (0: none failed up to the highest level tried).",
    "ivr_to_agent_p50_ms": "Median of ivr_to_agent_p95_ms's samples, in ms.",
    "ivr_to_agent_calls": "Calls timed for ivr_to_agent_p50_ms and ivr_to_agent_p95_ms.",
    "setup_p99_ms": "99th percentile of setup_p95_ms's samples, in ms.",
    "setup_failed_calls": "Calls of the timed set-up run that did not go through.",
    "setup_warmup_failed_calls": "Calls of the set-up warm-up (30 at 10 a second, as the pool of engine "
    "workers grows on demand) that did not go through.",
    "idle_engine_workers": "Engine workers the idle box ran during idle_cpu_pct.",
    "register_answered_per_s": "REGISTERs answered per second at register_per_s.",
    "report_page_first_ms": "The first reports page for the whole year on a box whose year of records has no "
    "daily roll-ups yet (the core builds them), through the web app, in ms.",
    "line_audio_jitter_ms": "Standard deviation of the round trips of line_audio_latency_ms, in ms.",
    "line_audio_bursts": "Tone bursts timed for line_audio_latency_ms.",
    "cpu_pct_per_line": "CPU of the line gateway carrying one call with audio both ways, % of one core.",
    "year_report_cold_ms": "The core's first answer to the year's reports after a start (roll-ups read "
    "or built), through the control API, in ms.",
    "year_report_logic_ms": "95th percentile of merging 365 daily roll-ups (JSON text) into the year's "
    "queue, agent and staffing tables in one Python process, with no core, in ms.",
    "year_report_logic_cold_ms": "Reading a year of call records from the shards and rolling up every "
    "day before the merge, in one Python process, in ms.",
    "rollup_build_ms": "Building the 365 daily roll-ups of a year from call records once, in ms.",
    "report_page_p95_ms": "95th percentile of the reports page for the whole year through the web app, "
    "once the core has its roll-ups, in ms.",
    "page_p95_ms_": "page_p95_ms for that page alone.",
    "page_p50_ms": "Median over the same pages and requests as page_p95_ms, in ms.",
    "webrtc_cpu_pct_per_call": "CPU that one more browser call costs the media bridge (DTLS-SRTP, ICE "
    "consent, relaying), % of one core: the slope between the bench's levels.",
    "webrtc_cpu_pct_one_call": "The media bridge's CPU with one browser call, % of one core.",
    "webrtc_up_p50_ms": "Median one-way delay browser → engine through the bridge, one call, in ms.",
    "webrtc_up_p95_ms": "95th percentile of webrtc_up_p50_ms's samples, in ms.",
    "webrtc_down_p50_ms": "Median one-way delay engine → browser through the bridge, one call, in ms.",
    "webrtc_down_p95_ms": "95th percentile of webrtc_down_p50_ms's samples, in ms.",
    "webrtc_up_p95_ms_": "webrtc_up_p95_ms at the bench's highest level of simultaneous calls.",
    "webrtc_down_p95_ms_": "webrtc_down_p95_ms at the bench's highest level of simultaneous calls.",
    "webrtc_setup_p50_ms": "Median from the browser's offer to DTLS done on the bridge, in ms.",
    "webrtc_queue_wait_p95_ms": "95th percentile a packet waited in the bridge's queue at the highest level, ms.",
    "webrtc_rss_mb_idle": "Resident memory of the media bridge process with no call, in MB.",
    "webrtc_rss_mb_": "Resident memory of the media bridge process at the bench's highest level, in MB.",
    "webrtc_direct_p50_ms": "Median one-way delay between the same peers without the bridge, in ms.",
    "webrtc_direct_p95_ms": "95th percentile of webrtc_direct_p50_ms's samples, in ms.",
    "webrtc_added_p50_ms": "Median of what the bridge adds (webrtc_added_p95_ms's samples), in ms.",
    "browser_calls_per_worker": "Simultaneous browser calls one engine worker carried with every call's audio "
    "intact both ways: a box with engine.max_calls 2 (one worker), browser calls to desk phones added one at a "
    "time until one is refused. What limits it: the pjsua2-python wheel allows 4 calls (legs) per process and "
    "a browser call is two legs in one worker (the browser's, through the media bridge, and the desk phone's), "
    "so 2; the box starts more workers for more calls (the pjproject the Pi image compiles allows more).",
    "browser_calls_max_ok": "Most simultaneous browser calls the whole box carried (core, engine workers, media "
    "bridge) with every call's own tone heard both ways by FFT (each stand-in browser, aiortc with ICE and "
    "DTLS-SRTP over a ticket's secure WebSocket, calls its own desk phone), levels doubling from 1 until one "
    "fails; the stand-ins run on the same machine.",
    "browser_calls_first_failed": "The first level of the browser-call benchmark that did not carry every call "
    "with its audio (0: none failed up to the highest level tried).",
    "cpu_pct_per_browser_call": "CPU that one more browser call costs the whole box (core, engine workers and "
    "the workers started for it, the media bridge), in percent of one core: the slope of the box's CPU over "
    "the calls between the levels of the browser-call benchmark that passed.",
    "cpu_pct_per_browser_call_bridge": "The media bridge process's share of cpu_pct_per_browser_call (ICE "
    "consent, DTLS-SRTP: a packet decrypted and one encrypted every 20 ms, relaying), % of one core.",
    "cpu_pct_per_browser_call_all_in": "The whole box's CPU at browser_calls_max_ok divided by the calls.",
}


# --------------------------------------------------------------------------
# Finding and running benchmarks


def discover() -> list[str]:
    """Names of the benchmarks (bench_NAME.py -> NAME), sorted."""
    return sorted(p.stem[len(PREFIX):] for p in BENCH_DIR.glob(f"{PREFIX}*.py"))


QUICK_ENV = "CALLBOX_BENCH_QUICK"


def quick() -> bool:
    """Whether the benchmarks run their short smoke versions (`--quick`, CALLBOX_BENCH_QUICK=1)."""
    return os.environ.get(QUICK_ENV, "") not in ("", "0")


def run_one(name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """Import bench_NAME and return what its run() returns (its numbers) and its `_limits` notes."""
    module = importlib.import_module(f"bench.{PREFIX}{name}")
    run = getattr(module, "run", None)
    if not callable(run):
        raise TypeError(f"bench/{PREFIX}{name}.py has no run() function")
    result = run()
    if not isinstance(result, dict) or not all(isinstance(k, str) for k in result):
        raise TypeError(f"{PREFIX}{name}.run() returned {type(result).__name__}, not a dict with str keys")
    result = dict(result)
    limits = result.pop("_limits", None) or {}
    if not isinstance(limits, dict):
        raise TypeError(f"{PREFIX}{name}.run() returned _limits that is not a dict")
    bad = [k for k in result if k.startswith("_")]
    if bad:
        raise ValueError(f"{PREFIX}{name}.run() returned reserved keys {bad}")
    return result, {str(k): str(v) for k, v in limits.items() if v}


# --------------------------------------------------------------------------
# The machine and the code


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


def code() -> dict[str, Any]:
    """The commit the benchmarks run on and whether the tree had changes beside it."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    commit = git("rev-parse", "HEAD")
    # Only the code that runs counts: appliance/, web/, bench/ and the build files.
    dirty = bool(git("status", "--porcelain", "--untracked-files=no", "--", "appliance", "web", "bench",
                     "pyproject.toml", "tests/peers"))
    return {"commit": commit or "unknown", "dirty": dirty}


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
          host: dict[str, Any], source: dict[str, Any] | None = None,
          limits: dict[str, str] | None = None, origin: dict[str, str] | None = None) -> dict[str, Any]:
    """Old results updated with new ones. `_meta` says when, where and on which commit the last run
    was; `_keys` says it for every number (numbers of earlier runs keep their own), with what limits it."""
    source = source or {"commit": "unknown", "dirty": False}
    limits = limits or {}
    origin = origin or {}
    merged = {k: v for k, v in old.items() if not k.startswith("_")}
    merged.update(new)
    previous = old.get("_meta") if isinstance(old.get("_meta"), dict) else {}
    runs = dict(previous.get("runs") or {}) if isinstance(previous.get("runs"), dict) else {}
    stamp = when.isoformat(timespec="seconds")
    for name in ran:
        runs[name] = {"time": stamp, "commit": source["commit"], "dirty": source["dirty"]}
    keys = dict(old.get("_keys") or {}) if isinstance(old.get("_keys"), dict) else {}
    for key in list(keys):
        if key not in merged:
            keys.pop(key)
    old_time = previous.get("time", "unknown")
    for key in merged:
        if key not in keys and key not in new:
            # A number from before results recorded their code: say so rather than guess.
            keys[key] = {"time": old_time, "commit": "unknown", "dirty": None, "machine": previous.get("machine")}
    for key in new:
        keys[key] = {"time": stamp, "commit": source["commit"], "dirty": source["dirty"], "machine": host,
                     "benchmark": origin.get(key)}
        if key in limits:
            keys[key]["limits"] = limits[key]
    merged["_meta"] = {"time": stamp, "machine": host, "commit": source["commit"], "dirty": source["dirty"],
                       "runs": runs}
    merged["_keys"] = dict(sorted(keys.items()))
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


def _short(commit: Any, dirty: Any) -> str:
    if not isinstance(commit, str) or commit == "unknown" or not commit:
        return "commit not recorded (an older benchmark)"
    return commit[:10] + (" + changes" if dirty else "")


def _day(stamp: Any) -> str:
    return stamp[:10] if isinstance(stamp, str) else "?"


def render_doc(results: dict[str, Any]) -> str:
    meta = results.get("_meta") or {}
    keys = results.get("_keys") or {}
    host = meta.get("machine") or {}
    where = (f"{host.get('cpu', '?')}, {host.get('cores', '?')} cores, Python {host.get('python', '?')}"
             if host else "no machine recorded")
    lines = [
        "# Benchmarks",
        "",
        "<!-- Generated by `python -m bench` from bench/results/latest.json; edits here are overwritten. -->",
        "",
        f"Numbers come from `make bench`. The last run: {meta.get('time', 'never')} on {where}, "
        f"commit {_short(meta.get('commit'), meta.get('dirty'))}. Each number below names the commit and "
        "day it was measured on (`_keys` in `bench/results/latest.json` has the machine too); numbers of "
        "benchmarks not run again are kept from earlier runs. A Raspberry Pi is slower than this "
        "machine; run it on the box to know the box.",
        "",
        "| key | value | target | met | measured on |",
        "|---|---|---|---|---|",
    ]
    missed: list[tuple[str, str]] = []
    for key, target in TARGETS.items():
        value = results.get(key)
        met = target.met(value)
        shown = "not measured" if key not in results else _fmt(value)
        verdict = "—" if met is None else ("yes" if met else "**no**")
        info = keys.get(key) or {}
        when = f"{_short(info.get('commit'), info.get('dirty'))}, {_day(info.get('time'))}" if info else "—"
        lines.append(f"| `{key}` | {shown} | {target.direction} {_fmt(target.limit)} | {verdict} | {when} |")
        if met is False or (met is None and key in results):
            missed.append((key, info.get("limits") or "not said by the benchmark"))
    extra = [k for k in results if not k.startswith("_") and k not in TARGETS]
    for key in extra:
        info = keys.get(key) or {}
        when = f"{_short(info.get('commit'), info.get('dirty'))}, {_day(info.get('time'))}" if info else "—"
        lines.append(f"| `{key}` | {_fmt(results[key])} | — | — | {when} |")
    if missed:
        lines += ["", "## What limits the missed targets", ""]
        for key, why in missed:
            lines.append(f"- `{key}`: {why}")
    others = [(k, (keys.get(k) or {}).get("limits")) for k in TARGETS if k not in dict(missed)]
    others = [(k, why) for k, why in others if why]
    if others:
        lines += ["", "Notes on targets that were met:", ""]
        for key, why in others:
            lines.append(f"- `{key}`: {why}")
    runs = meta.get("runs") or {}
    if runs:
        def run_text(info: Any) -> str:
            if isinstance(info, dict):
                return f"{info.get('time', '?')} ({_short(info.get('commit'), info.get('dirty'))})"
            return f"{info} (commit not recorded)"
        lines += ["", "Last run of each benchmark: " + ", ".join(
            f"`{n}` {run_text(t)}" for n, t in sorted(runs.items())) + "."]
    lines += [
        "",
        "## How to run",
        "",
        "    make bench                                  # every benchmark (about 20 minutes on 2 cores)",
        "    .venv/bin/python -m bench setup             # one benchmark (or a few: register store)",
        "    .venv/bin/python -m bench --quick           # short smoke versions; numbers printed, not saved",
        "    .venv/bin/python -m bench --list            # the benchmarks there are",
        "",
        "Each benchmark prints its own table. The numbers it returns are merged into",
        "`bench/results/latest.json` (numbers of benchmarks not run this time are kept),",
        "each under `_keys` with the commit (and whether the tree had uncommitted changes),",
        "the date and the machine it was measured on, and what limits it; this page is",
        "rewritten from that file. The exit status is non-zero when a benchmark failed;",
        "the others still run. Run on an otherwise idle machine: the benchmarks print the",
        "load average, and the REGISTER benchmark pins the core to CPU 0 and sipp to CPU 1.",
        "",
        "`CALLBOX_BENCH_DIR` chooses where the call-record benchmark writes (put it on",
        "the box's SD card to measure the card). `CALLBOX_BENCH_KEEP=1` keeps the logs,",
        "data directories and sipp traces of the call benchmarks.",
        "",
        "The benchmarks and what they run:",
        "",
        "- `idle`: a real core with `engine.max_calls` 40, no call; CPU of the core and",
        "  every process it started (workers, gateways; reaped ones included) over 60 s.",
        "- `setup`: a real core with engine workers; sipp registers 20 agents' phones",
        "  (digest) that ring and answer at once; a caller places 30 warm-up calls, then",
        "  500 calls at 10 a second through the edge.",
        "  Each INVITE is challenged with 407 and sent again with Proxy-Authorization",
        "  by the bench's own phone (`bench/sipua.py`; sipp's digest names the wrong URI);",
        "  that INVITE is timed to the 180 Ringing, which the box sends when the core has",
        "  routed the call and the worker starts dialling the agent, and to the 200 OK.",
        "- `calls`: the same box with `engine.max_calls` high enough; levels of 10, 20,",
        "  30, ... 100 simultaneous bridged calls (sipp for the agents, the bench's phone",
        "  for the caller, RTP from the bench: one pair of distinct tones per call) until",
        "  a level fails. Each call's caller and agent must each hear exactly the other's",
        "  tone (FFT of what arrived), every call must be answered and written as ANSWERED.",
        "  CPU of the box is read over a steady",
        "  window per level; the cost of one call is the slope of CPU over calls.",
        "- `register`: a real core with everything on (engine, provisioning, prompts) and",
        "  1000 extensions; sipp offers rising rates of digest REGISTERs for 10 s each.",
        "  `register_per_s` is the highest rate answered in full with p95 within 50 ms",
        "  and no retransmission (sipp retransmits after 500 ms). The table also shows",
        "  `wait %`, the time the core was ready to run but another process held its CPU.",
        "  `CALLBOX_BENCH_PROFILE=DIR` runs the core under cProfile and prints its hot spots.",
        "- `pages`: a year of call records (200 a day), 20 agents (logged in) in 5 queues,",
        "  a real core and web process; a browser-like client logs in and times each page;",
        "  the core is restarted to time the first year report page after a start.",
        "- `line`: a simulated GSM modem, a line gateway and a pjsua2 phone that loops",
        "  the call's audio back; tone bursts timed at the modem.",
        "- `ivr`, `engine`, `acd`, `store`, `reports`, `sip_parse`: as their keys say.",
        "",
        "## What the numbers mean",
        "",
    ]
    for key, target in TARGETS.items():
        lines.append(f"- `{key}`: {target.meaning}")
    for key in extra:
        meaning = NOTES.get(key) or next((v for k, v in NOTES.items() if k.endswith("_") and key.startswith(k)), None)
        if meaning:
            lines.append(f"- `{key}`: {meaning}")
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
    parser.add_argument("--quick", action="store_true",
                        help="short smoke versions (also CALLBOX_BENCH_QUICK=1); not saved unless --save")
    parser.add_argument("--save", action="store_true", help="save the numbers of a --quick run too")
    parser.add_argument("--no-save", action="store_true",
                        help="print only; leave latest.json and docs/benchmarks.md alone")
    args = parser.parse_args(argv)
    known = discover()
    if args.list:
        print("\n".join(known))
        return 0
    names = _wanted(args.names, known)
    if args.quick:
        os.environ[QUICK_ENV] = "1"
    save = not args.no_save and (not quick() or args.save)
    source = code()
    host = machine()
    print(f"bench: commit {_short(source['commit'], source['dirty'])}, {host['cpu']}, {host['cores']} cores, "
          f"Python {host['python']}, load average {os.getloadavg()[0]:.2f}"
          f"{', quick smoke run' if quick() else ''}", flush=True)

    new: dict[str, Any] = {}
    limits: dict[str, str] = {}
    origin: dict[str, str] = {}
    ran: list[str] = []
    failed: list[str] = []
    all_began = time.monotonic()
    for name in names:
        print(f"\n== {name} ==", flush=True)
        began = time.monotonic()
        try:
            result, notes = run_one(name)
        except (Exception, SystemExit) as e:  # noqa: BLE001 - one broken benchmark must not stop the rest
            traceback.print_exc()
            print(f"{name}: FAILED after {time.monotonic() - began:.1f} s: {e!r}", flush=True)
            failed.append(name)
            continue
        ran.append(name)
        new.update(result)
        limits.update(notes)
        origin.update({k: name for k in result})
        for key, value in result.items():
            target = TARGETS.get(key)
            met = target.met(value) if target else None
            note = "" if met is None else f"  (target {target.direction} {_fmt(target.limit)}: " \
                                          f"{'met' if met else 'NOT met'})"
            print(f"  {key} = {_fmt(value).strip('`')}{note}")
            if key in notes:
                print(f"      limits: {notes[key]}")
        print(f"{name}: done in {time.monotonic() - began:.1f} s (load average {os.getloadavg()[0]:.2f})",
              flush=True)
    print(f"\nall done in {time.monotonic() - all_began:.0f} s")

    if save:
        # A run of every benchmark replaces the file: no number of older code stays beside it.
        whole = not args.names and not failed
        results = merge({} if whole else load_results(), new, ran, dt.datetime.now(dt.timezone.utc).astimezone(), host,
                        source, limits, origin)
        save_results(results)
        write_doc(results)
        print(f"results: {RESULTS.relative_to(ROOT)}, {DOC.relative_to(ROOT)}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
