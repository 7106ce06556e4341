"""SIP providers played by sipp scenarios, each on a loopback address of its own, for as long as a test runs."""

from __future__ import annotations

import subprocess

from tests.conftest import free_port
from tests.integration.sipp import SCENARIOS


def start_provider(sipp_procs, tmp_path, ip: str, scenario: str, *, one_call: bool = False) -> int:
    """A sipp server at `ip` playing `scenario`, kept in `sipp_procs` (the fixture); its port.

    With `one_call` it takes one call within 40 s and exits, its status and output (`stdout`) telling
    whether the call went as the scenario says; otherwise it answers every call alike until the test ends.
    """
    port = free_port(host=ip)
    args = ["sipp", "-sf", str(SCENARIOS / scenario), "-i", ip, "-p", str(port)]
    if one_call:
        args += ["-m", "1", "-nostdin", "-timeout", "40s", "-timeout_error", "-trace_err"]
        out = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
    else:
        args += ["-nostdin", "-trace_err"]
        out = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    sipp_procs.append(subprocess.Popen(args, cwd=tmp_path, **out))
    return port
