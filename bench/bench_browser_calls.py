"""Browser calls through the whole box: how many at once with every call's own audio, how many one
engine worker carries, and what one more costs the box (the DTLS-SRTP included).

    .venv/bin/python -m bench browser_calls            # 1, 2, 4, ... 64 calls until a level fails
    .venv/bin/python -m bench --quick browser_calls    # 1 and 2 calls, 4 s each

A real `callbox core` as its systemd unit runs it: `sip.bind` as shipped (every address; the box
finds its LAN address, on a bridge with 10.231.250.1 made for the run, and puts its engine
workers and the media bridge there), browser phones on
(`sip.wss_port` a free port), engine workers started on demand, `engine.max_calls` above the
highest level. aioice ignores loopback addresses, so the machine needs a non-loopback IPv4 address.

- the desk phones: one sipp socket registers extensions 2001..20NN with digest and rings and
  answers every INVITE (bench/scenarios/ring.xml, A-law), its SDP naming one RTP socket of the
  bench per call (bench/media.py), each sending its own tone;
- the browsers: extensions 1001..10NN, one stand-in each (bench/standin_browser.py): a ticket from
  `POST /api/browser-phone/ticket`, the secure WebSocket, REGISTER, then an INVITE to its desk
  phone with an aiortc offer made after ICE gathering (PCMU), its own tone from its "microphone".

So every call is browser ⇄ media bridge (ICE, DTLS-SRTP) ⇄ engine worker (two legs, the conference
bridge, PCMU ⇄ A-law) ⇄ desk phone. Levels double (1, 2, 4, ...), the calls of earlier levels
staying up. Once a level's calls are all up, what each end hears is recorded for a window and
checked by FFT as in the bridged-call benchmark (bench_calls.check_audio): every browser must hear
exactly its desk phone's tone and that phone the browser's, at 90 % of the packets at least. A level
passes when every call was set up, the core reports each ANSWERED, and the audio passes.

Then a second box with `engine.max_calls` 2, which gives it one engine worker: browser calls are
added one at a time (1, 2, 3) until one fails; `browser_calls_per_worker` is the most that worker
carried with every call's audio intact (above, the pool spreads calls over the workers it starts,
the one with the most room taking the next, so a worker there holds one until the pool is full).

During each window the CPU of the whole box (core, engine workers, media bridge, from /proc) and of
the media bridge alone is read. `cpu_pct_per_browser_call` is the slope of the box's CPU over the
calls (least squares over the levels that passed), `..._bridge` the same for the bridge process.
The stand-ins run in this process (their CPU is printed, not counted): on a small machine they
compete with the box for the same cores.

CALLBOX_BENCH_KEEP=1 keeps the core's log, the data directory and the sipp traces.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.bench_calls import LevelOfCalls, _least_squares_slope, check_audio, count_answered
from bench.box import SCENARIOS, Box, Sipp, cpu_seconds, free_udp_port, keep, quick, register, rss_mb, \
    steal_and_load, udp_sockets
from bench.media import End, RtpHub, tones
from bench.standin_browser import BrowserGone, BrowserPhone

LEVELS = (1, 2, 4, 8, 16, 32, 64)
QUICK_LEVELS = (1, 2)
SETTLE_S = 2.0
WINDOW_S = 8.0
IDLE_S = 8.0
PER_SOURCE = 16            # the edge's limit of connections per address: the next browsers use another
FIRST_BROWSER = 1001
FIRST_DESK = 2001
ONE_WORKER_MAX_CALLS = 2   # engine.max_calls that gives the box one engine worker (4 legs)
ONE_WORKER_LEVELS = (1, 2, 3)


@dataclass
class Level(LevelOfCalls):
    """A level of browser calls, with what the media bridge took of it."""

    bridge_pct: float = 0.0          # the media bridge process alone
    bench_pct: float = 0.0           # this process: the stand-in browsers and the desk phones' RTP
    per_worker: int = 0              # the most calls one worker carried
    bridge_rss_mb: float = 0.0


def _free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return s.getsockname()[1]


def _bridge_pid(box: Box, timeout: float = 30.0) -> int:
    """The media bridge process the core started (`python -m appliance.webrtc`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [pid for pid, cmd in box.processes() if "appliance.webrtc" in cmd]
        if found:
            return found[0]
        time.sleep(0.2)
    raise RuntimeError(f"the core started no media bridge within {timeout:.0f} s:\n{box.log_tail()}")


class Bench:
    """The box, its desk phones and the browsers placed so far."""

    def __init__(self, box: Box, hub: RtpHub, desks: list[End], sipp: Sipp, lan: str, wss_port: int,
                 freqs: list[int], window: float):
        self.box, self.hub, self.desks, self.sipp, self.lan, self.wss_port = box, hub, desks, sipp, lan, wss_port
        self.freqs, self.window = freqs, window
        self.phones: list[BrowserPhone] = []
        self.bridge = _bridge_pid(box)
        self.bridge_restarted = False

    async def api(self, method: str, path: str, body=None):
        return await asyncio.to_thread(self.box.api, method, path, body)

    async def place(self, i: int) -> None:
        ext = str(FIRST_BROWSER + i)
        ticket = (await self.api("POST", "/api/browser-phone/ticket", {"extension": ext}))["ticket"]
        phone = await BrowserPhone.connect(self.lan, self.wss_port, ticket, ext, self.freqs[2 * i],
                                           source=f"127.0.0.{2 + i // PER_SOURCE}")
        self.phones.append(phone)
        await phone.register()
        await phone.call(str(FIRST_DESK + i))

    async def level(self, total: int) -> Level:
        """Add calls up to `total`, check every call's audio, read the CPU."""
        level = Level(total)
        errors: list[str] = []
        for i in range(len(self.phones), total):
            try:
                await asyncio.wait_for(self.place(i), 30)
            except (BrowserGone, asyncio.TimeoutError, OSError) as e:
                errors.append(f"browser {FIRST_BROWSER + i}: {e or type(e).__name__}")
        desks = self.desks[:total]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not errors:
            talking = await asyncio.to_thread(self.box.talking)
            if talking >= total and all(e.peer is not None for e in desks):
                break
            await asyncio.sleep(0.3)
        await asyncio.sleep(SETTLE_S)
        if _bridge_pid(self.box) != self.bridge:
            self.bridge_restarted = True
            self.bridge = _bridge_pid(self.box)
        workers = await asyncio.to_thread(self.box.worker_pids)
        drops_before = sum(s.drops for s in udp_sockets(workers))
        for phone in self.phones:
            phone.heard, phone.packets, phone.recording = bytearray(), 0, True
        self.hub.record(True)
        box0, bridge0, bench0 = self.box.cpu_seconds(), cpu_seconds(self.bridge), time.process_time()
        t0 = time.monotonic()
        await asyncio.sleep(self.window)
        elapsed = time.monotonic() - t0
        level.cpu_pct = (self.box.cpu_seconds() - box0) / elapsed * 100
        level.bridge_pct = (cpu_seconds(self.bridge) - bridge0) / elapsed * 100
        level.bench_pct = (time.process_time() - bench0) / elapsed * 100
        self.hub.record(False)
        for phone in self.phones:
            phone.recording = False
        level.window_s = elapsed
        level.load = os.getloadavg()[0]
        engine = await asyncio.to_thread(self.box.engine)
        answered = [c for c in engine["calls"] if c["state"] == "ANSWERED"]
        level.up = len(answered)
        level.per_worker = max(Counter(c["worker"] for c in answered).values(), default=0)
        workers = [int(w["pid"]) for w in engine["workers"] if w["alive"] and w.get("pid")]
        level.workers = len(workers)
        level.worker_drops = sum(s.drops for s in udp_sockets(workers)) - drops_before
        level.bridge_rss_mb = rss_mb(self.bridge) or 0.0
        # The browsers as call ends of the bridged-call check (no socket of their own: aiortc's).
        heard = [bytearray(p.heard_alaw()) for p in self.phones[:total]]
        heard += [bytearray() for _ in range(len(heard), total)]
        browsers = [End(f"caller{i + 1}", self.freqs[2 * i], None, [], heard=h)  # type: ignore[arg-type]
                    for i, h in enumerate(heard)]
        level.bad_audio, level.short_audio = check_audio(browsers, desks, level.window_s)
        for e in desks:
            e.heard, e.packets = bytearray(), 0
        level.failed = len(errors) + self.sipp.count("FailedCall(C)")
        level.notes += errors[:3]
        if level.up < level.calls:
            level.notes.append(f"only {level.up} of {level.calls} calls answered in the core's view")
        if level.worker_drops:
            level.notes.append(f"the workers' sockets dropped {level.worker_drops} datagrams (the box fell behind)")
        if self.bridge_restarted:
            level.notes.append("the media bridge process was started again (it died): its calls were cut off")
        return level

    async def run(self, levels: tuple[int, ...]) -> list[Level]:
        done: list[Level] = []
        for total in levels:
            level = await self.level(total)
            done.append(level)
            print(f"  {total} browser calls: {level.up} up, {level.failed} failed, audio "
                  f"{'ok' if not level.bad_audio else 'BAD'}, box CPU {level.cpu_pct:.1f} %, bridge "
                  f"{level.bridge_pct:.1f} %, {level.workers} workers, at most {level.per_worker} calls in one; "
                  f"{steal_and_load()}", flush=True)
            if not level.clean:
                break
        return done

    async def hang_up(self) -> list[str]:
        """Every browser says BYE and goes; the Call-IDs of the calls that had been set up."""
        placed = [p.call_id for p in self.phones if p.target]
        await asyncio.gather(*(p.hang_up() for p in self.phones), return_exceptions=True)
        await asyncio.gather(*(p.close() for p in self.phones), return_exceptions=True)
        return placed


@dataclass
class Session:
    """One box's run: its levels, its idle CPU, and the call records of the calls placed."""

    levels: list[Level]
    idle_pct: float = 0.0
    idle_bridge: float = 0.0
    placed: int = 0
    answered_records: int = -1


def session(levels: tuple[int, ...], max_calls: int, window: float, idle_s: float) -> Session:
    """A box with `engine.max_calls` `max_calls`, desk phones for the most calls of `levels`; the levels
    run until one fails; every call hung up and its call record read."""
    most = levels[-1]
    hub = RtpHub()
    freqs = tones(2 * most)
    desks = [hub.add(f"agent{i + 1}", freqs[2 * i + 1]) for i in range(most)]
    wss_port = _free_tcp_port()
    settings = {"sip.wss_port": wss_port, "engine.max_calls": max_calls, "security.rate_limit_per_s": 100000,
                "security.rate_burst": 1000000}
    sipps: list[Sipp] = []
    placed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="callbox-bench-browser-") as tmp:
        work = Path(tempfile.mkdtemp(prefix="callbox-bench-browser-")) if keep() else Path(tmp)
        if keep():
            print(f"logs, sipp traces and the data directory are kept in {work}")
        net = TestNetwork()
        settings = {**settings, "network.interface": net.name}
        box = Box(work, settings, bind=None)
        try:
            began = time.monotonic()
            box.wait_ready(workers=1)
            network = box.api("GET", "/api/health")["network"]
            lan = network["address"]
            if network.get("loopback_only"):
                raise RuntimeError(f"the box found no LAN address: {network.get('reason')}")
            print(f"core ready in {time.monotonic() - began:.1f} s on {lan}, browser phones on port {wss_port} "
                  f"(engine.max_calls {max_calls})", flush=True)
            desk_port = free_udp_port()
            numbers = [str(FIRST_DESK + i) for i in range(most)]
            register(work, "register-desks", box, desk_port, [(n, box.add_extension(n)) for n in numbers])
            for i in range(most):
                box.add_extension(str(FIRST_BROWSER + i))
            (work / "desks.csv").write_text("SEQUENTIAL\n" + "".join(f"{e.port}\n" for e in desks))
            sipps.append(Sipp("desks", work, SCENARIOS / "ring.xml",
                              ["-inf", str(work / "desks.csv"), "-p", str(desk_port), "-m", str(most),
                               "-timeout", "3600s"]))
            hub.start()
            bench = Bench(box, hub, desks, sipps[0], lan, wss_port, freqs, window)
            out = Session([])
            box.settle()    # the first start's work: prompts, the first worker, the bridge importing aiortc
            if idle_s:
                before, bridge0, t0 = box.cpu_seconds(), cpu_seconds(bench.bridge), time.monotonic()
                time.sleep(idle_s)
                out.idle_pct = (box.cpu_seconds() - before) / (time.monotonic() - t0) * 100
                out.idle_bridge = (cpu_seconds(bench.bridge) - bridge0) / (time.monotonic() - t0) * 100

            async def everything() -> list[Level]:
                try:
                    return await bench.run(levels)
                finally:
                    placed.extend(await bench.hang_up())

            out.levels = asyncio.run(everything())
            out.answered_records = count_answered(box, placed)
            out.placed = len(placed)
            return out
        except Exception:
            print(f"core (exit {box.proc.poll()}) log, end:\n{box.log_tail()}")
            raise
        finally:
            for s in sipps:
                s.kill()
            hub.stop()
            box.stop()
            net.close()


