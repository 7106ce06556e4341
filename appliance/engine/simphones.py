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

This module is the command line. The pure half (options, plans, arrivals,
the call table) lives in appliance.logic.simcalls; the phones in
`softphones` (pjsua2 on one thread, like the engine worker); what agents
and callers do in `agents_and_callers`; their voice in `demo_voice`. The
options and the voice need no pjsua2.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import random
import re
import shutil
import sys
import tempfile
import wave
from pathlib import Path
from typing import Any, Callable

from appliance.engine import process
from appliance.engine.demo_voice import make_voice
from appliance.errors import ValidationError
from appliance.logic import simcalls
from appliance.logic.simcalls import (
    MAX_ACCOUNTS, AgentHabits, CallerHabits, Range, parse_box, parse_digit_choices, parse_range,
)

MAX_CALLS = 4  # per process: the pjsua2-python wheel's call table


def parse_accounts(text: str, limit: int = MAX_ACCOUNTS) -> list[tuple[str, str]]:
    """'1010:SECRET,1011:SECRET' (or '@FILE' holding that, one per line) -> [(user, secret)]."""
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text()
        except OSError as e:
            raise ValidationError(f"accounts file {text[1:]}: {e.strerror}") from None
    return simcalls.parse_accounts(text, limit)


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
    try:
        from appliance.engine.agents_and_callers import SimAgents, SimCallers
        from appliance.engine.softphones import EventLine, SimPhones
    except ImportError as e:
        print(f"simphones: cannot start: {e}", file=sys.stderr)
        return 1
    # pjsua2 writes its console log on fd 1: events get their own copy of
    # stdout and fd 1 goes to stderr.
    events = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    emit = EventLine(events, args.role)
    seed = args.seed if args.seed is not None else random.randrange(2 ** 32)
    rng = random.Random(seed)
    stop_asked = False
    phones: SimPhones | None = None

    def stop() -> None:
        nonlocal stop_asked
        stop_asked = True
        if phones is not None:
            phones.stopping = True

    process.stop_on_signals(stop)
    workdir = Path(tempfile.mkdtemp(prefix=f"callbox-sim-{args.role}-"))
    try:
        try:
            voice, made_by = make_voice(args.voice, args.role.rstrip("s"), workdir, seed)
        except (ValidationError, OSError, wave.Error, EOFError) as e:
            print(f"simphones: voice: {e}", file=sys.stderr)
            return 2
        emit("voice", file=str(voice), source=made_by, seed=seed)
        process.collect_on_this_thread_only()
        common = dict(emit=emit, rng=rng, voice=voice, bind=args.bind, log_level=args.log_level,
                      max_calls=MAX_CALLS)
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
            process.leave(1, events)  # a half-built endpoint must not meet Python's teardown
        phones.stopping = stop_asked  # a SIGTERM while starting up
        code = phones.run_forever()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    process.leave(code, events, sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
