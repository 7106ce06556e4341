"""Trunks at run time: stored config, registrations to SIP providers, and the routing decisions.

The pure rules live in `appliance.logic.routing` and
`appliance.sip.trunk_registration`; this module stores trunks and routes,
drives the registration state machines over the edge's socket, and answers
the switchboard's two questions: which trunk did this request come from, and
where may this extension's call to an outside number go.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from appliance.errors import Conflict, NotFound, ValidationError
from appliance.logic import routing as rt
from appliance.ports import ExtensionNumbers, FindExtension, Names, Publish, SendSip, Setting, Tables
from appliance.sip import message as sipmsg
from appliance.sip.trunk_registration import PublicAddressChanged, Send, StatusChanged, TrunkRegistration

log = logging.getLogger("callbox.trunks")

TICK_S = 1.0


class Trunks:
    def __init__(self, *, tables: Tables, setting: Setting, publish: Publish, send: SendSip,
                 edge_address: Callable[[], str], line_trunks: Callable[[], Iterable[rt.Trunk]],
                 line_names: Names, extension: FindExtension, extension_numbers: ExtensionNumbers):
        """`edge_address` is the edge's host:port as providers should see it now; `line_trunks` the
        phone lines that are up, each a trunk, and `line_names` every configured line."""
        self.tables = tables
        self.setting = setting
        self.publish = publish
        self.send = send
        self.edge_address = edge_address
        self.line_trunks = line_trunks
        self.line_names = line_names
        self.extension = extension
        self.extension_numbers = extension_numbers
        self.trunks: dict[str, rt.Trunk] = {}
        self.outbound: list[rt.OutboundRoute] = []
        self.inbound: list[rt.InboundRoute] = []
        self.registrations: dict[str, TrunkRegistration] = {}
        self.status: dict[str, dict[str, Any]] = {}
        self._task: asyncio.Task | None = None
        self.load()

    # --- config -------------------------------------------------------------------------

    def load(self) -> None:
        for doc in self.tables("trunks").all():
            try:
                t = rt.validate_trunk(dict(doc))
                self.trunks[t.name] = t
            except ValidationError as e:
                log.error("skipping a stored trunk: %s", e)
        routes = self.tables("routes").all()
        doc = dict(routes[0]) if routes else {}
        self.outbound = [rt.validate_outbound_route(r) for r in doc.get("outbound", [])]
        self.inbound = [rt.validate_inbound_route(r) for r in doc.get("inbound", [])]

    def list(self) -> list[dict[str, Any]]:
        out = []
        for t in self.trunks.values():
            out.append({"name": t.name, "kind": str(t.kind), "host": t.host, "port": t.port,
                        "register": t.register, "enabled": t.enabled, "dids": list(t.dids),
                        "status": self.status.get(t.name, {"state": "unregistered" if t.register else "peer"})})
        return out

    def create(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise ValidationError("body: must be a JSON object")
        t = rt.validate_trunk(data)
        if t.name in self.trunks:
            raise Conflict(f"trunk {t.name} exists already")
        self.tables("trunks").insert(dict(data))
        self.trunks[t.name] = t
        if t.register and t.enabled:
            self._start_registration(t)
        self.publish("trunk", name=t.name, action="created")
        return {"name": t.name}

    def delete(self, name: str) -> None:
        if name not in self.trunks:
            raise NotFound(f"trunk {name} does not exist")
        if any(name in r.trunks for r in self.outbound):
            raise Conflict(f"trunk {name} is used by an outbound route; change the route first")
        self.tables("trunks").remove(lambda d: d.get("name") == name)
        del self.trunks[name]
        self.registrations.pop(name, None)
        self.status.pop(name, None)

    def routes(self) -> dict[str, Any]:
        docs = self.tables("routes").all()
        return dict(docs[0]) if docs else {"outbound": [], "inbound": []}

    def put_routes(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict) or set(data) - {"outbound", "inbound"}:
            raise ValidationError("body: {\"outbound\": [...], \"inbound\": [...]}")
        names = set(self.trunks) | {f"line-{name}" for name in self.line_names()}
        outbound = [rt.validate_outbound_route(r, names) for r in data.get("outbound", [])]
        inbound = [rt.validate_inbound_route(r) for r in data.get("inbound", [])]
        table = self.tables("routes")
        table.truncate()
        table.insert({"outbound": data.get("outbound", []), "inbound": data.get("inbound", [])})
        self.outbound, self.inbound = outbound, inbound
        return {"outbound": len(outbound), "inbound": len(inbound)}

    # --- registrations ----------------------------------------------------------------------

    async def start(self) -> None:
        for t in self.trunks.values():
            if t.register and t.enabled:
                self._start_registration(t)
        self._task = asyncio.create_task(self._tick())

    def address_moved(self) -> None:
        """The box's LAN address changed: register again, so providers send calls to the new one."""
        for name in list(self.registrations):
            t = self.trunks.get(name)
            if t is not None and t.register and t.enabled:
                self._start_registration(t)

    def _start_registration(self, t: rt.Trunk) -> None:
        reg = TrunkRegistration(t, time.monotonic, self.edge_address(),
                                self.setting("sip.external_address") or None)
        self.registrations[t.name] = reg
        self._act(reg.start())

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            for reg in list(self.registrations.values()):
                self._act(reg.on_timer(now))

    def on_response(self, msg: sipmsg.SipMessage) -> bool:
        """The edge offers every response it cannot place; True when it was a registration's."""
        for reg in self.registrations.values():
            if reg.matches(msg):
                self._act(reg.on_response(msg))
                return True
        return False

    def _act(self, actions: list) -> None:
        for a in actions:
            if isinstance(a, Send):
                self.send(a.to_bytes(), a.transport, (a.host, a.port))
            elif isinstance(a, StatusChanged):
                state = str(a.state)
                self.status[a.trunk] = {"state": state, "reason": a.reason}
                log.info("trunk %s: %s%s", a.trunk, state, f" ({a.reason})" if a.reason else "")
                self.publish("trunk", name=a.trunk, state=state, reason=a.reason)
            elif isinstance(a, PublicAddressChanged):
                self.status.setdefault(a.trunk, {})["public_address"] = f"{a.address[0]}:{a.address[1]}"

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for reg in self.registrations.values():
            self._act(reg.stop())

    # --- decisions for the edge and the switchboard ---------------------------------------------

    def all_trunks(self) -> dict[str, rt.Trunk]:
        """Configured trunks and the phone lines (each line's gateway is a trunk too)."""
        return {**self.trunks, **{t.name: t for t in self.line_trunks()}}

    def identify(self, ip: str, port: int, request_user: str | Callable[[], str]) -> str | None:
        """The trunk at ip:port, or None. `request_user` (the Request-URI's user, or a function that
        reads it) is read only when a trunk is configured: the edge asks this of every REGISTER."""
        trunks = [t for t in self.all_trunks().values() if t.enabled]
        if not trunks:
            return None
        user = request_user() if callable(request_user) else request_user
        t = rt.identify_trunk(trunks, ip, port, user)
        return t.name if t else None

    def inbound_destination(self, did: str, caller: str) -> str | None:
        return rt.select_inbound(self.inbound, did, caller) if self.inbound else None

    def plan(self, caller_ext: str, number: str) -> tuple[rt.OutboundDecision, list[dict[str, Any]]]:
        """May this extension call this number, and the trunks to try in order (uri and credentials)."""
        ext = self.extension(caller_ext)
        caller = rt.Caller(rt.CallerKind.EXTENSION if ext else rt.CallerKind.UNKNOWN, caller_ext,
                           authenticated=ext is not None,
                           cos=rt.ClassOfService(ext.get("class_of_service", "internal")) if ext
                           else rt.ClassOfService.INTERNAL)
        return self._plan(caller, number)

    def plan_callback(self, number: str) -> tuple[rt.OutboundDecision, list[dict[str, Any]]]:
        """A queue callback to the number a caller left: the callbacks' own class of service decides
        (callbacks.class_of_service), never the agent's, since the number is the caller's word."""
        cos = rt.ClassOfService(self.setting("callbacks.class_of_service"))
        return self._plan(rt.Caller(rt.CallerKind.EXTENSION, "callback", authenticated=True, cos=cos), number)

    def plan_campaign(self, number: str, prefer: str = "") -> tuple[rt.OutboundDecision, list[dict[str, Any]]]:
        """A campaign's call to a number on its list: the campaigns' own class of service decides
        (campaigns.class_of_service), as for callbacks; the campaign's `route` (`prefer`, a trunk or a
        line) only puts that trunk first among those the plan allows, it never opens another."""
        cos = rt.ClassOfService(self.setting("campaigns.class_of_service"))
        decision, attempts = self._plan(rt.Caller(rt.CallerKind.EXTENSION, "campaign", authenticated=True, cos=cos),
                                        number)
        if prefer:
            attempts.sort(key=lambda a: a["trunk"] not in (prefer, f"line-{prefer}"))
        return decision, attempts

    def _plan(self, caller: rt.Caller, number: str) -> tuple[rt.OutboundDecision, list[dict[str, Any]]]:
        decision = rt.plan_outbound(caller, number, self.outbound, extensions=set(self.extension_numbers()))
        attempts = []
        if decision.allowed and decision.match is not None:
            trunks = self.all_trunks()
            for name in decision.match.trunks:
                t = trunks.get(name)
                if t is None or not t.enabled:
                    continue
                attempt: dict[str, Any] = {"trunk": t.name,
                                           "uri": f"sip:{decision.match.dial_number}@{t.host}:{t.port}"}
                if t.secret:
                    attempt["auth"] = {"username": t.auth_user or t.username, "password": t.secret,
                                       "realm": t.realm or "*", "domain": t.domain}
                attempts.append(attempt)
        return decision, attempts
