"""`callbox demo`: within a minute a newcomer sees calls answered by the simulated staff."""

from __future__ import annotations

import json
import signal
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
