"""`callbox demo`: a small business on loopback, with simulated hardware and people.

It starts the core and the web page as separate processes (as on the box),
then, through the control API only, sets up what an owner would: staff
extensions, two queues (sales, support), agents, the default IVR from the
template, and a simulated GSM line. Simulated agents answer and talk;
simulated callers dial the service number and pick 1 or 2. Within a minute
calls move on the wallboard. Every secret is generated: there are no demo
passwords to leak into a real installation.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from appliance.logic.flows import default_flows

STAFF = [("1001", "Anna (reception)"), ("1002", "Piotr (sales)"), ("1003", "Li Wei (support)")]
AGENTS = {"2001": "sales", "2002": "sales", "2003": "support", "2004": "support"}
CALLER = ("1900", "Demo callers")
SERVICE_NUMBER = "500"
WEEK = {day: [("00:00", "23:59")] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def wait_for_api(data_dir: Path, proc: subprocess.Popen, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    path = data_dir / "run" / "api.json"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"callbox demo: the core exited with status {proc.returncode}")
        try:
            info = json.loads(path.read_text())
            if info.get("pid") == proc.pid:
                return info
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise SystemExit("callbox demo: the core did not start in time")


def wait_for_web(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Until the web page answers; a web process that ended is left to the demo's watch to report."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)


def api(info: dict, method: str, path: str, body: object | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(info["url"] + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {info['token']}",
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def secret_of(info: dict, number: str) -> str:
    status, ext = api(info, "GET", f"/api/extensions/{number}")
    if status == 404:
        raise KeyError(number)
    return ext["secret"]


def set_up_business(info: dict) -> None:
    """What an owner does on the first day, through the API (idempotent: a second demo run keeps it)."""
    have = {e["number"] for e in api(info, "GET", "/api/extensions")[1]["extensions"]}
    for number, name in [*STAFF, *((n, f"Agent {n} ({q})") for n, q in AGENTS.items()), CALLER]:
        if number not in have:
            api(info, "POST", "/api/extensions", {"number": number, "name": name})
    queues = {q["name"] for q in api(info, "GET", "/api/queues")[1]["queues"]}
    for queue in ("sales", "support"):
        if queue not in queues:
            api(info, "POST", "/api/queues", {"name": queue, "ring_timeout_s": 15, "wrap_up_s": 5,
                                              "announce_position_every_s": 30})
    agents = {a["extension"] for a in api(info, "GET", "/api/agents")[1]["agents"]}
    for number, queue in AGENTS.items():
        if number not in agents:
            api(info, "POST", f"/api/agents/{number}", {"queues": [queue]})
        api(info, "POST", f"/api/agents/{number}/login", {})
    if api(info, "GET", "/api/flows")[0] == 404:
        flows = default_flows(WEEK, "sales", "1001", support_queue="support", operator="1001").to_dict()
        flows["routes"].insert(0, {"name": "Service number", "did": SERVICE_NUMBER, "caller": "",
                                   "priority": 5, "destination": "business_hours"})
        status, body = api(info, "PUT", "/api/flows", flows)
        if status != 200:
            print(f"callbox demo: the default call flows were refused: {body}", file=sys.stderr)
    lines = {ln["name"] for ln in api(info, "GET", "/api/lines")[1]["lines"]}
    if "gsm1" not in lines:
        api(info, "POST", "/api/lines", {"name": "gsm1", "kind": "gsm", "device": "sim:gsm",
                                         "number": "48601000000"})


class DemoStop(Exception):
    """SIGTERM or SIGHUP asked the demo to stop (Ctrl-C arrives as KeyboardInterrupt)."""


def _raise_stop(signum: int, frame: object) -> None:
    raise DemoStop(signal.Signals(signum).name)


def _in_own_group() -> None:
    """Run in each child before exec: its own process group, and ended with the demo.

    In its own group a part never sees the terminal's Ctrl-C: the demo alone
    gets it and stops the parts in order, so the core stops its engine workers
    itself instead of finding them killed under it. PR_SET_PDEATHSIG sends the
    part SIGTERM if the demo itself is killed outright (SIGKILL, OOM).
    """
    os.setpgid(0, 0)
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the demo's own clean-up still stops everything
    if os.getppid() == 1:  # the demo died before the line above: do not outlive it
        os._exit(1)


class Parts:
    """The processes of one demo run, each in its own process group, stopped together."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], **kwargs: object) -> subprocess.Popen:
        proc = subprocess.Popen(args, preexec_fn=_in_own_group, **kwargs)  # type: ignore[call-overload]
        self.procs.append((name, proc))
        return proc

    def stopped(self) -> tuple[str, int] | None:
        """The first part that ended on its own, with its exit status."""
        for name, proc in self.procs:
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def stop(self, timeout_s: float = 20.0) -> None:
        """Callers and agents first, then the web page, the core last (it stops its workers and lines).

        Each part gets SIGTERM and time to end; whatever is left in its process
        group after that (a worker of a core that crashed) is killed.
        """
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        for _, proc in reversed(self.procs):
            if _signal_group(proc.pid, signal.SIGTERM):
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline and _signal_group(proc.pid, 0):
                    time.sleep(0.1)
                _signal_group(proc.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: int) -> bool:
    """Signal a part's process group; False if nothing is left in it."""
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return False


