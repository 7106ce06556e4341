"""Real softphones register to the box: baresip, linphone-daemon and a pjsua2 account."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import PYTHON, free_port
from tests.integration.baresip_peer import Baresip, baresip_available

pytestmark = pytest.mark.peers


@pytest.mark.skipif(not baresip_available(), reason="baresip is not installed")
@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_baresip_registers(core, tmp_path, transport):
    ext = core.add_extension("1001")
    phone = Baresip(tmp_path / "baresip")
    try:
        phone.register("1001", ext["secret"], core.sip_port, transport)
        phone.wait_event("REGISTER_OK", timeout=15)
        regs = core.wait_registered("1001")
        assert regs[0]["source"].startswith(transport)
        assert "baresip" in regs[0]["user_agent"].lower()
    finally:
        phone.close()


@pytest.mark.skipif(not baresip_available(), reason="baresip is not installed")
def test_baresip_with_a_wrong_password_is_refused(core, tmp_path):
    core.add_extension("1001")
    phone = Baresip(tmp_path / "baresip")
    try:
        phone.register("1001", "Wrong-password-123", core.sip_port)
        event = phone.wait_event("REGISTER_FAIL", timeout=15)
        assert "403" in event.get("param", "")
        assert core.registrations() == []
    finally:
        phone.close()


PJSUA2_REGISTER = textwrap.dedent("""
    import sys, time, pjsua2 as pj
    registrar, user, password, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ep = pj.Endpoint(); cfg = pj.EpConfig()
    cfg.uaConfig.threadCnt = 0; cfg.uaConfig.mainThreadOnly = True
    cfg.logConfig.level = 1; cfg.logConfig.consoleLevel = 1
    ep.libCreate(); ep.libInit(cfg)
    tc = pj.TransportConfig(); tc.port = port; tc.boundAddress = "127.0.0.1"
    ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tc); ep.libStart()
    ep.audDevManager().setNullDev()
    class Acc(pj.Account):
        code = 0
        def onRegState(self, prm):
            self.code = prm.code
    ac = pj.AccountConfig(); ac.idUri = f"sip:{user}@127.0.0.1"
    ac.regConfig.registrarUri = f"sip:{registrar}"
    ac.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, password))
    acc = Acc(); acc.create(ac)
    deadline = time.time() + 10
    while acc.code == 0 and time.time() < deadline:
        ep.libHandleEvents(20)
    print("REGSTATE", acc.code, flush=True)
    if acc.code == 200 and "--stay" in sys.argv:
        sys.stdin.readline()
    ep.libDestroy()
""")


@pytest.mark.parametrize("right,algorithms", [(True, ["MD5"]), (False, ["MD5"]),
                                              (True, ["SHA-256"]), (False, ["SHA-256"])])
def test_pjsua2_account_registers(core_factory, tmp_path, right, algorithms):
    pytest.importorskip("pjsua2", reason="the pjsua2-python wheel is x86-64 only")
    core = core_factory({"sip.digest_algorithms": algorithms})
    ext = core.add_extension("1001")
    script = tmp_path / "pjreg.py"
    script.write_text(PJSUA2_REGISTER)
    password = ext["secret"] if right else "Wrong-password-123"
    out = subprocess.run([PYTHON, str(script), f"127.0.0.1:{core.sip_port}", "1001", password,
                          str(free_port())], capture_output=True, text=True, timeout=60)
    codes = [line.split()[1] for line in out.stdout.splitlines() if line.startswith("REGSTATE")]
    assert codes == (["200"] if right else ["403"]), out.stdout + out.stderr[-3000:]


@pytest.mark.skipif(__import__("shutil").which("linphone-daemon") is None, reason="linphone-daemon is not installed")
def test_linphone_daemon_registers(core, tmp_path):
    import os
    ext = core.add_extension("1001")
    port = free_port()
    rc = tmp_path / "linphonerc"  # written fresh: the daemon writes back into its config
    rc.write_text(f"[sip]\nsip_port={port}\nsip_tcp_port=0\nsip_tls_port=0\n")
    home = tmp_path / "home"
    (home / ".local" / "share" / "linphone").mkdir(parents=True)  # it starts no SIP stack without its database
    proc = subprocess.Popen(["linphone-daemon", "--config", str(rc), "--disable-stats-events"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
                            cwd=tmp_path, env=os.environ | {"HOME": str(home)})
    try:
        proc.stdin.write(f"register sip:1001@127.0.0.1:{core.sip_port} sip:127.0.0.1:{core.sip_port} "
                         f"{ext['secret']}\n")
        proc.stdin.flush()
        regs = core.wait_registered("1001", timeout=20)
        assert regs[0]["source"].endswith(f":{port}")  # from the daemon's own SIP port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
