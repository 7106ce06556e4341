"""The `callbox` command line."""

from __future__ import annotations

import json
import subprocess

from appliance import __version__
from tests.conftest import PYTHON, ROOT


def callbox(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, "-m", "appliance.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout)


def test_help_lists_the_commands():
    out = callbox("--help")
    assert out.returncode == 0
    for command in ("core", "demo", "web", "check", "settings-doc"):
        assert command in out.stdout


def test_version():
    out = callbox("--version")
    assert out.returncode == 0 and out.stdout.strip() == f"callbox {__version__}"


def test_check_reports_engine_ports_serial_and_panel():
    out = callbox("check", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["version"] == __version__
    engine = report["engine"]
    try:
        import pjsua2  # noqa: F401
    except ImportError:
        assert engine["available"] is False
    else:
        assert engine["max_calls"] == 4 and engine["max_accounts"] == 8  # the wheel's build limits
        assert "PCMA/8000/1" in engine["codecs"]
    assert all(isinstance(v, bool) for v in report["ports"].values())
    assert "ports" in report["serial"]
    # No Pi here: the simulated panel backend was chosen, and the report says why.
    assert report["panel"]["backend"] == "simulated" and report["panel"]["reason"]


def test_core_refuses_a_bad_setting_with_its_name(tmp_path):
    out = callbox("core", "--data", str(tmp_path / "d"), "--set", "sip.port=99999")
    assert out.returncode != 0
    assert "sip.port" in out.stderr and "between" in out.stderr
