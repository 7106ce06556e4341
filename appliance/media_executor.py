"""The one executor: carries out the media vocabulary (`appliance.logic.media`) in an engine worker.

Every call machine returns `logic.media` commands; `engine_message` turns one into the engine
protocol's command (`appliance.engine.protocol.COMMAND_TABLE`), and `MediaExecutor` sends them
for one handler in one worker, runs its timers on the loop, and hands what is not media (the
handler's own effects: a record to file, an ACD input) to the `other` port it was given.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from appliance.logic import media as m

log = logging.getLogger("callbox.media")

# (engine command, fields) for each media command; prompts are resolved by the caller's port.
EngineMessage = tuple[str, dict[str, Any]]


def engine_message(cmd: Any, prompt_file: Callable[[str], str | None]) -> EngineMessage | None:
    """The engine command for one media command; None for commands the executor itself keeps."""
    if isinstance(cmd, m.Ringing):
        return "ringing", {"leg": cmd.leg}
    if isinstance(cmd, m.Answer):
        return "answer", {"leg": cmd.leg}
    if isinstance(cmd, m.Dial):
        extra = {"auth": cmd.auth} if cmd.auth else {}
        extra |= {"headers": cmd.headers} if cmd.headers else {}
        return "call", {"leg": cmd.leg, "uri": cmd.uri, "caller_id": cmd.caller_id, "timeout_s": cmd.timeout_s,
                        **extra}
    if isinstance(cmd, m.Bridge):
        return "bridge", {"a": cmd.a, "b": cmd.b}
    if isinstance(cmd, m.Unbridge):
        return "unbridge", {"a": cmd.a, "b": cmd.b}
    if isinstance(cmd, m.Conference):
        whisper = {"whisper": {"to": cmd.whisper[0], "from": cmd.whisper[1]}} if cmd.whisper else {}
        return "conference", {"legs": list(cmd.legs), "listen_only": list(cmd.listen_only), **whisper}
    if isinstance(cmd, m.Hangup):
        return "hangup", {"leg": cmd.leg}
    if isinstance(cmd, m.Reject):
        return "reject", {"leg": cmd.leg, "status": cmd.status}
    if isinstance(cmd, m.Play):
        path = prompt_file(cmd.prompt)
        if path is None:
            return None
        return "play", {"leg": cmd.leg, "file": path, "loop": cmd.loop}
    if isinstance(cmd, m.StopPlay):
        return "stop_play", {"leg": cmd.leg}
    if isinstance(cmd, m.SendDtmf):
        return "send_dtmf", {"leg": cmd.leg, "digits": cmd.digits,
                             "method": "info" if cmd.method == "info" else "rfc2833"}
    if isinstance(cmd, m.Record):
        return "record_start", {"leg": cmd.leg, "file": cmd.path}
    if isinstance(cmd, m.StopRecord):
        return "record_stop", {"leg": cmd.leg}
    return None


@dataclass
class MediaExecutor:
    """Carries out one handler's commands in its worker.

    Ports: `send(name, fields)` delivers an engine command to the handler's worker; `prompt_file`
    finds a prompt's file; `on_timer(name)` wakes the handler; `other(cmd)` takes every command
    that is not media (records, ACD inputs, ...); `call_later` is the loop's (a fake in tests).
    """

    send: Callable[[str, dict[str, Any]], None]
    prompt_file: Callable[[str], str | None]
    on_timer: Callable[[str], None]
    other: Callable[[Any], None]
    call_later: Callable[[float, Callable[[], None]], Any] | None = None
    timers: dict[str, Any] = field(default_factory=dict)

    def __call__(self, commands: list[Any]) -> None:
        for cmd in commands:
            self.carry_out(cmd)

    def carry_out(self, cmd: Any) -> None:
        if isinstance(cmd, m.StartTimer):
            self.cancel(cmd.name)
            later = self.call_later or asyncio.get_running_loop().call_later
            self.timers[cmd.name] = later(cmd.after_s, lambda name=cmd.name: self._fire(name))
            return
        if isinstance(cmd, m.CancelTimer):
            self.cancel(cmd.name)
            return
        message = engine_message(cmd, self.prompt_file)
        if message is not None:
            self.send(*message)
        elif isinstance(cmd, m.Play):
            log.warning("prompt %s is missing: not played", cmd.prompt)
        else:
            self.other(cmd)

    def cancel(self, name: str) -> None:
        handle = self.timers.pop(name, None)
        if handle is not None:
            handle.cancel()

    def cancel_all(self) -> None:
        for name in list(self.timers):
            self.cancel(name)

    def _fire(self, name: str) -> None:
        self.timers.pop(name, None)
        self.on_timer(name)
