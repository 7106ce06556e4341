"""What a browser call costs the box's media bridge: CPU per call, and the delay it adds.

    .venv/bin/python -m bench webrtc            # levels of 1 and 10 calls, 20 s each
    .venv/bin/python -m bench --quick webrtc    # 1 and 3 calls, 5 s each

The bridge runs as it would on the box: `python -m appliance.webrtc`, its own process. Each call
has a stand-in browser (aiortc: ICE, DTLS 1.2, SRTP AES-128 + HMAC-SHA1-80, PCMU, as Chromium
negotiates with the bridge) and a raw RTP socket as the engine worker, both in this process,
each sending a 20 ms frame every 20 ms. Every frame carries its own index, so the time from one
end's send to the other end's receipt is known per packet, in each direction; that includes the
stand-ins' own SRTP work, so a baseline measures the same between two stand-ins with no
bridge, and the difference is what the bridge adds. The bridge process's CPU
(from /proc) over each level gives the cost of one more call: the slope between the levels, in
percent of one core. aioice ignores loopback addresses, so this needs a non-loopback IPv4 address.
"""

from __future__ import annotations

import asyncio
import time

from aioice.ice import get_host_addresses

from appliance.webrtc.plain_sdp import parse_plain
from bench.box import quick, steal_and_load
from tests.webrtc.peers import FRAME, AiortcBrowser, BridgeProcess, RtpPeer, stamp_of, stamped

FRAME_S = FRAME / 8000


class Call:
    def __init__(self, bridge: BridgeProcess, address: str, name: str):
        self.bridge, self.address, self.name = bridge, address, name
        self.sent_up: dict[int, float] = {}       # browser -> engine
        self.sent_down: dict[int, float] = {}     # engine -> browser

    async def start(self) -> float:
        """Set the call up; the time from the browser's offer to ICE and DTLS done, in ms."""
        self.browser = AiortcBrowser()
        self.engine = await RtpPeer(self.address).open()
        began = time.perf_counter()
        offer = await self.browser.offer()
        reply = await asyncio.to_thread(self.bridge.command, "browser_calls", call=self.name, offer=offer)
        if not reply["ok"]:
            raise RuntimeError(f"bridge refused the call: {reply['error']}")
        media = parse_plain(reply["engine_offer"])
        self.engine.remote = (media.address, media.port)
        done = await asyncio.to_thread(self.bridge.command, "engine_answers", call=self.name,
                                       answer=self.engine.sdp())
        if not done["ok"]:
            raise RuntimeError(done["error"])
        await self.browser.accept(reply["answer"])
        await self.browser.connected()
        return (time.perf_counter() - began) * 1000

    def send(self, index: int) -> None:
        now = time.perf_counter()
        self.sent_up[index] = now
        self.browser.track.send(stamped(index))
        self.sent_down[index] = now
        self.engine.send(stamped(index))

    def delays(self) -> tuple[list[float], list[float]]:
        up = [(t - self.sent_up[i]) * 1000 for t, p in self.engine.heard
              if (i := stamp_of(p.payload)) is not None and i in self.sent_up]
        down = [(t - self.sent_down[i]) * 1000 for t, payload in self.browser.heard
                if (i := stamp_of(payload)) is not None and i in self.sent_down]
        return up, down

    def forget(self) -> None:
        self.sent_up.clear()
        self.sent_down.clear()
        self.engine.heard.clear()
        self.browser.heard.clear()

    async def stop(self) -> None:
        await asyncio.to_thread(self.bridge.command, "hang_up", call=self.name)
        await self.browser.close()
        self.engine.close()


async def _direct(seconds: float) -> tuple[list[float], float]:
    """The baseline: two aiortc stand-ins talking straight to each other, no bridge; one-way delays
    in ms and the bench process's CPU (%) for the pair."""
    a, b = AiortcBrowser(), AiortcBrowser()
    try:
        await a.accept(await b.answer(await a.offer()))
        await a.connected()
        await b.connected()
        sent: dict[int, float] = {}
        frames = int(seconds / FRAME_S)
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        for index in range(frames):
            sent[index] = time.perf_counter()
            a.track.send(stamped(index))
            b.track.send(stamped(index))
            await asyncio.sleep(max(0.0, t0 + (index + 1) * FRAME_S - time.perf_counter()))
        await asyncio.sleep(0.2)
        cpu = (time.process_time() - cpu0) / (time.perf_counter() - t0) * 100
        return [(t - sent[i]) * 1000 for t, payload in (*a.heard, *b.heard)
                if (i := stamp_of(payload)) is not None and i in sent], cpu
    finally:
        await a.close()
        await b.close()


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] if values else float("nan")


async def _level(bridge: BridgeProcess, calls: list[Call], seconds: float) -> dict:
    for call in calls:
        call.forget()
    frames = int(seconds / FRAME_S)
    cpu0, t0 = bridge.cpu_s(), time.perf_counter()
    for index in range(frames):
        for call in calls:
            call.send(index)
        await asyncio.sleep(max(0.0, t0 + (index + 1) * FRAME_S - time.perf_counter()))
    await asyncio.sleep(0.2)
    cpu, elapsed = bridge.cpu_s() - cpu0, time.perf_counter() - t0
    up = [d for c in calls for d in c.delays()[0]]
    down = [d for c in calls for d in c.delays()[1]]
    stats = (await asyncio.to_thread(bridge.command, "stats"))["calls"]
    waits = [s["queue_wait_ms_max"] for s in stats.values() if s["queue_wait_ms_max"] is not None]
    waits95 = [s["queue_wait_ms_p95"] for s in stats.values() if s["queue_wait_ms_p95"] is not None]
    return {"calls": len(calls), "cpu_pct": cpu / elapsed * 100, "frames": frames * len(calls),
            "up": up, "down": down, "lost_up": frames * len(calls) - len(up),
            "lost_down": frames * len(calls) - len(down), "queue_wait_max_ms": max(waits, default=float("nan")),
            "queue_wait_p95_ms": max(waits95, default=float("nan"))}


