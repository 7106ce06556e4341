"""What the call benchmarks share: a real `callbox core` on loopback, sipp, and /proc readings.

Not a benchmark itself (bench/__main__.py runs only bench_*.py). The box is
started the way `callbox core` runs on a Pi, with its own data directory and
free ports on 127.0.0.1; the CPU of "the box" is the core and every process it
started (engine workers, line gateways), including the ones that ended and
were reaped meanwhile.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = Path(__file__).resolve().parent / "scenarios"
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
CPU_TICK = os.sysconf("SC_CLK_TCK")


def quick() -> bool:
    """The short smoke versions (`python -m bench --quick`, CALLBOX_BENCH_QUICK=1)."""
    return os.environ.get("CALLBOX_BENCH_QUICK", "") not in ("", "0")


def keep() -> bool:
    """Keep logs, data directories and sipp traces (CALLBOX_BENCH_KEEP=1)."""
    return bool(os.environ.get("CALLBOX_BENCH_KEEP"))


def percentile(ordered: list[float], pct: float) -> float | None:
    """The nearest-rank percentile of sorted samples (None without samples)."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


# --------------------------------------------------------------------------
# /proc


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # fields after the ")" that closes the command name; fields[0] is the state (field 3 of stat(5))
    return text[text.rindex(")") + 2:].split()


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU of a process (all its threads) so far, with its reaped children's if asked;
    0 if it is gone."""
    try:
        f = _stat_fields(pid)
    except (OSError, ValueError):
        return 0.0
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if children else 0)
    return ticks / CPU_TICK


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, their children, ...)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            ppid = int(_stat_fields(int(entry))[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def box_cpu_seconds(core_pid: int) -> float:
    """CPU of the whole box so far: the core, its reaped children (workers that stopped), and every live
    process below it."""
    return cpu_seconds(core_pid, children=True) + sum(cpu_seconds(p, children=True) for p in descendants(core_pid))


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def steal_and_load() -> str:
    """The machine's load, to print beside CPU numbers (others' work makes them noisy)."""
    return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


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

    def __init__(self, work: Path, settings: dict[str, Any], cpu: int | None = None,
                 profile: Path | None = None, bind: str | None = "127.0.0.1"):
        self.data_dir = work / "data"
        self.log_path = work / "core.log"
        args = [PYTHON]
        if profile is not None:
            args += ["-m", "cProfile", "-o", str(profile)]
        # bind None: sip.bind as shipped (every address; the box's LAN address found and followed).
        args += ["-m", "appliance.cli", "core", "--data", str(self.data_dir), "--sip-port", "0", "--api-port", "0"]
        args += ["--bind", bind] if bind is not None else []
        for key, value in settings.items():
            args += ["--set", f"{key}={json.dumps(value)}"]
        if cpu is not None:
            args = ["taskset", "-c", str(cpu)] + args   # taskset execs the core: the pid is the core's
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=os.environ | {"PYTHONUNBUFFERED": "1"}, start_new_session=True)
        self.info: dict[str, Any] = {}

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = 90.0, workers: int = 0) -> None:
        """Until the API answers and at least `workers` engine workers are alive."""
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
                if workers <= 0:
                    return
                alive = [w for w in self.engine()["workers"] if w["alive"]]
                if len(alive) >= workers:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"core not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    @property
    def sip_port(self) -> int:
        return int(self.info["sip_port"])

    def api(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        req = urllib.request.Request(
            self.info["url"] + path, method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.info['token']}", "Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=timeout) as r:
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

    def talking(self) -> int:
        return sum(1 for c in self.engine()["calls"] if c["state"] == "ANSWERED")

    def cpu_seconds(self) -> float:
        """The whole box: core, workers (live and reaped), gateways."""
        return box_cpu_seconds(self.proc.pid)

    def settle(self, quiet_pct: float = 5.0, longest_s: float = 60.0) -> float:
        """Wait until the box is quiet (under `quiet_pct` of a core for two seconds in a row): a first
        start makes the built-in prompts and the first worker; returns how long it took."""
        began = time.monotonic()
        quiet = 0
        while time.monotonic() - began < longest_s and quiet < 2:
            before = self.cpu_seconds()
            time.sleep(1.0)
            quiet = quiet + 1 if (self.cpu_seconds() - before) * 100 < quiet_pct else 0
        return time.monotonic() - began

    def processes(self) -> list[tuple[int, str]]:
        """The box's processes and their command lines, for the report."""
        out = []
        for pid in [self.proc.pid] + descendants(self.proc.pid):
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            out.append((pid, cmd.strip()))
        return out

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

    def __init__(self, name: str, work: Path, scenario: Path, args: list[str], target: str | None = None):
        self.name = name
        self.dir = work / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.stat_csv = self.dir / "stat.csv"
        argv = ["sipp"] + ([target] if target else []) + [
            "-sf", str(scenario), "-i", "127.0.0.1", "-t", "u1", "-nostdin",
            "-trace_err", "-trace_stat", "-stf", str(self.stat_csv), "-fd", "1"] + args
        if os.environ.get("CALLBOX_BENCH_SIPP_TRACE"):
            argv.append("-trace_msg")   # every message, in NAME/*_messages.log (with CALLBOX_BENCH_KEEP)
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
            if not self._out.closed:
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

    def count(self, column: str) -> int:
        try:
            return int(self.stats().get(column, 0) or 0)
        except ValueError:
            return 0

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
    sipp = Sipp(name, work, SCENARIOS / "register.xml",
                ["-inf", str(inf), "-p", str(port), "-m", str(len(users)), "-r", "50", "-l", "1",
                 "-timeout", "60s", "-timeout_error", "-recv_timeout", "5000"],
                target=f"127.0.0.1:{box.sip_port}")
    sipp.wait(75)
    ok = sipp.count("SuccessfulCall(C)")
    if ok != len(users):
        raise RuntimeError(f"{name}: {ok} of {len(users)} registrations succeeded: {sipp.errors()}")


def credentials(user: str, secret: str, uri: str | None = None) -> str:
    """sipp's injection-file field that answers a digest challenge (401 or 407) for `user`. sipp puts
    the remote address in the digest's uri unless told the Request-URI (`uri`), which the edge checks."""
    return f"[authentication username={user} password={secret}" + (f" auth_uri={uri}]" if uri else "]")