class TestNetwork:
    """A bridge of its own (no port) with a 10.231.250.1/24 address, made for the run and removed after it: the box
    finds its LAN address there (setting network.interface), so its media bridge, its engine workers and
    the stand-in browsers' ICE use only that address (aioice ignores loopback)."""

    def __init__(self, address: str = "10.231.250.1/24"):
        self.name = f"cbxb{secrets.token_hex(3)}"
        subprocess.run(["ip", "link", "add", self.name, "type", "bridge"], check=True)
        try:
            subprocess.run(["ip", "addr", "add", address, "dev", self.name], check=True)
            subprocess.run(["ip", "link", "set", self.name, "up"], check=True)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        subprocess.run(["ip", "link", "del", self.name], check=False, capture_output=True)


def run() -> dict:
    """Double the browser calls until a level fails; then one engine worker alone; print the tables;
    return the numbers."""
    if shutil.which("sipp") is None:
        raise RuntimeError("sipp is not installed (apt-get install sip-tester)")
    if os.geteuid() != 0 or shutil.which("ip") is None:
        raise RuntimeError("browser calls need root and iproute2 for their own test network (aioice ignores 127.0.0.1)")
    levels = QUICK_LEVELS if quick() else LEVELS
    window = 4.0 if quick() else WINDOW_S
    whole = session(levels, levels[-1] + 4, window, 4.0 if quick() else IDLE_S)
    print_table(whole.levels, whole.idle_pct, whole.idle_bridge, window)
    # The pool spreads calls over workers it starts as they come (the one with the most room takes
    # the next), so above a worker holds one call until the pool is full. engine.max_calls 2 gives one
    # worker: its calls, one by one, until one is refused.
    print(f"\none engine worker (engine.max_calls {ONE_WORKER_MAX_CALLS}): browser calls added one at a time",
          flush=True)
    one = session(ONE_WORKER_LEVELS, ONE_WORKER_MAX_CALLS, min(window, 4.0), 0)
    print_table(one.levels, None, None, min(window, 4.0))
    return numbers_of(whole, one)


