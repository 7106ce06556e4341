"""The ports: what a service may ask of the rest of the box, each as narrow as one question.

The composition root (`appliance.core`) builds every service and hands it these,
filled with the real thing (the store, the SIP edge, the event bus) or, in a
test, with a small working fake. A service never receives the core and never
imports a sibling service: what it needs from one arrives here as a callable.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol

Clock = Callable[[], float]
"""Seconds since the epoch (time.time, or a test's FakeClock)."""

Setting = Callable[[str], Any]
"""The current value of one setting by its declared key ("recording.policy"); changes apply at once."""

FindExtension = Callable[[str], "dict[str, Any] | None"]
"""One extension's stored settings by its number, or None when there is no such extension."""

ExtensionNumbers = Callable[[], Iterable[str]]
"""Every extension number of the box."""

Registered = Callable[[str], bool]
"""Whether a phone of this extension is registered now (the registrar's location lookup)."""

Audit = Callable[..., Any]
"""Write an entry to the audit trail: audit(actor, action, detail)."""

Names = Callable[[], Iterable[str]]
"""A set of names or numbers read when asked (queues, ring groups, shared voicemail boxes)."""


class Publish(Protocol):
    """Put a domain event on the event stream: publish("trunk", name=..., state=...)."""

    def __call__(self, kind: str, /, **data: Any) -> Any: ...


class Paths(Protocol):
    """Where the box keeps its files: the data directory and its folders."""

    @property
    def data(self) -> Path: ...
    def folder(self, name: str) -> Path: ...


class DataDir:
    """Paths under one data directory (`/var/lib/callbox` on the box, a temporary one in tests)."""

    def __init__(self, root: Path):
        self.data = Path(root)

    def folder(self, name: str) -> Path:
        return self.data / name


class Table(Protocol):
    """One table of the store (TinyDB's Table: all, get, insert, update, remove, truncate)."""

    def all(self) -> list[dict[str, Any]]: ...
    def get(self, cond: Any) -> Any: ...
    def insert(self, document: dict[str, Any]) -> Any: ...
    def update(self, fields: dict[str, Any], cond: Any) -> Any: ...
    def remove(self, cond: Any) -> Any: ...
    def truncate(self) -> None: ...


Tables = Callable[[str], Table]
"""A named table of the configuration store; every write is atomic and durable on return."""


class RecordLog(Protocol):
    """An append-only monthly log: call records, the queue log, SMS."""

    def append(self, record: dict[str, Any]) -> str: ...
    def update(self, record_id: str, changes: dict[str, Any]) -> None: ...
    def delete_where(self, predicate: Callable[[dict[str, Any]], bool], start: datetime | None = None,
                     end: datetime | None = None) -> int: ...
    def query(self, start: datetime | None = None, end: datetime | None = None,
              predicate: Callable[[dict[str, Any]], bool] | None = None, offset: int = 0,
              limit: int | None = 100, newest_first: bool = True) -> list[dict[str, Any]]: ...


class Mailbox(Protocol):
    """The voicemail store: boxes, their messages and the messages' audio."""

    def boxes(self) -> list[Any]: ...
    def messages(self, box: str, folder: Any = None) -> list[Any]: ...
    def audio_path(self, box: str, message_id: str) -> Path: ...
    def delete(self, box: str, message_id: str) -> None: ...
    def mark_emailed(self, box: str, message_id: str) -> Any: ...


class AlarmBoard(Protocol):
    """Alarms the owner sees on the page and the front panel; raised until cleared."""

    def raise_alarm(self, kind: str, text: str, action: str, *, key: str = "", incident: bool = False) -> Any: ...
    def clear(self, kind: str, key: str = "") -> bool: ...


SendSip = Callable[[bytes, str, "tuple[str, int]"], Any]
"""Send a SIP message from the edge's socket: send(data, transport, (host, port))."""

DayRollup = Callable[[date], Any]
"""The statistics roll-up of one local day (appliance.logic.stats.Rollup)."""

RunAcd = Callable[[list], None]
"""Carry out what the ACD decided (ring an agent, write the queue log)."""

CheckNumber = Callable[..., None]
"""Conflict naming the owner when a number is taken: check_free(number, what="number")."""


class SettingsView:
    """A Setting read with brackets (view["sip.port"]), for code written against the Settings object."""

    def __init__(self, setting: Setting):
        self._setting = setting

    def __getitem__(self, key: str) -> Any:
        return self._setting(key)


# --- what the switchboard asks of the rest of the box -------------------------------------------

Locations = Callable[[str], "list[str]"]
"""The contacts (SIP URIs) where an extension's phones are registered now, best first; [] when none."""

FindRingGroup = Callable[[str], "dict[str, Any] | None"]
"""A ring group by one key (its number, or its name), or None when there is none."""

Prompts = Callable[[str, str], "str | None"]
"""The WAV file of a prompt in a language (falling back to English), None (and an alarm) when missing."""


class Dialer(Protocol):
    """How a number outside the box is reached (the trunks), and where an inbound DID rings."""

    def plan(self, caller_ext: str, number: str) -> tuple[Any, list[dict[str, Any]]]: ...
    def plan_callback(self, number: str) -> tuple[Any, list[dict[str, Any]]]: ...
    def inbound_destination(self, did: str, caller: str) -> str | None: ...


class RecordingPolicy(Protocol):
    """Whether a conversation is recorded, and where its file goes (None: the disk is nearly full)."""

    def wanted(self, extensions: list[str], queue: str | None, route_mode: str = "never") -> bool: ...
    def path_for(self, call_id: str) -> Path | None: ...
