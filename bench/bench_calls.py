"""Bridged calls through the box: how many at once, what they cost, how fast they are set up.

A real `callbox core` on loopback starts its engine workers (sized for 44
conversations). sipp plays both ends:

- the agents' phones: one sipp socket registers extensions 2001..2040 with
  digest authentication (bench/scenarios/register.xml), then answers every
  INVITE the engine sends there with 180 and 200 (G.711 A-law) and talks back
  with RTP until the box hangs up (answer.xml);
- the callers: another sipp socket registers extension 1001, then calls
  2001..20NN through the edge, talks with RTP for HOLD_S seconds and hangs up
  (caller.xml).

Each level (10, 20, 40 simultaneous bridged calls) is one sipp run with every
call held long enough to overlap all others. While all calls are up, the CPU
time of the core and of every engine worker (utime + stime of the whole
process, all threads) is read over a steady window, and the resident memory of
each worker. Call set-up time is sipp's response time from sending the INVITE
to the 200 OK (the agents' phones answer at once). A level counts only if no
call failed, the box wrote an ANSWERED record for each, and its RTP reached
both phones at (nearly) 50 packets a second per call. Results and how to read
them: docs/capacity.md, "Measured".

    .venv/bin/python -m bench calls
    .venv/bin/python bench/bench_calls.py

CALLBOX_BENCH_KEEP=1 keeps the core's log, the data directory (engine logs in
run/) and every sipp trace, and prints where.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable

LEVELS = (10, 20, 40)
MAX_CONVERSATIONS = 44     # engine.max_calls: 22 workers of 4 legs with the pjsua2 wheel
HOLD_S = 20.0              # how long each call talks
CALLS_PER_S = 10           # how fast the calls of one level are placed
IDLE_S = 10.0              # how long the idle box is measured, before the first level
SETTLE_S = 2.0             # after the last call is up, before the CPU window opens
CALLER = "1001"
FIRST_AGENT = 2001
RECV_TIMEOUT_MS = 10000    # a call that gets no answer this long is failed by sipp
PACKETS_PER_S = 50         # G.711 in 20 ms packets, each way, per call
MIN_AUDIO_SHARE = 0.95     # of those, what must arrive for a level to count
CPU_TICK = os.sysconf("SC_CLK_TCK")
# sipp takes its RTP ports upwards from -mp; both stay below the kernel's
# ephemeral range, where the workers' RTP ports come from, and apart.
CALLER_MEDIA_PORT = 16000
AGENT_MEDIA_PORT = 24000


# --------------------------------------------------------------------------
# /proc


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # fields after the ")" that closes the command name; fields[0] is the state (field 3 of stat(5))
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far; 0 if it is gone."""
    try:
        f = _stat_fields(pid)
    except (OSError, ValueError):
        return 0.0
    return (int(f[11]) + int(f[12])) / CPU_TICK


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


@dataclass(frozen=True)
class UdpSocket:
    port: int
    rx_queue: int   # bytes waiting to be read
    drops: int      # datagrams dropped because the receive buffer was full


