"""Phone lines at run time: one line gateway process per modem, each presented as a trunk.

A line is configured with its modem's device (or `sim:gsm`, `sim:gsm-simcom`,
`sim:analog` for the simulated modems the demo and tests use). The core
starts a gateway per line, bound to its own loopback address so the SIP edge
knows a call from it is that line's (an IP-authenticated trunk), restarts it
when it dies, and collects the status lines it reports (signal, operator,
SIM, registration, last error) for the API and the event stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from appliance.engine.protocol import (ProtocolError, decode_line, parse_gateway_command,
                                        parse_gateway_message)
from appliance.errors import Conflict, NotFound, ValidationError
from appliance.logic import routing as rt
from appliance.ports import Paths, Publish, RecordLog, Setting, Tables

log = logging.getLogger("callbox.lines")

LINE_FIELDS = {"name", "kind", "device", "audio_device", "profile", "pin", "number"}
NAME = re.compile(r"^[a-z][a-z0-9-]{0,15}$")
RESTART_S = (1.0, 2.0, 5.0, 10.0, 30.0)


@dataclass
class Line:
    config: dict[str, Any]
    address: str                     # the loopback address its gateway binds (127.0.1.n)
    process: asyncio.subprocess.Process | None = None
    sip_port: int = 0
    status: dict[str, Any] = field(default_factory=dict)
    simulator: Any = None
    restarts: int = 0
    writer: Any = None               # the gateway's status connection: orders go back on it

    @property
    def name(self) -> str:
        return self.config["name"]


def validate_line(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationError("line: must be a JSON object")
    unknown = set(data) - LINE_FIELDS
    if unknown:
        raise ValidationError(f"{sorted(unknown)[0]}: unknown field")
    if not isinstance(data.get("name"), str) or not NAME.match(data["name"]):
        raise ValidationError("name: 1 to 16 lowercase letters, digits or -, starting with a letter")
    if data.get("kind") not in ("gsm", "analog"):
        raise ValidationError("kind: gsm or analog")
    if not isinstance(data.get("device"), str) or not data["device"]:
        raise ValidationError("device: the modem's tty (e.g. /dev/ttyUSB2) or sim:gsm / sim:analog")
    number = data.get("number", "")
    if number and not re.fullmatch(r"\+?[0-9]{3,15}", number):
        raise ValidationError("number: the line's phone number, digits only (an optional leading +)")
    return dict(data)


class Lines:
    def __init__(self, *, paths: Paths, tables: Tables, setting: Setting, publish: Publish, sms_log: RecordLog,
                 edge_port: Callable[[], int]):
        """`edge_port` is the SIP edge's port, where the gateways send their calls."""
        self.run_dir = paths.folder("run")
        self.state_dir = paths.folder("state")
        self.tables = tables
        self.setting = setting
        self.publish = publish
        self.sms_log = sms_log
        self.edge_port = edge_port
        self.lines: dict[str, Line] = {}
        self._status_server: asyncio.AbstractServer | None = None
        self._stopping = False
        self.socket_path = self.run_dir / "lines.sock"

    def configs(self) -> list[dict[str, Any]]:
        return [dict(d) for d in self.tables("lines").all()]

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if self.socket_path.exists():
            self.socket_path.unlink()
        self._status_server = await asyncio.start_unix_server(self._status_client, path=str(self.socket_path))
        for i, cfg in enumerate(self.configs()):
            await self._start_line(cfg, i)

    async def add(self, data: Any) -> dict[str, Any]:
        cfg = validate_line(data)
        if any(c["name"] == cfg["name"] for c in self.configs()):
            raise ValidationError(f"name: a line {cfg['name']} exists already")
        self.tables("lines").insert(cfg)
        await self._start_line(cfg, len(self.lines))
        return {"name": cfg["name"]}

    async def _start_line(self, cfg: dict[str, Any], index: int) -> None:
        line = self.lines.get(cfg["name"]) or Line(cfg, f"127.0.1.{index + 1}")
        self.lines[line.name] = line
        device, audio = cfg["device"], cfg.get("audio_device")
        if device.startswith("sim:"):
            device, audio = self._start_simulator(line)
        args = [sys.executable, "-m", "appliance.engine.gateway", "--line", cfg["kind"], "--device", device,
                "--sip-port", "0", "--bind", line.address,
                "--box", f"sip:{self._edge_host()}:{self.edge_port()}",
                "--name", cfg.get("number") or cfg["name"], "--status-socket", str(self.socket_path),
                "--lock-dir", str(self.run_dir),
                "--pin-memory", str(self.state_dir / f"line-{line.name}.pin")]
        if audio:
            args += ["--audio-device", audio]
        profile = cfg.get("profile")
        if not profile and cfg["device"].startswith("sim:"):
            # The simulated modems speak these dialects; the profile switches their audio on.
            profile = {"sim:gsm": "huawei", "sim:gsm-simcom": "simcom"}.get(cfg["device"], "conexant")
        if profile:
            args += ["--profile", profile]
        if cfg.get("pin"):
            args += ["--pin", str(cfg["pin"])]
        log_path = self.run_dir / f"line-{line.name}.log"
        with open(log_path, "ab") as out:
            line.process = await asyncio.create_subprocess_exec(*args, stdout=out, stderr=out)
        asyncio.create_task(self._watch(line, line.process))
        log.info("line %s: gateway started on %s", line.name, line.address)

    def _edge_host(self) -> str:
        """Gateways are the box's own processes on loopback: they reach the edge there, whatever the
        LAN address is now (and nobody on the LAN can reach them)."""
        bind = self.setting("sip.bind")
        return "127.0.0.1" if bind in ("0.0.0.0", "::") else bind

    def _start_simulator(self, line: Line) -> tuple[str, str | None]:
        """The simulated modem of `sim:` lines: a product feature for the demo, on pseudo-terminals."""
        run = self.run_dir
        dev = str(run / f"sim-{line.name}-at")
        if line.simulator is None:
            kind = line.config["device"].removeprefix("sim:")
            if kind.startswith("gsm"):
                from appliance.lines.sim_gsm import GsmModemSim
                dialect = "simcom" if kind.endswith("simcom") else "huawei"
                line.simulator = GsmModemSim(dev, dialect=dialect, audio_port=str(run / f"sim-{line.name}-audio"),
                                             ring_interval=1.0).start()
            else:
                from appliance.lines.sim_voice import VoiceModemSim
                line.simulator = VoiceModemSim(dev).start()
        audio = getattr(line.simulator, "audio_port", None)
        return dev, audio

    async def _watch(self, line: Line, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        if self._stopping:
            return
        delay = RESTART_S[min(line.restarts, len(RESTART_S) - 1)]
        line.restarts += 1
        log.error("line %s: gateway exited (%s); restarting in %.0f s", line.name, code, delay,
                  extra={"alarm": True})  # the line's own alarm says it (appliance/alarms.py)
        line.status = {"state": "restarting", "exit": code}
        self.publish("line", line=line.name, state="restarting")
        await asyncio.sleep(delay)
        if not self._stopping:
            await self._start_line(line.config, list(self.lines).index(line.name))

    async def _status_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while raw := await reader.readline():
                try:
                    msg = parse_gateway_message(decode_line(raw))
                except ProtocolError as e:  # a gateway of another version, or a bug: said, not acted on
                    log.warning("line gateway status dropped: %s", e)
                    continue
                line = self.lines.get(str(msg.get("line", "")))
                if line is None:
                    # A gateway names its line by its number when it has one.
                    line = next((ln for ln in self.lines.values() if ln.config.get("number") == msg.get("line")),
                                None)
                if line is None:
                    continue
                line.writer = writer
                if msg.get("event") == "ready":
                    line.sip_port = int(msg.get("sip_port") or 0)
                if msg.get("event") == "sms":
                    self._store_sms(line, "in", str(msg.get("sender", "")), str(msg.get("text", "")), "received")
                if msg.get("event") == "sms_sent":
                    self._store_sms(line, "out", str(msg.get("number", "")), "", "sent" if msg.get("ok")
                                    else f"failed: {msg.get('error', '')}")
                if msg.get("event") == "status":
                    line.status = {k: v for k, v in msg.items() if k not in ("event", "line")}
                self.publish("line", line=line.name, **{k: v for k, v in msg.items() if k != "line"})
        finally:
            writer.close()

    async def stop(self) -> None:
        self._stopping = True
        for line in self.lines.values():
            if line.process and line.process.returncode is None:
                line.process.terminate()
                try:
                    await asyncio.wait_for(line.process.wait(), 5)
                except asyncio.TimeoutError:
                    line.process.kill()
            if line.simulator is not None:
                line.simulator.stop()
        if self._status_server is not None:
            self._status_server.close()

    # --- SMS -------------------------------------------------------------------------------

    def _store_sms(self, line: Line, direction: str, number: str, text: str, status: str) -> None:
        entry = {"time": datetime.now(timezone.utc).isoformat(), "line": line.name, "direction": direction,
                 "number": number, "text": text, "status": status}
        self.sms_log.append(entry)
        self.publish("sms", **entry)

    def send_sms(self, data: Any) -> dict[str, Any]:
        """An SMS out through a GSM line (e.g. a missed-call notice to the owner)."""
        if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("line", "number", "text")):
            raise ValidationError("body: {line, number, text}")
        if not re.fullmatch(r"\+?[0-9]{3,15}", data["number"]):
            raise ValidationError("number: digits only, an optional leading +")
        if not data["text"] or len(data["text"]) > 1000:
            raise ValidationError("text: 1 to 1000 characters")
        line = self.lines.get(data["line"])
        if line is None:
            raise NotFound(f"line {data['line']} does not exist")
        if line.config["kind"] != "gsm" or line.writer is None:
            raise Conflict(f"line {line.name} cannot send SMS now")
        line.writer.write((json.dumps(parse_gateway_command({"cmd": "send_sms", "number": data["number"],
                                                            "text": data["text"]}))
                           + "\n").encode())
        self._store_sms(line, "out", data["number"], data["text"], "queued")
        return {"line": line.name, "number": data["number"], "status": "queued"}

    # --- what others ask -----------------------------------------------------------------

    def trunks(self) -> list[rt.Trunk]:
        """Each line as an IP-authenticated trunk: calls from its gateway's address are the line's."""
        out = []
        for line in self.lines.values():
            if line.sip_port:
                out.append(rt.validate_trunk({"name": f"line-{line.name}", "kind": "peer", "host": line.address,
                                              "port": line.sip_port, "peer_networks": [f"{line.address}/32"]}))
        return out

    def status(self) -> list[dict[str, Any]]:
        return [{"name": ln.name, "kind": ln.config["kind"], "number": ln.config.get("number", ""),
                 "simulated": ln.simulator is not None, "sip_port": ln.sip_port, "restarts": ln.restarts,
                 **ln.status} for ln in self.lines.values()]

    def simulate(self, name: str, data: Any) -> dict[str, Any]:
        """Drive a simulated modem (demo and tests): ring, hang up, play a tone, send DTMF, SMS."""
        line = self.lines.get(name)
        if line is None:
            raise NotFound(f"line {name} does not exist")
        sim = line.simulator
        if sim is None:
            raise ValidationError(f"line {name} is a real modem")
        if not isinstance(data, dict):
            raise ValidationError("body: {action, ...}")
        action = data.get("action")
        try:
            return self._simulate(name, sim, action, data)
        except RuntimeError as e:  # the simulated modem is not in a state for it (no call, no audio yet)
            raise Conflict(f"line {name}: {e}") from None

    def _simulate(self, name: str, sim: Any, action: Any, data: dict[str, Any]) -> dict[str, Any]:
        if action == "ring":
            sim.ring(str(data.get("caller", "+48601234567")))
        elif action == "hangup":
            (getattr(sim, "remote_hangup", None) or sim.remote_hangs_up)()
        elif action == "tone":
            sim.remote_plays_tone(float(data.get("hz", 1000)))
        elif action == "dtmf":
            sim.send_dtmf(str(data.get("digit", "1"))[:1])
        elif action == "unplug":
            sim.unplug()
        elif action == "replug":
            sim.replug()
        elif action == "save_audio":
            # What the simulated far end heard, as a WAV: the demo lets people listen to it.
            path = self.run_dir / f"sim-{name}-heard.wav"
            with wave.open(str(path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(sim.received_audio())
            return {"line": name, "action": action, "file": str(path)}
        elif action == "sms" and hasattr(sim, "deliver_sms"):
            sim.deliver_sms(str(data.get("sender", "+48601234567")), str(data.get("text", "")))
        else:
            raise ValidationError("action: ring, hangup, tone, dtmf, sms, unplug, replug or save_audio")
        return {"line": name, "action": action}

    def received_audio(self, name: str) -> bytes:
        line = self.lines[name]
        return line.simulator.received_audio() if line.simulator is not None else b""
