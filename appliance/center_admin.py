"""The contact center's configuration: queues, agents and call flows, stored and validated.

What an admin (or a CRM through the control API) changes here takes effect
at once in the running ACD and for the next call that enters a flow.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from appliance.errors import Conflict, FlowInvalid, NotFound, ValidationError
from appliance.logic.acd import ContactCenter, QueueConfig
from appliance.logic.flows import FlowSet, Override, load_flows, validate
from appliance.logic.flows.validate import FlowProblem
from appliance.ports import (Clock, ExtensionNumbers, FindExtension, Names, Paths, Publish, Registered, RunAcd,
                             Tables)
from appliance.prompts import prompt_dest, synthesize

log = logging.getLogger("callbox.center")

AGENT_FIELDS = {"queues", "skills"}


def _field(name: str, value: Any):
    return lambda doc: doc.get(name) == value


class CenterAdmin:
    """Queues, agents and call flows; the stored ones are loaded when it is made.

    `route_clashes(routes)` names the routes whose number is another's (`Numbers.route_clashes`);
    `run_acd` carries out what the ACD decided; the names ports say what a flow may point at.
    """

    def __init__(self, *, center: ContactCenter, tables: Tables, clock: Clock, publish: Publish, paths: Paths,
                 extension: FindExtension, extension_numbers: ExtensionNumbers, registered: Registered,
                 run_acd: RunAcd, ring_groups: Names, voicemail_boxes: Names,
                 route_clashes: Callable[[Any], list[tuple[str, str]]]):
        self.center = center
        self.tables = tables
        self.clock = clock
        self.publish = publish
        self.prompts_dir = paths.folder("prompts")
        self.extension = extension
        self.extension_numbers = extension_numbers
        self.registered = registered
        self.run_acd = run_acd
        self.ring_groups = ring_groups
        self.voicemail_boxes = voicemail_boxes
        self.route_clashes = route_clashes
        self.flows: FlowSet | None = None
        self.load()

    # --- loading ------------------------------------------------------------------------

    def load(self) -> None:
        for doc in self.tables("queues").all():
            try:
                self.center.add_queue(QueueConfig.from_dict(dict(doc)))
            except ValidationError as e:
                log.error("skipping a stored queue: %s", e)
        for doc in self.tables("agents").all():
            self._add_agent(dict(doc))
        flows = self.tables("flows").all()
        if flows:
            latest = max(flows, key=lambda d: d.get("version", 0))
            try:
                self.flows = load_flows(dict(latest))
            except FlowInvalid as e:
                log.error("stored call flows do not validate (%s); no flows are active", e)

    def _add_agent(self, doc: dict[str, Any]) -> None:
        ext = self.extension(doc["extension"])
        name = ext["name"] if ext else doc["extension"]
        try:
            self.center.add_agent(doc["extension"], name, doc.get("skills") or {}, queues=doc.get("queues") or {})
        except (ValidationError, Conflict) as e:
            log.error("skipping agent %s: %s", doc["extension"], e)
            return
        self.center.phone_changed(doc["extension"], self.registered(doc["extension"]))

    # --- queues ------------------------------------------------------------------------

    def queues(self) -> list[dict[str, Any]]:
        out = []
        for name in self.center.queue_names():
            cfg = self.center.queue_config(name)
            waiting = self.center.waiting(name)
            out.append({"name": name, "strategy": str(cfg.strategy), "survey": cfg.survey, "waiting": len(waiting),
                        "longest_wait_s": max((self.clock() - c.joined_at for c in waiting), default=0.0),
                        "members": [m.agent_id for m in self.center.members(name)]})
        return out

    def create_queue(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ValidationError("body: must be a JSON object")
        cfg = QueueConfig.from_dict(data)
        if cfg.name in self.center.queue_names():
            raise Conflict(f"queue {cfg.name} exists already")
        self.center.add_queue(cfg)
        self.tables("queues").insert(dict(data))
        self.publish("queue_config", action="created", queue=cfg.name)
        self._make_whisper(cfg.name)
        return {"name": cfg.name}

    def change_queue(self, name: str, data: Any) -> dict[str, Any]:
        """Change some of a queue's settings (not its name); the rest stay as they were."""
        if not isinstance(data, dict):
            raise ValidationError("body: must be a JSON object")
        if name not in self.center.queue_names():
            raise NotFound(f"no queue {name}")
        if data.get("name", name) != name:
            raise ValidationError("name: a queue cannot be renamed")
        table = self.tables("queues")
        stored = table.get(_field("name", name)) or {"name": name}
        doc = {**dict(stored), **data}
        cfg = QueueConfig.from_dict(doc)
        self.center.change_queue(cfg)
        table.update(doc, _field("name", name))
        self.publish("queue_config", action="changed", queue=name)
        return doc

    def _make_whisper(self, queue: str) -> None:
        """The whisper agents hear on answer names the queue: spoken once, in the background."""
        def speak() -> None:
            try:
                synthesize(queue.replace("-", " ").replace("_", " "), "en",
                           prompt_dest(self.prompts_dir, f"queue-{queue}", "en"))
            except Exception as e:  # no espeak-ng: the agent gets no whisper, nothing else changes
                log.warning("no whisper prompt for queue %s: %s", queue, e)

        threading.Thread(target=speak, name=f"whisper-{queue}", daemon=True).start()

    # --- agents ---------------------------------------------------------------------------

    def agents(self) -> list[dict[str, Any]]:
        return [{"extension": a.id, "name": a.name, "status": str(a.status), "state": str(a.state),
                 "break_reason": a.break_reason, "queues": sorted(a.queues)}
                for a in self.center.agents()]

    def create_agent(self, extension: str, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or set(data) - AGENT_FIELDS:
            raise ValidationError(f"body: an object with {', '.join(sorted(AGENT_FIELDS))}")
        if self.extension(extension) is None:
            raise NotFound(f"extension {extension} does not exist")
        queues = data.get("queues") or {}
        if isinstance(queues, list):
            queues = {q: 1 for q in queues}
        unknown = [q for q in queues if q not in self.center.queue_names()]
        if unknown:
            raise ValidationError(f"queues: no queue {unknown[0]!r}")
        if any(a.id == extension for a in self.center.agents()):
            raise Conflict(f"extension {extension} is an agent already")
        doc = {"extension": extension, "queues": queues, "skills": data.get("skills") or {}}
        self._add_agent(doc)
        self.tables("agents").insert(doc)
        return doc

    def agent_action(self, extension: str, action: str, data: Any) -> dict[str, Any]:
        if not any(a.id == extension for a in self.center.agents()):
            raise NotFound(f"extension {extension} is not an agent")
        data = data if isinstance(data, dict) else {}
        if action == "login":
            out = self.center.agent_login(extension, data.get("queues"))
        elif action == "logout":
            out = self.center.agent_logout(extension)
        elif action == "break":
            out = self.center.agent_go_on_break(extension, str(data.get("reason") or "break")[:40])
        elif action == "available":
            out = self.center.agent_available(extension)
        else:
            raise NotFound(f"no agent action {action!r}; use login, logout, break or available")
        self._run(out)
        agent = self.center.agent(extension)
        self.publish("agent", extension=extension, status=str(agent.status), state=str(agent.state))
        return {"extension": extension, "status": str(agent.status), "state": str(agent.state)}

    def _run(self, commands: list) -> None:
        self.run_acd(commands)

    # --- flows ------------------------------------------------------------------------------

    def known_names(self) -> dict[str, Any]:
        return {"queues": set(self.center.queue_names()), "extensions": set(self.extension_numbers()),
                "ring_groups": set(self.ring_groups()),
                "voicemail_boxes": set(self.extension_numbers()) | set(self.center.queue_names())
                | set(self.voicemail_boxes())}

    def _check_route_numbers(self, data: dict[str, Any]) -> None:
        """A route's number must not be an extension's, a ring group's, a shared box's or a feature code."""
        clashes = self.route_clashes(data.get("routes"))
        if clashes:
            raise FlowInvalid([FlowProblem("route", name, "did", why) for name, why in clashes])

    def get_flows(self) -> dict[str, Any]:
        if self.flows is None:
            raise NotFound("no call flows yet")
        return self.flows.to_dict()

    def put_flows(self, data: Any) -> dict[str, Any]:
        problems = [p for p in validate(data, **self.known_names()) if str(p.level).lower() == "error"]
        if problems:
            raise FlowInvalid(problems)
        self._check_route_numbers(data)
        flows: FlowSet = load_flows(data, **self.known_names())
        version = 1 + max((d.get("version", 0) for d in self.tables("flows").all()), default=0)
        doc = flows.to_dict() | {"version": version}
        self.tables("flows").insert(doc)
        self.flows = load_flows(doc, **self.known_names())
        self.publish("flows", version=version)
        return {"version": version, "warnings": [str(p) for p in validate(data, **self.known_names())
                                                 if str(p.level).lower() != "error"]}

    # --- time conditions forced open or closed ------------------------------------------------

    def flow_overrides(self) -> dict:
        """Time conditions the admin forced open or closed (kept in the store, so a restart keeps them)."""
        return {d["node"]: Override(d["override"]) for d in self.tables("flow_overrides").all()}

    def set_flow_override(self, data: Any) -> dict:
        if not isinstance(data, dict) or not isinstance(data.get("node"), str):
            raise ValidationError("body: {node, override: auto|force_open|force_closed}")
        try:
            override = Override(data.get("override", "auto"))
        except ValueError:
            raise ValidationError("override: auto, force_open or force_closed") from None
        node = self.flows.nodes.get(data["node"]) if self.flows else None
        if node is None or getattr(node, "kind", "") != "time_condition":
            raise NotFound(f"no time condition {data['node']!r} in the call flows")
        table = self.tables("flow_overrides")
        table.remove(_field("node", data["node"]))
        if override != Override.AUTO:
            table.insert({"node": data["node"], "override": override.value})
        self.publish("flows", override=override.value, node=data["node"])
        return {"node": data["node"], "override": override.value}