def numbers_of(whole: Session, one: Session) -> dict:
    levels = whole.levels
    clean = [lv for lv in levels if lv.clean]
    best = clean[-1] if clean and clean == levels[:len(clean)] else None
    first_failed = next((lv for lv in levels if not lv.clean), None)
    # The slope between the clean levels; with one only, from the idle box to it.
    box_points = [(lv.calls, lv.cpu_pct) for lv in clean]
    bridge_points = [(lv.calls, lv.bridge_pct) for lv in clean]
    if len(clean) < 2:
        box_points = [(0, whole.idle_pct)] + box_points
        bridge_points = [(0, whole.idle_bridge)] + bridge_points
    slope = _least_squares_slope(box_points)
    bridge_slope = _least_squares_slope(bridge_points)
    one_clean = list(itertools.takewhile(lambda lv: lv.clean, one.levels))
    per_worker = max((lv.per_worker for lv in one_clean), default=0)
    refused = next((lv for lv in one.levels if not lv.clean), None)
    limits: dict[str, str] = {
        "browser_calls_per_worker": (
            "the pjsua2-python wheel allows 4 calls (legs) per process (PJSUA_MAX_CALLS) and a browser call to a "
            "desk phone is two legs in one worker (the browser's, through the media bridge, and the desk phone's); "
            + (f"with one worker, call number {refused.calls}: {'; '.join(refused.notes[:1]) or 'failed'}; "
               if refused is not None else "")
            + "the box starts more workers for more calls; the pjproject the Pi image compiles allows more"),
    }
    if first_failed is not None:
        why = "; ".join((first_failed.notes + first_failed.bad_audio)[:4]) or "see the table"
        limits["browser_calls_max_ok"] = (
            f"the level of {first_failed.calls} browser calls failed: {why} (box {first_failed.cpu_pct:.0f} %, "
            f"the stand-in browsers and desk phones {first_failed.bench_pct:.0f} % of one core, load average "
            f"{first_failed.load:.1f} on {os.cpu_count()} cores)")
    elif best is not None:
        limits["browser_calls_max_ok"] = (f"the highest level tried ({best.calls}) passed; the box may carry more "
                                          f"(the stand-in browsers ran on the same machine)")
    if best is not None and 0 <= whole.answered_records < whole.placed:
        limits["browser_calls_max_ok"] = (limits.get("browser_calls_max_ok", "") + f"; only {whole.answered_records} "
                                          f"of the {whole.placed} calls were written as ANSWERED call records"
                                          ).lstrip("; ")
    return {
        "browser_calls_per_worker": per_worker,
        "browser_calls_max_ok": best.calls if best else 0,
        "browser_calls_first_failed": first_failed.calls if first_failed else 0,
        "cpu_pct_per_browser_call": round(slope, 3) if slope is not None else None,
        "cpu_pct_per_browser_call_bridge": round(bridge_slope, 3) if bridge_slope is not None else None,
        "cpu_pct_per_browser_call_all_in": round(best.cpu_pct / best.calls, 3) if best else None,
        "_limits": limits,
    }


