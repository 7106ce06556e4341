"""Simulated agents and callers: softphones that keep the demo's calls flowing.

    python -m appliance.engine.simphones agents --box 127.0.0.1:5060 \\
        --accounts 1010:SECRET,1011:SECRET [--answer-after 2-6] [--talk 20-60] [--seed N]
    python -m appliance.engine.simphones callers --box 127.0.0.1:5060 \\
        --account 1001:SECRET --dial 500 --digits '1|2' --rate-per-min 4 \\
        [--max-concurrent 3] [--hangup-after 30-90] [--abandon-share 0.2] [--seed N]

Agents register up to 8 extensions, let incoming calls ring for a while,
answer, talk (a generated voice) and hang up. Callers register one
extension and dial the service number at random (Poisson) moments, press
the IVR digits once the box answers, talk, and hang up; a share of them
lose patience early. Each process prints one JSON object per line on
stdout for every event (see docs/demo.md) and ends cleanly on SIGTERM.

The pure half (options, plans, arrivals, the call table) lives in
appliance.logic.simcalls; this module drives pjsua2 on one thread, like
the engine worker.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import logging
import math
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from appliance.errors import ValidationError
from appliance.logic import simcalls
from appliance.logic.simcalls import (  # noqa: F401  (re-exported)
    DIAL_TIMEOUT_S, DIGIT_RE, MAX_ACCOUNTS, TRANSITIONS, USER_RE, AgentHabits, AgentPlan, Answer,
    Arrivals, CallerHabits, CallerPlan, CallEvent, CallState, CancelTimers, Command, HangUp, Range,
    Ring, SendDigits, SimCall, StartTimer, admit, incoming_call, outgoing_call, parse_box,
    parse_digit_choices, parse_range, step)
from appliance.tones import RATE, write_wav

log = logging.getLogger("callbox.simphones")

MAX_CALLS = 4            # per process: the pjsua2-python wheel's call table


# --- options -------------------------------------------------------------------


def parse_accounts(text: str, limit: int = MAX_ACCOUNTS) -> list[tuple[str, str]]:
    """'1010:SECRET,1011:SECRET' (or '@FILE' holding that, one per line) -> [(user, secret)]."""
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as e:
            raise ValidationError(f"accounts file {text[1:]}: {e.strerror}") from None
    return simcalls.parse_accounts(text, limit)


# --- a voice to talk with -------------------------------------------------------------

# (first, second formant) of a few vowels, in Hz: enough for a mumble that
# sounds like speech through a telephone.
_VOWELS = [(730, 1090), (530, 1840), (270, 2290), (570, 840), (300, 870), (660, 1720)]
SENTENCES = {
    "agent": "Thank you for calling. Let me check that for you. One moment please. "
             "Yes, I can see your order here. It will be delivered on Friday.",
    "caller": "Hello, I am calling about my order. It has not arrived yet. "
              "Could you check it for me, please? Thank you.",
}
PITCH_HZ = {"agent": 120.0, "caller": 200.0}


def _period(f0: float, formants: tuple[int, int], size: int = 400) -> list[float]:
    """One pitch period of a voiced vowel: harmonics shaped by two formant peaks."""
    out = [0.0] * size
    k = 1
    while k * f0 < 3400:
        f = k * f0
        gain = sum(1.0 / (1.0 + ((f - fm) / 90.0) ** 2) for fm in formants) + 0.05
        amp = gain / k ** 0.6
        for n in range(size):
            out[n] += amp * math.sin(2 * math.pi * k * n / size)
        k += 1
    peak = max(abs(v) for v in out) or 1.0
    return [v / peak for v in out]


def synthetic_voice(path: Path, role: str, seconds: float = 8.0, seed: int = 0) -> Path:
    """A speech-like mumble (syllables, words, pauses, falling pitch) as an 8 kHz WAV."""
    rng = random.Random(seed)
    f0 = PITCH_HZ.get(role, 150.0)
    tables = [_period(f0, formants) for formants in _VOWELS]
    total = int(seconds * RATE)
    samples: list[float] = []
    while len(samples) < total:
        words = rng.randint(3, 7)
        for w in range(words):
            for _ in range(rng.randint(1, 3)):
                samples.extend(rng.uniform(-0.15, 0.15) for _ in range(int(RATE * rng.uniform(0.01, 0.03))))
                table = rng.choice(tables)
                n = int(RATE * rng.uniform(0.12, 0.26))
                # pitch falls towards the end of a phrase, as in a statement
                pitch = f0 * (1.1 - 0.25 * w / words) * rng.uniform(0.95, 1.05)
                phase = 0.0
                for i in range(n):
                    env = min(1.0, i / (0.02 * RATE), (n - i) / (0.04 * RATE))
                    vibrato = 1.0 + 0.03 * math.sin(2 * math.pi * 5 * i / RATE)
                    phase = (phase + pitch * vibrato * len(table) / RATE) % len(table)
                    samples.append(env * table[int(phase)])
            samples.extend([0.0] * int(RATE * rng.uniform(0.06, 0.15)))
        samples.extend([0.0] * int(RATE * rng.uniform(0.35, 0.7)))
    write_wav(path, b"".join(struct.pack("<h", int(0.45 * 32767 * max(-1.0, min(1.0, v))))
                             for v in samples[:total]))
    return path


def espeak_voice(path: Path, role: str) -> Path:
    """espeak-ng saying the role's sentences (its own rate; the player resamples)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise FileNotFoundError("espeak-ng is not installed")
    pitch = "30" if role == "agent" else "65"
    # The text goes on stdin: nothing from outside reaches the command line.
    subprocess.run([exe, "-v", "en", "-s", "160", "-p", pitch, "-w", str(path), "--stdin"],
                   input=SENTENCES.get(role, SENTENCES["caller"]).encode(), check=True,
                   timeout=20, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with wave.open(str(path), "rb") as w:
        if w.getnframes() == 0 or w.getsampwidth() != 2:
            raise ValueError("espeak-ng wrote no usable audio")
    return path


def make_voice(kind: str, role: str, directory: Path, seed: int = 0) -> tuple[Path, str]:
    """The WAV to talk with: (path, what made it). kind: auto, espeak, synthetic or a WAV path."""
    if kind not in ("auto", "espeak", "synthetic"):
        path = Path(kind)
        with wave.open(str(path), "rb") as w:  # fails early on a bad file
            if w.getsampwidth() != 2 or w.getnchannels() != 1:
                raise ValidationError(f"{path}: a voice must be 16-bit mono WAV")
        return path, "file"
    if kind in ("auto", "espeak"):
        try:
            return espeak_voice(directory / f"{role}-voice.wav", role), "espeak"
        except (OSError, ValueError, wave.Error, subprocess.SubprocessError) as e:
            if kind == "espeak":
                raise ValidationError(f"espeak-ng voice failed: {e}") from None
            log.info("espeak-ng voice failed (%s); using a synthetic voice", e)
    return synthetic_voice(directory / f"{role}-voice-synthetic.wav", role, seed=seed), "synthetic"


# --- the softphones (pjsua2, one thread) -------------------------------------------------

try:
    import pjsua2 as pj
except ImportError:  # the voice and command-line helpers stay usable without the media engine
    pj = None


def _base(name: str) -> type:
    return getattr(pj, name) if pj is not None else object


def _guarded(callback: Callable) -> Callable:
    """An exception escaping a pjsua2 callback would abort the process; log it instead."""
    def wrapper(self, prm):
        try:
            callback(self, prm)
        except Exception:
            log.exception("%s failed", callback.__name__)
    wrapper.__name__ = callback.__name__
    return wrapper


class SimAccount(_base("Account")):
    def __init__(self, phones: "SimPhones", user: str):
        super().__init__()
        self.phones = phones
        self.user = user
        self.registered = False

    @_guarded
    def onRegState(self, prm) -> None:
        self.phones.on_reg_state(self, int(prm.code), str(prm.reason), int(prm.expiration))

    @_guarded
    def onIncomingCall(self, prm) -> None:
        self.phones.on_incoming(self, prm)


class PhoneCall(_base("Call")):
    def __init__(self, phones: "SimPhones", account: SimAccount, call_id: int | None = None):
        super().__init__(account, pj.PJSUA_INVALID_ID if call_id is None else call_id)
        self.phones = phones
        self.sim_account = account
        self.sim: SimCall | None = None

    @_guarded
    def onCallState(self, prm) -> None:
        self.phones.on_call_state(self)

    @_guarded
    def onCallMediaState(self, prm) -> None:
        self.phones.on_media(self)


class EventLine:
    """One JSON object per line on a stream the demo and tests read."""

    def __init__(self, stream: TextIO, role: str):
        self.stream = stream
        self.role = role

    def __call__(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, "role": self.role, "t": round(time.time(), 3), **fields})
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass  # nobody reads any more; the calls go on


