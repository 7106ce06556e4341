"""Audio delay and CPU of a line gateway carrying one call.

A GSM modem simulator (Huawei dialect, audio paced at real time on its
audio tty) rings; a line gateway process sends the call to a pjsua2 test
phone standing in for the box, which answers. Then tone bursts go each
way and the time from a burst's start to its arrival is measured:

- modem -> phone: the simulator starts a 1 kHz tone at a known time; the
  phone records the call, and a sample's position in the recording gives
  its arrival time (the recording starts when the record command returns);
- phone -> modem: the phone starts a 400 Hz tone; the audio the simulator
  receives is watched as it grows.

The result: `line_audio_latency_ms` is the round trip (modem to the phone
and back, the sum of the two one-way means), `line_audio_jitter_ms` the
standard deviation of the one-way delays over all bursts, and
`cpu_pct_per_line` the gateway's CPU (percent of one core) during the call.

    .venv/bin/python -m bench line
    .venv/bin/python bench/bench_line.py
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from appliance.engine.modem_port import cpu_seconds  # noqa: E402
from appliance.lines.sim_gsm import GsmModemSim  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() \
    else sys.executable
BURSTS = 5
BURST_ON_S = 0.3
BURST_OFF_S = 0.4
CPU_WINDOW_S = 3.0


class GatewayError(Exception):
    """The gateway process did not say what was expected in time."""


class GatewayProcess:
    """`python -m appliance.engine.gateway ...` with its status lines collected from stdout."""

    def __init__(self, *args: str, start_timeout: float = 20.0):
        self._cond = threading.Condition()
        self._events: list[dict] = []
        self.seen: list[dict] = []
        self._closed = False
        self.proc = subprocess.Popen([PYTHON, "-m", "appliance.engine.gateway", *args],
                                     cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True, name="gateway-out").start()
        try:
            ready = self.wait_for("ready", timeout=start_timeout)
        except GatewayError:
            self.close()
            raise
        self.sip_port: int = ready["sip_port"]
        self.pid: int = ready["pid"]

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            try:
                message = json.loads(line)
            except ValueError:
                continue
            with self._cond:
                self._events.append(message)
                self.seen.append(message)
                self._cond.notify_all()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait_for(self, event: str, timeout: float = 10.0, **match: Any) -> dict:
        """Take the first queued or coming line with this event name and these fields."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for i, e in enumerate(self._events):
                    if e.get("event") == event and all(e.get(k) == v for k, v in match.items()):
                        return self._events.pop(i)
                left = deadline - time.monotonic()
                if left <= 0 or self._closed:
                    raise GatewayError(f"no {event} {match or ''} within {timeout} s "
                                       f"(exit code {self.proc.poll()})")
                self._cond.wait(left)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            try:
                self.proc.stdout.close()
            except (OSError, ValueError):
                pass


def _envelope(samples: np.ndarray, window: int = 40) -> np.ndarray:
    """RMS over 5 ms windows (one value per window)."""
    n = len(samples) // window
    blocks = samples[: n * window].astype(np.float64).reshape(n, window)
    return np.sqrt((blocks ** 2).mean(axis=1))


def burst_starts(samples: np.ndarray, threshold: float = 1500.0, window: int = 40,
                 min_gap_s: float = 0.15) -> list[int]:
    """Sample indexes where sound starts after at least `min_gap_s` of quiet."""
    env = _envelope(samples, window)
    loud = env > threshold
    starts, quiet_run = [], int(min_gap_s * 8000 / window)
    quiet = quiet_run
    for i, is_loud in enumerate(loud):
        if is_loud:
            if quiet >= quiet_run:
                starts.append(i * window)
            quiet = 0
        else:
            quiet += 1
    return starts


class ReceivedWatcher:
    """Timestamps how the simulator's received audio grows, to date each sample."""

    def __init__(self, modem: GsmModemSim, every_s: float = 0.002):
        self.modem = modem
        self.marks: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._every = every_s
        self._thread = threading.Thread(target=self._run, daemon=True, name="received-watch")

    def __enter__(self) -> "ReceivedWatcher":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        last = -1
        while not self._stop.wait(self._every):
            size = len(self.modem.received_audio())
            if size != last:
                self.marks.append((time.monotonic(), size))
                last = size

    def arrival(self, byte_index: int) -> float | None:
        for t, size in self.marks:
            if size > byte_index:
                return t
        return None


