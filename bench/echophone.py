"""A pjsua2 test phone that can loop a call's audio back to the caller, for the line round trip.

The same phone as tests/peers/pjphone.py (same JSON-lines protocol), with one
more command: `loop`, which connects the call's audio to itself, so whatever
reaches the phone goes straight back (pjsua's --auto-loop does the same).

    phone = EchoPhone("box")      # a tests.peers.phones.Phone running this module
    ...answer a call...
    phone.command("loop")
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import threading

from tests.peers.phones import REPO, Phone, PhoneError


class EchoPhone(Phone):
    """tests.peers.phones.Phone, running bench/echophone.py instead of the plain test phone."""

    def __init__(self, name: str = "echo", codecs: str = "PCMU/8000,PCMA/8000", python: str = sys.executable,
                 start_timeout: float = 20.0):
        self.name = name
        self.address = "127.0.0.1"
        self._cond = threading.Condition()
        self._events: list[dict] = []
        self._replies: dict[int, dict] = {}
        self._next_id = 0
        self._closed = False
        self.proc = subprocess.Popen(
            [python, "-m", "bench.echophone", "--name", name, "--codecs", codecs, "--bind", self.address],
            cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True, name=f"phone-{name}").start()
        try:
            ready = self.wait_for("ready", timeout=start_timeout)
        except PhoneError:
            self.close()
            raise
        self.port: int = ready["sip_port"]


def main() -> None:
    from tests.peers import pjphone   # the protocol's stdout is set aside when it is imported

    class LoopingPhone(pjphone.Phone):
        looping = False

        def cmd_loop(self):
            self.looping = True
            if self.call_media is not None:
                self.call_media.startTransmit(self.call_media)

        def wire(self, media):
            super().wire(media)
            if self.looping:
                media.startTransmit(media)

    parser = argparse.ArgumentParser()
    parser.add_argument("--name", default="echo")
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--codecs", default="PCMU/8000,PCMA/8000")
    args = parser.parse_args()
    gc.disable()
    phone = LoopingPhone(args.name, args.codecs.split(","), bind=args.bind)
    phone.run()
    pjphone._events.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
