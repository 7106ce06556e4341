"""Call flows as data: inbound routes and the nodes a call walks through.

Every node kind and every field is declared once, in `NODE_FIELDS`; the
validator, the JSON round trip and the reference in docs/call-flows.md all
follow that declaration. A flow set is saved as one JSON object:

    {"schema": 1, "version": 7, "language": "en",
     "holidays": ["12-25"], "holiday_ranges": [],
     "routes": [{"name": "main", "did": "", "caller": "", "priority": 10,
                 "destination": "hours"}],
     "nodes": {"hours": {"kind": "time_condition", ...}, ...}}

`schema` is the shape of this JSON (bumped only by code changes); `version`
counts the admin's saves, so that a call always runs one whole version.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from enum import StrEnum

from appliance.logic.flows.schedule import (
    DateRange, HolidayCalendar, Override, WeekSchedule,
)

SCHEMA_VERSION = 1
LANGUAGES = ("en", "pl", "zh")
DIGITS = "0123456789*#"


class NodeKind(StrEnum):
    TIME_CONDITION = "time_condition"
    IVR_MENU = "ivr_menu"
    QUEUE = "queue"
    EXTENSION = "extension"
    RING_GROUP = "ring_group"
    VOICEMAIL = "voicemail"
    PLAY = "play"
    HANGUP = "hangup"
    EXTERNAL = "external"
    LANGUAGE = "language"


# Nodes a call passes through without waiting for the caller; a cycle made
# only of these would spin forever, so the validator rejects it.
PASS_THROUGH = frozenset({NodeKind.TIME_CONDITION, NodeKind.PLAY, NodeKind.LANGUAGE})


class FieldType(StrEnum):
    DESTINATION = "destination"    # id of another node
    CHOICES = "choices"            # {digit: node id}
    TEXT = "text"
    PROMPT = "prompt"              # name of a recorded or generated prompt
    NAME = "name"                  # a queue, ring group or voicemail box name
    EXTENSION = "extension"        # an internal number: digits only
    PHONE_NUMBER = "phone_number"  # an outside number: digits, optional leading +
    NUMBER = "number"
    INTEGER = "integer"
    BOOL = "bool"
    DIGIT = "digit"
    TIMEZONE = "timezone"
    WEEK = "week"
    HOLIDAYS = "holidays"
    HOLIDAY_RANGES = "holiday_ranges"
    OVERRIDE = "override"
    LANGUAGE = "language"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    help: str
    required: bool = True
    default: object = None
    known: str | None = None      # which set of known names the value must be in
    low: float | None = None
    high: float | None = None


def _f(name, type_, help_, **kw) -> FieldSpec:
    return FieldSpec(name, type_, help_, **kw)


T = FieldType
LABEL = _f("label", T.TEXT, "A name for people; the editor shows it instead of the id.",
           required=False)

NODE_FIELDS: dict[NodeKind, tuple[FieldSpec, ...]] = {
    NodeKind.TIME_CONDITION: (
        _f("timezone", T.TIMEZONE, "IANA time zone the schedule is written in, e.g. Europe/Warsaw."),
        _f("week", T.WEEK, "Open intervals per day: {\"mon\": [{\"start\": \"09:00\", "
           "\"end\": \"17:00\"}], ...}; a day not listed is closed."),
        _f("holidays", T.HOLIDAYS, "Closed days: \"2025-11-11\" once, \"12-25\" every year.",
           required=False, default=()),
        _f("holiday_ranges", T.HOLIDAY_RANGES, "Closed periods: [{\"from\": \"2025-12-24\", "
           "\"to\": \"2026-01-01\"}], both days included.", required=False, default=()),
        _f("shared_holidays", T.BOOL, "Also close on the flow set's shared holidays.",
           required=False, default=True),
        _f("override", T.OVERRIDE, "auto, force_open or force_closed.", required=False,
           default=Override.AUTO),
        _f("follows_night_mode", T.BOOL, "Closed while the front panel's night-mode switch "
           "is on.", required=False, default=True),
        _f("open", T.DESTINATION, "Where calls go while open."),
        _f("closed", T.DESTINATION, "Where calls go while closed."),
        LABEL,
    ),
    NodeKind.IVR_MENU: (
        _f("prompt", T.PROMPT, "The menu announcement; digits interrupt it."),
        _f("choices", T.CHOICES, "Digit (0-9, *, #) to node id.", required=False, default={}),
        _f("timeout_s", T.NUMBER, "Seconds to wait for a digit after the prompt.",
           required=False, default=5, low=1, high=60),
        _f("retries", T.INTEGER, "How many more times the menu is offered after an invalid "
           "digit or silence.", required=False, default=2, low=0, high=9),
        _f("invalid_prompt", T.PROMPT, "Played after an invalid digit.", required=False),
        _f("timeout_prompt", T.PROMPT, "Played when the caller pressed nothing.",
           required=False),
        _f("invalid_destination", T.DESTINATION, "Where the caller goes when the retries "
           "are used up."),
        _f("timeout_destination", T.DESTINATION, "Where a silent caller goes when the "
           "retries are used up; if empty, invalid_destination.", required=False),
        _f("direct_dial", T.BOOL, "Callers may dial an extension number directly.",
           required=False, default=False),
        _f("direct_dial_window_s", T.NUMBER, "Seconds allowed between the digits of a "
           "directly dialled extension.", required=False, default=3, low=1, high=10),
        _f("repeat_digit", T.DIGIT, "A digit that plays the menu again (not counted as a "
           "retry).", required=False),
        LABEL,
    ),
    NodeKind.QUEUE: (_f("queue", T.NAME, "Name of the queue.", known="queues"), LABEL),
    NodeKind.EXTENSION: (_f("number", T.EXTENSION, "Extension number.", known="extensions"),
                         LABEL),
    NodeKind.RING_GROUP: (_f("group", T.NAME, "Name of the ring group.", known="ring_groups"),
                          LABEL),
    NodeKind.VOICEMAIL: (_f("box", T.NAME, "Voicemail box.", known="voicemail_boxes"), LABEL),
    NodeKind.PLAY: (
        _f("prompt", T.PROMPT, "Announcement played in full."),
        _f("next", T.DESTINATION, "Where the call goes after the announcement."),
        LABEL,
    ),
    NodeKind.HANGUP: (LABEL,),
    NodeKind.EXTERNAL: (_f("number", T.PHONE_NUMBER, "Outside number to forward the call to."),
                        LABEL),
    NodeKind.LANGUAGE: (
        _f("language", T.LANGUAGE, "Caller's language from here on: " + ", ".join(LANGUAGES)
           + "."),
        _f("next", T.DESTINATION, "Where the call goes next."),
        LABEL,
    ),
}

ROUTE_FIELDS: tuple[FieldSpec, ...] = (
    _f("name", T.TEXT, "Name of the route; unique.", required=False),
    _f("did", T.TEXT, "Number called (DID): exact, or a pattern starting with _; empty "
       "matches any.", required=False, default=""),
    _f("caller", T.TEXT, "Caller's number: exact or _pattern; empty matches any.",
       required=False, default=""),
    _f("priority", T.INTEGER, "Lower is tried first.", required=False, default=10,
       low=0, high=1000),
    _f("destination", T.DESTINATION, "First node of the call."),
)

TOP_FIELDS = ("schema", "version", "language", "holidays", "holiday_ranges", "routes", "nodes")


@dataclass(frozen=True)
class Node:
    id: str

    kind = None   # each subclass names its NodeKind

    def destinations(self) -> list[tuple[str, str]]:
        """(field, node id) of every node this one can send a call to."""
        out = []
        for spec in NODE_FIELDS[self.kind]:
            value = getattr(self, spec.name)
            if spec.type is FieldType.DESTINATION and value:
                out.append((spec.name, value))
            elif spec.type is FieldType.CHOICES:
                out.extend((f"choices[{d}]", target) for d, target in sorted(value.items()))
        return out

    def to_dict(self) -> dict:
        out: dict = {"kind": str(self.kind)}
        for spec in NODE_FIELDS[self.kind]:
            out[spec.name] = to_json(spec, getattr(self, spec.name))
        return out


@dataclass(frozen=True)
class TimeConditionNode(Node):
    timezone: str = "UTC"
    week: WeekSchedule = field(default_factory=WeekSchedule)
    holidays: tuple = ()
    holiday_ranges: tuple[DateRange, ...] = ()
    shared_holidays: bool = True
    override: Override = Override.AUTO
    follows_night_mode: bool = True
    open: str = ""
    closed: str = ""
    label: str | None = None
    kind = NodeKind.TIME_CONDITION

    @property
    def calendar(self) -> HolidayCalendar:
        return HolidayCalendar.build(self.holidays, self.holiday_ranges)


@dataclass(frozen=True)
class IvrMenuNode(Node):
    prompt: str = ""
    choices: dict = field(default_factory=dict)
    timeout_s: float = 5
    retries: int = 2
    invalid_prompt: str | None = None
    timeout_prompt: str | None = None
    invalid_destination: str = ""
    timeout_destination: str | None = None
    direct_dial: bool = False
    direct_dial_window_s: float = 3
    repeat_digit: str | None = None
    label: str | None = None
    kind = NodeKind.IVR_MENU


@dataclass(frozen=True)
class QueueNode(Node):
    queue: str = ""
    label: str | None = None
    kind = NodeKind.QUEUE


@dataclass(frozen=True)
class ExtensionNode(Node):
    number: str = ""
    label: str | None = None
    kind = NodeKind.EXTENSION


@dataclass(frozen=True)
class RingGroupNode(Node):
    group: str = ""
    label: str | None = None
    kind = NodeKind.RING_GROUP


@dataclass(frozen=True)
class VoicemailNode(Node):
    box: str = ""
    label: str | None = None
    kind = NodeKind.VOICEMAIL


@dataclass(frozen=True)
class PlayNode(Node):
    prompt: str = ""
    next: str = ""
    label: str | None = None
    kind = NodeKind.PLAY


@dataclass(frozen=True)
class HangupNode(Node):
    label: str | None = None
    kind = NodeKind.HANGUP


@dataclass(frozen=True)
class ExternalNode(Node):
    number: str = ""
    label: str | None = None
    kind = NodeKind.EXTERNAL


@dataclass(frozen=True)
class LanguageNode(Node):
    language: str = "en"
    next: str = ""
    label: str | None = None
    kind = NodeKind.LANGUAGE


NODE_CLASSES: dict[NodeKind, type[Node]] = {
    cls.kind: cls for cls in (TimeConditionNode, IvrMenuNode, QueueNode, ExtensionNode,
                              RingGroupNode, VoicemailNode, PlayNode, HangupNode,
                              ExternalNode, LanguageNode)
}
for _kind, _cls in NODE_CLASSES.items():
    assert {s.name for s in NODE_FIELDS[_kind]} == {f.name for f in fields(_cls)} - {"id"}, _kind


@dataclass(frozen=True)
class Route:
    destination: str
    name: str | None = None
    did: str = ""
    caller: str = ""
    priority: int = 10

    def to_dict(self) -> dict:
        return {spec.name: getattr(self, spec.name) for spec in ROUTE_FIELDS}


@dataclass(frozen=True)
class FlowSet:
    """One saved version of all routes and nodes; immutable, so a running call keeps its own."""
    routes: tuple[Route, ...]
    nodes: dict[str, Node]
    version: int = 1
    schema: int = SCHEMA_VERSION
    language: str = "en"
    holidays: tuple = ()
    holiday_ranges: tuple[DateRange, ...] = ()

    @property
    def calendar(self) -> HolidayCalendar:
        return HolidayCalendar.build(self.holidays, self.holiday_ranges)

    def next_version(self) -> FlowSet:
        return replace(self, version=self.version + 1)

    def to_dict(self) -> dict:
        return {
            "schema": self.schema,
            "version": self.version,
            "language": self.language,
            "holidays": HolidayCalendar.build(self.holidays).holiday_strings(),
            "holiday_ranges": [r.to_dict() for r in self.holiday_ranges],
            "routes": [r.to_dict() for r in self.routes],
            "nodes": {node_id: node.to_dict() for node_id, node in self.nodes.items()},
        }

    @classmethod
    def from_dict(cls, data: object, **known) -> FlowSet:
        """Parse and validate; FlowInvalid lists every error (warnings do not stop it)."""
        from appliance.logic.flows.validate import load_flows
        return load_flows(data, **known)


def to_json(spec: FieldSpec, value: object) -> object:
    if value is None:
        return None
    if spec.type is FieldType.WEEK:
        return value.to_dict()
    if spec.type is FieldType.HOLIDAYS:
        return HolidayCalendar.build(value).holiday_strings()
    if spec.type is FieldType.HOLIDAY_RANGES:
        return [r.to_dict() for r in value]
    if spec.type is FieldType.CHOICES:
        return dict(sorted(value.items()))
    if spec.type in (FieldType.OVERRIDE, FieldType.LANGUAGE):
        return str(value)
    return value