def udp_sockets(pids: list[int]) -> list[UdpSocket]:
    """The IPv4 UDP sockets that these processes hold, from /proc/net/udp."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found: list[UdpSocket] = []
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 13 and parts[9] in inodes:
            port = int(parts[1].rsplit(":", 1)[1], 16)
            rx = int(parts[4].split(":")[1], 16)
            found.append(UdpSocket(port, rx, int(parts[12])))
    return found


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# The box


class Box:
    """`callbox core` with engine workers, on loopback, with its own data directory."""

    def __init__(self, work: Path, max_conversations: int):
        self.data_dir = work / "data"
        self.log_path = work / "core.log"
        settings = {"engine.enabled": True, "engine.max_calls": max_conversations,
                    "security.rate_limit_per_s": 100000, "security.rate_burst": 1000000}
        args = [PYTHON, "-m", "appliance.cli", "core", "--data", str(self.data_dir), "--bind", "127.0.0.1",
                "--sip-port", "0", "--api-port", "0"]
        for key, value in settings.items():
            args += ["--set", f"{key}={json.dumps(value)}"]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=os.environ | {"PYTHONUNBUFFERED": "1"}, start_new_session=True)
        self.info: dict[str, Any] = {}

    def wait_ready(self, timeout: float = 90.0) -> None:
        """Until the API answers and every engine worker is alive (the core starts them all first)."""
        path = self.data_dir / "run" / "api.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"core exited with {self.proc.returncode}:\n{self.log_tail()}")
            if not self.info:
                try:
                    info = json.loads(path.read_text())
                    if info.get("pid") == self.proc.pid:
                        self.info = info
                except (OSError, ValueError):
                    pass
            if self.info:
                workers = self.engine()["workers"]
                if workers and all(w["alive"] for w in workers):
                    return
            time.sleep(0.2)
        raise RuntimeError(f"core not ready with its engine workers within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    @property
    def sip_port(self) -> int:
        return int(self.info["sip_port"])

    def api(self, method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(
            self.info["url"] + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.info['token']}", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def add_extension(self, number: str) -> str:
        """Create an extension; its generated secret."""
        return self.api("POST", "/api/extensions", {"number": number, "name": f"Bench {number}"})["secret"]

    def engine(self) -> dict[str, Any]:
        return self.api("GET", "/api/engine")

    def worker_pids(self) -> list[int]:
        return [int(w["pid"]) for w in self.engine()["workers"] if w["alive"] and w.get("pid")]

    def call_records(self) -> list[dict[str, Any]]:
        return self.api("GET", "/api/cdr?limit=10000")["records"]

    def registered(self) -> set[str]:
        return {r["aor"] for r in self.api("GET", "/api/registrations")["registrations"]}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        # Workers left behind by a core that did not stop in time go with its session.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=10)
        self._log.close()


# --------------------------------------------------------------------------
# sipp


class Sipp:
    """One sipp process in its own directory, its statistics read when it is done."""

    def __init__(self, name: str, work: Path, scenario: str, args: list[str], target: str | None = None):
        self.name = name
        self.dir = work / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.stat_csv = self.dir / "stat.csv"
        argv = ["sipp"] + ([target] if target else []) + [
            "-sf", str(SCENARIOS / scenario), "-i", "127.0.0.1", "-t", "u1", "-nostdin",
            "-trace_err", "-trace_stat", "-stf", str(self.stat_csv), "-fd", "1"] + args
        self._out = open(self.dir / "sipp.out", "wb")
        self.proc = subprocess.Popen(argv, cwd=self.dir, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode if self.proc.returncode is not None else -9
        finally:
            self._out.close()

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait(timeout=10)
        if not self._out.closed:
            self._out.close()

    def stats(self) -> dict[str, str]:
        """The final row of sipp's -trace_stat file, by column name ({} if there is none)."""
        try:
            rows = [ln for ln in self.stat_csv.read_text().splitlines() if ln.strip()]
        except OSError:
            return {}
        if len(rows) < 2:
            return {}
        return dict(zip(rows[0].rstrip(";").split(";"), rows[-1].rstrip(";").split(";")))

    def response_times(self) -> dict[str, list[float]]:
        """Response times (ms) from -trace_rtt, by rtd name, sorted."""
        times: dict[str, list[float]] = {}
        for path in self.dir.glob("*_rtt.csv"):
            for line in path.read_text().splitlines()[1:]:
                parts = line.split(";")
                if len(parts) >= 3:
                    times.setdefault(parts[2].strip(), []).append(float(parts[1]))
        return {k: sorted(v) for k, v in times.items()}

    def errors(self, limit: int = 4) -> list[str]:
        """The first lines sipp wrote to its error log, for the report."""
        lines: list[str] = []
        for path in self.dir.glob("*_errors.log"):
            for line in path.read_text(errors="replace").splitlines():
                line = line.strip()
                if line and len(lines) < limit:
                    lines.append(line[:300])
        if not lines:
            out = (self.dir / "sipp.out").read_text(errors="replace").strip().splitlines()
            lines = [ln[:300] for ln in out[-limit:]]
        return lines


def register(work: Path, name: str, box: Box, port: int, users: list[tuple[str, str]]) -> None:
    """Register `users` (number, secret) from 127.0.0.1:port; raise if any fails."""
    inf = work / f"{name}.csv"
    inf.write_text("\n".join(["SEQUENTIAL"] + [f"{u};[authentication username={u} password={p}]"
                                               for u, p in users]) + "\n")
    sipp = Sipp(name, work, "register.xml", ["-inf", str(inf), "-p", str(port), "-m", str(len(users)),
                                             "-r", "50", "-l", "1", "-timeout", "30s", "-timeout_error",
                                             "-recv_timeout", "5000"],
                target=f"127.0.0.1:{box.sip_port}")
    sipp.wait(45)
    ok = int(sipp.stats().get("SuccessfulCall(C)", 0) or 0)
    if ok != len(users):
        raise RuntimeError(f"{name}: {ok} of {len(users)} registrations succeeded: {sipp.errors()}")


# --------------------------------------------------------------------------
# One level