@dataclass
class _Timer:
    at: float
    seq: int
    call_id: str
    event: CallEvent = field(compare=False)

    def __lt__(self, other: "_Timer") -> bool:
        return (self.at, self.seq) < (other.at, other.seq)


class SimPhones:
    """One pjsua2 Endpoint with its accounts, calls and timers; subclasses add behaviour."""

    role = "phones"
    user_agent = "Callbox simulated phone"

    def __init__(self, box: tuple[str, int], accounts: list[tuple[str, str]], emit: EventLine,
                 rng: random.Random, voice: Path, bind: str = "127.0.0.1", log_level: int = 0,
                 clock: Callable[[], float] = time.monotonic):
        if pj is None:
            raise ValidationError("the pjsua2 module is not installed")
        self.box = box
        self.emit = emit
        self.rng = rng
        self.clock = clock
        self.stopping = False
        self.calls: dict[str, PhoneCall] = {}
        self.refused: set[PhoneCall] = set()  # refused but not yet DISCONNECTED
        self._trash: list[Any] = []  # released outside pjsua callbacks
        self._timers: list[_Timer] = []
        self._seq = 0
        self._timer_seq = 0
        self.ep = self._start_endpoint(bind, log_level)
        self.max_calls = min(MAX_CALLS, self._build_max_calls())
        self.voice_player = pj.AudioMediaPlayer()
        self.voice_player.createPlayer(str(voice), 0)  # loops: talk lasts longer than the clip
        self.accounts = [self._account(user, secret, bind) for user, secret in accounts]

    # ---- setup ---------------------------------------------------------------

    def _start_endpoint(self, bind: str, log_level: int) -> "pj.Endpoint":
        from appliance.engine import media
        media.set_log_level(log_level)  # before libCreate, which logs at the default level
        ep = pj.Endpoint()
        ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = MAX_CALLS
        cfg.uaConfig.userAgent = self.user_agent
        cfg.logConfig.level = log_level
        cfg.logConfig.consoleLevel = log_level
        cfg.medConfig.clockRate = RATE
        cfg.medConfig.sndClockRate = RATE
        cfg.medConfig.noVad = True
        cfg.medConfig.ecTailLen = 0
        ep.libInit(cfg)
        tcfg = pj.TransportConfig()
        tcfg.port = 0
        tcfg.boundAddress = bind
        tid = ep.transportCreate(pj.PJSIP_TRANSPORT_UDP, tcfg)
        self.sip_port = int(ep.transportGetInfo(tid).localName.rsplit(":", 1)[1])
        ep.libStart()
        ep.audDevManager().setNullDev()
        # G.711 only: a dozen simulated phones must not eat the CPU the box needs.
        for codec in ep.codecEnum2():
            name_rate = "/".join(codec.codecId.split("/")[:2])
            ep.codecSetPriority(codec.codecId, {"PCMA/8000": 240, "PCMU/8000": 230}.get(name_rate, 0))
        return ep

    @staticmethod
    def _build_max_calls() -> int:
        from appliance.engine import media
        return media.max_calls()

    def _account(self, user: str, secret: str, bind: str) -> SimAccount:
        host, port = self.box
        acfg = pj.AccountConfig()
        acfg.idUri = f"sip:{user}@{host}"
        acfg.regConfig.registrarUri = f"sip:{host}:{port}"
        acfg.regConfig.timeoutSec = 300
        acfg.regConfig.retryIntervalSec = 5  # the box may be starting or restarting
        acfg.regConfig.firstRetryIntervalSec = 2
        acfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", user, 0, secret))
        acfg.mediaConfig.transportConfig.boundAddress = bind
        acfg.mediaConfig.transportConfig.port = 0
        account = SimAccount(self, user)
        account.create(acfg, False)
        return account

    # ---- pjsua callbacks (main thread, inside libHandleEvents) ----------------------

    def on_reg_state(self, account: SimAccount, code: int, reason: str, expiration: int) -> None:
        if 200 <= code < 300 and expiration > 0:
            if not account.registered:
                account.registered = True
                self.emit("registered", account=account.user, expires=expiration)
                self.on_registered(account)
        elif 200 <= code < 300:
            account.registered = False
            self.emit("unregistered", account=account.user)
        else:
            account.registered = False
            self.emit("registration_failed", account=account.user, code=code, reason=reason)

    def on_registered(self, account: SimAccount) -> None:
        """Hook for subclasses."""

    def on_incoming(self, account: SimAccount, prm) -> None:
        call = PhoneCall(self, account, prm.callId)
        info = call.getInfo()
        status = self.refuse_status(account)
        if status is not None:
            self.refused.add(call)
            self.emit("refused", account=account.user, status=status, **{"from": info.remoteUri},
                      call_id=info.callIdString)
            op = pj.CallOpParam(True)
            op.statusCode = status
            call.hangup(op)
            return
        self.take_incoming(account, call, info)

    def refuse_status(self, account: SimAccount) -> int | None:
        return 486  # only agents take calls

    def take_incoming(self, account: SimAccount, call: PhoneCall, info) -> None:
        raise NotImplementedError

    def on_call_state(self, call: PhoneCall) -> None:
        info = call.getInfo()
        sim = call.sim
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.refused.discard(call)
            self._trash.append(call)  # pjsua reuses call ids: drop the object now
            if sim is None:
                return
            call.sim = None
            self.calls.pop(sim.id, None)
            by = "local" if sim.state == CallState.HANGING_UP else "remote"
            talked = None if sim.connected_at is None else round(self.clock() - sim.connected_at, 1)
            self.emit("hung_up", account=sim.account, call=sim.id, by=by,
                      cause=int(info.lastStatusCode), reason=info.lastReason, talk_s=talked)
            self.run(sim, step(sim, CallEvent.DISCONNECTED, self.clock()))
        elif info.state == pj.PJSIP_INV_STATE_CONFIRMED and sim is not None:
            if sim.state != CallState.HANGING_UP:
                self.emit("answered", account=sim.account, call=sim.id)
            self.run(sim, step(sim, CallEvent.CONNECTED, self.clock()))

    def on_media(self, call: PhoneCall) -> None:
        info = call.getInfo()
        for i, m in enumerate(info.media):
            if m.type == pj.PJMEDIA_TYPE_AUDIO and m.status in (
                    pj.PJSUA_CALL_MEDIA_ACTIVE, pj.PJSUA_CALL_MEDIA_REMOTE_HOLD) \
                    and self.voice_player is not None:
                self.voice_player.startTransmit(call.getAudioMedia(i))

    # ---- carrying out the machine's commands -------------------------------------------

    def new_call_id(self, account: SimAccount) -> str:
        self._seq += 1
        return f"{account.user}-{self._seq}"

    def run(self, sim: SimCall, commands: list[Command]) -> None:
        call = self.calls.get(sim.id)
        for cmd in commands:
            if isinstance(cmd, StartTimer):
                self._timers = [t for t in self._timers
                                if not (t.call_id == sim.id and t.event == cmd.event)]
                heapq.heapify(self._timers)
                self._timer_seq += 1
                heapq.heappush(self._timers, _Timer(self.clock() + cmd.seconds, self._timer_seq,
                                                    sim.id, cmd.event))
            elif isinstance(cmd, CancelTimers):
                self._timers = [t for t in self._timers if t.call_id != sim.id]
                heapq.heapify(self._timers)
            elif call is None:
                continue  # the SIP call is over already
            elif isinstance(cmd, (Ring, Answer)):
                op = pj.CallOpParam(True)
                op.statusCode = 180 if isinstance(cmd, Ring) else 200
                self._sip(sim, call.answer, op)
            elif isinstance(cmd, HangUp):
                self._sip(sim, call.hangup, pj.CallOpParam(True))
            elif isinstance(cmd, SendDigits):
                dtmf = pj.CallSendDtmfParam()
                dtmf.digits = cmd.digits
                dtmf.method = pj.PJSUA_DTMF_METHOD_RFC2833
                if self._sip(sim, call.sendDtmf, dtmf):
                    self.emit("dtmf_sent", account=sim.account, call=sim.id, digits=cmd.digits)

    def _sip(self, sim: SimCall, action: Callable, param: Any) -> bool:
        try:
            action(param)
            return True
        except pj.Error as e:
            log.warning("call %s: %s failed: %s (%s)", sim.id, action.__name__, e.reason, e.status)
            return False

    # ---- the loop ------------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Hook for subclasses: runs every turn of the loop."""

    def run_forever(self) -> int:
        self.emit("ready", pid=os.getpid(), sip_port=self.sip_port, max_calls=self.max_calls,
                  accounts=[a.user for a in self.accounts])
        next_gc = self.clock() + 2.0
        while not self.stopping:
            self.ep.libHandleEvents(10)
            self._trash.clear()
            now = self.clock()
            self._fire_timers(now)
            if not self.stopping:
                self.tick(now)
            if now >= next_gc:
                gc.collect()  # here, on the pjsua2 thread, never on another
                next_gc = now + 2.0
        self.shutdown()
        return 0

    def _fire_timers(self, now: float) -> None:
        # A helper of its own: a Call left in a local of the loop's frame would
        # outlive libDestroy, and its destructor then aborts the process.
        while self._timers and self._timers[0].at <= now and not self.stopping:
            timer = heapq.heappop(self._timers)
            call = self.calls.get(timer.call_id)
            if call is not None and call.sim is not None:
                self.run(call.sim, step(call.sim, timer.event, now))

    def _pump_until(self, done: Callable[[], bool], seconds: float) -> None:
        deadline = self.clock() + seconds
        while not done() and self.clock() < deadline:
            self.ep.libHandleEvents(10)

    def shutdown(self) -> None:
        now = self.clock()
        for sim in [c.sim for c in self.calls.values() if c.sim is not None]:
            self.run(sim, step(sim, CallEvent.SHUTDOWN, now))
        try:
            self.ep.hangupAllCalls()  # refusals still under way
        except pj.Error:
            pass
        self._pump_until(lambda: not self.calls and not self.refused, 3.0)
        for account in self.accounts:
            if account.registered:
                try:
                    account.setRegistration(False)
                except pj.Error:
                    account.registered = False
        self._pump_until(lambda: not any(a.registered for a in self.accounts), 3.0)
        self._timers.clear()
        self.calls.clear()
        self.refused.clear()
        self._trash.clear()
        self.voice_player = None
        gc.collect()
        for account in self.accounts:
            try:
                account.shutdown()
            except pj.Error:
                pass
        self.accounts.clear()
        gc.collect()
        # Unregistration is done (or gave up): don't let pjsua wait for it again.
        self.ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)
        self.emit("stopped")


