"""How fast the admin pages answer on a box with a year of history, 20 agents and 5 queues.

A year of call records (200 calls a day, 73,000 calls, five queues, twenty
agents) is written into a fresh data directory with the store's own
CallRecords, with no core running (30 days at --quick). Then a real core (as
a box runs it: engine, provisioning, prompts) and a real web process start on
loopback; the bench makes 5 queues and 20 agents through the control API and
logs every agent in, creates the first admin through /setup and logs in as a
browser does (session cookie, CSRF token from the form).

- `page_p95_ms`: the pages a supervisor keeps open, /wallboard,
  /wallboard.json, /now, /calls and /reports (as it opens), 50 rounds (5 at
  --quick), one of each page per round, after a warm-up round; the p95 over
  all of them, and per page.
- `report_page_p95_ms`: the reports page for the whole year, 20 times.
- `year_report_ms`: every report that page asks the core for (queues, agents,
  staffing, heat map, today), for the whole year, straight from the control
  API, 20 times; `year_report_cold_ms` the first of them after the core started.
- `report_page_first_ms`: the very first reports page for the whole year, on
  the core's first start, before it has any daily roll-up (it builds them from
  the records): asked for until it shows the reports, the time from the first
  request to that page. The web page gives the core 5 s; a page that comes
  back with an error instead counts, with its time, and is asked for again.
- `report_page_cold_ms`: the same after the core is stopped and started again
  (the web process stays, as on a box whose core restarts): roll-ups on disk,
  none in memory. `year_report_cold_ms`: the core API's first year reports after
  such a start.
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
AGENTS = [f"{200 + n}" for n in range(20)]
QUEUES = ["sales", "support", "billing", "orders", "returns"]
PAGES = ["/wallboard", "/wallboard.json", "/now", "/calls", "/reports"]
RUNS = 50
REPORT_RUNS = 20
PASSWORD = "bench password 2026"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]*)"')


def write_year(data_dir: Path, today: date, seed: int = 11, days: int = DAYS) -> int:
    """A year of call records up to today, through CallRecords as the core writes them."""
    rng = random.Random(seed)
    log = CallRecords(data_dir)
    count = 0
    try:
        for back in range(days - 1, -1, -1):
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


def _timed_get(browser: Browser, path: str) -> tuple[float, str]:
    began = time.perf_counter()
    text = browser.get(path)
    return (time.perf_counter() - began) * 1000, text


class Core:
    """`callbox core` on the data directory, as a box runs it."""

    def __init__(self, data_dir: Path, env: dict[str, str]):
        self.data_dir, self.env = data_dir, env
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance.cli", "core", "--data", str(data_dir),
             "--bind", "127.0.0.1", "--sip-port", "0", "--api-port", "0"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_for_core(data_dir, self.proc)
        self.info = json.loads((data_dir / "run" / "api.json").read_text())
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def api(self, method: str, path: str, body: object = None, timeout: float = 600) -> object:
        req = urllib.request.Request(
            self.info["url"] + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.info['token']}", "Content-Type": "application/json"})
        with self.opener.open(req, timeout=timeout) as resp:
            return json.loads(resp.read() or b"null")

    def stop(self) -> None:
        _stop(self.proc)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)   # its engine worker
        except (ProcessLookupError, PermissionError):
            pass


def _year_reports(core: Core, day_from: date, day_to: date) -> float:
    """Every report the reports page asks the core for, for the whole span, once; in ms."""
    from web.reports import KINDS
    began = time.perf_counter()
    for kind in KINDS:
        query = "" if kind == "today" else "?" + urllib.parse.urlencode(
            {"from": day_from.isoformat(), "to": day_to.isoformat()})
        core.api("GET", f"/api/reports/{kind}{query}")
    return (time.perf_counter() - began) * 1000


def _staff(core: Core) -> None:
    """5 queues, 20 agents (extensions) each in two or three of them, all logged in."""
    for name in QUEUES:
        core.api("POST", "/api/queues", {"name": name})
    for n, number in enumerate(AGENTS):
        core.api("POST", "/api/extensions", {"number": number, "name": f"Agent {number}"})
        queues = [QUEUES[(n + k) % len(QUEUES)] for k in range(2 + n % 2)]
        core.api("POST", f"/api/agents/{number}", {"queues": queues})
        core.api("POST", f"/api/agents/{number}/login", {})


def _first_complete(browser: Browser, path: str, tries: int = 30) -> tuple[float, list[tuple[float, bool]]]:
    """Ask for a reports page until it shows the reports: the time from the first request, and each
    request's time and whether it did (the web page gives the core 5 s, then shows an error)."""
    began = time.perf_counter()
    attempts: list[tuple[float, bool]] = []
    for _ in range(tries):
        attempt = time.perf_counter()
        try:
            done = _complete(browser.get(path))
        except RuntimeError as exc:   # the page came back with an error status
            done = False
            print(f"  {path}: {exc}")
        attempts.append(((time.perf_counter() - attempt) * 1000, done))
        if done:
            break
    return (time.perf_counter() - began) * 1000, attempts


