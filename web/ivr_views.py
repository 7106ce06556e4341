"""The IVR editor: the call flows drawn as a tree, the core's problems by node, and the
node form generated from NODE_FIELDS (a node field declared in the core appears here with
no change). No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

from appliance.logic.flows.model import DIGITS, LANGUAGES, NODE_FIELDS, FieldType, NodeKind
from appliance.logic.flows.schedule import DAYS


@dataclass
class TreeNode:
    """A node as the editor draws it, with the edges to the nodes it sends calls to."""

    id: str
    kind: str
    label: str
    summary: str
    problems: list[str] = field(default_factory=list)
    edges: list[tuple[str, "TreeNode | str"]] = field(default_factory=list)  # str: shown above
    missing: bool = False


def problems_by_node(problems: list[Mapping[str, Any]]) -> tuple[dict[str, list[str]], list[str]]:
    """({node id: [messages]}, other messages) from the API's problem list."""
    nodes: dict[str, list[str]] = {}
    other: list[str] = []
    for p in problems:
        message = str(p.get("message") or f"{p.get('field', '')} {p.get('reason', '')}".strip())
        if p.get("where") == "node" and p.get("id"):
            nodes.setdefault(str(p["id"]), []).append(message)
        else:
            other.append(message)
    return nodes, other


def _edges(node: Mapping[str, Any]) -> list[tuple[str, str]]:
    kind = node.get("kind")
    try:
        specs = NODE_FIELDS[NodeKind(kind)]
    except ValueError:
        return []
    out = []
    for spec in specs:
        value = node.get(spec.name)
        if spec.type is FieldType.DESTINATION and value:
            out.append((spec.name.replace("_", " "), str(value)))
        elif spec.type is FieldType.CHOICES and isinstance(value, Mapping):
            out.extend((f"press {digit}", str(dest)) for digit, dest in sorted(value.items()))
    return out


def _summary(node: Mapping[str, Any]) -> str:
    kind = str(node.get("kind") or "")
    if kind == "queue":
        return f"queue {node.get('queue')}"
    if kind in ("extension", "external"):
        return f"rings {node.get('number')}"
    if kind == "voicemail":
        return f"voicemail box {node.get('box')}"
    if kind == "ring_group":
        return f"ring group {node.get('group')}"
    if kind in ("play", "ivr_menu"):
        return f"prompt {node.get('prompt')}"
    if kind == "time_condition":
        return f"{week_text(node.get('week') or {}).replace(chr(10), '; ')} ({node.get('timezone')})"
    if kind == "language":
        return f"language {node.get('language')}"
    return ""


def flow_tree(flows: Mapping[str, Any], problems: dict[str, list[str]] | None = None
              ) -> tuple[list[tuple[Mapping[str, Any], TreeNode]], list[TreeNode]]:
    """(routes with the tree each leads into, nodes that no route reaches).

    A node is drawn in full the first time the walk meets it; later meetings (a menu
    choice back to the menu, two routes to one node) refer to it by id instead.
    """
    nodes = flows.get("nodes") or {}
    problems = problems or {}
    drawn: set[str] = set()

    def build(node_id: str) -> TreeNode | str:
        if node_id in drawn:
            return node_id
        node = nodes.get(node_id)
        if not isinstance(node, Mapping):
            return TreeNode(node_id, "?", node_id, "no such node",
                            problems.get(node_id, []), missing=True)
        drawn.add(node_id)
        tree = TreeNode(node_id, str(node.get("kind") or "?"), str(node.get("label") or node_id),
                        _summary(node), problems.get(node_id, []))
        tree.edges = [(label, build(dest)) for label, dest in _edges(node)]
        return tree

    routes = [(route, build(str(route.get("destination") or "")))
              for route in flows.get("routes") or [] if isinstance(route, Mapping)]
    routes = [(r, t if isinstance(t, TreeNode) else TreeNode(t, "", t, "shown above"))
              for r, t in routes]
    orphans = [t for t in (build(n) for n in sorted(nodes)) if isinstance(t, TreeNode)]
    return routes, orphans


@dataclass(frozen=True)
class NodeField:
    """One input of the node form."""

    name: str
    type: str
    kind: str            # "text", "number", "checkbox", "select", "textarea"
    help: str
    required: bool
    value: Any
    choices: list[str] | None = None


