"""Running sipp scenarios against the box."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import free_port

SCENARIOS = Path(__file__).parent / "scenarios"


def sipp_available() -> bool:
    return shutil.which("sipp") is not None


def credentials_file(path: Path, rows: list[tuple[str, str]]) -> Path:
    """An injection file: field0 the user, field1 the Authorization line for that user's password."""
    lines = ["SEQUENTIAL"]
    for user, password in rows:
        lines.append(f"{user};[authentication username={user} password={password}]")
    path.write_text("\n".join(lines) + "\n")
    return path


def run_sipp(scenario: str, target: str, *, inf: Path | None = None, calls: int = 1, rate: float = 10,
             transport: str = "u1", extra: list[str] | None = None, timeout: float = 60,
             cwd: Path | None = None) -> subprocess.CompletedProcess:
    args = ["sipp", target, "-sf", str(SCENARIOS / scenario), "-m", str(calls), "-r", str(rate),
            "-i", "127.0.0.1", "-p", str(free_port()), "-t", transport, "-timeout", f"{int(timeout)}s",
            "-timeout_error", "-nostdin", "-trace_err"]
    if inf is not None:
        args += ["-inf", str(inf)]
    args += extra or []
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout + 30, cwd=cwd)
