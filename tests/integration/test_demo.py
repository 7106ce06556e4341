"""`callbox demo`: within a minute a newcomer sees calls answered by the simulated staff."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.conftest import PYTHON, ROOT, free_port

pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
pytestmark = pytest.mark.peers


def test_demo_runs_a_small_business(tmp_path):
    data = tmp_path / "var"
    sip, web = free_port(), free_port()
    log = open(tmp_path / "demo.log", "wb")
    proc = subprocess.Popen([PYTHON, "-m", "appliance.cli", "demo", "--data", str(data), "--sip-port", str(sip),
                             "--web-port", str(web), "--callers-per-min", "20"], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        answered = []
        while time.monotonic() < deadline and not answered:
            time.sleep(1)
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()[-3000:]
            try:
                info = json.loads((data / "run" / "api.json").read_text())
                req = urllib.request.Request(info["url"] + "/api/cdr",
                                             headers={"Authorization": f"Bearer {info['token']}"})
                records = json.loads(urllib.request.urlopen(req, timeout=5).read())["records"]
            except (OSError, ValueError, KeyError):
                continue
            answered = [r for r in records if r.get("queue") and r.get("outcome") == "ANSWERED"]
        assert answered, (tmp_path / "demo.log").read_text()[-3000:]
        assert answered[0]["agent"] in ("2001", "2002", "2003", "2004")
        assert urllib.request.urlopen(f"http://127.0.0.1:{web}/healthz", timeout=5).status == 200
        out = (tmp_path / "demo.log").read_text()
        assert "user 1001  password " in out  # generated, printed once for the newcomer
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# --- stopping: the demo stops whole, and starts again at once -------------------------------------

def _descendants(pid: int) -> set[int]:
    """Every process below pid, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _port_free(port: int, kind: int) -> bool:
    from appliance.demo import _port_taken
    return not _port_taken(port, kind)


def _start_demo(tmp_path, data, sip, web, run: int) -> tuple[subprocess.Popen, object]:
    log = open(tmp_path / f"demo-{run}.log", "wb")
    # Its own session, as in a terminal of its own: the test can then send Ctrl-C to its group.
    proc = subprocess.Popen([PYTHON, "-m", "appliance.cli", "demo", "--data", str(data), "--sip-port", str(sip),
                             "--web-port", str(web), "--callers-per-min", "1"], cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / f"demo-{run}.log").read_text()[-3000:]
        if "Press Ctrl-C to stop" in (tmp_path / f"demo-{run}.log").read_text():
            return proc, log
        time.sleep(0.5)
    raise AssertionError((tmp_path / f"demo-{run}.log").read_text()[-3000:])


def _parts_of(proc: subprocess.Popen) -> set[int]:
    # Workers and the line gateway start a moment after the welcome: wait until the tree settles.
    seen: set[int] = set()
    for _ in range(20):
        now = _descendants(proc.pid)
        if now == seen and len(now) >= 6:  # core, web, agents, callers, a worker, the GSM line
            return now
        seen = now
        time.sleep(0.5)
    return seen


def _assert_gone(parts: set[int], ports: list[tuple[int, int]]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (any(_alive(p) for p in parts)
                                           or not all(_port_free(p, k) for p, k in ports)):
        time.sleep(0.2)
    left = [(p, open(f"/proc/{p}/cmdline").read().replace("\0", " ")) for p in parts if _alive(p)]
    assert not left, left
    assert all(_port_free(p, k) for p, k in ports), [(p, k) for p, k in ports if not _port_free(p, k)]


def test_sigterm_stops_the_whole_demo_and_it_starts_again(tmp_path):
    data = tmp_path / "var"
    sip, web = free_port(), free_port(socket.SOCK_STREAM)
    proc, log = _start_demo(tmp_path, data, sip, web, 1)
    try:
        parts = _parts_of(proc)
        api_port = int(json.loads((data / "run" / "api.json").read_text())["url"].rsplit(":", 1)[1].split("/")[0])
        ports = [(sip, socket.SOCK_DGRAM), (sip, socket.SOCK_STREAM), (web, socket.SOCK_STREAM),
                 (api_port, socket.SOCK_STREAM)]
        assert len(parts) >= 6, (parts, (tmp_path / "demo-1.log").read_text()[-3000:])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=45) == 0, (tmp_path / "demo-1.log").read_text()[-3000:]
        _assert_gone(parts, ports)
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()

    # At once again, on the same data and ports; this time stopped by Ctrl-C (SIGINT to its whole group).
    proc, log = _start_demo(tmp_path, data, sip, web, 2)
    try:
        parts = _parts_of(proc)
        assert urllib.request.urlopen(f"http://127.0.0.1:{web}/healthz", timeout=5).status == 200
        os.killpg(proc.pid, signal.SIGINT)
        assert proc.wait(timeout=45) == 0, (tmp_path / "demo-2.log").read_text()[-3000:]
        _assert_gone(parts, [(sip, socket.SOCK_DGRAM), (sip, socket.SOCK_STREAM), (web, socket.SOCK_STREAM)])
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    out = (tmp_path / "demo-2.log").read_text()
    assert "died" not in out and "Traceback" not in out, out[-3000:]
    out = (tmp_path / "demo-1.log").read_text()
    assert "Traceback" not in out, out[-3000:]


def test_a_second_demo_on_the_same_data_says_why_it_cannot_start(tmp_path):
    from tests.integration.corebox import CoreProcess
    core = CoreProcess(tmp_path / "var").start()  # holds the data directory's lock, as a running demo does
    try:
        sip, web = free_port(), free_port(socket.SOCK_STREAM)
        run = subprocess.run([PYTHON, "-m", "appliance.cli", "demo", "--data", str(tmp_path / "var"),
                              "--sip-port", str(sip), "--web-port", str(web)], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 2, run.stderr
        assert "Traceback" not in run.stderr
        assert "is in use by another process" in run.stderr and f"pid {core.proc.pid}" in run.stderr
        # `callbox core` on it says the same in one line.
        run = subprocess.run([PYTHON, "-m", "appliance.cli", "core", "--data", str(tmp_path / "var"),
                              "--sip-port", "0", "--api-port", "0", "--bind", "127.0.0.1"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert run.returncode == 1 and "Traceback" not in run.stderr
        assert "is in use by another process" in run.stderr
    finally:
        core.stop()


def test_a_part_that_crashes_stops_the_whole_demo(tmp_path):
    data = tmp_path / "var"
    sip, web = free_port(), free_port(socket.SOCK_STREAM)
    proc, log = _start_demo(tmp_path, data, sip, web, 1)
    try:
        parts = _parts_of(proc)
        web_part = next(p for p in parts if " web " in open(f"/proc/{p}/cmdline").read().replace("\0", " "))
        os.kill(web_part, signal.SIGKILL)
        assert proc.wait(timeout=45) == 1
        _assert_gone(parts, [(sip, socket.SOCK_DGRAM), (sip, socket.SOCK_STREAM), (web, socket.SOCK_STREAM)])
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    out = (tmp_path / "demo-1.log").read_text()
    assert "the web page stopped (exit -9); stopping the rest of the demo" in out
    assert "engine worker w0 died" not in out
