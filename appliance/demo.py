"""`callbox demo`: the whole box on loopback, with simulated hardware.

It starts the core and the web page as separate processes (as on the box),
adds a few demo extensions through the control API, and prints how to
register a softphone. Every secret is generated: there are no demo passwords
to leak into a real installation.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

DEMO_EXTENSIONS = [("1001", "Anna (reception)"), ("1002", "Piotr (sales)"), ("1003", "Li Wei (support)")]


def wait_for_api(data_dir: Path, proc: subprocess.Popen, timeout: float = 20.0) -> dict:
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
        with urllib.request.urlopen(req, timeout=5) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def run_demo(data_dir: Path, sip_port: int = 5060, web_port: int = 8080) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    exe = [sys.executable, "-m", "appliance.cli"]
    core = subprocess.Popen(exe + ["core", "--data", str(data_dir), "--bind", "127.0.0.1",
                                   "--sip-port", str(sip_port), "--api-port", "0"])
    procs = [core]
    try:
        info = wait_for_api(data_dir, core)
        status, body = api(info, "GET", "/api/extensions")
        have = {e["number"] for e in body["extensions"]} if status == 200 else set()
        for number, name in DEMO_EXTENSIONS:
            if number not in have:
                api(info, "POST", "/api/extensions", {"number": number, "name": name})
        web = subprocess.Popen(exe + ["web", "--data", str(data_dir), "--host", "127.0.0.1",
                                      "--port", str(web_port), "--insecure-http"])
        procs.append(web)
        print("\nCallbox demo is running.\n")
        print(f"  Web page:     http://127.0.0.1:{web_port}  (the first visit creates the admin)")
        print(f"  SIP server:   127.0.0.1:{info['sip_port']} (UDP and TCP)")
        print("  Register a softphone (e.g. baresip, Linphone, MicroSIP) with one of:")
        for number, name in DEMO_EXTENSIONS:
            _, ext = api(info, "GET", f"/api/extensions/{number}")
            print(f"    {name:20} user {number}  password {ext['secret']}")
        print("\n  Press Ctrl-C to stop.\n")
        sys.stdout.flush()
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
