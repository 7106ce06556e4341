"""How fast the admin page answers with a year of history behind it.

A year of call records (200 calls a day, 73,000 calls, three queues, eight
agents) is written into a fresh data directory with the store's own
CallRecords, with no core running. Then a real core and a real web process
start on loopback; the bench creates the first admin through /setup and logs
in as a browser does (session cookie, CSRF token from the form), and times
50 GETs each of the wallboard's JSON and of the reports page for the whole
year, after a warm-up request each.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime, timedelta
from http.cookiejar import CookieJar
from pathlib import Path

from appliance.store.records import CallRecords

ROOT = Path(__file__).resolve().parents[1]
CALLS_PER_DAY = 200
DAYS = 365
AGENTS = [f"{200 + n}" for n in range(8)]
QUEUES = ["sales", "support", "billing"]
RUNS = 50
PASSWORD = "bench password 2026"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]*)"')


def write_year(data_dir: Path, today: date, seed: int = 11) -> int:
    """A year of call records up to today, through CallRecords as the core writes them."""
    rng = random.Random(seed)
    log = CallRecords(data_dir)
    count = 0
    try:
        for back in range(DAYS - 1, -1, -1):
            day = today - timedelta(days=back)
            opening = datetime(day.year, day.month, day.day, 8).astimezone()
            for n in range(CALLS_PER_DAY):
                start = opening + timedelta(seconds=rng.randint(0, 9 * 3600 - 1))
                wait = int(rng.expovariate(1 / 25))
                answered = rng.random() < 0.85
                talk = int(rng.expovariate(1 / 170)) if answered else 0
                agent = rng.choice(AGENTS) if answered else None
                log.append({
                    "id": f"{day.isoformat()}-{n:04d}", "call_id": f"{day.isoformat()}-{n:04d}@bench",
                    "start": start.isoformat(),
                    "answer": (start + timedelta(seconds=wait)).isoformat() if answered else None,
                    "end": (start + timedelta(seconds=wait + talk)).isoformat(),
                    "duration_s": wait + talk, "talk_s": talk,
                    "disposition": "ANSWERED" if answered else "NO ANSWER",
                    "direction": "inbound", "queue": rng.choice(QUEUES), "agent": agent,
                    "answered_by": agent, "caller": f"+48601{rng.randint(0, 999_999):06d}",
                    "callee": "+48221234567", "wait_s": wait,
                    "wrap_up_s": rng.randint(0, 40) if answered else 0,
                    "outcome": "ANSWERED" if answered else "ABANDONED", "trunk": "gsm0",
                    "hangup_by": "caller", "worker": "w0", "legs": 2})
                count += 1
    finally:
        log.close()
    return count


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_core(data_dir: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    path = data_dir / "run" / "api.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the core exited with status {proc.returncode}")
        try:
            if json.loads(path.read_text()).get("pid") == proc.pid:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError("the core did not start in time")


def _wait_for_web(base: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the web process exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError("the web process did not start in time")


class Browser:
    """urllib with a cookie jar: what a browser sends, minus the rendering."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> str:
        try:
            with self.opener.open(self.base + path, timeout=60) as resp:
                return resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            said = re.search(r'<p class="error"[^>]*>(.*?)</p>|<main[^>]*>(.*?)</main>', text, re.S)
            detail = " ".join((said.group(1) or said.group(2)).split()) if said else text[:300]
            raise RuntimeError(f"GET {path}: {exc.code} {detail}") from None

    def submit(self, page: str, action: str, form: dict[str, str]) -> str:
        token = CSRF_RE.search(self.get(page))
        if not token:
            raise RuntimeError(f"{page} has no CSRF token")
        body = urllib.parse.urlencode(form | {"csrf_token": token.group(1)}).encode()
        with self.opener.open(self.base + action, data=body, timeout=60) as resp:
            return resp.read().decode("utf-8", "replace")


def _time(browser: Browser, path: str) -> list[float]:
    browser.get(path)  # warm: the first request fills the core's caches
    samples = []
    for _ in range(RUNS):
        began = time.perf_counter()
        browser.get(path)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def _warm_core(data_dir: Path, day_from: date, day_to: date) -> float:
    """Ask the core for the year's reports once, with no time limit, as the reports page will;
    the first answer builds the daily roll-ups, which the page's 5 s budget would not wait for.
    Returns how long that first build took, in ms."""
    from web.reports import KINDS
    info = json.loads((data_dir / "run" / "api.json").read_text())
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    began = time.perf_counter()
    for kind in KINDS:
        query = "" if kind == "today" else "?" + urllib.parse.urlencode(
            {"from": day_from.isoformat(), "to": day_to.isoformat()})
        req = urllib.request.Request(f"{info['url']}/api/reports/{kind}{query}",
                                     headers={"Authorization": f"Bearer {info['token']}"})
        with opener.open(req, timeout=600) as resp:
            resp.read()
    return (time.perf_counter() - began) * 1000


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def run() -> dict:
    """Time the wallboard JSON and the year's reports page; print a table; return the p95s."""
    today = date.today()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(dir=os.environ.get("CALLBOX_BENCH_DIR")) as tmp:
        data_dir = Path(tmp)
        began = time.perf_counter()
        calls = write_year(data_dir, today)
        write_s = time.perf_counter() - began
        try:
            core = subprocess.Popen(
                [sys.executable, "-m", "appliance.cli", "core", "--data", str(data_dir),
                 "--bind", "127.0.0.1", "--sip-port", "0", "--api-port", "0",
                 "--set", "engine.enabled=false", "--set", "prompts.builtin_languages=[]",
                 "--set", "provisioning.enabled=false"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(core)
            _wait_for_core(data_dir, core)
            port = _free_port()
            web = subprocess.Popen(
                [sys.executable, "-m", "appliance.cli", "web", "--data", str(data_dir),
                 "--host", "127.0.0.1", "--port", str(port), "--insecure-http"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(web)
            base = f"http://127.0.0.1:{port}"
            _wait_for_web(base, web)
            browser = Browser(base)
            browser.submit("/setup", "/setup", {"username": "boss", "password": PASSWORD,
                                                "password2": PASSWORD})
            browser.submit("/login", "/login", {"username": "boss", "password": PASSWORD})
            first = today - timedelta(days=DAYS - 1)
            cold_ms = _warm_core(data_dir, first, today)
            year = f"/reports?from={first.isoformat()}&to={today.isoformat()}"
            if "Reports" not in browser.get(year):
                raise RuntimeError("the reports page did not open: not logged in?")
            wallboard = _time(browser, "/wallboard.json")
            reports = _time(browser, year)
        finally:
            for proc in reversed(procs):
                _stop(proc)
    print(f"admin pages, {calls} call records over {DAYS} days (written in {write_s:.1f} s), "
          f"{RUNS} requests each after a warm-up")
    print(f"{'page':>28} {'p50 ms':>10} {'p95 ms':>10}")
    for name, samples in (("/wallboard.json", wallboard), ("/reports (a year)", reports)):
        print(f"{name:>28} {statistics.median(samples):>10.1f} {_percentile(samples, 95):>10.1f}")
    print(f"{'first year report (core)':>28} {cold_ms:>10.1f} {cold_ms:>10.1f}")
    return {"page_p95_ms": round(_percentile(wallboard, 95), 2),
            "report_page_p95_ms": round(_percentile(reports, 95), 2),
            "report_page_cold_ms": round(cold_ms, 1)}


if __name__ == "__main__":
    print(run())
