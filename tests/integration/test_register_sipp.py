"""Phones register with digest authentication: sipp as the phone, on UDP and TCP."""

from __future__ import annotations

import pytest

from tests.integration.sipp import credentials_file, run_sipp, sipp_available

pytestmark = [pytest.mark.peers, pytest.mark.skipif(not sipp_available(), reason="sipp is not installed")]


@pytest.mark.parametrize("transport", ["u1", "t1"])
def test_right_password_registers(core, tmp_path, transport):
    ext = core.add_extension("1001")
    inf = credentials_file(tmp_path / "users.csv", [("1001", ext["secret"])])
    result = run_sipp("register.xml", f"127.0.0.1:{core.sip_port}", inf=inf, transport=transport, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    regs = core.wait_registered("1001")
    assert regs[0]["source"].startswith("udp:" if transport == "u1" else "tcp:")
    assert 0 < regs[0]["expires_in"] <= 300


def test_wrong_password_fails_and_registers_nothing(core, tmp_path):
    core.add_extension("1001")
    inf = credentials_file(tmp_path / "users.csv", [("1001", "not-the-right-secret-1")])
    result = run_sipp("register_fail.xml", f"127.0.0.1:{core.sip_port}", inf=inf, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert core.registrations() == []


def test_unknown_user_gets_the_same_failure(core, tmp_path):
    core.add_extension("1001")
    inf = credentials_file(tmp_path / "users.csv", [("7777", "whatever-password-1")])
    # The same scenario as for a wrong password passes: 401 first, then 403, as for a real user.
    result = run_sipp("register_fail.xml", f"127.0.0.1:{core.sip_port}", inf=inf, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert core.registrations() == []


def test_registrations_survive_a_core_crash(core_factory, tmp_path):
    core = core_factory()
    ext = core.add_extension("1001")
    inf = credentials_file(tmp_path / "users.csv", [("1001", ext["secret"])])
    assert run_sipp("register.xml", f"127.0.0.1:{core.sip_port}", inf=inf, cwd=tmp_path).returncode == 0
    before = core.wait_registered("1001")
    # Give the coalesced save its moment, then crash hard: no clean shutdown.
    import time
    deadline = time.monotonic() + 5
    while not (core.data_dir / "state" / "registrations.json").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    core.kill()
    again = core_factory(data_dir=core.data_dir)
    after = again.wait_registered("1001")
    assert after[0]["contact"] == before[0]["contact"]
    assert after[0]["source"] == before[0]["source"]