class SimAgents(SimPhones):
    """Agents' desk phones: ring, answer after a while, talk, hang up."""

    role = "agents"
    user_agent = "Callbox simulated agent"

    def __init__(self, *args: Any, habits: AgentHabits, **kwargs: Any):
        self.habits = habits
        super().__init__(*args, **kwargs)

    def refuse_status(self, account: SimAccount) -> int | None:
        busy = any(c.sim_account is account for c in self.calls.values())  # one call per agent
        return admit(len(self.calls), self.max_calls, busy, self.stopping)

    def take_incoming(self, account: SimAccount, call: PhoneCall, info) -> None:
        sim, commands = incoming_call(self.new_call_id(account), account.user,
                                      self.habits.plan(self.rng), self.clock())
        call.sim = sim
        self.calls[sim.id] = call
        self.emit("call_started", account=account.user, call=sim.id, direction="in",
                  **{"from": info.remoteUri}, call_id=info.callIdString,
                  answer_after_s=round(sim.plan.answer_after_s, 1), talk_s=round(sim.plan.talk_s, 1))
        self.run(sim, commands)


class SimCallers(SimPhones):
    """Customers calling the service number at random moments."""

    role = "callers"
    user_agent = "Callbox simulated caller"

    def __init__(self, *args: Any, dial: str, rate_per_min: float, max_concurrent: int,
                 habits: CallerHabits, **kwargs: Any):
        self.dial = dial
        self.rate_per_min = rate_per_min
        self.max_concurrent = max_concurrent
        self.habits = habits
        self.arrivals: Arrivals | None = None
        super().__init__(*args, **kwargs)
        self.max_concurrent = min(max_concurrent, self.max_calls)

    def on_registered(self, account: SimAccount) -> None:
        if self.arrivals is None:  # the first call waits for the first registration
            self.arrivals = Arrivals(self.rate_per_min, self.rng, self.clock())

    def tick(self, now: float) -> None:
        if self.arrivals is None:
            return
        for _ in range(self.arrivals.due(now)):
            if len(self.calls) >= self.max_concurrent:
                self.emit("call_skipped", account=self.accounts[0].user, reason="max concurrent calls")
            else:
                self.place_call(now)

    def place_call(self, now: float) -> None:
        account = self.accounts[0]
        host, port = self.box
        uri = f"sip:{self.dial}@{host}:{port}"
        sim, commands = outgoing_call(self.new_call_id(account), account.user,
                                      self.habits.plan(self.rng), now)
        call = PhoneCall(self, account)
        call.sim = sim
        self.calls[sim.id] = call
        plan = sim.plan
        self.emit("call_started", account=account.user, call=sim.id, direction="out", to=uri,
                  digits=plan.digits, abandons=plan.abandons,
                  hangup_after_s=round(plan.hangup_after_s, 1))
        try:
            call.makeCall(uri, pj.CallOpParam(True))
        except pj.Error as e:
            if self.calls.pop(sim.id, None) is not None:
                call.sim = None
                self._trash.append(call)
                self.emit("hung_up", account=account.user, call=sim.id, by="local", cause=0,
                          reason=f"{e.reason} ({e.status})", talk_s=None)
            return
        self.run(sim, commands)


