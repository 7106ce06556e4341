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


def test_backup_and_restore_from_the_command_line(tmp_path):
    from appliance.store.db import Store
    data = tmp_path / "data"
    with Store(data) as store:
        store.table("extensions").insert({"number": "1001", "name": "Anna", "secret": "Str0ng-secret-123"})
    out = callbox("backup", str(tmp_path / "b.tar.gz"), "--data", str(data))
    assert out.returncode == 0, out.stderr
    assert callbox("backup", "--verify", str(tmp_path / "b.tar.gz")).returncode == 0
    with Store(data) as store:
        store.table("extensions").truncate()
    out = callbox("restore", str(tmp_path / "b.tar.gz"), "--data", str(data))
    assert out.returncode == 0, out.stderr
    with Store(data, read_only=True) as store:
        assert [e["number"] for e in store.table("extensions").all()] == ["1001"]
    # A corrupt file is refused with a clear error and changes nothing.
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes((tmp_path / "b.tar.gz").read_bytes()[:200])
    out = callbox("restore", str(bad), "--data", str(data))
    assert out.returncode != 0 and out.stderr.startswith("callbox: ")
    with Store(data, read_only=True) as store:
        assert [e["number"] for e in store.table("extensions").all()] == ["1001"]


def test_factory_reset_needs_confirmation(tmp_path):
    from appliance.store.db import Store
    data = tmp_path / "data"
    with Store(data) as store:
        store.table("users").insert({"username": "owner", "role": "admin", "password_hash": "scrypt$x"})
    out = callbox("factory-reset", "--data", str(data))
    assert out.returncode == 1 and "not confirmed" in out.stderr
    out = callbox("factory-reset", "--data", str(data), "--yes")
    assert out.returncode == 0, out.stderr
    with Store(data, read_only=True) as store:
        assert store.table("users").all() == []
    assert list((data / "backups").glob("callbox-before-reset-*.tar.gz"))
