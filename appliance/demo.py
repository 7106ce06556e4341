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
import signal
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


def run_demo(data_dir: Path, sip_port: int = 5060, web_port: int = 8080, callers_per_min: float = 4.0) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    exe = [sys.executable, "-m", "appliance.cli"]
    core = subprocess.Popen(exe + ["core", "--data", str(data_dir), "--bind", "127.0.0.1",
                                   "--sip-port", str(sip_port), "--api-port", "0",
                                   "--set", "engine.max_calls=6", "--set", "provisioning.port=0"])
    procs = [core]
    try:
        info = wait_for_api(data_dir, core)
        set_up_business(info)
        box = f"127.0.0.1:{info['sip_port']}"
        web = subprocess.Popen(exe + ["web", "--data", str(data_dir), "--host", "127.0.0.1",
                                      "--port", str(web_port), "--insecure-http"])
        procs.append(web)
        sim = [sys.executable, "-m", "appliance.engine.simphones"]
        accounts = ",".join(f"{n}:{secret_of(info, n)}" for n in AGENTS)
        procs.append(subprocess.Popen(sim + ["agents", "--box", box, "--accounts", accounts, "--talk", "15-45"],
                                      stdout=subprocess.DEVNULL))
        procs.append(subprocess.Popen(sim + ["callers", "--box", box, "--account",
                                             f"{CALLER[0]}:{secret_of(info, CALLER[0])}", "--dial", SERVICE_NUMBER,
                                             "--digits", "1|2", "--rate-per-min", str(callers_per_min),
                                             "--abandon-share", "0.15"], stdout=subprocess.DEVNULL))
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
        while all(p.poll() is None for p in procs[:2]):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in reversed(procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
