"""(slow) The arm64 first stage of the Pi image: debootstrap under qemu-user, and the
rootfs's python3 reports aarch64."""

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "image-build" / "stage-arm64-qemu.sh"
BINFMT = Path("/proc/sys/fs/binfmt_misc")
QEMU_STATIC = Path("/usr/bin/qemu-aarch64-static")
EM_AARCH64 = 0xB7


def why_it_cannot_run() -> str | None:
    if shutil.which("debootstrap") is None:
        return "debootstrap is not installed (apt-get install debootstrap)"
    if not os.access(QEMU_STATIC, os.X_OK):
        return f"{QEMU_STATIC} is missing (apt-get install qemu-user-static)"
    if os.geteuid() != 0:
        return "binfmt_misc registration, debootstrap and chroot need root"
    if (BINFMT / "status").exists():
        return None
    probe = subprocess.run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"binfmt_misc cannot be mounted here: {probe.stderr.strip()}"
    # The script mounts it itself; this only found out whether it can.
    subprocess.run(["umount", str(BINFMT)], capture_output=True)
    return None


def mounts_under(path: Path) -> list[str]:
    prefix = str(path.resolve()) + "/"
    with open("/proc/self/mounts") as mounts:
        points = [line.split()[1] for line in mounts]
    return [p for p in points if (p + "/").startswith(prefix)]


def elf_machine(path: Path) -> int:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    return int.from_bytes(header[18:20], "little")


@pytest.fixture
def rootfs(tmp_path):
    path = tmp_path / "rootfs"
    yield path
    # A killed run may leave /proc or /dev mounted inside; never delete through a mount.
    for point in sorted(mounts_under(path), reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
    if path.exists() and not mounts_under(path):
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.timeout(3000)
def test_arm64_rootfs_runs_python_under_qemu(rootfs):
    reason = why_it_cannot_run()
    if reason:
        pytest.skip(reason)
    proc = subprocess.Popen(["bash", str(SCRIPT), str(rootfs)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=2800)
    except subprocess.TimeoutExpired:
        # The script's own trap unmounts what it mounted; SIGTERM lets it run.
        os.killpg(proc.pid, signal.SIGTERM)
        output, _ = proc.communicate(timeout=120)
        pytest.fail("the arm64 stage did not finish in time:\n" + output[-3000:])
    assert proc.returncode == 0, output[-4000:]
    assert re.findall(r"^machine: (\S+)$", output, re.M) == ["aarch64"]
    # The python3 that answered is an arm64 program, run through the emulator.
    python = Path(os.path.realpath(rootfs / "usr" / "bin" / "python3"))
    assert python.is_relative_to(rootfs.resolve())
    assert elf_machine(python) == EM_AARCH64
    assert not (rootfs / "debootstrap").exists(), "the second stage did not finish"
    assert mounts_under(rootfs) == []
