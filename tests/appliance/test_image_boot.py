"""The image boots: its amd64 twin, started as a freshly flashed card would be.

The root filesystem is made by image-build/stage-rootfs-debootstrap.sh with
the same package list, Callbox install, units and first-boot script as the
Pi image (image-build/appliance-stage.sh). It boots under systemd-nspawn
(its own systemd as PID 1) inside the "box" host of a test LAN, and the test
checks what an installer would after flashing: first boot made every
secret, the core and the web are active under their hardening, the admin
page answers over HTTPS on the LAN address, and two phones on the LAN
register and call each other through the box.

The Debian part (debootstrap, a minute or two and the mirror) is kept in
/var/tmp/callbox-rootfs-<hash of its inputs>; every run installs Callbox into
a fresh copy of it, boots that once and removes it.

PID 1 of this machine need not be systemd: no machined, so the container is
not registered (--register=no --keep-unit) and commands run inside it through
nsenter on its PID 1.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.testlan import in_namespace

ROOT = Path(__file__).resolve().parents[2]
STAGE = ROOT / "image-build" / "stage-rootfs-debootstrap.sh"
SCENARIOS = ROOT / "tests" / "integration" / "scenarios"
CACHE_PREFIX = "callbox-rootfs-"
WEB_PORT, API_PORT, SIP_PORT = 8443, 8089, 5060
PHONE_PORT = 5062

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1500),
    pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap, chroot and systemd-nspawn need root"),
    pytest.mark.skipif(shutil.which("debootstrap") is None, reason="debootstrap is not installed"),
    pytest.mark.skipif(shutil.which("systemd-nspawn") is None,
                       reason="systemd-nspawn is not installed (Debian package systemd-container)"),
    pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp is not installed"),
]


# --- the root filesystem --------------------------------------------------------------


def system_inputs() -> str:
    """What the Debian part depends on: the package lists, the suite, the mirror, the script."""
    lists = subprocess.run(
        ["bash", "-c", 'source "$1"; echo "${BASE_PACKAGES[*]}|${APPLIANCE_PACKAGES[*]}"', "-",
         str(ROOT / "image-build" / "appliance-stage.sh")],
        capture_output=True, text=True, check=True).stdout
    return "\n".join([lists, os.environ.get("DEBIAN_SUITE", "bookworm"),
                      os.environ.get("DEBIAN_MIRROR", ""), STAGE.read_text()])


def system_rootfs() -> Path:
    """The cached Debian part, built once per set of inputs (older ones are removed)."""
    digest = hashlib.sha256(system_inputs().encode()).hexdigest()[:16]
    base = Path("/var/tmp")
    cached = base / f"{CACHE_PREFIX}{digest}"
    if cached.is_dir():
        return cached
    for stale in base.glob(f"{CACHE_PREFIX}*"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = base / f"{CACHE_PREFIX}{digest}.partial"
    built = subprocess.run(["bash", str(STAGE), "--system-only", str(partial)],
                           capture_output=True, text=True, timeout=1200)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    partial.rename(cached)
    return cached


def mounted_under(path: Path) -> list[str]:
    prefix = str(path).rstrip("/") + "/"
    with open("/proc/self/mounts") as mounts:
        return [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]


@pytest.fixture
def rootfs(tmp_path):
    """A never-booted twin of the image's root filesystem, removed afterwards."""
    started = time.monotonic()
    system = system_rootfs()
    system_s = time.monotonic() - started
    wheel_dir = tmp_path / "wheel"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel = next(wheel_dir.glob("callbox-*.whl"))
    target = Path(f"/var/tmp/callbox-boot-{os.getpid()}-{os.urandom(3).hex()}")
    try:
        subprocess.run(["cp", "-a", str(system), str(target)], check=True, timeout=300)
        staged = subprocess.run(["bash", str(STAGE), str(wheel), str(target)], capture_output=True, text=True,
                                env=os.environ | {"HOST_PYTHON": sys.executable}, timeout=900)
        assert staged.returncode == 0, staged.stdout[-3000:] + staged.stderr[-3000:]
        print(f"\nrootfs: Debian part {system_s:.0f} s ({'cached' if system_s < 5 else 'built'}), "
              f"Callbox and appliance {time.monotonic() - started - system_s:.0f} s")
        yield target
    finally:
        left = mounted_under(target)
        assert not left, f"still mounted, {target} kept: {left}"
        shutil.rmtree(target, ignore_errors=True)