@dataclass
class Level:
    calls: int
    ok: int = 0
    failed: int = 0
    agent_failed: int = 0
    answered_records: int = 0
    up_seen: int = 0                 # calls the box reported talking when the window opened
    setup_ms: list[float] = field(default_factory=list)     # INVITE sent -> 200 OK received
    window_s: float = 0.0
    cpu_core_s: float = 0.0
    cpu_workers_s: float = 0.0
    worker_rss_mb: list[float] = field(default_factory=list)
    core_rss_mb: float = 0.0
    load: float = 0.0                # the machine's 1-minute load average at the end of the window
    worker_drops: int = 0            # datagrams the workers' sockets dropped in the window (box too slow)
    rtp_to_callers_pps: float = 0.0  # RTP packets per second the box delivered to the callers' phones
    rtp_to_agents_pps: float = 0.0   # ... and to the agents' phones
    notes: list[str] = field(default_factory=list)

    @property
    def all_failed(self) -> int:
        """A call failed if either phone's sipp says so or the box did not record it answered."""
        return max(self.failed + self.agent_failed, self.calls - min(self.ok, self.answered_records))

    @property
    def audio_ok(self) -> bool:
        """Each leg got (nearly) its 50 packets a second from the box, both ways, and the box dropped none."""
        wanted = PACKETS_PER_S * self.calls * MIN_AUDIO_SHARE
        return (self.up_seen == self.calls and self.rtp_to_callers_pps >= wanted and self.rtp_to_agents_pps >= wanted
                and self.worker_drops == 0)

    @property
    def clean(self) -> bool:
        return self.all_failed == 0 and self.ok == self.calls and self.audio_ok

    @property
    def cpu_pct(self) -> float:
        return (self.cpu_core_s + self.cpu_workers_s) / self.window_s * 100 if self.window_s else 0.0

    @property
    def cpu_pct_per_call(self) -> float:
        return self.cpu_pct / self.calls if self.calls else 0.0

    @property
    def rss_per_worker(self) -> float:
        return sum(self.worker_rss_mb) / len(self.worker_rss_mb) if self.worker_rss_mb else 0.0

    def setup(self, pct: float) -> float | None:
        return percentile(self.setup_ms, pct)


