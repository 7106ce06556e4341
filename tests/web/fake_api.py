"""A small working fake of the core's control API, served over real HTTP on loopback.

It keeps everything in memory, validates like the real API is specified to,
and records every request, so tests can check what the web page asked for.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import queue
import re
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from urllib.parse import unquote

from appliance.control.api import CDR_COLUMNS
from appliance.errors import HardwareUnavailable, SettingError, ValidationError
from appliance.logic.acd import QueueConfig
from appliance.logic.flows import load_flows, validate
from appliance.hw.backends import select_backend
from appliance.hw.panel import Panel, PanelState
from appliance.settings import Settings, validate_changes
from tests.web import fake_campaigns, fake_contacts, fake_more, fake_phones
from tests.web.fake_http import Handler as _Handler

# The core's own declarations (appliance/settings.py), as GET /api/settings describes them: a hand
# list here drifted from the core once (three of its eight settings did not exist).
SETTINGS = [{k: v for k, v in d.items() if k != "value"} for d in Settings().describe()]
AGENT_STATUSES = {"login": "AVAILABLE", "available": "AVAILABLE", "logout": "LOGGED_OUT",
                  "break": "ON_BREAK"}
CLASSES = {"internal", "local", "national", "international"}
ROLES = {"admin", "supervisor", "agent"}


class FakeControlApi:
    """The control API in memory: start(), use .url and .token, stop()."""

    def __init__(self, token: str | None = None):
        self.token = token or secrets.token_urlsafe(16)
        self.extensions: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        # The first-run set-up code the core prints on its console (appliance/setup_code.py).
        self.setup_code = "ABCD-EFGH-JKMN"
        self.audit: list[dict] = []
        self.bans: list[dict] = []
        self.registrations: list[dict] = []
        self.settings = copy.deepcopy({d["key"]: d["default"] for d in SETTINGS})
        self.requests: list[tuple[str, str]] = []
        self.queries: list[tuple[str, dict]] = []
        self.call_records: list[dict] = []
        self.workers: list[dict] = [
            {"id": "w1", "alive": True, "sip_port": 40001, "max_calls": 4, "pid": 4242,
             "free": 4, "room": 4, "restarts": 0}]
        self.active_calls: list[dict] = []
        # The real panel on simulated pins, so the fake answers what the core's panel says.
        self.panel: Panel | None = Panel(select_backend("simulated"), clock=time.monotonic)
        self.panel.show(PanelState(ready=True, lines_ok=True))
        self.panel_presses: list[tuple[str, str]] = []
        self.has_cdr = True
        self.has_engine = True
        self.alarm_list: list[dict] | None = []  # None: an older core without alarms (404)
        # The contact center, as center_admin.py answers for it.
        self.queues: dict[str, dict] = {}
        self.waiting: dict[str, list[dict]] = {}
        self.agents: dict[str, dict] = {}
        self.flow_versions: list[dict] = []
        self.queue_log: list[dict] = []  # newest first
        self.lines: list[dict] = []
        # Browser phones: the WebSocket port (0: off, a ticket gets 409) and the tickets issued.
        self.wss_port = 7443
        self.tickets: list[dict] = []
        # Voicemail, reports, trunks, routes, prompts: see fake_more.py.
        self.box_changes: list[tuple[str, dict]] = []
        self.errors_sent: list[str] = []
        fake_more.seed(self)
        fake_phones.seed(self)  # phones, recordings, contract reports
        fake_contacts.seed(self)  # contacts, after-call work, click-to-dial, backup, logs
        fake_campaigns.seed(self)  # campaigns, do-not-call, CSAT: the core's own service
        self._subscribers: list[queue.Queue] = []
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.started = time.monotonic()

    # -- life -----------------------------------------------------------

    def start(self) -> "FakeControlApi":
        fake = self

        class Handler(_Handler):
            api = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def write_discovery(self, data_dir) -> None:
        run = data_dir / "run"
        run.mkdir(parents=True, exist_ok=True)
        (run / "api.json").write_text(json.dumps({"url": self.url, "token": self.token}))

    # -- what the core would do on its own ----------------------------------

    def emit(self, event: str, data: dict) -> None:
        with self._lock:
            for q in self._subscribers:
                q.put((event, data))

    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def ban(self, ip: str) -> None:
        now = time.time()
        self.bans.append({"ip": ip, "since": now, "until": now + 600,
                          "reason": "5 failed authentications in 60 s"})

    def register(self, aor: str) -> None:
        self.registrations.append({"aor": aor, "contact": f"sip:{aor}@127.0.0.1:5062",
                                   "source": "udp:127.0.0.1:5062", "expires_in": 3599,
                                   "user_agent": "Fake Phone 1.0"})

    def add_call_record(self, **fields) -> dict:
        """A finished call as the core's switchboard writes it (times ISO with the box's offset)."""
        n = len(self.call_records) + 1
        start = fields.pop("start", None) or datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc) \
            + timedelta(minutes=n)
        if isinstance(start, datetime):
            start = start.isoformat()
        duration = fields.pop("duration_s", 30.0)
        rec = {"id": f"rec{n}", "call_id": f"call-{n}@fake", "start": start, "answer": None,
               "end": None, "duration_s": duration, "talk_s": fields.pop("talk_s", duration - 5),
               "disposition": "ANSWERED", "direction": "internal", "caller": "1001",
               "caller_name": "", "callee": "1002", "answered_by": "1002", "hangup_by": "caller",
               "status": "", "trunk": None, "worker": "w1", "legs": 2} | fields
        self.call_records.append(rec)
        return rec

    def start_call(self, caller: str, callee: str, state: str = "RINGING") -> dict:
        call = {"call_id": f"live-{len(self.active_calls) + 1}@fake", "worker": "w1", "state": state,
                "caller": caller, "callee": callee, "start": time.time() - 5,
                "answer": time.time() if state == "ANSWERED" else None}
        self.active_calls.append(call)
        return call

    def end_call(self, call: dict, disposition: str = "ANSWERED") -> dict:
        """The call hangs up: it leaves the engine, its record is written, call_record is sent."""
        with self._lock:
            self.active_calls.remove(call)
            rec = self.add_call_record(call_id=call["call_id"], caller=call["caller"],
                                       callee=call["callee"], disposition=disposition,
                                       start=datetime.now(timezone.utc).astimezone().isoformat())
        self.emit("call_record", {k: rec[k] for k in ("call_id", "disposition", "caller", "callee",
                                                      "duration_s")})
        return rec

    # -- callers and agents, as the ACD would report them ------------------------------

    def _log(self, event: str, **fields) -> dict:
        line = {"time": datetime.now(timezone.utc).isoformat(), "event": event} | {
            k: v for k, v in fields.items() if v not in ("", None)}
        self.queue_log.insert(0, line)
        self.emit("queue", line)
        return line

    def _agent_event(self, agent: dict) -> None:
        self.emit("agent", {"extension": agent["extension"], "status": agent["status"],
                            "state": agent["state"], "time": time.time()})

    def caller_waits(self, queue_name: str, number: str, waited_s: float = 0.0) -> str:
        """A caller enters a queue (ENTERED on the queue log and the event stream)."""
        with self._lock:
            waiting = self.waiting.setdefault(queue_name, [])
            call_id = f"q{len(self.queue_log) + 1}@fake"
            waiting.append({"call_id": call_id, "number": number,
                            "joined_at": time.time() - waited_s})
            self._log("ENTERED", queue=queue_name, call_id=call_id, number=number,
                      position=len(waiting))
        return call_id

    def offer(self, call_id: str, extension: str) -> None:
        """The ACD rings an agent with a waiting caller."""
        with self._lock:
            queue_name, caller = self._find_waiting(call_id)
            agent = self.agents[extension]
            agent["state"] = "OFFERED"
            self._log("OFFERED", queue=queue_name, call_id=call_id, agent=extension,
                      number=caller["number"])
            self._agent_event(agent)

    def answer(self, call_id: str, extension: str) -> None:
        """The agent picks up: the caller leaves the queue."""
        with self._lock:
            queue_name, caller = self._find_waiting(call_id)
            self.waiting[queue_name].remove(caller)
            agent = self.agents[extension]
            agent["state"] = "TALKING"
            self._log("ANSWERED", queue=queue_name, call_id=call_id, agent=extension,
                      number=caller["number"],
                      wait_s=round(time.time() - caller["joined_at"], 1), result="ANSWERED")
            self._agent_event(agent)

    def hang_up_agent(self, extension: str) -> None:
        with self._lock:
            agent = self.agents[extension]
            agent["state"] = "IDLE"
            self._agent_event(agent)

    def _find_waiting(self, call_id: str) -> tuple[str, dict]:
        for name, callers in self.waiting.items():
            for caller in callers:
                if caller["call_id"] == call_id:
                    return name, caller
        raise KeyError(call_id)

    # -- the endpoints ------------------------------------------------------

    def handle(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:1] != ["api"]:
            return 404, {"error": "no such endpoint"}
        parts = parts[1:]
        route = (method, parts[0] if parts else "", len(parts))
        with self._lock:
            return self._route(route, parts, query, body)

    def _route(self, route, parts, query, body):  # noqa: C901 - one table of endpoints
        method, what, n = route
        if route == ("GET", "health", 1):
            return 200, {"status": "ok", "version": "0.1.0",
                         "uptime_s": round(time.monotonic() - self.started, 1), "sip_port": 5060,
                         "registrations": len(self.registrations), "bans": len(self.bans),
                         "network": {"address": "192.168.1.20", "interface": "eth0", "loopback_only": False,
                                     "reason": "the interface of the default route",
                                     "sip": "0.0.0.0:5060", "engine": "192.168.1.20",
                                     "provisioning_url": "http://192.168.1.20:8088/p/"}}
        if what == "extensions":
            if route == ("GET", "extensions", 1):
                return 200, {"extensions": [
                    {k: v for k, v in e.items() if k != "secret"}
                    | {"registered": any(r["aor"] == e["number"] for r in self.registrations)}
                    for e in sorted(self.extensions.values(), key=lambda e: e["number"])]}
            if route == ("POST", "extensions", 1):
                return self._add_extension(body)
            ext = self.extensions.get(parts[1]) if n == 2 else None
            if ext is None:
                return 404, {"error": "no such extension"}
            if method == "GET":
                return 200, dict(ext, registered=any(r["aor"] == ext["number"] for r in self.registrations))
            if method == "PATCH":
                return self._change_extension(ext, body)
            if method == "DELETE":
                del self.extensions[ext["number"]]
                return 204, None
        if route == ("GET", "registrations", 1):
            return 200, {"registrations": list(self.registrations)}
        if route == ("GET", "bans", 1):
            return 200, {"bans": list(self.bans)}
        if route[:2] == ("DELETE", "bans") and n == 2:
            before = len(self.bans)
            self.bans = [b for b in self.bans if b["ip"] != parts[1]]
            return (204, None) if len(self.bans) < before else (404, {"error": "not banned"})
        if route == ("GET", "settings", 1):
            return 200, {"settings": [
                dict(d, value=self.settings[d["key"]])
                for d in SETTINGS]}
        if route == ("PATCH", "settings", 1):
            return self._change_settings(body)
        if what == "users":
            return self._users(method, parts, body)
        if route == ("POST", "setup", 1):
            return self._first_admin(body)
        if route == ("POST", "audit", 1):
            if not isinstance(body, dict) or not all(isinstance(body.get(k), str)
                                                     for k in ("actor", "action", "detail")):
                return 400, {"error": "actor, action and detail are required"}
            self.audit.insert(0, {"id": str(len(self.audit) + 1), "time": time.strftime("%Y-%m-%d %H:%M:%S"),
                                  "actor": body["actor"], "action": body["action"],
                                  "detail": body["detail"]})
            return 201, {"ok": True}
        if route == ("GET", "audit", 1):
            limit = int(query.get("limit", ["100"])[0])
            return 200, {"audit": self.audit[:limit]}
        if route == ("GET", "cdr", 1) and self.has_cdr:
            self.queries.append(("cdr", query))
            found = self._cdr(query)
            return (200, {"records": found}) if isinstance(found, list) else found
        if route == ("GET", "engine", 1) and self.has_engine:
            return 200, {"workers": [dict(w) for w in self.workers],
                         "calls": [dict(c) for c in self.active_calls]}
        if what == "panel" and self.panel is not None:
            return self._panel(route, body)
        if route == ("GET", "lines", 1):
            return 200, {"lines": [dict(ln) for ln in self.lines]}
        if route == ("POST", "browser-phone", 2) and parts[1] == "ticket":
            return self._ticket(body)
        if what in ("queues", "agents", "flows", "queue-log"):
            return self._center(route, parts, body)
        if what in ("contacts", "contacts.csv", "calls", "backup", "logs") or (
                method == "PATCH" and what == "cdr"):
            return fake_contacts.route(self, route, parts, query, body)
        if what in ("phones", "recordings", "business"):
            return fake_phones.route(self, route, parts, query, body)
        if what in ("campaigns", "do-not-call", "csat"):
            return fake_campaigns.route(self, route, parts, query, body)
        if what in ("voicemail", "reports", "trunks", "routes", "prompts") or route == ("POST", "lines", 1):
            return fake_more.route(self, route, parts, query, body)
        return 404, {"error": "no such endpoint"}

    def _ticket(self, body):
        """As control/browser_phone.py: 400 without an extension, 409 while off, 404 unknown."""
        number = body.get("extension") if isinstance(body, dict) else None
        if not isinstance(number, str) or not number:
            return 400, {"error": "extension: required"}
        if not self.wss_port:
            return 409, {"error": "the browser phone is off (sip.wss_port is 0, or another program holds the port)"}
        if number not in self.extensions:
            return 404, {"error": f"no extension {number}"}
        self.tickets.append({"ticket": secrets.token_urlsafe(24), "extension": number, "expires_in": 60})
        return 201, dict(self.tickets[-1], port=self.wss_port)

    def _cdr(self, query):
        """Like the core: start <= time < end, number in caller or callee, newest first, a page."""
        q = {k: v[0] for k, v in query.items()}
        try:
            start = datetime.fromisoformat(q["from"]) if "from" in q else None
            end = datetime.fromisoformat(q["to"]) if "to" in q else None
            offset, limit = int(q.get("offset", "0")), int(q.get("limit", "100"))
        except ValueError:
            return 400, {"error": "from/to: must be ISO-8601 dates, e.g. 2026-11-01"}
        if offset < 0 or not 1 <= limit <= 10000:
            return 400, {"error": "limit: must be between 1 and 10000"}
        number = q.get("number", "")

        def aware(t):
            return t if t.tzinfo else t.astimezone()

        found = []
        for rec in self.call_records:
            at = aware(datetime.fromisoformat(rec["start"]))
            if (start and at < aware(start)) or (end and at >= aware(end)):
                continue
            if number and number not in (rec.get("caller") or "") + "\0" + (rec.get("callee") or ""):
                continue
            found.append(rec)
        found.sort(key=lambda r: aware(datetime.fromisoformat(r["start"])), reverse=True)
        return found[offset:offset + limit]

    def cdr_csv(self, query) -> tuple[int, object]:
        found = self._cdr(query)
        if not isinstance(found, list):
            return found
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CDR_COLUMNS)
        for rec in found:
            writer.writerow(["" if rec.get(c) is None else rec.get(c) for c in CDR_COLUMNS])
        return 200, out.getvalue()

    def _panel(self, route, body):
        panel = self.panel
        if route == ("GET", "panel", 1):
            panel.tick()
            return 200, panel.snapshot()
        if route == ("POST", "panel", 2):
            # As the core's Core.panel_press: the night switch is toggled, reset and status are
            # pressed and released (a status press releases itself); real pins refuse with 409.
            data = body if isinstance(body, dict) else {}
            button, action = data.get("button"), data.get("action", "press")
            if button not in ("night", "reset", "status") or action not in ("press", "release", "toggle"):
                return 400, {"error": "button: one of night, reset, status; action: press, release or toggle"}
            if (button == "night") != (action == "toggle"):
                return 400, {"error": "the night switch is toggled; reset and status are pressed and released"}
            try:
                if button == "night":
                    panel.toggle_night()
                elif action == "press":
                    panel.press(button)
                    if button == "status":
                        panel.release(button)
                else:
                    panel.release(button)
            except HardwareUnavailable as exc:
                return 409, {"error": str(exc)}
            self.panel_presses.append((button, action))
            panel.tick()
            return 200, panel.snapshot()
        return 404, {"error": "no such endpoint"}

    def _center(self, route, parts, body):  # noqa: C901 - as center_admin.py, one place
        method, what, n = route
        if route == ("GET", "queues", 1):
            now = time.time()
            return 200, {"queues": [
                {"name": name, "strategy": str(cfg.get("strategy", "leastrecent")), "survey": bool(cfg.get("survey")),
                 "waiting": len(self.waiting.get(name, [])),
                 "longest_wait_s": max((now - c["joined_at"] for c in self.waiting.get(name, [])),
                                       default=0.0),
                 "members": sorted(a["extension"] for a in self.agents.values()
                                   if name in a["queues"])}
                for name, cfg in self.queues.items()]}
        if route == ("POST", "queues", 1):
            if not isinstance(body, dict):
                return 400, {"error": "body: must be a JSON object"}
            try:
                cfg = QueueConfig.from_dict(body)
            except ValidationError as exc:
                return 400, {"error": str(exc)}
            if cfg.name in self.queues:
                return 409, {"error": f"queue {cfg.name} exists already"}
            self.queues[cfg.name] = dict(body)
            self.emit("queue_config", {"action": "created", "queue": cfg.name})
            return 201, {"name": cfg.name}
        if route == ("GET", "agents", 1):
            return 200, {"agents": [dict(a, queues=sorted(a["queues"]))
                                    for a in sorted(self.agents.values(),
                                                    key=lambda a: a["extension"])]}
        if method == "POST" and what == "agents" and n == 2:
            ext = parts[1]
            if not isinstance(body, dict) or set(body) - {"queues", "skills"}:
                return 400, {"error": "body: an object with queues, skills"}
            if ext not in self.extensions:
                return 404, {"error": f"extension {ext} does not exist"}
            queues = body.get("queues") or {}
            if isinstance(queues, list):
                queues = {q: 1 for q in queues}
            unknown = [q for q in queues if q not in self.queues]
            if unknown:
                return 400, {"error": f"queues: no queue {unknown[0]!r}"}
            if ext in self.agents:
                return 409, {"error": f"extension {ext} is an agent already"}
            self.agents[ext] = {"extension": ext, "name": self.extensions[ext]["name"],
                                "status": "LOGGED_OUT", "state": "IDLE", "break_reason": "",
                                "queues": dict(queues)}
            return 201, {"extension": ext, "queues": queues, "skills": body.get("skills") or {}}
        if method == "POST" and what == "agents" and n == 3:
            agent = self.agents.get(parts[1])
            if agent is None:
                return 404, {"error": f"extension {parts[1]} is not an agent"}
            if parts[2] not in AGENT_STATUSES:
                return 404, {"error": f"no agent action {parts[2]!r}; use login, logout, break "
                                      "or available"}
            agent["status"] = AGENT_STATUSES[parts[2]]
            agent["break_reason"] = str((body or {}).get("reason") or "break")[:40] \
                if parts[2] == "break" else ""
            self._agent_event(agent)
            return 200, {k: agent[k] for k in ("extension", "status", "state")}
        if route == ("GET", "flows", 1):
            if not self.flow_versions:
                return 404, {"error": "no call flows yet"}
            return 200, self.flow_versions[-1]
        if route == ("PUT", "flows", 1):
            known = {"queues": set(self.queues), "extensions": set(self.extensions)}
            problems = [p for p in validate(body, **known) if str(p.level).lower() == "error"]
            if problems:
                return 400, {"error": "; ".join(str(p) for p in problems), "problems": [
                    {"where": p.where, "id": p.id, "field": p.field, "reason": p.reason,
                     "message": str(p)} for p in problems]}
            version = len(self.flow_versions) + 1
            self.flow_versions.append(load_flows(body, **known).to_dict() | {"version": version})
            self.emit("flows", {"version": version})
            return 200, {"version": version, "warnings": [
                str(p) for p in validate(body, **known) if str(p.level).lower() != "error"]}
        if route == ("GET", "queue-log", 1):
            return 200, {"events": self.queue_log[:200]}
        return 404, {"error": "no such endpoint"}

    def _add_extension(self, body):
        if not isinstance(body, dict):
            return 400, {"error": "expected a JSON object"}
        number, name = str(body.get("number", "")), body.get("name")
        if not re.fullmatch(r"[1-9][0-9]{1,5}", number):
            return 400, {"error": "number: must be 2 to 6 digits, not starting with 0"}
        if not isinstance(name, str) or not name.strip():
            return 400, {"error": "name: must not be empty"}
        if number in self.extensions:
            return 409, {"error": f"extension {number} exists already"}
        cos = body.get("class_of_service", "national")
        if cos not in CLASSES:
            return 400, {"error": f"class_of_service: must be one of {sorted(CLASSES)}"}
        ext = {"number": number, "name": name, "class_of_service": cos,
               "voicemail": bool(body.get("voicemail", True)),
               "call_waiting": bool(body.get("call_waiting", True)),
               "secret": body.get("secret") or secrets.token_urlsafe(12)}
        self.extensions[number] = ext
        self.emit("extension", {"number": number, "change": "added"})
        return 201, dict(ext)

    def _change_extension(self, ext, body):
        if not isinstance(body, dict) or set(body) - {"name", "secret", "class_of_service", "voicemail",
                                                       "call_waiting"}:
            return 400, {"error": "only name, secret, class_of_service, voicemail and call_waiting can change"}
        if "class_of_service" in body and body["class_of_service"] not in CLASSES:
            return 400, {"error": "class_of_service: unknown class"}
        ext.update(body)
        return 200, dict(ext)

    def _change_settings(self, body):
        """As the core: the declarations validate, all or nothing, the first bad key named."""
        if not isinstance(body, dict):
            return 400, {"error": "settings: must be an object of key: value"}
        try:
            changes = validate_changes(body, base=self.settings)
        except SettingError as exc:
            return 400, {"error": str(exc)}
        decls = {d["key"]: d for d in SETTINGS}
        self.settings.update(changes)
        return 200, {"changed": sorted(body), "restart_needed": sorted(k for k in body
                                                                        if decls[k]["restart"])}

    def _first_admin(self, body):
        if not isinstance(body, dict) or not isinstance(body.get("code"), str):
            return 400, {"error": "body: {code, username, password_hash}"}
        if self.users:
            return 409, {"error": "the box has an admin already: log in instead"}
        norm = lambda c: "".join(ch for ch in c.upper() if ch.isalnum())  # noqa: E731
        if self.setup_code is None or norm(body["code"]) != norm(self.setup_code):
            return 403, {"error": "wrong set-up code"}
        status, reply = self._users("POST", ["users"], {**body, "role": "admin"})
        if status == 201:
            self.setup_code = None
        return status, reply

    def _users(self, method, parts, body):
        if len(parts) == 1:
            if method == "GET":
                return 200, {"users": [{k: u.get(k, "en") for k in ("username", "role", "created", "language")}
                                       for u in self.users.values()]}
            if method == "POST":
                if not isinstance(body, dict) or body.get("role") not in ROLES \
                        or not str(body.get("password_hash", "")).startswith("scrypt$") \
                        or not body.get("username"):
                    return 400, {"error": "username, role and password_hash are required"}
                if body["username"] in self.users:
                    return 409, {"error": f"user {body['username']} exists already"}
                self.users[body["username"]] = {"username": body["username"], "role": body["role"],
                                                "password_hash": body["password_hash"],
                                                "created": time.time(), "language": "en"}
                return 201, {k: self.users[body["username"]][k] for k in ("username", "role", "created",
                                                                          "language")}
        user = self.users.get(parts[1]) if len(parts) == 2 else None
        if user is None:
            return 404, {"error": "no such user"}
        if method == "GET":
            return 200, {"language": "en", "created": ""} | user
        if method == "PATCH":
            if body.get("role", "admin") not in ROLES:
                return 400, {"error": "role: unknown"}
            if body.get("language", "en") not in ("en", "pl", "zh"):
                return 400, {"error": "language: must be one of en, pl, zh"}
            user.update({k: v for k, v in body.items() if k in ("role", "password_hash", "language")})
            return 200, {k: user.get(k, "en") for k in ("username", "role", "created", "language")}
        if method == "DELETE":
            del self.users[user["username"]]
            return 204, None
        return 404, {"error": "no such endpoint"}