def _port_taken(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        if kind == socket.SOCK_STREAM:
            # A listener blocks this bind; connections of a demo that just stopped (TIME_WAIT) do not.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def why_not(data_dir: Path, sip_port: int, web_port: int) -> str | None:
    """Why the demo cannot start here, in words; None when it can."""
    from appliance.store.db import LOCK_FILE, LockBusy, flock_now
    lock = data_dir / LOCK_FILE
    if lock.exists():
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
        except OSError as e:
            return f"cannot open {lock}: {e.strerror or e}"
        try:
            flock_now(fd)
        except LockBusy as e:
            who = f" (pid {e.holder})" if e.holder else ""
            return (f"{data_dir} is in use by another process{who}: a demo or a core already runs on it. "
                    f"Stop it first (Ctrl-C in its terminal, or `kill {e.holder or 'PID'}`), "
                    "or give this demo another --data directory.")
        except OSError as e:
            return f"cannot lock {lock}: {e.strerror or e}"
        os.close(fd)  # free: the core takes it
    for port, kind, what in ((sip_port, socket.SOCK_DGRAM, "SIP port {}/udp"),
                             (sip_port, socket.SOCK_STREAM, "SIP port {}/tcp"),
                             (web_port, socket.SOCK_STREAM, "web port {}/tcp")):
        if port and _port_taken(port, kind):
            return (f"the {what.format(port)} is in use by another program (another demo, or a PBX?). "
                    "Stop it, or choose other ports with --sip-port and --web-port.")
    return None


def run_demo(data_dir: Path, sip_port: int = 5060, web_port: int = 8080, callers_per_min: float = 4.0) -> int:
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    problem = why_not(data_dir, sip_port, web_port)
    if problem:
        print(f"callbox demo: {problem}", file=sys.stderr)
        return 2
    exe = [sys.executable, "-m", "appliance.cli"]
    parts = Parts()
    previous = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        core = parts.start("core", exe + ["core", "--data", str(data_dir), "--bind", "127.0.0.1",
                                          "--sip-port", str(sip_port), "--api-port", "0",
                                          "--set", "engine.max_calls=6", "--set", "provisioning.port=0"])
        info = wait_for_api(data_dir, core)
        set_up_business(info)
        box = f"127.0.0.1:{info['sip_port']}"
        web = parts.start("web page", exe + ["web", "--data", str(data_dir), "--host", "127.0.0.1",
                                             "--port", str(web_port), "--insecure-http"])
        sim = [sys.executable, "-m", "appliance.engine.simphones"]
        accounts = ",".join(f"{n}:{secret_of(info, n)}" for n in AGENTS)
        parts.start("simulated agents", sim + ["agents", "--box", box, "--accounts", accounts, "--talk", "15-45"],
                    stdout=subprocess.DEVNULL)
        parts.start("simulated callers", sim + ["callers", "--box", box, "--account",
                                                f"{CALLER[0]}:{secret_of(info, CALLER[0])}", "--dial",
                                                SERVICE_NUMBER, "--digits", "1|2", "--rate-per-min",
                                                str(callers_per_min), "--abandon-share", "0.15"],
                    stdout=subprocess.DEVNULL)
        wait_for_web(web_port, web)  # the address printed below answers when it is printed
        _welcome(data_dir, info, box, web_port, callers_per_min)
        while (ended := parts.stopped()) is None:
            time.sleep(0.5)
        name, code = ended
        print(f"callbox demo: the {name} stopped (exit {code}); stopping the rest of the demo", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, DemoStop):
        return 0
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave parts running.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if parts.procs:
            print("callbox demo: stopping", file=sys.stderr)
        parts.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _welcome(data_dir: Path, info: dict, box: str, web_port: int, callers_per_min: float) -> None:
    print("\nCallbox demo is running: a small business with an IVR, two queues and simulated staff.\n")
    from appliance import setup_code
    code = setup_code.read(data_dir)
    if code:
        # The demo listens on loopback only, so printing the code here gives nothing away.
        print(f"  Web page:     http://127.0.0.1:{web_port}/setup  (create the admin with the "
              f"set-up code {code})")
    else:
        print(f"  Web page:     http://127.0.0.1:{web_port}  (log in as the admin you created)")
    print(f"  SIP server:   {box} (UDP and TCP); service number {SERVICE_NUMBER}")
    print("  Network:      the demo keeps to loopback (127.0.0.1): phones on this machine only. On the "
          "office LAN run `callbox core`, which finds the LAN address itself (docs/network.md).")
    print("  Simulated:    4 agents (2001-2004) answer; callers dial in about "
          f"{callers_per_min:g} times a minute; a GSM line gsm1 (+48 601 000 000)")
    print("  Register a softphone (e.g. baresip, Linphone, MicroSIP) with one of:")
    for number, name in STAFF:
        print(f"    {name:20} user {number}  password {secret_of(info, number)}")
    print(f"\n  Dial {SERVICE_NUMBER} from it to hear the menu. Press Ctrl-C to stop.\n")
    sys.stdout.flush()