def percentile(ordered: list[float], pct: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _drops(pids: list[int]) -> int:
    return sum(s.drops for s in udp_sockets(pids))


def talking(box: Box) -> int:
    return sum(1 for c in box.engine()["calls"] if c["state"] == "ANSWERED")


def run_level(box: Box, work: Path, calls: int, caller_port: int, agent_port: int,
              hold_s: float = HOLD_S, calls_per_s: int = CALLS_PER_S) -> Level:
    level = Level(calls)
    name = f"level-{calls}"
    inf = work / f"{name}-callees.csv"
    inf.write_text("\n".join(["SEQUENTIAL"] + [str(FIRST_AGENT + i) for i in range(calls)]) + "\n")
    ramp_s = calls / calls_per_s
    budget = ramp_s + hold_s + RECV_TIMEOUT_MS / 1000 + 20
    # sipp reads the audio file when it loads the scenario, from its working directory.
    for side in ("agents", "callers"):
        (work / f"{name}-{side}").mkdir()
        shutil.copy(work / "talk.wav", work / f"{name}-{side}" / "talk.wav")
    agents = Sipp(f"{name}-agents", work, "answer.xml",
                  ["-p", str(agent_port), "-m", str(calls), "-mi", "127.0.0.1", "-mp", str(AGENT_MEDIA_PORT),
                   "-timeout", f"{int(budget + 10)}s"])
    callers: Sipp | None = None
    try:
        time.sleep(0.5)  # the agents' socket is bound before the first INVITE comes
        callers = Sipp(f"{name}-callers", work, "caller.xml",
                       ["-inf", str(inf), "-p", str(caller_port), "-m", str(calls), "-l", str(calls),
                        "-r", str(calls_per_s), "-d", str(int(hold_s * 1000)),
                        "-mi", "127.0.0.1", "-mp", str(CALLER_MEDIA_PORT), "-recv_timeout", str(RECV_TIMEOUT_MS),
                        "-timeout", f"{int(budget)}s", "-trace_rtt", "-rtt_freq", "1"],
                       target=f"127.0.0.1:{box.sip_port}")
        began = time.monotonic()
        # Steady state: every call talking (or the ramp plus a margin gone by, if some failed), and
        # the phones' RTP sockets full. sipp never reads them, so from then on every packet the box
        # delivers is counted by the kernel as dropped: the count of packets that arrived.
        # A level the box cannot fully carry is measured once the calls it took stop growing.
        deadline = began + ramp_s + RECV_TIMEOUT_MS / 1000
        seen, changed = -1, began
        while time.monotonic() < deadline and callers.proc.poll() is None:
            now_up = talking(box)
            if now_up >= calls and all(_drops([p]) > 0 for p in (callers.proc.pid, agents.proc.pid)):
                break
            if now_up != seen:
                seen, changed = now_up, time.monotonic()
            elif time.monotonic() > began + ramp_s + 1 and time.monotonic() - changed > 3:
                break
            time.sleep(0.2)
        time.sleep(SETTLE_S)
        level.up_seen = talking(box)
        # The window closes before the first call hangs up.
        window = max(1.0, began + hold_s - 1.0 - time.monotonic())
        pids = [box.proc.pid] + box.worker_pids()
        phones = (callers.proc.pid, agents.proc.pid)
        before = [cpu_seconds(p) for p in pids]
        rtp_before = [_drops([p]) for p in phones]
        box_drops_before = _drops(pids[1:])
        t0 = time.monotonic()
        time.sleep(window)
        after = [cpu_seconds(p) for p in pids]
        rtp_after = [_drops([p]) for p in phones]
        level.window_s = time.monotonic() - t0
        level.load = os.getloadavg()[0]
        level.worker_drops = _drops(pids[1:]) - box_drops_before
        level.rtp_to_callers_pps = (rtp_after[0] - rtp_before[0]) / level.window_s
        level.rtp_to_agents_pps = (rtp_after[1] - rtp_before[1]) / level.window_s
        level.cpu_core_s = after[0] - before[0]
        level.cpu_workers_s = sum(after[1:]) - sum(before[1:])
        level.worker_rss_mb = [r for r in (rss_mb(p) for p in pids[1:]) if r is not None]
        level.core_rss_mb = rss_mb(pids[0]) or 0.0
        if talking(box) < level.up_seen:
            level.notes.append("some calls ended inside the CPU window")
        callers.wait(budget + 15)
        agents.wait(15)
    finally:
        if callers is not None:
            callers.kill()
        agents.kill()
    assert callers is not None
    cs, ag = callers.stats(), agents.stats()
    level.ok = int(cs.get("SuccessfulCall(C)", 0) or 0)
    level.failed = int(cs.get("FailedCall(C)", 0) or 0)
    level.agent_failed = int(ag.get("FailedCall(C)", 0) or 0)
    rtd = callers.response_times()
    level.setup_ms = rtd.get("1", [])
    # The box's own word: a call record answered for every call this sipp made.
    tag = f"-{callers.proc.pid}@"
    deadline = time.monotonic() + 5
    while True:
        records = [r for r in box.call_records() if tag in (r.get("call_id") or "")]
        level.answered_records = sum(1 for r in records if r.get("disposition") == "ANSWERED")
        if len(records) >= calls or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    if level.all_failed:
        level.notes += [f"callers: {e}" for e in callers.errors()]
        level.notes += [f"agents: {e}" for e in agents.errors()]
        others = sorted({r.get("disposition", "?") for r in records if r.get("disposition") != "ANSWERED"})
        if others:
            level.notes.append(f"call records not answered: {others}")
    if not level.audio_ok:
        level.notes.append(f"audio short: {level.rtp_to_callers_pps:.0f} and {level.rtp_to_agents_pps:.0f} "
                           f"packets/s to callers and agents (want {PACKETS_PER_S * calls}), "
                           f"{level.worker_drops} dropped at the workers")
    return level


# --------------------------------------------------------------------------
# The benchmark


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


def print_table(levels: list[Level], workers: int, idle_pct: float, hold_s: float) -> None:
    print(f"bridged calls through callbox core ({workers} engine workers), loopback, G.711 A-law RTP both "
          f"ways, each call held {hold_s:.0f} s; idle box (core + workers): {idle_pct:.1f} % of one core")
    print(f"{'calls':>5} {'ok':>4} {'failed':>6} {'up':>4} {'setup p50':>9} {'p95':>5} "
          f"{'CPU %':>6} {'CPU %/call':>10} {'-idle/call':>10} {'RSS/worker':>10} {'core RSS':>8} "
          f"{'RTP a->b %':>10} {'b->a %':>6} {'drops':>5} {'load':>5}")
    for lv in levels:
        marginal = (lv.cpu_pct - idle_pct) / lv.calls
        wanted = PACKETS_PER_S * max(1, lv.up_seen)
        print(f"{lv.calls:>5} {lv.ok:>4} {lv.all_failed:>6} {lv.up_seen:>4} "
              f"{_ms(lv.setup(50)):>9} {_ms(lv.setup(95)):>5} {lv.cpu_pct:>6.1f} {lv.cpu_pct_per_call:>10.2f} "
              f"{marginal:>10.2f} {lv.rss_per_worker:>8.1f}MB {lv.core_rss_mb:>6.1f}MB "
              f"{lv.rtp_to_agents_pps / wanted * 100:>10.0f} {lv.rtp_to_callers_pps / wanted * 100:>6.0f} "
              f"{lv.worker_drops:>5} {lv.load:>5.1f}")
        for note in lv.notes:
            print(f"      {note}")
    print("up: calls the box reported talking in the CPU window; setup: INVITE sent -> 200 OK (ms, sipp "
          "resolution 1 ms);\nCPU: core + all workers over the window, % of one core; -idle/call: the same "
          "less the idle box, per call;\nRTP a->b, b->a: packets the box delivered to the agents' and to the "
          f"callers' phones, % of {PACKETS_PER_S}/s per call up; drops: datagrams the workers' sockets dropped;\n"
          f"load: the machine's load average (it runs sipp too; {os.cpu_count()} cores)")


def run(levels: tuple[int, ...] = LEVELS, hold_s: float = HOLD_S,
        max_conversations: int = MAX_CONVERSATIONS) -> dict:
    """Carry 10, 20, 40 simultaneous bridged calls through a real core; print a table; return the numbers."""
    if shutil.which("sipp") is None:
        raise RuntimeError("sipp is not installed (apt-get install sip-tester)")
    if shutil.which("sox") is None:
        raise RuntimeError("sox is not installed (it makes the audio the phones send)")
    agents_needed = max(levels)
    done: list[Level] = []
    keep = bool(os.environ.get("CALLBOX_BENCH_KEEP"))
    with tempfile.TemporaryDirectory(prefix="callbox-bench-calls-") as tmp:
        work = Path(tempfile.mkdtemp(prefix="callbox-bench-calls-")) if keep else Path(tmp)
        if keep:
            print(f"logs, sipp traces and the data directory are kept in {work}")
        subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", "-e", "a-law", str(work / "talk.wav"),
                        "synth", "4", "sine", "440"], check=True, timeout=30)
        box = Box(work, max_conversations)
        try:
            began = time.monotonic()
            box.wait_ready()
            workers = len(box.worker_pids())
            print(f"core with {workers} engine workers ready in {time.monotonic() - began:.1f} s")
            caller_port, agent_port = free_udp_port(), free_udp_port()
            register(work, "register-caller", box, caller_port, [(CALLER, box.add_extension(CALLER))])
            agents = [str(FIRST_AGENT + i) for i in range(agents_needed)]
            register(work, "register-agents", box, agent_port, [(a, box.add_extension(a)) for a in agents])
            missing = set(agents + [CALLER]) - box.registered()
            if missing:
                raise RuntimeError(f"not registered: {sorted(missing)}")
            # The idle cost of the box: the workers' event loops and conference clocks.
            pids = [box.proc.pid] + box.worker_pids()
            before = [cpu_seconds(p) for p in pids]
            t0 = time.monotonic()
            time.sleep(IDLE_S)
            idle_pct = (sum(cpu_seconds(p) for p in pids) - sum(before)) / (time.monotonic() - t0) * 100
            for calls in levels:
                level = run_level(box, work, calls, caller_port, agent_port, hold_s)
                done.append(level)
                print(f"  {calls} calls: {level.ok} ok, {level.all_failed} failed, setup p95 "
                      f"{_ms(level.setup(95))} ms, CPU {level.cpu_pct:.1f} %", flush=True)
                time.sleep(1)  # the last BYEs and call records settle
        except Exception:
            print(f"core (exit {box.proc.poll()}) log, end:\n{box.log_tail()}", file=sys.stderr)
            raise
        finally:
            box.stop()
        print_table(done, workers, idle_pct, hold_s)

    clean = [lv for lv in done if lv.clean]
    best = max(clean, key=lambda lv: lv.calls) if clean else None
    if best is None:
        print("no level carried every call")
    return {
        "bridged_calls_max_ok": best.calls if best else 0,
        "cpu_pct_per_bridged_call": round(best.cpu_pct_per_call, 2) if best else None,
        "cpu_pct_per_bridged_call_less_idle": round((best.cpu_pct - idle_pct) / best.calls, 2) if best else None,
        "setup_p50_ms": best.setup(50) if best else None,
        "setup_p95_ms": best.setup(95) if best else None,
        "rss_mb_per_worker": round(best.rss_per_worker, 1) if best else None,
    }


if __name__ == "__main__":
    print(run())