# --- command line ----------------------------------------------------------------------------


def _arg(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValidationError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = parse.__name__.removeprefix("parse_")
    return convert


def _bounded(kind: type, low: float, high: float, what: str) -> Callable[[str], Any]:
    """A parser for a number between low and high (inclusive)."""
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not low <= value <= high:
            raise ValidationError(f"{text!r}: {what}")
        return value
    return parse


_RATE = _bounded(float, 1e-6, 1e6, "calls per minute, above 0")
_CONCURRENT = _bounded(int, 1, MAX_CALLS, f"1 to {MAX_CALLS}, one process's call limit")
_SHARE = _bounded(float, 0.0, 1.0, "a share between 0 and 1")


def _number(text: str) -> str:
    if not re.fullmatch(r"[0-9*#+A-Za-z_.-]{1,32}", text):
        raise ValidationError(f"{text!r}: a number to dial, e.g. 500")
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m appliance.engine.simphones",
        description="Simulated agents and callers for the Callbox demo (JSON events on stdout)")
    sub = parser.add_subparsers(dest="role", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--box", required=True, type=_arg(parse_box), help="the box's SIP HOST:PORT")
        p.add_argument("--bind", default="127.0.0.1", help="local address for SIP and RTP")
        p.add_argument("--seed", type=int, default=None, help="repeatable randomness")
        p.add_argument("--voice", default="auto",
                       help="auto (espeak-ng if installed), espeak, synthetic, or a 16-bit mono WAV")
        p.add_argument("--log-level", type=int, default=0, help="pjsua2 log level 0-6 (stderr)")
        p.add_argument("--verbose", action="store_true", help="log every state change on stderr")

    agents = sub.add_parser("agents", help="register agents' phones that answer and talk")
    common(agents)
    agents.add_argument("--accounts", required=True, type=_arg(parse_accounts),
                        help=f"NUMBER:SECRET,... (at most {MAX_ACCOUNTS}) or @FILE")
    agents.add_argument("--answer-after", type=_arg(parse_range), default=Range(2, 6),
                        help="seconds of ringing before answering (default 2-6)")
    agents.add_argument("--talk", type=_arg(parse_range), default=Range(20, 60),
                        help="seconds of talk before hanging up (default 20-60)")

    callers = sub.add_parser("callers", help="call the service number at random moments")
    common(callers)
    callers.add_argument("--account", required=True, type=_arg(lambda t: parse_accounts(t, 1)),
                         help="NUMBER:SECRET of the extension that calls, or @FILE")
    callers.add_argument("--dial", required=True, type=_arg(_number), help="the number to call, e.g. 500")
    callers.add_argument("--digits", type=_arg(parse_digit_choices), default=[""],
                         help="IVR digits to press, alternatives split by | (e.g. '1|2'); default none")
    callers.add_argument("--digits-after", type=_arg(parse_range), default=Range(1, 3),
                         help="seconds after the box answers before pressing (default 1-3)")
    callers.add_argument("--rate-per-min", type=_arg(_RATE), default=4.0,
                         help="average new calls per minute (Poisson; default 4)")
    callers.add_argument("--max-concurrent", type=_arg(_CONCURRENT), default=3,
                         help=f"calls at once, at most {MAX_CALLS} (default 3)")
    callers.add_argument("--hangup-after", type=_arg(parse_range), default=Range(30, 90),
                         help="patience: seconds after the box answers before hanging up (default 30-90)")
    callers.add_argument("--abandon-share", type=_arg(_SHARE), default=0.0,
                         help="share of callers who give up early, 0-1 (default 0)")
    callers.add_argument("--abandon-after", type=_arg(parse_range), default=Range(5, 20),
                         help="patience of those who give up early (default 5-20)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format=f"%(asctime)s simphones[{args.role}] %(levelname)s %(message)s")
    # pjsua2 writes its console log on fd 1: events get their own copy of
    # stdout and fd 1 goes to stderr.
    events = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    emit = EventLine(events, args.role)
    seed = args.seed if args.seed is not None else random.randrange(2 ** 32)
    rng = random.Random(seed)
    stop_asked = False
    phones: SimPhones | None = None

    def stop(signum, frame):  # runs on the main thread between libHandleEvents calls
        nonlocal stop_asked
        stop_asked = True
        if phones is not None:
            phones.stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    workdir = Path(tempfile.mkdtemp(prefix=f"callbox-sim-{args.role}-"))
    try:
        try:
            voice, made_by = make_voice(args.voice, args.role.rstrip("s"), workdir, seed)
        except (ValidationError, OSError, wave.Error, EOFError) as e:
            print(f"simphones: voice: {e}", file=sys.stderr)
            return 2
        emit("voice", file=str(voice), source=made_by, seed=seed)
        gc.disable()  # collected on the pjsua2 thread only (see the engine worker)
        common = dict(emit=emit, rng=rng, voice=voice, bind=args.bind, log_level=args.log_level)
        try:
            if args.role == "agents":
                phones = SimAgents(args.box, args.accounts, habits=AgentHabits(
                    args.answer_after, args.talk), **common)
            else:
                phones = SimCallers(
                    args.box, args.account, dial=args.dial, rate_per_min=args.rate_per_min,
                    max_concurrent=args.max_concurrent, habits=CallerHabits(
                        args.digits, args.digits_after, args.hangup_after, args.abandon_share,
                        args.abandon_after), **common)
        except Exception as e:  # pj.Error (e.g. the address is not available) and the like
            reason = getattr(e, "reason", None) or str(e)
            print(f"simphones: cannot start: {reason}", file=sys.stderr)
            shutil.rmtree(workdir, ignore_errors=True)
            events.flush()
            os._exit(1)  # a half-built endpoint must not meet Python's teardown
        phones.stopping = stop_asked  # a SIGTERM while starting up
        code = phones.run_forever()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    # Python's own teardown of leftover SWIG objects after libDestroy can
    # abort; everything is closed, so leave without it.
    events.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
