"""Audio round trip and CPU of a line gateway carrying one call.

A GSM modem simulator (Huawei dialect, audio paced at real time on its
audio tty) rings; a line gateway process sends the call to a pjsua2 phone
standing in for the box (bench/echophone.py), which answers and loops the
call's audio back. The modem then plays tone bursts (1 kHz, 0.3 s on, 0.5 s
off; 10, or 3 at --quick) and hears them come back; both ends are timed at
the modem: when the pump hands the burst's first frame to the audio tty, and
when the bytes holding the returning burst's first loud sample are read from
it. Returns `line_audio_latency_ms`, the median round trip (modem -> gateway
-> phone -> gateway -> modem), `line_audio_jitter_ms`, their standard
deviation, and `cpu_pct_per_line`, the gateway's CPU (percent of one core)
during the call with audio both ways.

`measure_call` (used by tests/lines/test_gateway.py) measures the two
directions separately, each by its own method:

- modem -> phone: the simulator starts a 1 kHz tone at a known time; the
  phone records the call, and a sample's position in the recording gives
  its arrival time (the recording starts when the record command returns);
- phone -> modem: the phone starts a 400 Hz tone; the audio the simulator
  receives is watched as it grows.

Its sum of the two one-way means is not a round trip measured at one place;
the benchmark reports the looped round trip instead.

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
ROUND_TRIPS = 10
BURST_ON_S = 0.3
BURST_OFF_S = 0.4
LOOP_OFF_S = 0.5
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


def measure_round_trip(modem: GsmModemSim, phone: Any, gateway_pid: int,
                       bursts: int = ROUND_TRIPS) -> dict[str, Any]:
    """On a call that is up and looped back by the phone: each burst's round trip, timed at the modem."""
    pump = modem._pump   # the simulator's audio pump: what it sends and what it reads, stamped here
    if pump is None:
        raise RuntimeError("the modem simulator has no audio port")
    starts: list[float] = []
    marks: list[tuple[float, int]] = []
    state = {"on": False, "size": len(modem.received_audio())}
    base = state["size"]
    send, record = pump._send, pump.record

    def stamped_send(frame: bytes) -> None:
        on = pump.tone is not None
        if on and not state["on"]:
            starts.append(time.monotonic())
        state["on"] = on
        send(frame)

    def stamped_record(audio: bytes) -> None:
        record(audio)
        state["size"] += len(audio)
        marks.append((time.monotonic(), state["size"]))

    pump._send, pump.record = stamped_send, stamped_record
    try:
        time.sleep(0.5)
        for _ in range(bursts):
            modem.remote_plays_tone(1000)
            time.sleep(BURST_ON_S)
            modem.remote_plays_tone(0)
            pump.tone = None
            time.sleep(LOOP_OFF_S)
        time.sleep(0.5)
    finally:
        pump._send, pump.record = send, record
    received = np.frombuffer(modem.received_audio()[base:], dtype="<i2")
    trips: list[float] = []
    for sample in burst_starts(received):
        byte = base + sample * 2
        heard = next((t for t, size in marks if size > byte), None)
        sent = max((t for t in starts if heard is not None and t <= heard), default=None)
        if heard is not None and sent is not None:
            trips.append((heard - sent) * 1000)

    modem.remote_plays_tone(1000)
    cpu_before, began = cpu_seconds(gateway_pid), time.monotonic()
    time.sleep(CPU_WINDOW_S)
    cpu_pct = (cpu_seconds(gateway_pid) - cpu_before) / (time.monotonic() - began) * 100
    modem.remote_plays_tone(0)
    return {
        "round_trips_ms": trips,
        "line_audio_latency_ms": statistics.median(trips) if trips else float("nan"),
        "line_audio_jitter_ms": statistics.pstdev(trips) if len(trips) > 1 else float("nan"),
        "line_audio_bursts": len(trips),
        "cpu_pct_per_line": cpu_pct,
    }


def run() -> dict:
    """One GSM call through a gateway to a phone that loops it back; print a table; return the numbers."""
    from bench.box import quick
    from bench.echophone import EchoPhone
    bursts = 3 if quick() else ROUND_TRIPS
    with tempfile.TemporaryDirectory(prefix="callbox-bench-line-") as tmp:
        work = Path(tmp)
        modem = GsmModemSim(str(work / "ttyUSB2"), dialect="huawei",
                            audio_port=str(work / "ttyUSB1"), ring_interval=0.5).start()
        phone = EchoPhone("box")
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
            phone.command("loop")
            time.sleep(0.5)
            result = measure_round_trip(modem, phone, gateway.pid, bursts)
        finally:
            if gateway is not None:
                gateway.close()
            phone.close()
            modem.stop()
    numbers = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in result.items() if not isinstance(v, list)}
    print(f"line round trip: modem -> gateway -> phone (looped) -> gateway -> modem, {bursts} bursts, "
          "timed at the modem")
    print(f"{'measure':<28}{'value':>10}")
    for key, value in numbers.items():
        print(f"{key:<28}{value:>10}")
    print("round trips (ms):", [round(x) for x in result["round_trips_ms"]])
    limits = {}
    if not result["round_trips_ms"]:
        limits["line_audio_latency_ms"] = "no burst came back to the modem: the looped audio did not arrive"
    elif numbers["line_audio_latency_ms"] > 60:
        limits["line_audio_latency_ms"] = (
            "the audio crosses two jitter buffers each way (the gateway's and the phone's pjsua2 streams) and "
            "the modem's audio tty in 20 ms frames both ways; the gateway's AudioMediaPort and the conference "
            "bridge add a frame each")
    numbers["_limits"] = limits
    return numbers


if __name__ == "__main__":
    run()