def _complete(html: str) -> bool:
    return '<p class="error"' not in html and "<svg" in html


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
    """Time the pages and the year's reports; print a table; return the numbers."""
    from bench.box import quick, steal_and_load
    days = 30 if quick() else DAYS
    runs, report_runs = (5, 3) if quick() else (RUNS, REPORT_RUNS)
    today = date.today()
    first = today - timedelta(days=days - 1)
    year = f"/reports?from={first.isoformat()}&to={today.isoformat()}"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    web: subprocess.Popen | None = None
    core: Core | None = None
    samples: dict[str, list[float]] = {page: [] for page in PAGES}
    with tempfile.TemporaryDirectory(dir=os.environ.get("CALLBOX_BENCH_DIR")) as tmp:
        data_dir = Path(tmp)
        began = time.perf_counter()
        calls = write_year(data_dir, today, days=days)
        write_s = time.perf_counter() - began
        try:
            core = Core(data_dir, env)
            _staff(core)
            port = _free_port()
            web = subprocess.Popen(
                [sys.executable, "-m", "appliance.cli", "web", "--data", str(data_dir),
                 "--host", "127.0.0.1", "--port", str(port), "--insecure-http"],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            base = f"http://127.0.0.1:{port}"
            _wait_for_web(base, web)
            browser = Browser(base)
            # The one-time set-up code the core prints on its console and keeps in its data directory.
            code = (data_dir / "state" / "setup_code").read_text().strip()
            browser.submit("/setup", "/setup", {"username": "boss", "password": PASSWORD,
                                                "password2": PASSWORD, "code": code})
            browser.submit("/login", "/login", {"username": "boss", "password": PASSWORD})
            # The very first year report page: the core has no roll-ups yet and builds them from the records.
            first_page_ms, first_attempts = _first_complete(browser, year)
            api_ms = [_year_reports(core, first, today) for _ in range(report_runs)]
            for page in PAGES:
                browser.get(page)   # warm-up round
            for _ in range(runs):
                for page in PAGES:
                    samples[page].append(_timed_get(browser, page)[0])
            report_ms = [_timed_get(browser, year)[0] for _ in range(report_runs)]
            # After a start of the core, as after a reboot: roll-ups on disk, none in memory.
            core.stop()
            core = Core(data_dir, env)
            cold_api_ms = _year_reports(core, first, today)
            core.stop()
            core = Core(data_dir, env)
            cold_page_ms, cold_attempts = _first_complete(browser, year)
        finally:
            if web is not None:
                _stop(web)
            if core is not None:
                core.stop()
    everything = [t for page in PAGES for t in samples[page]]
    print(f"admin pages, {calls} call records over {days} days (written in {write_s:.1f} s), "
          f"{len(AGENTS)} agents logged in, {len(QUEUES)} queues; {runs} rounds of every page after a warm-up; "
          f"{steal_and_load()}")
    print(f"{'page':>34} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for page in PAGES:
        s = samples[page]
        print(f"{page:>34} {len(s):>8} {statistics.median(s):>8.1f} {_percentile(s, 95):>8.1f} {max(s):>8.1f}")
    print(f"{'all of them':>34} {len(everything):>8} {statistics.median(everything):>8.1f} "
          f"{_percentile(everything, 95):>8.1f} {max(everything):>8.1f}")
    print(f"{'/reports, ' + str(days) + ' days':>34} {len(report_ms):>8} {statistics.median(report_ms):>8.1f} "
          f"{_percentile(report_ms, 95):>8.1f} {max(report_ms):>8.1f}")
    print(f"{'core API, all reports, ' + str(days) + ' days':>34} {len(api_ms):>8} {statistics.median(api_ms):>8.1f} "
          f"{_percentile(api_ms, 95):>8.1f} {max(api_ms):>8.1f}")
    print(f"{'... the first after a core start':>34} {1:>8} {'':>8} {cold_api_ms:>8.1f}")

    def tries(attempts: list[tuple[float, bool]]) -> str:
        return ", ".join(f"{t:.0f} ms " + ("ok" if ok else "error") for t, ok in attempts)
    print(f"{'/reports after a core start':>34} {len(cold_attempts):>8} {'':>8} {cold_page_ms:>8.1f}   "
          f"(requests: {tries(cold_attempts)})")
    print(f"{'/reports, no roll-ups yet':>34} {len(first_attempts):>8} {'':>8} {first_page_ms:>8.1f}   "
          f"(requests: {tries(first_attempts)})")

    page_p95 = _percentile(everything, 95)
    slowest = max(PAGES, key=lambda p: _percentile(samples[p], 95))
    limits: dict[str, str] = {}
    if page_p95 > 100:
        limits["page_p95_ms"] = (f"the slowest page is {slowest} (p95 {_percentile(samples[slowest], 95):.0f} ms): "
                                 "the web process asks the core for its data over HTTP on each request and renders "
                                 "the template in Python")
    if cold_page_ms > 1000:
        limits["report_page_cold_ms"] = (
            f"after a start the core has no roll-ups in memory: the first year report reads {days} daily roll-ups "
            f"from disk (through the API alone: {cold_api_ms:.0f} ms); "
            f"{sum(1 for _, ok in cold_attempts if not ok)} request(s) came back with an error first")
    if first_page_ms > 1000:
        limits["report_page_cold_ms"] = (limits.get("report_page_cold_ms", "") + "; " if cold_page_ms > 1000 else "") + (
            f"once, on a box whose records have no roll-ups yet (after a restore or an upgrade that recomputes "
            f"them), the first year page takes {first_page_ms:.0f} ms: the core reads every call of the year and "
            f"rolls up each day ({sum(1 for _, ok in first_attempts if not ok)} request(s) got the page's error "
            "after its 5 s budget first)")
    if _percentile(api_ms, 95) > 300:
        limits["year_report_ms"] = "the core merges 365 daily roll-ups and derives every table of the page per request"
    keys = {"/wallboard": "wallboard", "/wallboard.json": "wallboard_json", "/now": "now", "/calls": "calls",
            "/reports": "reports"}
    result = {"page_p95_ms": round(page_p95, 2), "page_p50_ms": round(statistics.median(everything), 2),
              "report_page_p95_ms": round(_percentile(report_ms, 95), 2),
              "report_page_cold_ms": round(cold_page_ms, 1),
              "year_report_ms": round(_percentile(api_ms, 95), 2),
              "year_report_cold_ms": round(cold_api_ms, 1),
              "report_page_first_ms": round(first_page_ms, 1),
              "_limits": limits}
    for page, key in keys.items():
        result[f"page_p95_ms_{key}"] = round(_percentile(samples[page], 95), 2)
    return result


if __name__ == "__main__":
    print(run())
