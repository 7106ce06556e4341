"""The worker's command dispatch: every command the core may send, to the one handler that carries it out.

The commands are declared in `protocol.COMMAND_TABLE`; `worker_handlers` names a handler for each of
them and `check_declared` refuses to start when one is missing or one is not declared, so a command
cannot be handled without a declaration or declared without a handler (the line gateway holds its
orders from the core to the same rule). `carry_out` runs one command and
turns what happened into the reply's fields: a bug or a refusal costs one command, never a call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, Mapping

import pjsua2 as pj

from appliance.engine.protocol import COMMAND_TABLE, Command, Message

if TYPE_CHECKING:
    from appliance.engine.audio_paths import AudioPaths
    from appliance.engine.call_legs import CallLegs

log = logging.getLogger("callbox.engine.worker")

Handler = Callable[..., "dict[str, Any] | None"]


class CommandFailed(Exception):
    """A command the worker cannot carry out; the text goes into the reply."""


def worker_handlers(calls: "CallLegs", audio: "AudioPaths",
                    status: Callable[[], dict[str, Any]]) -> dict[str, Handler]:
    """Each declared command with its handler: the call legs' or the audio paths'."""
    handlers: dict[str, Handler] = {
        "answer": calls.answer, "ringing": calls.ringing, "reject": calls.reject,
        "hangup": calls.hangup, "call": calls.call, "send_dtmf": calls.send_dtmf,
        "hold": calls.hold, "unhold": calls.unhold, "transfer": calls.transfer,
        "bridge": audio.bridge, "unbridge": audio.unbridge, "connect": audio.connect,
        "disconnect": audio.disconnect, "conference": audio.conference,
        "play": audio.play, "stop_play": audio.stop_play,
        "record_start": audio.record_start, "record_stop": audio.record_stop,
        "status": status,
    }
    return check_declared(handlers, COMMAND_TABLE)


def check_declared(handlers: dict[str, Any], table: Mapping[str, Message]) -> dict[str, Any]:
    """The handlers, if each has a declaration in `table` and each declaration a handler: a bug
    found when the process starts, not when the core first sends the command."""
    undeclared = sorted(set(handlers) - set(table))
    unhandled = sorted(set(table) - set(handlers))
    if undeclared or unhandled:
        raise RuntimeError(f"commands without a declaration {undeclared}, without a handler {unhandled}")
    return handlers


def carry_out(handlers: dict[str, Handler], cmd: Command) -> dict[str, Any]:
    """Run a checked command; the reply's fields: {ok: true, ...what it returned} or {ok: false, error}."""
    try:
        extra = handlers[cmd.name](**cmd.args) or {}
    except CommandFailed as e:
        return {"ok": False, "error": str(e)}
    except pj.Error as e:
        return {"ok": False, "error": f"{cmd.name}: {e.reason} ({e.status})"}
    except (TypeError, ValueError, KeyError) as e:
        return {"ok": False, "error": f"{cmd.name}: {e}"}
    except Exception as e:  # a bug must cost one command, not every call
        log.exception("command %s failed", cmd.name)
        return {"ok": False, "error": f"{cmd.name}: internal error: {e}"}
    return {"ok": True, **extra}
