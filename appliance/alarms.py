"""Alarms: what went wrong, said where the owner looks, with what to do.

Nothing fails silently: a message or recording not filed, a call record not
written, a line or trunk down, a prompt missing, an engine worker dying, the
box without a LAN address, a full disk. Each becomes an alarm on the event
stream (`alarm`, `alarm_cleared`), in `GET /api/alarms`, on the dashboard and
the wallboard, and on the front panel's fault LED.

Two kinds of alarm:
- a *condition* (a line is down, the disk is full) clears itself when the
  condition ends (`clear()`);
- an *incident* (a worker died, a message could not be filed) happened once
  and stays until someone acknowledges it, so that an owner who looks the
  next morning still sees it.

`AlarmLog` is a logging handler: an ERROR logged anywhere in the core that no
alarm names becomes an incident too, so a failure nobody foresaw is not
silent either.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import asdict, dataclass
from typing import Any, Callable

MAX_ACTIVE = 200          # an alarm storm keeps the newest; the count says how many happened
LOG_ALARM_EVERY_S = 60.0  # the same unexpected error repeated becomes one alarm with a count


@dataclass
class Alarm:
    id: int
    kind: str           # what part: engine, voicemail, line, trunk, prompt, record, network, disk, error
    key: str            # which one (a worker, a line's name, a prompt): one alarm per (kind, key)
    text: str           # what happened, in the owner's words
    action: str         # what to do
    incident: bool      # stays until acknowledged (else clears when the condition ends)
    since: float
    last: float
    count: int = 1

    def public(self) -> dict[str, Any]:
        return asdict(self)


class Alarms:
    def __init__(self, publish: Callable[..., Any], clock: Callable[[], float]) -> None:
        self._publish = publish
        self._clock = clock
        self._ids = itertools.count(1)
        self._active: dict[tuple[str, str], Alarm] = {}

    def raise_alarm(self, kind: str, text: str, action: str, *, key: str = "", incident: bool = False) -> Alarm:
        """Raise (or repeat) the alarm of (kind, key); the event goes out every time."""
        now = self._clock()
        alarm = self._active.get((kind, key))
        if alarm is None:
            alarm = Alarm(next(self._ids), kind, key, text, action, incident, now, now)
            self._active[(kind, key)] = alarm
            while len(self._active) > MAX_ACTIVE:
                del self._active[next(iter(self._active))]
        else:
            alarm.text, alarm.action, alarm.last = text, action, now
            alarm.count += 1
        self._publish("alarm", **alarm.public())
        return alarm

    def clear(self, kind: str, key: str = "") -> bool:
        """The condition is over: its alarm goes (incidents stay until acknowledged)."""
        alarm = self._active.get((kind, key))
        if alarm is None or alarm.incident:
            return False
        del self._active[(kind, key)]
        self._publish("alarm_cleared", id=alarm.id, kind=kind, key=key)
        return True

    def acknowledge(self, alarm_id: int) -> bool:
        for k, alarm in list(self._active.items()):
            if alarm.id == alarm_id:
                del self._active[k]
                self._publish("alarm_cleared", id=alarm.id, kind=alarm.kind, key=alarm.key, acknowledged=True)
                return True
        return False

    def active(self) -> list[dict[str, Any]]:
        return [a.public() for a in sorted(self._active.values(), key=lambda a: a.since, reverse=True)]

    def kinds(self) -> set[str]:
        return {a.kind for a in self._active.values()}


class AlarmLog(logging.Handler):
    """ERRORs logged in the core that are not alarms already become incidents ("error")."""

    def __init__(self, alarms: Alarms, clock: Callable[[], float]) -> None:
        super().__init__(level=logging.ERROR)
        self.alarms = alarms
        self.clock = clock
        self._last: dict[str, float] = {}
        self._busy = False

    def emit(self, record: logging.LogRecord) -> None:
        if self._busy or getattr(record, "alarm", False):
            return
        self._busy = True  # raising an alarm must never log its way back here
        try:
            where = f"{record.name}: {str(record.msg)[:120]}"  # the same failure, wherever it is logged
            now = self.clock()
            if now - self._last.get(where, -LOG_ALARM_EVERY_S) < LOG_ALARM_EVERY_S:
                return
            self._last[where] = now
            self.alarms.raise_alarm(
                "error", record.getMessage()[:300],
                "Something failed that the box did not expect. The system page's log shows the details; "
                "if it happens again, send them to whoever supports your box.", key=where, incident=True)
        except Exception:  # a handler must not raise
            pass
        finally:
            self._busy = False


def alarm_extra() -> dict[str, bool]:
    """`log.error(..., extra=alarm_extra())` for errors that raise their own, better alarm."""
    return {"alarm": True}


# --- what events mean: one table ----------------------------------------------------------------

@dataclass(frozen=True)
class Raise:
    kind: str
    key: str
    text: str
    action: str
    incident: bool = False


@dataclass(frozen=True)
class Clear:
    kind: str
    key: str


LINE_ACTION = ("Check that the modem is plugged in, the SIM has no PIN lock and has credit, and the antenna; "
               "the Lines page shows the signal.")
TRUNK_ACTION = ("Check the provider's address, user name and password on the Trunks page, and that the office "
                "has internet.")


def _engine(d: dict[str, Any]) -> Raise | Clear | None:
    if d.get("state") == "died":
        return Raise("engine", str(d.get("worker", "")),
                     f"Engine worker {d.get('worker')} stopped unexpectedly; its calls were dropped.",
                     "It restarts by itself. If it happens again, the system page's log says why.", incident=True)
    return None


def _trunk(d: dict[str, Any]) -> Raise | Clear | None:
    name = str(d.get("name", ""))
    if d.get("state") == "failed":
        reason = f": {d['reason']}" if d.get("reason") else ""
        return Raise("trunk", name, f"Trunk {name} is not registered{reason}. Calls through it fail.", TRUNK_ACTION)
    if d.get("state") == "registered":
        return Clear("trunk", name)
    return None


def _line(d: dict[str, Any]) -> Raise | Clear | None:
    name = str(d.get("line", ""))
    if d.get("state") == "restarting":
        return Raise("line", name, f"The gateway of line {name} stopped; it is restarting.", LINE_ACTION)
    if d.get("event") != "status":
        return None
    if d.get("indicator") == "fault" or d.get("state") in ("sim_problem", "gone"):
        err = d.get("last_error") or {}
        why = f" ({err.get('text') or err.get('kind')})" if isinstance(err, dict) and err else ""
        return Raise("line", name, f"Line {name} cannot take calls: {d.get('state')}{why}.", LINE_ACTION)
    if d.get("indicator") == "on":
        return Clear("line", name)
    return None


RULES: dict[str, Callable[[dict[str, Any]], Raise | Clear | None]] = {
    "engine": _engine, "trunk": _trunk, "line": _line,
}


def alarm_for(kind: str, data: dict[str, Any]) -> Raise | Clear | None:
    """What an event on the bus means for the alarms (None: nothing)."""
    rule = RULES.get(kind)
    return rule(data) if rule is not None else None


def follow_events(alarms: Alarms) -> Callable[[str, dict[str, Any]], None]:
    """A bus listener that raises and clears alarms by RULES."""
    def listen(kind: str, data: dict[str, Any]) -> None:
        what = alarm_for(kind, data)
        if isinstance(what, Raise):
            alarms.raise_alarm(what.kind, what.text, what.action, key=what.key, incident=what.incident)
        elif isinstance(what, Clear):
            alarms.clear(what.kind, what.key)
    return listen
