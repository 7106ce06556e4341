"""End-to-end set-up latency: a caller in the IVR presses 1, the queue rings the agent's phone.

A real core with one engine worker, two pjsua2 test phones (the caller and a
logged-in agent), a one-node menu leading to a queue. For each call the time
from the caller's DTMF "1" to the agent's phone ringing is measured, as the
phones' helper processes report it (their own event plumbing is included, so
the box's share is smaller). Returns `ivr_to_agent_p95_ms`.

    .venv/bin/python -m bench ivr
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CALLS = 40                 # enough for a 95th percentile (the 2nd slowest); 3 at --quick

FLOWS = {
    "schema": 1, "version": 1, "language": "en",
    "routes": [{"name": "service", "did": "500", "destination": "menu"}],
    "nodes": {"menu": {"kind": "ivr_menu", "prompt": "menu", "choices": {"1": "sales"}, "timeout_s": 10,
                       "retries": 1, "invalid_destination": "bye"},
              "sales": {"kind": "queue", "queue": "sales"}, "bye": {"kind": "hangup"}},
}


def run(calls: int = CALLS) -> dict:
    from bench.box import quick
    from tests.integration.corebox import CoreProcess
    if quick():
        calls = 3
    from tests.peers.audio import write_sine
    from tests.peers.phones import Phone

    with tempfile.TemporaryDirectory(prefix="callbox-bench-ivr-") as tmp:
        core = CoreProcess(Path(tmp) / "data", {"engine.enabled": True, "engine.max_calls": 2}).start()
        phones: list[Phone] = []
        try:
            (core.data_dir / "prompts" / "en").mkdir(parents=True, exist_ok=True)
            write_sine(core.data_dir / "prompts" / "en" / "menu.wav", 600, 0.3)
            core.api("POST", "/api/queues", {"name": "sales", "wrap_up_s": 0})
            ext_agent = core.add_extension("1010")
            # One extension per caller: a phone that is closed leaves its registration behind.
            callers = [(str(2000 + i), core.add_extension(str(2000 + i))["secret"]) for i in range(calls)]
            core.api("POST", "/api/agents/1010", {"queues": ["sales"]})
            core.api("PUT", "/api/flows", FLOWS)
            core.api("POST", "/api/agents/1010/login", {})
            samples: list[float] = []
            for i in range(calls):
                # A fresh caller each time: the test phone is not reliable sending RFC 4733 digits on a
                # second call after a bridge.
                caller = Phone(f"caller{i}")
                phones.append(caller)
                caller.register(f"sip:127.0.0.1:{core.sip_port}", *callers[i])
                caller.wait_for("reg_state", code=200, timeout=15)
                if i == 0:
                    agent = Phone("agent")
                    phones.append(agent)
                    agent.register(f"sip:127.0.0.1:{core.sip_port}", "1010", ext_agent["secret"])
                    agent.wait_for("reg_state", code=200, timeout=15)
                caller.call(f"sip:500@127.0.0.1:{core.sip_port}")
                caller.wait_for("call_state", state="CONFIRMED", timeout=15)
                time.sleep(0.6)  # the menu prompt
                t0 = time.perf_counter()
                caller.dtmf("1")
                agent.wait_for("incoming", timeout=15)
                samples.append((time.perf_counter() - t0) * 1000)
                agent.answer()
                agent.wait_for("call_state", state="CONFIRMED", timeout=15)
                caller.hangup()
                agent.wait_for("call_state", state="DISCONNECTED", timeout=15)
                caller.close()
                phones.remove(caller)
                time.sleep(0.3)
        finally:
            for p in phones:
                p.close()
            core.stop()
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
    print(f"IVR digit to the agent's phone ringing, {len(samples)} calls (includes the test phones' own plumbing)")
    print(f"   p50 ms    p95 ms    max ms\n   {p50:6.1f}    {p95:6.1f}    {samples[-1]:6.1f}")
    limits = {}
    if p95 > 30:
        limits["ivr_to_agent_p95_ms"] = ("not analysed yet; the digit crosses the caller's test phone, the worker "
                                         "(RFC 4733), the core (menu, queue, ACD), the worker again (a new call leg) "
                                         "and the agent's test phone, whose helper process polls every 10 ms and "
                                         "reports the ringing over a pipe; the worker's own loop polls every 40 ms "
                                         "unless a command from the core wakes it")
    return {"ivr_to_agent_p50_ms": round(p50, 1), "ivr_to_agent_p95_ms": round(p95, 1),
            "ivr_to_agent_calls": len(samples), "_limits": limits}


if __name__ == "__main__":
    print(run())
