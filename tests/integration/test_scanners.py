"""SIP scanners against the edge: sipvicious cannot enumerate extensions and gets banned cracking one."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.peers
BIN = Path(sys.executable).parent


def sipvicious(tool: str, *args: str, timeout: float = 90) -> str:
    exe = BIN / f"sipvicious_{tool}"
    if not exe.exists() and shutil.which(f"sipvicious_{tool}") is None:
        pytest.skip("sipvicious is not installed")
    out = subprocess.run([str(exe), "-b", "127.0.0.1", "-P", str(free_port()), *args],
                         capture_output=True, text=True, timeout=timeout)
    return out.stdout + out.stderr


def svwar_found(output: str) -> set[str]:
    """Extensions svwar lists in its result table (| 1001 | reqauth |)."""
    found = set()
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            found.add(cells[0])
    return found


def test_scanner_user_agent_gets_no_answer(core):
    core.add_extension("1001")
    out = sipvicious("svwar", "-e1000-1003", "-p", str(core.sip_port), "127.0.0.1", timeout=60)
    assert svwar_found(out) == set()
    # Dropped, not answered: the scanner cannot even tell a PBX is there.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(1.0)
    sock.sendto(b"OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bK1\r\n"
                b"From: <sip:a@b>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n"
                b"User-Agent: friendly-scanner\r\nContent-Length: 0\r\n\r\n", ("127.0.0.1", core.sip_port))
    with pytest.raises(socket.timeout):
        sock.recvfrom(4096)
    sock.close()


def test_svwar_cannot_tell_valid_from_invalid_extensions(core_factory):
    # With the scanner list emptied, the enumeration defence itself is what is tested.
    core = core_factory({"security.scanner_user_agents": []})
    core.add_extension("1001")
    core.add_extension("1002")
    out = sipvicious("svwar", "-e1000-1004", "-p", str(core.sip_port), "127.0.0.1", timeout=60)
    assert "same response to all extensions" in out or "authentication request for an unknown" in out, out
    assert svwar_found(out) == set()
    forced = sipvicious("svwar", "--force", "-e1000-1004", "-p", str(core.sip_port), "127.0.0.1", timeout=60)
    found = svwar_found(forced)
    # Either nothing, or every number alike: real (1001, 1002) and unknown (1000, 1003, 1004).
    assert found in (set(), {"1000", "1001", "1002", "1003", "1004"}), forced


def test_svcrack_gets_banned_before_it_finds_the_password(core_factory, tmp_path):
    core = core_factory({"security.scanner_user_agents": [], "security.ban_failures": 5})
    ext = core.add_extension("1001", secret="Correct-horse-42")
    words = [f"Wrong-guess-{i:02d}" for i in range(8)] + ["Correct-horse-42"]
    dictionary = tmp_path / "words.txt"
    dictionary.write_text("\n".join(words) + "\n")
    out = sipvicious("svcrack", "-u", "1001", "-d", str(dictionary), "-p", str(core.sip_port), "127.0.0.1",
                     timeout=90)
    assert ext["secret"] not in out, out
    status, body = core.api("GET", "/api/bans")
    assert status == 200
    assert [b["ip"] for b in body["bans"]] == ["127.0.0.1"]
    assert "5" in body["bans"][0]["reason"]
    # Lifting the ban through the API lets the address talk again.
    assert core.api("DELETE", "/api/bans/127.0.0.1")[0] == 204
    assert core.api("GET", "/api/bans")[1]["bans"] == []