def node_form(kind: str, node: Mapping[str, Any], node_ids: list[str],
              submitted: Mapping[str, Any] | None = None) -> list[NodeField]:
    """The fields of one node kind, filled from the node (or from a refused submission)."""
    out = []
    for spec in NODE_FIELDS[NodeKind(kind)]:
        t = spec.type
        value = (submitted or {}).get(spec.name, field_text(t, node.get(spec.name, spec.default)))
        choices = None
        input_kind = "text"
        if t is FieldType.DESTINATION:
            input_kind, choices = "select", ([] if spec.required else [""]) + node_ids
        elif t is FieldType.BOOL:
            input_kind = "checkbox"
        elif t in (FieldType.NUMBER, FieldType.INTEGER):
            input_kind = "number"
        elif t is FieldType.DIGIT:
            input_kind, choices = "select", [""] + list(DIGITS)
        elif t is FieldType.LANGUAGE:
            input_kind, choices = "select", list(LANGUAGES)
        elif t is FieldType.OVERRIDE:
            input_kind, choices = "select", ["auto", "force_open", "force_closed"]
        elif t in (FieldType.CHOICES, FieldType.WEEK, FieldType.HOLIDAY_RANGES):
            input_kind = "textarea"
        help_text = spec.help + {
            FieldType.CHOICES: " One per line: the digit, a space, the node (“1 sales”).",
            FieldType.WEEK: " One per line: day and hours (“mon 09:00-17:00”, "
                            "“fri 22:00-06:00 overnight”).",
            FieldType.HOLIDAY_RANGES: " One per line: first and last day (“2025-12-24 2026-01-01”).",
            FieldType.HOLIDAYS: " Separated by commas.",
        }.get(t, "")
        out.append(NodeField(spec.name, str(t), input_kind, help_text, spec.required, value,
                             choices))
    return out


def field_text(t: FieldType, value: Any) -> Any:
    """A node field's value as its input shows it."""
    if t is FieldType.BOOL:
        return bool(value)
    if value is None:
        return ""
    if t is FieldType.CHOICES and isinstance(value, Mapping):
        return "\n".join(f"{k} {v}" for k, v in sorted(value.items()))
    if t is FieldType.WEEK and isinstance(value, Mapping):
        return week_text(value)
    if t is FieldType.HOLIDAYS and isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if t is FieldType.HOLIDAY_RANGES and isinstance(value, (list, tuple)):
        return "\n".join(f"{r.get('from')} {r.get('to')}" for r in value if isinstance(r, Mapping))
    if isinstance(value, Enum):
        return value.value
    return str(value)


def week_text(week: Mapping[str, Any]) -> str:
    lines = []
    for day in DAYS:
        for iv in week.get(day) or []:
            if isinstance(iv, Mapping):
                lines.append(f"{day} {iv.get('start')}-{iv.get('end')}"
                             + (" overnight" if iv.get("overnight") else ""))
    return "\n".join(lines)


def parse_node_form(kind: str, form: Mapping[str, str]
                    ) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """(node, errors, submitted) from the node form. Only the shape is checked here;
    what the values mean (a queue that exists, a loop) is the core's to judge."""
    node: dict[str, Any] = {"kind": kind}
    errors: dict[str, str] = {}
    submitted: dict[str, Any] = {}
    for spec in NODE_FIELDS[NodeKind(kind)]:
        t = spec.type
        raw = form.get(spec.name)
        if t is FieldType.BOOL:
            node[spec.name] = submitted[spec.name] = raw is not None
            continue
        raw = (raw or "").strip()
        submitted[spec.name] = raw
        if raw == "":
            continue  # left out: the default, or a missing required field the core names
        try:
            node[spec.name] = _parse_field(t, raw)
        except ValueError as exc:
            errors[spec.name] = str(exc)
    return node, errors, submitted


def _parse_field(t: FieldType, raw: str) -> Any:
    if t is FieldType.NUMBER:
        try:
            number = float(raw)
        except ValueError:
            raise ValueError("must be a number") from None
        return int(number) if number.is_integer() else number
    if t is FieldType.INTEGER:
        try:
            return int(raw)
        except ValueError:
            raise ValueError("must be a whole number") from None
    if t is FieldType.CHOICES:
        choices = {}
        for line in filter(None, (x.strip() for x in raw.splitlines())):
            digit, _, dest = line.partition(" ")
            if not dest.strip():
                raise ValueError(f"write the digit, a space and the node: “{line}”")
            choices[digit] = dest.strip()
        return choices
    if t is FieldType.WEEK:
        week: dict[str, list[dict[str, Any]]] = {}
        for line in filter(None, (x.strip() for x in raw.splitlines())):
            parts = line.split()
            span = parts[1].split("-") if len(parts) >= 2 else []
            if len(span) != 2 or len(parts) > 3 or (len(parts) == 3 and parts[2] != "overnight"):
                raise ValueError(f"write a day and hours, e.g. “mon 09:00-17:00”: “{line}”")
            interval: dict[str, Any] = {"start": span[0], "end": span[1]}
            if len(parts) == 3:
                interval["overnight"] = True
            week.setdefault(parts[0].lower(), []).append(interval)
        return week
    if t is FieldType.HOLIDAYS:
        return [h.strip() for h in raw.split(",") if h.strip()]
    if t is FieldType.HOLIDAY_RANGES:
        ranges = []
        for line in filter(None, (x.strip() for x in raw.splitlines())):
            parts = line.split()
            if len(parts) != 2:
                raise ValueError(f"write the first and the last day: “{line}”")
            ranges.append({"from": parts[0], "to": parts[1]})
        return ranges
    return raw