async def _measure(address: str, levels: tuple[int, ...], seconds: float) -> tuple:
    bridge = BridgeProcess(address)
    calls: list[Call] = []
    try:
        idle0, t0 = bridge.cpu_s(), time.perf_counter()
        await asyncio.sleep(min(seconds, 5.0))
        idle_pct = (bridge.cpu_s() - idle0) / (time.perf_counter() - t0) * 100
        rss = [bridge.rss_mb()]
        results, setups = [], []
        for level in levels:
            while len(calls) < level:
                call = Call(bridge, address, f"c{len(calls) + 1}")
                setups.append(await call.start())
                calls.append(call)
            await asyncio.sleep(0.5)
            results.append(await _level(bridge, calls, seconds))
            rss.append(bridge.rss_mb())
        return results, setups, idle_pct, rss
    finally:
        for call in calls:
            await call.stop()
        bridge.close()


def run() -> dict:
    addresses = [a for a in get_host_addresses(use_ipv4=True, use_ipv6=False)]
    if not addresses:
        raise RuntimeError("the media bridge benchmark needs a non-loopback IPv4 address (aioice ignores 127.0.0.1)")
    levels, seconds = ((1, 3), 5.0) if quick() else ((1, 10), 20.0)
    results, setups, idle_pct, rss = asyncio.run(_measure(addresses[0], levels, seconds))
    direct, direct_cpu = asyncio.run(_direct(seconds))
    print(f"media bridge (python -m appliance.webrtc) on {addresses[0]}: PCMU, DTLS-SRTP to aiortc stand-in "
          f"browsers, plain RTP to raw sockets; {seconds:.0f} s a level; idle process {idle_pct:.2f} % CPU; "
          f"{steal_and_load()}")
    print(f"{'calls':>5} {'CPU %':>7} {'up p50':>7} {'up p95':>7} {'dn p50':>7} {'dn p95':>7} "
          f"{'lost up':>7} {'lost dn':>7} {'queue p95':>9} {'queue max':>9}   (ms; up = browser to engine)")
    for r in results:
        print(f"{r['calls']:>5} {r['cpu_pct']:>7.2f} {_pct(r['up'], .5):>7.2f} {_pct(r['up'], .95):>7.2f} "
              f"{_pct(r['down'], .5):>7.2f} {_pct(r['down'], .95):>7.2f} {r['lost_up']:>7} {r['lost_down']:>7} "
              f"{r['queue_wait_p95_ms']:>9.2f} {r['queue_wait_max_ms']:>9.2f}")
    first, last = results[0], results[-1]
    print(f"{'none':>5} {'':>7} {_pct(direct, .5):>7.2f} {_pct(direct, .95):>7.2f} {'':>7} {'':>7}   "
          f"the baseline: two stand-ins straight to each other, no bridge (their own CPU {direct_cpu:.1f} %)")
    added_p50 = (_pct(first["up"], .5) + _pct(first["down"], .5)) / 2 - _pct(direct, .5)
    added_p95 = max(_pct(first["up"], .95), _pct(first["down"], .95)) - _pct(direct, .95)
    print(f"the bridge adds (one call, through the bridge minus the baseline): p50 {added_p50:.2f} ms, "
          f"p95 {added_p95:.2f} ms")
    per_call = (last["cpu_pct"] - first["cpu_pct"]) / (last["calls"] - first["calls"])
    print(f"memory: {rss[0]:.0f} MB with no call, " + ", ".join(
        f"{m:.0f} MB with {r['calls']}" for m, r in zip(rss[1:], results)))
    print(f"one more call: {per_call:.2f} % of one core; call set-up (offer to DTLS done) "
          f"p50 {_pct(setups, .5):.0f} ms, max {max(setups):.0f} ms")
    return {
        "webrtc_cpu_pct_per_call": round(per_call, 3),
        "webrtc_cpu_pct_one_call": round(first["cpu_pct"], 3),
        "webrtc_up_p50_ms": round(_pct(first["up"], .5), 3),
        "webrtc_up_p95_ms": round(_pct(first["up"], .95), 3),
        "webrtc_down_p50_ms": round(_pct(first["down"], .5), 3),
        "webrtc_down_p95_ms": round(_pct(first["down"], .95), 3),
        f"webrtc_up_p95_ms_{last['calls']}_calls": round(_pct(last["up"], .95), 3),
        f"webrtc_down_p95_ms_{last['calls']}_calls": round(_pct(last["down"], .95), 3),
        "webrtc_setup_p50_ms": round(_pct(setups, .5), 1),
        "webrtc_queue_wait_p95_ms": round(last["queue_wait_p95_ms"], 3),
        "webrtc_rss_mb_idle": round(rss[0], 1),
        f"webrtc_rss_mb_{last['calls']}_calls": round(rss[-1], 1),
        "webrtc_direct_p50_ms": round(_pct(direct, .5), 3),
        "webrtc_direct_p95_ms": round(_pct(direct, .95), 3),
        "webrtc_added_p50_ms": round(added_p50, 3),
        "webrtc_added_p95_ms": round(added_p95, 3),
    }


if __name__ == "__main__":
    print(run())
