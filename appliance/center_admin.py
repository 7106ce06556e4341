"""The contact center's configuration: queues, agents and call flows, stored and validated.

What an admin (or a CRM through the control API) changes here takes effect
at once in the running ACD and for the next call that enters a flow.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from appliance.errors import Conflict, FlowInvalid, NotFound, ValidationError
from appliance.logic.acd import ContactCenter, QueueConfig
from appliance.logic.flows import FlowSet, load_flows, validate

if TYPE_CHECKING:
    from appliance.core import Core

log = logging.getLogger("callbox.center")

AGENT_FIELDS = {"queues", "skills"}


def _field(name: str, value: Any):
    return lambda doc: doc.get(name) == value


class CenterAdmin:
    def __init__(self, core: "Core"):
        self.core = core
        self.center: ContactCenter = core.contact_center

    # --- loading ------------------------------------------------------------------------

    def load(self) -> None:
        store = self.core.store
        for doc in store.table("queues").all():
            try:
                self.center.add_queue(QueueConfig.from_dict(dict(doc)))
            except ValidationError as e:
                log.error("skipping a stored queue: %s", e)
        for doc in store.table("agents").all():
            self._add_agent(dict(doc))
        flows = store.table("flows").all()
        if flows:
            latest = max(flows, key=lambda d: d.get("version", 0))
            try:
                self.core.flows = load_flows(dict(latest))
            except FlowInvalid as e:
                log.error("stored call flows do not validate (%s); no flows are active", e)

    def _add_agent(self, doc: dict[str, Any]) -> None:
        ext = self.core.extension_or_none(doc["extension"])
        name = ext["name"] if ext else doc["extension"]
        try:
            self.center.add_agent(doc["extension"], name, doc.get("skills") or {}, queues=doc.get("queues") or {})
        except (ValidationError, Conflict) as e:
            log.error("skipping agent %s: %s", doc["extension"], e)
            return
        registrar = getattr(self.core, "registrar", None)   # not yet while the core is being built
        if registrar is not None:
            self.center.phone_changed(doc["extension"], bool(registrar.lookup(doc["extension"])))

    # --- queues ------------------------------------------------------------------------

    def queues(self) -> list[dict[str, Any]]:
        out = []
        for name in self.center.queue_names():
            cfg = self.center.queue_config(name)
            waiting = self.center.waiting(name)
            out.append({"name": name, "strategy": str(cfg.strategy), "waiting": len(waiting),
                        "longest_wait_s": max((self.core.clock() - c.joined_at for c in waiting), default=0.0),
                        "members": [m.agent_id for m in self.center.members(name)]})
        return out

    def create_queue(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ValidationError("body: must be a JSON object")
        cfg = QueueConfig.from_dict(data)
        if cfg.name in self.center.queue_names():
            raise Conflict(f"queue {cfg.name} exists already")
        self.center.add_queue(cfg)
        self.core.store.table("queues").insert(dict(data))
        self.core.events.publish("queue_config", action="created", queue=cfg.name)
        self._make_whisper(cfg.name)
        return {"name": cfg.name}

    def _make_whisper(self, queue: str) -> None:
        """The whisper agents hear on answer names the queue: spoken once, in the background."""
        import threading

        def speak() -> None:
            from appliance.prompts import prompt_dest, synthesize
            try:
                synthesize(queue.replace("-", " ").replace("_", " "), "en",
                           prompt_dest(self.core.data_dir / "prompts", f"queue-{queue}", "en"))
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
        if self.core.extension_or_none(extension) is None:
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
        self.core.store.table("agents").insert(doc)
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
        self.core.events.publish("agent", extension=extension, status=str(agent.status), state=str(agent.state))
        return {"extension": extension, "status": str(agent.status), "state": str(agent.state)}

    def _run(self, commands: list) -> None:
        sb = self.core.switchboard
        if sb is not None:
            sb.run_acd(commands)
        else:
            for cmd in commands:
                entry = getattr(cmd, "entry", None)
                if entry is not None:
                    self.core.queue_log.append(entry.to_dict())

    # --- flows ------------------------------------------------------------------------------

    def known_names(self) -> dict[str, Any]:
        return {"queues": set(self.center.queue_names()), "extensions": set(self.core.extension_numbers()),
                "ring_groups": {g["name"] for g in self.core.ring_groups.all()},
                "voicemail_boxes": set(self.core.extension_numbers()) | set(self.center.queue_names())
                | {b.number for b in self.core.voicemail.boxes()}}

    def _check_route_numbers(self, data: dict[str, Any]) -> None:
        """A route's number must not be an extension's, a ring group's, a shared box's or a feature code."""
        from appliance.logic.flows.validate import FlowProblem
        from appliance.logic.numbers import route_clashes
        from appliance.numbers_runtime import directory_of, route_numbers
        clashes = route_clashes(route_numbers(data.get("routes")), directory_of(self.core).without_routes())
        if clashes:
            raise FlowInvalid([FlowProblem("route", name, "did", why) for name, why in clashes])

    def get_flows(self) -> dict[str, Any]:
        if self.core.flows is None:
            raise NotFound("no call flows yet")
        return self.core.flows.to_dict()

    def put_flows(self, data: Any) -> dict[str, Any]:
        problems = [p for p in validate(data, **self.known_names()) if str(p.level).lower() == "error"]
        if problems:
            raise FlowInvalid(problems)
        self._check_route_numbers(data)
        flows: FlowSet = load_flows(data, **self.known_names())
        version = 1 + max((d.get("version", 0) for d in self.core.store.table("flows").all()), default=0)
        doc = flows.to_dict() | {"version": version}
        self.core.store.table("flows").insert(doc)
        self.core.flows = load_flows(doc, **self.known_names())
        self.core.events.publish("flows", version=version)
        return {"version": version, "warnings": [str(p) for p in validate(data, **self.known_names())
                                                 if str(p.level).lower() != "error"]}