def print_table(levels: list[Level], idle_pct: float | None, idle_bridge: float | None, window: float) -> None:
    print("browser calls through callbox core: stand-in browser (aiortc, ICE, DTLS-SRTP, PCMU) -> media bridge "
          f"-> engine worker -> desk phone (A-law), each end its own tone; CPU and audio over {window:.0f} s a level")
    if idle_pct is not None:
        print(f"idle box: {idle_pct:.1f} % of one core, of which the media bridge {idle_bridge:.1f} %")
    print(f"{'calls':>5} {'up':>4} {'failed':>6} {'audio':>6} {'short':>5} {'workers':>7} {'per wkr':>7} "
          f"{'box %':>6} {'%/call':>6} {'bridge %':>8} {'bridge RSS':>10} {'bench %':>7} {'drops':>5} {'load':>5}")
    for lv in levels:
        print(f"{lv.calls:>5} {lv.up:>4} {lv.failed:>6} {'ok' if not lv.bad_audio else 'BAD':>6} {lv.short_audio:>5} "
              f"{lv.workers:>7} {lv.per_worker:>7} {lv.cpu_pct:>6.1f} {lv.cpu_pct / lv.calls:>6.2f} "
              f"{lv.bridge_pct:>8.1f} {lv.bridge_rss_mb:>8.1f}MB {lv.bench_pct:>7.1f} {lv.worker_drops:>5} "
              f"{lv.load:>5.1f}")
        for note in (lv.notes + lv.bad_audio)[:8]:
            print(f"      {note}")
    print("up: calls the core reported ANSWERED; audio: every browser and desk phone heard exactly its partner's "
          "tone (FFT);\nshort: ends that got under 90 % of 50 packets/s; box: core + workers + media bridge, % of "
          "one core; per wkr: the most calls one engine worker carried;\nbench: this process (the stand-in browsers "
          f"and the desk phones' RTP), not counted in box; load: the machine's ({os.cpu_count()} cores)")


if __name__ == "__main__":
    print(run())
