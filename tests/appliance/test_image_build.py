"""Image-build scripts: shellcheck-clean, the first-boot script, pjproject limits,
and (slow) the debootstrap stage."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted([*ROOT.glob("image-build/*.sh"), *ROOT.glob("systemd/*.sh")])


def test_every_script_is_found():
    names = {p.name for p in SCRIPTS}
    assert {"build-image.sh", "first-boot.sh", "stage-rootfs-debootstrap.sh", "appliance-stage.sh"} <= names


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_shellcheck_clean(script):
    result = subprocess.run(["shellcheck", "--external-sources", "--severity=style", str(script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_scripts_stop_on_errors(script):
    assert "set -euo pipefail" in script.read_text()
    assert os.access(script, os.X_OK)


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_shellcheck_does_find_faults(tmp_path):
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/usr/bin/env bash\nset -euo pipefail\nrm -rf $1/*\n")
    assert subprocess.run(["shellcheck", str(bad)], capture_output=True).returncode != 0


def test_config_site_raises_the_limits():
    text = (ROOT / "image-build" / "config_site.h").read_text()
    defines = dict(re.findall(r"^#define\s+(\w+)\s+(\S+)", text, re.M))
    assert int(defines["PJSUA_MAX_CALLS"]) >= 128
    assert int(defines["PJSUA_MAX_ACC"]) >= 64
    assert int(defines["PJSUA_MAX_PLAYERS"]) >= 256
    assert int(defines["PJSUA_MAX_RECORDERS"]) >= 256
    assert int(defines["PJ_IOQUEUE_MAX_HANDLES"]) >= 1024
    assert defines["PJ_IOQUEUE_IMP"] == "PJ_IOQUEUE_IMP_EPOLL"
    assert defines["PJ_DEBUG"] == "0"


def test_config_site_compiles(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler on this machine")
    probe = tmp_path / "probe.c"
    # pjproject's own constants, so that the header's expressions evaluate.
    probe.write_text(
        "#define PJ_IOQUEUE_IMP_EPOLL 2\n"
        f'#include "{ROOT / "image-build" / "config_site.h"}"\n'
        "_Static_assert(PJSUA_MAX_CONF_PORTS >= PJSUA_MAX_CALLS + PJSUA_MAX_PLAYERS, \"bridge too small\");\n"
        "int main(void) { return 0; }\n"
    )
    result = subprocess.run([cc, "-Wall", "-Werror", "-o", str(tmp_path / "probe"), str(probe)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_build_script_pins_pjproject_with_a_checksum():
    text = (ROOT / "image-build" / "build-image.sh").read_text()
    assert 'PJPROJECT_VERSION="2.15.1"' in text
    assert "sha256sum -c" in text and "PJPROJECT_SHA256" in text
    assert "config_site.h" in text


# --- first boot ------------------------------------------------------------------


@pytest.fixture
def fake_root(tmp_path):
    root = tmp_path / "root"
    (root / "etc" / "ssh").mkdir(parents=True)
    (root / "etc" / "hostname").write_text("raspberrypi\n")
    (root / "etc" / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    (root / "etc" / "machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    (root / "etc" / "ssh" / "ssh_host_ed25519_key").write_text("the image's key, shared by every card\n")
    serial = root / "sys" / "firmware" / "devicetree" / "base"
    serial.mkdir(parents=True)
    (serial / "serial-number").write_bytes(b"10000000ABC123DE\0")
    return root


def first_boot(root, data):
    env = {**os.environ, "CALLBOX_ROOT": str(root), "CALLBOX_DATA": str(data)}
    return subprocess.run(["bash", str(ROOT / "image-build" / "first-boot.sh")], env=env,
                          capture_output=True, text=True, timeout=120)


def core_reads_token(data) -> str:
    """The token the core uses with this data directory: its own reading code, not a copy of the path."""
    from types import SimpleNamespace

    from appliance.core import Core

    return Core.api_token(SimpleNamespace(_token="", data_dir=data))


def test_core_reads_token_does_notice_a_misplaced_token(tmp_path):
    # The check above must be able to fail: a token elsewhere is not the core's.
    (tmp_path / "api-token").write_text("misplaced")
    (tmp_path / "state").mkdir()
    assert core_reads_token(tmp_path) != "misplaced"


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is not installed")
def test_first_boot_makes_the_box_unique_once(fake_root, tmp_path):
    data = tmp_path / "data"
    result = first_boot(fake_root, data)
    assert result.returncode == 0, result.stderr
    assert (fake_root / "etc" / "hostname").read_text() == "callbox-c123de\n"
    assert "127.0.1.1\tcallbox-c123de" in (fake_root / "etc" / "hosts").read_text()
    key = (fake_root / "etc" / "ssh" / "ssh_host_ed25519_key").read_text()
    assert "OPENSSH PRIVATE KEY" in key
    assert (fake_root / "etc" / "ssh" / "ssh_host_rsa_key.pub").exists()
    assert (fake_root / "etc" / "machine-id").read_text() == ""
    token_file = data / "state" / "api_token"
    token = token_file.read_text()
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", token)
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert core_reads_token(data) == token

    again = first_boot(fake_root, data)
    assert again.returncode == 0
    assert "already done" in again.stdout
    assert token_file.read_text() == token
    assert (fake_root / "etc" / "ssh" / "ssh_host_ed25519_key").read_text() == key


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is not installed")
def test_two_cards_get_different_tokens(fake_root, tmp_path):
    tokens = []
    for n in range(2):
        data = tmp_path / f"data{n}"
        assert first_boot(fake_root, data).returncode == 0
        tokens.append((data / "state" / "api_token").read_text())
    assert tokens[0] != tokens[1]


# --- debootstrap stage (slow: minutes and the network) -----------------------------


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_debootstrap_rootfs_runs_callbox(tmp_path):
    if shutil.which("debootstrap") is None:
        pytest.skip("debootstrap is not installed (apt-get install debootstrap)")
    if os.geteuid() != 0:
        pytest.skip("debootstrap and chroot need root")
    wheel_dir = tmp_path / "wheel"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(wheel_dir), str(ROOT)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel = next(wheel_dir.glob("callbox-*.whl"))
    rootfs = tmp_path / "rootfs"
    result = subprocess.run(
        ["bash", str(ROOT / "image-build" / "stage-rootfs-debootstrap.sh"), str(wheel), str(rootfs)],
        capture_output=True, text=True, timeout=1700,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    from appliance import __version__

    assert __version__ in result.stdout
