"""Validation of a flow set from untrusted JSON: a list of problems, never an exception.

Every problem names where it is (a node, a route or the flow set), the
field, and the reason, so the editor can put the message next to the field.
Errors stop a flow set from being saved; warnings (an unreachable node) do
not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Callable

from appliance.errors import FlowInvalid, ValidationError
from appliance.logic.flows.model import (
    DIGITS, LANGUAGES, NODE_CLASSES, NODE_FIELDS, PASS_THROUGH, ROUTE_FIELDS, SCHEMA_VERSION,
    TOP_FIELDS, FieldSpec, FieldType, FlowSet, NodeKind, Route,
)
from appliance.logic.flows.patterns import compile_pattern
from appliance.logic.flows.schedule import (
    DAYS, DateRange, Interval, Override, WeekSchedule, format_clock_time, load_zone,
    parse_clock_time, parse_date, parse_holiday, schedule_overlaps,
)

NODE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_EXTENSION = re.compile(r"^[0-9]{1,10}$")
_PHONE = re.compile(r"^\+?[0-9*#]{1,32}$")
_MAX_TEXT = 200
KNOWN_SETS = ("queues", "extensions", "ring_groups", "voicemail_boxes", "prompts")
_KNOWN_WORDS = {"queues": "queue", "extensions": "extension", "ring_groups": "ring group",
                "voicemail_boxes": "voicemail box", "prompts": "prompt"}


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class FlowProblem:
    """One fault: `where` is "node", "route" or "flows"; `id` the node id or route name."""
    where: str
    id: str | None
    field: str
    reason: str
    level: Level = Level.ERROR

    @property
    def node(self) -> str | None:
        return self.id if self.where == "node" else None

    def __str__(self) -> str:
        subject = f"{self.where} '{self.id}'" if self.id is not None else self.where
        return f"{subject}: {self.field} {self.reason}".rstrip() if self.field \
            else f"{subject}: {self.reason}"


class _Bad(Exception):
    """A field value is wrong; carries the reason for FlowProblem."""


Report = Callable[[str, str], None]   # (field path, reason)


def validate(data: object, **known: Collection[str] | None) -> list[FlowProblem]:
    """Every problem in `data`; an empty list means it can be saved.

    `known` may give the sets of names that exist on this box (queues,
    extensions, ring_groups, voicemail_boxes, prompts); a set left out is not
    checked.
    """
    return _Parser(known).parse(data)[1]


def load_flows(data: object, **known: Collection[str] | None) -> FlowSet:
    """The FlowSet in `data`, or FlowInvalid listing the errors."""
    flows, problems = _Parser(known).parse(data)
    errors = [p for p in problems if p.level is Level.ERROR]
    if errors or flows is None:
        raise FlowInvalid(errors)
    return flows


class _Parser:
    def __init__(self, known: Mapping[str, Collection[str] | None]):
        unknown = set(known) - set(KNOWN_SETS)
        if unknown:
            raise TypeError(f"unknown sets of names: {sorted(unknown)}")
        self.known = {k: (set(v) if v is not None else None) for k, v in known.items()}
        self.problems: list[FlowProblem] = []

    def problem(self, where: str, id_: str | None, field: str, reason: str,
                level: Level = Level.ERROR) -> None:
        self.problems.append(FlowProblem(where, id_, field, reason, level))

    def parse(self, data: object) -> tuple[FlowSet | None, list[FlowProblem]]:
        if not isinstance(data, dict):
            self.problem("flows", None, "", "must be a JSON object")
            return None, self.problems
        top = lambda field, reason: self.problem("flows", None, field, reason)  # noqa: E731
        for key in data:
            if key not in TOP_FIELDS:
                top(str(key)[:40], "is not a field of a flow set")
        schema = data.get("schema")
        if _is_int(schema) and schema > SCHEMA_VERSION:
            top("schema", f"{schema} is newer than this program understands ({SCHEMA_VERSION})")
        elif schema != SCHEMA_VERSION or not _is_int(schema):
            top("schema", f"must be {SCHEMA_VERSION}")
        version = data.get("version", 1)
        if not _is_int(version) or version < 1:
            top("version", "must be a whole number from 1")
            version = 1
        language = data.get("language", "en")
        if language not in LANGUAGES:
            top("language", f"must be one of {', '.join(LANGUAGES)}")
        holidays = self.value("flows", None, _spec("holidays", FieldType.HOLIDAYS),
                              data.get("holidays", []))
        ranges = self.value("flows", None, _spec("holiday_ranges", FieldType.HOLIDAY_RANGES),
                            data.get("holiday_ranges", []))

        raw_nodes = data.get("nodes", {})
        if not isinstance(raw_nodes, dict):
            top("nodes", "must be an object of node id to node")
            raw_nodes = {}
        node_ids = {k for k in raw_nodes if isinstance(k, str)}
        nodes = {}
        kinds: dict[str, NodeKind] = {}
        edges: dict[str, list[tuple[str, str]]] = {}
        for node_id, raw in raw_nodes.items():
            node = self.node(str(node_id), raw, kinds, edges)
            if node is not None:
                nodes[node_id] = node

        routes = self.routes(data.get("routes", []))
        for n, route in enumerate(routes):
            if route.destination not in node_ids:
                self.problem("route", _route_id(route, n), "destination",
                             f"→ '{route.destination}' does not exist")
        for node_id, out in edges.items():
            for field, target in out:
                if target not in node_ids:
                    self.problem("node", node_id, field, f"→ '{target}' does not exist")
        self.loops(kinds, edges)
        self.unreachable(node_ids, edges, [r.destination for r in routes])

        if any(p.level is Level.ERROR for p in self.problems):
            return None, self.problems
        flows = FlowSet(routes=tuple(routes), nodes=nodes, version=version,
                        schema=SCHEMA_VERSION, language=language, holidays=tuple(holidays),
                        holiday_ranges=tuple(ranges))
        return flows, self.problems

    # --- nodes ----------------------------------------------------------------

    def node(self, node_id: str, raw: object, kinds: dict, edges: dict):
        if not NODE_ID.match(node_id):
            self.problem("node", node_id[:64], "id", "may hold only letters, digits, - and _ "
                         "(1 to 64 of them)")
        if not isinstance(raw, dict):
            self.problem("node", node_id, "", "must be an object with a kind")
            return None
        kind_text = raw.get("kind")
        try:
            kind = NodeKind(kind_text)
        except (ValueError, TypeError):
            self.problem("node", node_id, "kind", f"{_show(kind_text)} is not a node kind "
                         f"({', '.join(NodeKind)})")
            return None
        kinds[node_id] = kind
        specs = {s.name: s for s in NODE_FIELDS[kind]}
        before = len(self.problems)
        for key in raw:
            if key != "kind" and key not in specs:
                self.problem("node", node_id, str(key)[:40], f"is not a field of {kind} nodes")
        values = {}
        for spec in specs.values():
            value = self.value("node", node_id, spec, raw.get(spec.name))
            values[spec.name] = value
        edges[node_id] = [(name, values[name]) for name, s in specs.items()
                          if s.type is FieldType.DESTINATION and values[name]]
        for digit, target in sorted((values.get("choices") or {}).items()):
            edges[node_id].append((f"choices[{digit}]", target))
        if kind is NodeKind.TIME_CONDITION and values["week"] is not None:
            self.overlaps(node_id, values["week"])
        if kind is NodeKind.IVR_MENU:
            self.menu(node_id, values)
        if len(self.problems) > before:
            return None
        return NODE_CLASSES[kind](id=node_id, **values)

    def menu(self, node_id: str, values: dict) -> None:
        choices = values.get("choices") or {}
        repeat = values.get("repeat_digit")
        if repeat is not None and repeat in choices:
            self.problem("node", node_id, "repeat_digit",
                         f"'{repeat}' is also a choice; a digit can do only one thing")
        if not choices and not values.get("direct_dial"):
            self.problem("node", node_id, "choices", "is empty and direct_dial is off: "
                         "a caller could only wait for the timeout")

    def overlaps(self, node_id: str, week: WeekSchedule) -> None:
        for day, n, earlier_day, earlier_n in schedule_overlaps(week):
            other = week.days[earlier_day][earlier_n]
            span = f"{format_clock_time(other.start)}-{format_clock_time(other.end)}"
            self.problem("node", node_id, f"week.{day}[{n}]",
                         f"overlaps week.{earlier_day}[{earlier_n}] ({span}"
                         f"{' overnight' if other.overnight else ''})")

    # --- values ---------------------------------------------------------------

    def value(self, where: str, id_: str | None, spec: FieldSpec, raw: object) -> object:
        """The parsed value, or None after reporting what is wrong."""
        report = lambda field, reason: self.problem(where, id_, field, reason)  # noqa: E731
        if raw is None:
            if spec.required:
                report(spec.name, "is missing")
                return None
            return _copy_default(spec.default)
        try:
            return _PARSERS[spec.type](self, spec, raw, report)
        except _Bad as bad:
            report(spec.name, str(bad))
            return None

    def check_known(self, spec: FieldSpec, value: str) -> None:
        names = self.known.get(spec.known) if spec.known else None
        if names is not None and value not in names:
            raise _Bad(f"'{value}' is not a known {_KNOWN_WORDS[spec.known]}")

    # --- routes ---------------------------------------------------------------

    def routes(self, raw: object) -> list[Route]:
        if not isinstance(raw, list):
            self.problem("flows", None, "routes", "must be a list of routes")
            return []
        routes = []
        names = set()
        for n, item in enumerate(raw):
            rid = f"#{n + 1}"
            if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]:
                rid = item["name"][:64]
            if not isinstance(item, dict):
                self.problem("route", rid, "", "must be an object")
                continue
            before = len(self.problems)
            for key in item:
                if key not in {s.name for s in ROUTE_FIELDS}:
                    self.problem("route", rid, str(key)[:40], "is not a field of a route")
            values = {s.name: self.value("route", rid, s, item.get(s.name)) for s in ROUTE_FIELDS}
            for name in ("did", "caller"):
                if values[name]:
                    try:
                        compile_pattern(values[name])
                    except ValidationError as e:
                        self.problem("route", rid, name, str(e))
            if values["name"]:
                if values["name"] in names:
                    self.problem("route", rid, "name", "is used by another route")
                names.add(values["name"])
            if len(self.problems) == before:
                routes.append(Route(**values))
        return routes

    # --- graph ----------------------------------------------------------------

    def loops(self, kinds: dict[str, NodeKind], edges: dict) -> None:
        """Report cycles made only of nodes that never wait for the caller.

        An IVR menu on the way breaks a cycle legitimately: the caller is
        asked, and silence ends in a timeout destination. A chain of time
        conditions, plays and language switches that comes back to itself
        would spin forever (FreePBX lets a time condition point to itself).
        """
        passing = {n for n, k in kinds.items() if k in PASS_THROUGH}
        adjacent = {n: sorted((f, t) for f, t in edges.get(n, []) if t in passing)
                    for n in passing}
        state: dict[str, int] = {}   # 1: on the current path, 2: done
        for start in sorted(passing):
            if start in state:
                continue
            state[start] = 1
            path = [start]
            stack = [iter(adjacent[start])]
            while stack:
                step = next(stack[-1], None)
                if step is None:
                    state[path.pop()] = 2
                    stack.pop()
                    continue
                field, target = step
                seen = state.get(target)
                if seen is None:
                    state[target] = 1
                    path.append(target)
                    stack.append(iter(adjacent[target]))
                elif seen == 1:
                    cycle = path[path.index(target):] + [target]
                    self.problem("node", path[-1], field,
                                 f"→ '{target}' makes a loop: {' → '.join(cycle)}")

    def unreachable(self, node_ids: set[str], edges: dict, starts: list[str]) -> None:
        reached = set()
        todo = [s for s in starts if s in node_ids]
        while todo:
            node_id = todo.pop()
            if node_id in reached:
                continue
            reached.add(node_id)
            todo.extend(t for _, t in edges.get(node_id, []) if t in node_ids)
        for node_id in sorted(node_ids - reached):
            self.problem("node", node_id, "", "is not reached from any inbound route",
                         Level.WARNING)


# --- value parsers: (parser, spec, raw, report) -> value, or raise _Bad ----------

def _parse_destination(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> str:
    if not isinstance(raw, str) or not NODE_ID.match(raw):
        raise _Bad(f"{_show(raw)} is not a node id")
    return raw


def _parse_choices(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> dict:
    if not isinstance(raw, dict):
        raise _Bad("must be an object of digit to node id")
    out = {}
    for digit, target in raw.items():
        if not isinstance(digit, str) or len(digit) != 1 or digit not in DIGITS:
            report(f"choices[{str(digit)[:10]}]", "is not a key: use one of 0-9, * or #")
        elif not isinstance(target, str) or not NODE_ID.match(target):
            report(f"choices[{digit}]", f"{_show(target)} is not a node id")
        else:
            out[digit] = target
    return out


def _parse_text(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> str:
    if not isinstance(raw, str) or len(raw) > _MAX_TEXT or any(ord(c) < 32 for c in raw):
        raise _Bad(f"must be text of at most {_MAX_TEXT} characters on one line")
    return raw


def _parse_name(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _Bad("must not be empty")
    value = _parse_text(p, spec, raw, report)
    p.check_known(spec, value)
    return value


def _parse_extension(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> str:
    if not isinstance(raw, str) or not _EXTENSION.match(raw):
        raise _Bad(f"{_show(raw)} is not an extension number (1 to 10 digits)")
    p.check_known(spec, raw)
    return raw


def _parse_phone(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> str:
    if not isinstance(raw, str) or not _PHONE.match(raw):
        raise _Bad(f"{_show(raw)} is not a phone number (digits, an optional leading +)")
    return raw


def _parse_number(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> float:
    wanted = "a whole number" if spec.type is FieldType.INTEGER else "a number"
    ok = _is_int(raw) if spec.type is FieldType.INTEGER else (
        isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw))
    if not ok or (spec.low is not None and raw < spec.low) or (
            spec.high is not None and raw > spec.high):
        raise _Bad(f"must be {wanted} from {spec.low:g} to {spec.high:g}")
    return raw


def _parse_bool(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> bool:
    if not isinstance(raw, bool):
        raise _Bad("must be true or false")
    return raw


def _parse_digit(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> str:
    if not isinstance(raw, str) or len(raw) != 1 or raw not in DIGITS:
        raise _Bad(f"{_show(raw)} is not one of 0-9, * or #")
    return raw


def _parse_prompt(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> str:
    value = _parse_name(p, spec, raw, report)
    prompts = p.known.get("prompts")
    if prompts is not None and value not in prompts:
        raise _Bad(f"'{value}' is not a known prompt")
    return value


def _parse_timezone(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> str:
    try:
        load_zone(raw)
    except ValidationError as e:
        raise _Bad(str(e)) from None
    return raw


def _parse_override(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> Override:
    try:
        return Override(raw)
    except (ValueError, TypeError):
        raise _Bad(f"must be one of {', '.join(Override)}") from None


def _parse_language(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> str:
    if raw not in LANGUAGES:
        raise _Bad(f"must be one of {', '.join(LANGUAGES)}")
    return raw


def _parse_week(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> WeekSchedule:
    if not isinstance(raw, dict):
        raise _Bad("must be an object of day (mon ... sun) to a list of intervals")
    days = {}
    failed = False
    for day, intervals in raw.items():
        where = f"week.{str(day)[:10]}"
        if day not in DAYS:
            report(where, f"is not a day: use {', '.join(DAYS)}")
            failed = True
            continue
        if not isinstance(intervals, list):
            report(where, "must be a list of intervals")
            failed = True
            continue
        parsed = []
        for n, item in enumerate(intervals):
            interval = _interval(item, f"{where}[{n}]", report)
            if interval is None:
                failed = True
            else:
                parsed.append(interval)
        days[day] = tuple(parsed)
    if failed:
        return None
    return WeekSchedule({d: days[d] for d in DAYS if d in days})


def _interval(item: object, where: str, report: Report) -> Interval | None:
    if not isinstance(item, dict):
        report(where, "must be an object like {\"start\": \"09:00\", \"end\": \"17:00\"}")
        return None
    extra = set(item) - {"start", "end", "overnight"}
    if extra:
        report(f"{where}.{str(sorted(map(str, extra))[0])[:20]}", "is not a field of an interval")
        return None
    overnight = item.get("overnight", False)
    if not isinstance(overnight, bool):
        report(f"{where}.overnight", "must be true or false")
        return None
    try:
        start = parse_clock_time(item.get("start"))
    except ValidationError as e:
        report(f"{where}.start", str(e) if "start" in item else "is missing")
        return None
    try:
        end = parse_clock_time(item.get("end"), allow_24=not overnight)
    except ValidationError as e:
        report(f"{where}.end", str(e) if "end" in item else "is missing")
        return None
    if overnight and end >= start:
        report(f"{where}.end", f"{format_clock_time(end)} is not before the start "
               f"{format_clock_time(start)}, as an overnight interval's end must be")
        return None
    if not overnight and end < start:
        report(f"{where}.end", f"{format_clock_time(end)} is before the start "
               f"{format_clock_time(start)} (mark the interval \"overnight\" if it runs past "
               "midnight)")
        return None
    if not overnight and end == start:
        report(f"{where}.end", f"{format_clock_time(end)} equals the start: the interval is "
               "empty")
        return None
    return Interval(start, end, overnight)


def _parse_holidays(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> tuple:
    if not isinstance(raw, list):
        raise _Bad("must be a list of dates like 2025-11-11 or 12-25")
    out = []
    for n, item in enumerate(raw):
        try:
            out.append(parse_holiday(item))
        except ValidationError as e:
            report(f"{spec.name}[{n}]", str(e))
    dated = sorted({h for h in out if not isinstance(h, tuple)})
    yearly = sorted({h for h in out if isinstance(h, tuple)})
    return tuple(dated) + tuple(yearly)


def _parse_ranges(p: _Parser, spec: FieldSpec, raw: object, report: Report) -> tuple:
    if not isinstance(raw, list):
        raise _Bad("must be a list of {\"from\": date, \"to\": date}")
    out = []
    for n, item in enumerate(raw):
        where = f"{spec.name}[{n}]"
        if not isinstance(item, dict) or set(item) != {"from", "to"}:
            report(where, "must be an object with exactly from and to")
            continue
        try:
            first, last = parse_date(item["from"]), parse_date(item["to"])
        except ValidationError as e:
            report(where, str(e))
            continue
        if last < first:
            report(f"{where}.to", f"{last} is before from {first}")
            continue
        out.append(DateRange(first, last))
    return tuple(out)


_PARSERS = {
    FieldType.DESTINATION: _parse_destination,
    FieldType.CHOICES: _parse_choices,
    FieldType.TEXT: _parse_text,
    FieldType.PROMPT: _parse_prompt,
    FieldType.NAME: _parse_name,
    FieldType.EXTENSION: _parse_extension,
    FieldType.PHONE_NUMBER: _parse_phone,
    FieldType.NUMBER: _parse_number,
    FieldType.INTEGER: _parse_number,
    FieldType.BOOL: _parse_bool,
    FieldType.DIGIT: _parse_digit,
    FieldType.TIMEZONE: _parse_timezone,
    FieldType.WEEK: _parse_week,
    FieldType.HOLIDAYS: _parse_holidays,
    FieldType.HOLIDAY_RANGES: _parse_ranges,
    FieldType.OVERRIDE: _parse_override,
    FieldType.LANGUAGE: _parse_language,
}
assert set(_PARSERS) == set(FieldType)


def _spec(name: str, type_: FieldType) -> FieldSpec:
    return FieldSpec(name, type_, "", required=False, default=())


def _copy_default(default: object) -> object:
    return dict(default) if isinstance(default, dict) else default


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _route_id(route: Route, n: int) -> str:
    return route.name or f"#{n + 1}"
