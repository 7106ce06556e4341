"""baresip as a real phone, driven through its ctrl_tcp module (netstring JSON)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.conftest import free_port

MODULES = ["g711.so", "g722.so", "aufile.so", "ausine.so", "aubridge.so", "sndfile.so", "ctrl_tcp.so", "menu.so",
           "account.so"]


def baresip_available() -> bool:
    return shutil.which("baresip") is not None


class Baresip:
    def __init__(self, workdir: Path, heard: Path | None = None, host=None, tone_hz: int = 1000):
        """`heard`: a directory that receives the WAV of what this phone heard; `host`: a host of a
        test LAN (tests/testlan.py) to run on, at its address; `tone_hz`: what its microphone plays."""
        self.host = host
        self.address = host.address if host is not None else "127.0.0.1"
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sip_port = free_port()
        self.ctrl_port = free_port(socket.SOCK_STREAM)
        (self.dir / "accounts").write_text("")
        (self.dir / "contacts").write_text("")
        config = [
            f"sip_listen {self.address}:{self.sip_port}",
            "sip_trans_def udp",
            # No sound card: play into aubridge; the sndfile module writes what the phone hears
            # (dump-*-dec.wav) into snd_path.
            "audio_player aubridge,nil",
            f"snd_path {heard or self.dir}",
            f"audio_source ausine,{tone_hz}",
            "ausrc_srate 48000",  # ausine makes only 48 kHz stereo
            "ausrc_channels 2",
            "audio_alert aufile,/dev/null",
            "module_path /usr/lib/baresip/modules",
            *(f"module {m}" for m in MODULES),
            f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}",
            f"net_interface {self.address if host is None else 'eth0'}",
        ]
        (self.dir / "config").write_text("\n".join(config) + "\n")
        self.log = open(self.dir / "baresip.log", "wb")
        args = ["baresip", "-f", str(self.dir)]
        self.proc = subprocess.Popen(host.exec_args(args) if host is not None else args, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        self.sock = self._connect()
        self.buf = b""
        self.events: list[dict] = []

    def _connect(self, timeout: float = 10) -> socket.socket:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("baresip exited: " + (self.dir / "baresip.log").read_text(errors="replace"))
            try:
                if self.host is not None:
                    return self.host.connect(("127.0.0.1", self.ctrl_port), timeout=1)
                return socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("baresip ctrl_tcp did not come up")

    def command(self, command: str, params: str = "") -> None:
        body = json.dumps({"command": command, "params": params, "token": command}).encode()
        self.sock.sendall(str(len(body)).encode() + b":" + body + b",")

    def _read(self, timeout: float) -> None:
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        if not data:
            raise RuntimeError("baresip closed the control connection")
        self.buf += data
        while b":" in self.buf:
            length, _, rest = self.buf.partition(b":")
            n = int(length)
            if len(rest) < n + 1:
                break
            self.events.append(json.loads(rest[:n]))
            self.buf = rest[n + 1:]

    def wait_event(self, type_: str, timeout: float = 10) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, e in enumerate(self.events):
                if e.get("type") == type_:
                    return self.events.pop(i)
            self._read(0.2)
        raise AssertionError(f"no {type_} event from baresip; saw {self.events[-10:]}")

    def register(self, user: str, password: str, port: int, transport: str = "udp", box: str = "127.0.0.1") -> None:
        aor = f"<sip:{user}@{box}:{port};transport={transport}>;auth_pass={password};regint=300"
        self.command("uanew", aor)

    def close(self) -> None:
        try:
            self.sock.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.log.close()