def measure_call(modem: GsmModemSim, phone: Any, gateway_pid: int, work: Path,
                 bursts: int = BURSTS) -> dict[str, Any]:
    """On a call that is up (modem <-> gateway <-> phone): delays both ways and CPU."""
    to_phone: list[float] = []
    from_phone: list[float] = []
    recording = work / "phone-side.wav"

    # modem -> phone
    phone.record(recording)
    recording_began = time.monotonic()
    started: list[float] = []
    time.sleep(0.3)
    for _ in range(bursts):
        started.append(time.monotonic())
        modem.remote_plays_tone(1000)
        time.sleep(BURST_ON_S)
        modem.remote_plays_tone(0)
        time.sleep(BURST_OFF_S)
    phone.stop_record()
    from tests.peers.audio import read_samples
    samples, _ = read_samples(recording)
    for start in burst_starts(samples):
        heard = recording_began + start / 8000
        sent = max((t for t in started if t <= heard), default=None)
        if sent is not None:
            to_phone.append((heard - sent) * 1000)

    # phone -> modem
    base = len(modem.received_audio())
    started = []
    with ReceivedWatcher(modem) as watcher:
        time.sleep(0.2)
        for _ in range(bursts):
            started.append(time.monotonic())
            phone.play_tone(400)
            time.sleep(BURST_ON_S)
            phone.command("stop_tone")
            time.sleep(BURST_OFF_S)
    received = np.frombuffer(modem.received_audio()[base:], dtype="<i2")
    for start in burst_starts(received):
        heard = watcher.arrival(base + start * 2)
        sent = max((t for t in started if heard is not None and t <= heard), default=None)
        if heard is not None and sent is not None:
            from_phone.append((heard - sent) * 1000)

    # CPU of the gateway with the call up and audio flowing both ways
    modem.remote_plays_tone(1000)
    phone.play_tone(400)
    cpu_before, began = cpu_seconds(gateway_pid), time.monotonic()
    time.sleep(CPU_WINDOW_S)
    cpu_pct = (cpu_seconds(gateway_pid) - cpu_before) / (time.monotonic() - began) * 100

    both = to_phone + from_phone
    return {
        "to_phone_ms": to_phone,
        "from_phone_ms": from_phone,
        "line_audio_latency_ms": (statistics.mean(to_phone) + statistics.mean(from_phone))
        if to_phone and from_phone else float("nan"),
        "line_audio_jitter_ms": statistics.pstdev(both) if len(both) > 1 else float("nan"),
        "cpu_pct_per_line": cpu_pct,
    }


def run() -> dict:
    """One GSM call through a gateway; print a table; return the numbers."""
    from tests.peers.phones import Phone
    with tempfile.TemporaryDirectory(prefix="callbox-bench-line-") as tmp:
        work = Path(tmp)
        modem = GsmModemSim(str(work / "ttyUSB2"), dialect="huawei",
                            audio_port=str(work / "ttyUSB1"), ring_interval=0.5).start()
        phone = Phone("box")
        gateway = None
        try:
            gateway = GatewayProcess(
                "--line", "gsm", "--device", modem.port, "--audio-device", modem.audio_port or "",
                "--profile", "huawei", "--sip-port", "0", "--bind", "127.0.0.1",
                "--box", f"sip:127.0.0.1:{phone.port}", "--name", "gsm1",
                "--lock-dir", str(work))
            gateway.wait_for("status", timeout=20, state="ready")
            modem.ring("+48601234567")
            phone.wait_for("incoming", timeout=10)
            phone.answer()
            phone.wait_for("call_state", timeout=10, state="CONFIRMED")
            gateway.wait_for("call", timeout=10, state="talking")
            time.sleep(0.5)
            result = measure_call(modem, phone, gateway.pid, work)
        finally:
            if gateway is not None:
                gateway.close()
            phone.close()
            modem.stop()
    numbers = {k: round(v, 2) for k, v in result.items() if not isinstance(v, list)}
    print(f"{'measure':<28}{'value':>10}")
    for key, value in numbers.items():
        print(f"{key:<28}{value:>10}")
    print("one-way delays (ms): to phone", [round(x) for x in result["to_phone_ms"]],
          "from phone", [round(x) for x in result["from_phone_ms"]])
    return numbers


if __name__ == "__main__":
    run()
