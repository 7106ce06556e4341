"""What the installed pjsua2 can do, asked in a child process.

Importing pjsua2 prints to the console and a process may hold only one
Endpoint, so the probe never runs in the caller's process.
"""

from __future__ import annotations

import json
import subprocess
import sys

from appliance.errors import EngineError

# PJSUA_MAX_ACC is not readable at run time; this is the wheel's build value
# (pjproject's default). A ninth account aborts the process.
DEFAULT_MAX_ACCOUNTS = 8

_CHILD = r"""
import ctypes, importlib.util, json, pjsua2 as pj
ep = pj.Endpoint()
ep.libCreate()
cfg = pj.EpConfig()
cfg.uaConfig.threadCnt = 0
cfg.uaConfig.mainThreadOnly = True
cfg.uaConfig.maxCalls = 4096
cfg.logConfig.level = 0
cfg.logConfig.consoleLevel = 0
ep.libInit(cfg)
lib = ctypes.CDLL(importlib.util.find_spec("pjsua2._pjsua2").origin)
lib.pjsua_call_get_max_count.restype = ctypes.c_uint
lib.pjsua_conf_get_max_ports.restype = ctypes.c_uint
ep.audDevManager().setNullDev()
result = {
    "version": ep.libVersion().full,
    "max_calls": int(lib.pjsua_call_get_max_count()),
    "conference_ports": int(lib.pjsua_conf_get_max_ports()),
    "codecs": [c.codecId for c in ep.codecEnum2()],
}
ep.libDestroy()
print("PROBE " + json.dumps(result), flush=True)
"""


def probe_pjsua2(python: str = sys.executable, timeout_s: float = 30.0) -> dict:
    """Return {version, max_calls, max_accounts, conference_ports, codecs}.

    Raises EngineError if pjsua2 is missing or the child fails.
    """
    try:
        done = subprocess.run([python, "-c", _CHILD], capture_output=True, text=True,
                              timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise EngineError("pjsua2 probe did not finish") from None
    for line in done.stdout.splitlines():
        if line.startswith("PROBE "):
            result = json.loads(line[len("PROBE "):])
            result["max_accounts"] = DEFAULT_MAX_ACCOUNTS
            return result
    tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
    raise EngineError(f"pjsua2 probe failed (exit {done.returncode}): {' | '.join(tail)}")


if __name__ == "__main__":
    print(json.dumps(probe_pjsua2(), indent=2))