# --- the booted box -------------------------------------------------------------------


class BootedBox:
    """The twin running its own systemd in the box's network namespace."""

    def __init__(self, rootfs: Path, host, log: Path) -> None:
        self.rootfs, self.host, self.log_path = rootfs, host, log
        self._log = open(log, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "--register=no", "--keep-unit", "--quiet", "-D", str(rootfs), "--boot",
             f"--network-namespace-path=/run/netns/{host.ns}"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        self.leader = self._find_leader()

    def _find_leader(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"systemd-nspawn exited {self.proc.returncode}:\n{self.log()}")
            try:
                pids = children.read_text().split()
            except OSError:
                pids = []
            if pids:
                return int(pids[0])
            time.sleep(0.05)
        raise AssertionError(f"no PID 1 in the container:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-5000:]

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """A command inside the box: its mounts, PIDs and network, as root."""
        return subprocess.run(["nsenter", "--target", str(self.leader), "--mount", "--uts", "--ipc", "--net",
                               "--pid", "--", *args], capture_output=True, text=True, timeout=timeout)

    def journal(self, *units: str) -> str:
        args = [a for u in units for a in ("-u", u)]
        return self.run("journalctl", "-b", "--no-pager", "-o", "short-monotonic", *args).stdout[-6000:]

    def wait_until_booted(self, timeout: float = 180) -> str:
        # is-system-running --wait needs the system bus; poll until it is up.
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            result = self.run("systemctl", "is-system-running", "--wait", timeout=timeout)
            state = result.stdout.strip()
            if state in ("running", "degraded"):
                return state
            time.sleep(0.5)
        raise AssertionError(f"boot did not finish ({state}):\n{self.log()}")

    def main_pid(self, unit: str) -> int:
        return int(self.run("systemctl", "show", "-p", "MainPID", "--value", unit).stdout.strip())

    def process_status(self, pid: int) -> dict[str, str]:
        text = self.run("cat", f"/proc/{pid}/status").stdout
        return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)

    def api(self, method: str, path: str, body=None):
        """The control API on the box's own loopback, with the token first boot made."""
        token = (self.rootfs / "var/lib/callbox/state/api_token").read_text().strip()
        request = urllib.request.Request(
            f"http://127.0.0.1:{API_PORT}{path}", method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})

        def call():
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        return in_namespace(self.host.ns, call)

    def power_off(self) -> float:
        """An orderly shutdown (systemd-nspawn turns SIGTERM into poweroff); seconds it took."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return time.monotonic() - started


@pytest.fixture
def booted(rootfs, lan, tmp_path):
    box_host = lan.host("box")
    box = BootedBox(rootfs, box_host, tmp_path / "console.log")
    try:
        yield box
    finally:
        print(f"power off: {box.power_off():.1f} s")


def owner(rootfs: Path, path: Path) -> str:
    uid = path.stat().st_uid
    for line in (rootfs / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if int(fields[2]) == uid:
            return fields[0]
    return str(uid)


def sipp(host, scenario: list[str], target: str | None, tmp_path: Path, *extra: str, timeout: int = 30):
    args = ["sipp", *([target] if target else []), *scenario, "-i", host.address, "-p", str(PHONE_PORT),
            "-t", "u1", "-m", "1", "-timeout", f"{timeout}s", "-timeout_error", "-nostdin", "-trace_err", *extra]
    return host.run(args, cwd=tmp_path, timeout=timeout + 30)


def credentials(path: Path, user: str, secret: str) -> str:
    path.write_text(f"SEQUENTIAL\n{user};[authentication username={user} password={secret}]\n")
    return str(path)


# --- the test --------------------------------------------------------------------------


def test_the_image_boots_and_phones_on_the_lan_call_through_it(booted, lan, tmp_path):
    box, data = booted, booted.rootfs / "var/lib/callbox"
    state = box.wait_until_booted()
    boot_s = time.monotonic() - box.started

    # Every unit of the box came up: nothing failed on the way.
    failed = box.run("systemctl", "--failed", "--plain", "--no-legend", "--no-pager").stdout.strip()
    units = ["callbox-first-boot.service", "callbox-core.service", "callbox-web.service",
             "ssh.service", "avahi-daemon.service", "callbox-backup.timer"]
    active = box.run("systemctl", "is-active", *units).stdout.split()
    assert dict(zip(units, active)) == dict.fromkeys(units, "active"), \
        f"{state}; failed: {failed}\n{box.journal(*units)}"
    assert state == "running", f"degraded; failed: {failed}"

    # First boot made the card unique: API token where the core reads it, 0600,
    # the callbox user's; SSH host keys; hostname; the marker.
    token = data / "state/api_token"
    assert token.stat().st_mode & 0o777 == 0o600 and owner(box.rootfs, token) == "callbox"
    assert len(token.read_text().strip()) >= 40
    discovery = json.loads((data / "run/api.json").read_text())
    assert discovery["token"] == token.read_text().strip(), "the core made a token of its own"
    for key in ("ssh_host_ed25519_key", "ssh_host_rsa_key"):
        assert (box.rootfs / "etc/ssh" / key).stat().st_mode & 0o077 == 0, key
    hostname = (box.rootfs / "etc/hostname").read_text().strip()
    assert hostname.startswith("callbox-") and len(hostname) == len("callbox-") + 6
    assert f"127.0.1.1\t{hostname}" in (box.rootfs / "etc/hosts").read_text()
    assert box.run("cat", "/proc/sys/kernel/hostname").stdout.strip() == hostname, "the name waits for a reboot"
    assert (data / ".first-boot-done").exists()
    # ... and the web its certificate, in the one directory it may write.
    tls = data / "tls"
    assert tls.stat().st_mode & 0o777 == 0o700 and owner(box.rootfs, tls) == "callbox"
    key = tls / "web-key.pem"
    assert key.stat().st_mode & 0o777 == 0o600 and owner(box.rootfs, key) == "callbox"
    names = subprocess.run(["openssl", "x509", "-in", str(tls / "web-cert.pem"), "-noout", "-ext", "subjectAltName"],
                           capture_output=True, text=True).stdout
    assert f"DNS:{hostname}" in names, names

    # The hardening is in force on the running processes, not only in the files.
    core, web = (box.process_status(box.main_pid(u)) for u in ("callbox-core", "callbox-web"))
    for name, status in (("core", core), ("web", web)):
        assert status["NoNewPrivs"].strip() == "1", name
        assert status["Seccomp"].strip() == "2", name
    assert int(core["CapEff"], 16) == 1 << 10   # CAP_NET_BIND_SERVICE only
    assert int(web["CapEff"], 16) == 0 and int(web["CapBnd"], 16) == 0
    touched = box.run("nsenter", "--target", str(box.main_pid("callbox-web")), "--mount", "--",
                      "setpriv", "--reuid=callbox", "--regid=callbox", "--clear-groups",
                      "touch", "/var/lib/callbox/config.json")
    assert touched.returncode != 0 and "Read-only file system" in touched.stderr, touched

    # The admin page answers over HTTPS on the box's LAN address, from a PC on the LAN,
    # with the certificate the box made.
    pc = lan.host("pc")
    started = time.monotonic()
    page = pc.run(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                   f"https://{box.host.address}:{WEB_PORT}/"], timeout=30)
    code, _, where = page.stdout.partition(" ")
    assert code in ("200", "302", "303"), page
    assert code == "200" or "/setup" in where or "/login" in where, page
    page_ms = (time.monotonic() - started) * 1000
    served = in_namespace(pc.ns, lambda: ssl.get_server_certificate((box.host.address, WEB_PORT), timeout=10))
    assert ssl.PEM_cert_to_DER_cert(served) == ssl.PEM_cert_to_DER_cert((tls / "web-cert.pem").read_text())

    # Two phones on the LAN: 2000 registers and waits; 1001 registers and calls 2000.
    status, a = box.api("POST", "/api/extensions", {"number": "1001", "name": "Front desk"})
    assert status == 201, a
    status, b = box.api("POST", "/api/extensions", {"number": "2000", "name": "Back office"})
    assert status == 201, b
    desk1, desk2 = lan.host("desk1"), lan.host("desk2")
    target = f"{box.host.address}:{SIP_PORT}"
    started = time.monotonic()
    registered = sipp(desk2, ["-sf", str(SCENARIOS / "register.xml")], target, tmp_path,
                      "-inf", credentials(tmp_path / "b.csv", "2000", b["secret"]))
    assert registered.returncode == 0, registered.stdout[-2000:] + registered.stderr[-2000:]
    register_ms = (time.monotonic() - started) * 1000
    status, body = box.api("GET", "/api/registrations")
    regs = {r["aor"]: r for r in body["registrations"]}
    assert regs["2000"]["source"] == f"udp:{desk2.address}:{PHONE_PORT}", regs
    assert desk2.address in regs["2000"]["contact"], regs

    answering = desk2.popen(["sipp", "-sn", "uas", "-i", desk2.address, "-p", str(PHONE_PORT), "-m", "1",
                             "-timeout", "45s", "-timeout_error", "-nostdin", "-trace_err"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(0.5)
    started = time.monotonic()
    call = sipp(desk1, ["-sf", str(SCENARIOS / "register_invite.xml")], target, tmp_path,
                "-inf", credentials(tmp_path / "a.csv", "1001", a["secret"]))
    call_ms = (time.monotonic() - started) * 1000
    try:
        answered = answering.wait(timeout=30)
    except subprocess.TimeoutExpired:
        answering.kill()
        answered = None
    output = answering.stdout.read().decode(errors="replace")[-2000:] if answering.stdout else ""
    assert call.returncode == 0, (call.stdout[-2000:] + call.stderr[-2000:]
                                  + box.journal("callbox-core.service"))
    assert answered == 0, output + box.journal("callbox-core.service")

    # The box kept the call: 1001 called 2000, answered.
    deadline, records = time.monotonic() + 10, []
    while not records and time.monotonic() < deadline:
        records = box.api("GET", "/api/cdr")[1]["records"]
        time.sleep(0.2)
    assert records, box.journal("callbox-core.service")
    record = records[0]
    assert record["disposition"] == "ANSWERED", record
    assert (record["caller"], record["callee"], record["answered_by"]) == ("1001", "2000", "2000"), record

    # Past the watchdog period (WatchdogSec=30 from READY) the core is the same process:
    # under systemd it feeds the watchdog, and nothing restarted it.
    core_pid = box.main_pid("callbox-core")
    since = float(box.run("systemctl", "show", "-p", "ActiveEnterTimestampMonotonic", "--value",
                          "callbox-core").stdout.strip()) / 1e6
    uptime = float(box.run("cat", "/proc/uptime").stdout.split()[0])
    time.sleep(max(0.0, since + 35 - uptime))
    for unit in ("callbox-core", "callbox-web"):
        restarts = box.run("systemctl", "show", "-p", "NRestarts", "--value", unit).stdout.strip()
        assert restarts == "0", f"{unit} restarted {restarts} times\n{box.journal(unit + '.service')}"
    assert box.main_pid("callbox-core") == core_pid

    print(f"boot to {state}: {boot_s:.1f} s; page {page_ms:.0f} ms; register {register_ms:.0f} ms; "
          f"register + call 200 ms + hang up {call_ms:.0f} ms")
    print(box.run("systemd-analyze", "blame", "--no-pager").stdout[:300])
