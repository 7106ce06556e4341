"""A client for the core's control API (HTTP/JSON on loopback, bearer token).

The web process reads and changes everything through this client; it never
opens the data store itself.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from appliance.errors import ApiError, FlowRejected
from web.api_campaigns import CampaignCalls

log = logging.getLogger(__name__)

# The core runs on the same box; going through a proxy would leak the token.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
REPORT_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event from the core: its name and its decoded data."""

    name: str
    data: Any


def _quote(part: str) -> str:
    return urllib.parse.quote(str(part), safe="")


class ApiClient(CampaignCalls):
    """Talks to the control API at base_url with the given bearer token (campaign calls: CampaignCalls)."""

    def __init__(self, base_url: str, token: str, timeout: float = 5):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._discovery: Path | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_data_dir(cls, data_dir: str | Path, timeout: float = 5) -> "ApiClient":
        """A client for the core that owns data_dir, found through run/api.json.

        The client re-reads the discovery file when the core stops answering
        or refuses the token, so a restarted core (new port, new token) is
        picked up without restarting the web process.
        """
        path = Path(data_dir) / "run" / "api.json"
        url, token = _read_discovery(path)
        client = cls(url, token, timeout)
        client._discovery = path
        return client

    # -- plumbing -------------------------------------------------------

    def _rediscover(self) -> bool:
        if self._discovery is None:
            return False
        try:
            url, token = _read_discovery(self._discovery)
        except ApiError:
            return False
        with self._lock:
            changed = (url.rstrip("/"), token) != (self.base_url, self.token)
            self.base_url, self.token = url.rstrip("/"), token
        return changed

    def _open(self, method: str, path: str, body: Any = None, timeout: float | None = None,
              raw: bytes | None = None, content_type: str = ""):
        data = None
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if raw is not None:
            data = raw
            headers["Content-Type"] = content_type or "application/octet-stream"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        return _OPENER.open(req, timeout=self.timeout if timeout is None else timeout)

    def _request(self, method: str, path: str, body: Any = None, raw: bytes | None = None,
                 content_type: str = "", timeout: float | None = None) -> Any:
        for attempt in (1, 2):
            try:
                with self._open(method, path, body, timeout=timeout, raw=raw,
                                content_type=content_type) as resp:
                    raw = resp.read()
                    return json.loads(raw) if raw else None
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt == 1 and self._rediscover():
                    continue
                body = _error_body(exc)
                message = str(body.get("error") or exc.reason)
                if isinstance(body.get("problems"), list):
                    raise FlowRejected(message, body["problems"]) from None
                raise ApiError(exc.code, message) from None
            except (urllib.error.URLError, OSError) as exc:
                if attempt == 1 and self._rediscover():
                    continue
                reason = getattr(exc, "reason", exc)
                raise ApiError(0, f"the core's control API is not reachable: {reason}") from None
            except ValueError:
                raise ApiError(0, "the control API answered something that is not JSON") from None
        raise AssertionError("unreachable")

    # -- health ---------------------------------------------------------

    def health(self) -> dict:
        return self._request("GET", "/api/health")

    # -- extensions -----------------------------------------------------

    def extensions(self) -> list[dict]:
        return self._request("GET", "/api/extensions")["extensions"]

    def extension(self, number: str) -> dict:
        return self._request("GET", f"/api/extensions/{_quote(number)}")

    def add_extension(self, number: str, name: str, secret: str | None = None,
                      class_of_service: str | None = None, voicemail: bool | None = None) -> dict:
        body: dict[str, Any] = {"number": number, "name": name}
        for key, value in (("secret", secret), ("class_of_service", class_of_service),
                           ("voicemail", voicemail)):
            if value is not None:
                body[key] = value
        return self._request("POST", "/api/extensions", body)

    def update_extension(self, number: str, **changes: Any) -> dict:
        return self._request("PATCH", f"/api/extensions/{_quote(number)}", changes)

    def delete_extension(self, number: str) -> None:
        self._request("DELETE", f"/api/extensions/{_quote(number)}")

    # -- registrations and bans -----------------------------------------

    def registrations(self) -> list[dict]:
        return self._request("GET", "/api/registrations")["registrations"]

    def bans(self) -> list[dict]:
        return self._request("GET", "/api/bans")["bans"]

    def unban(self, ip: str) -> None:
        self._request("DELETE", f"/api/bans/{_quote(ip)}")

    # -- settings -------------------------------------------------------

    def settings(self) -> list[dict]:
        return self._request("GET", "/api/settings")["settings"]

    def update_settings(self, changes: dict[str, Any]) -> dict:
        return self._request("PATCH", "/api/settings", changes)

    # -- web users and audit --------------------------------------------

    def users(self) -> list[dict]:
        return self._request("GET", "/api/users")["users"]

    def user(self, username: str) -> dict:
        return self._request("GET", f"/api/users/{_quote(username)}")

    def add_user(self, username: str, role: str, password_hash: str) -> dict:
        return self._request("POST", "/api/users",
                             {"username": username, "role": role, "password_hash": password_hash})

    def first_admin(self, code: str, username: str, password_hash: str) -> dict:
        """The first admin, with the one-time set-up code; ApiError 403 for a wrong code."""
        return self._request("POST", "/api/setup",
                             {"code": code, "username": username, "password_hash": password_hash})

    def update_user(self, username: str, **changes: Any) -> dict:
        return self._request("PATCH", f"/api/users/{_quote(username)}", changes)

    def delete_user(self, username: str) -> None:
        self._request("DELETE", f"/api/users/{_quote(username)}")

    def add_audit(self, actor: str, action: str, detail: str) -> None:
        self._request("POST", "/api/audit", {"actor": actor, "action": action, "detail": detail})

    def audit(self, limit: int = 100) -> list[dict]:
        return self._request("GET", f"/api/audit?limit={int(limit)}")["audit"]

    # -- calls, engine and front panel ------------------------------------

    def call_records(self, start: str | None = None, end: str | None = None, number: str = "",
                     offset: int = 0, limit: int = 100) -> list[dict]:
        """Call records newest first; start/end are ISO times (end exclusive)."""
        query = _cdr_query(start, end, number, offset, limit)
        return self._request("GET", f"/api/cdr?{query}")["records"]

    def call_records_csv(self, start: str | None = None, end: str | None = None,
                         number: str = "", limit: int = 10000) -> Iterator[bytes]:
        """The same records as CSV, yielded in chunks so a big export is never held whole."""
        query = _cdr_query(start, end, number, 0, limit)
        return self.download(f"/api/cdr.csv?{query}")

    def alarms(self) -> list[dict]:
        """What went wrong and what to do, newest first (appliance/alarms.py)."""
        return self._request("GET", "/api/alarms")["alarms"]

    def acknowledge_alarm(self, alarm_id: int) -> None:
        self._request("POST", f"/api/alarms/{int(alarm_id)}/ack")

    def engine(self) -> dict:
        """Engine workers and the calls in progress: {"workers": [...], "calls": [...]}."""
        return self._request("GET", "/api/engine")

    def panel(self) -> dict:
        """What the front panel shows now (LEDs, buttons, night mode, backend)."""
        return self._request("GET", "/api/panel")

    def press_panel(self, button: str, action: str) -> dict:
        """Work a button of the simulated panel: action is press, release or toggle."""
        return self._request("POST", "/api/panel/press", {"button": button, "action": action})

    # -- contact center: queues, agents, call flows ---------------------------

    def queues(self) -> list[dict]:
        """[{name, strategy, waiting, longest_wait_s, members}]."""
        return self._request("GET", "/api/queues")["queues"]

    def add_queue(self, config: dict[str, Any]) -> dict:
        """Create a queue from QueueConfig fields ({name, strategy?, ...})."""
        return self._request("POST", "/api/queues", config)

    def agents(self) -> list[dict]:
        """[{extension, name, status, state, break_reason, queues}]."""
        return self._request("GET", "/api/agents")["agents"]

    def add_agent(self, extension: str, queues: list[str] | dict[str, int],
                  skills: dict[str, int] | None = None) -> dict:
        body: dict[str, Any] = {"queues": queues}
        if skills:
            body["skills"] = skills
        return self._request("POST", f"/api/agents/{_quote(extension)}", body)

    def agent_action(self, extension: str, action: str, reason: str | None = None) -> dict:
        """login, logout, available or break (with a reason): {extension, status, state}."""
        body = {"reason": reason} if action == "break" else {}
        return self._request("POST", f"/api/agents/{_quote(extension)}/{_quote(action)}", body)

    def flows(self) -> dict:
        """The active call-flow set; ApiError 404 when none was saved yet."""
        return self._request("GET", "/api/flows")

    def put_flows(self, flows: dict[str, Any]) -> dict:
        """Save a whole flow set: {version, warnings}; FlowRejected lists the problems."""
        return self._request("PUT", "/api/flows", flows)

    def lines(self) -> list[dict]:
        """Phone lines (modems presented as trunks): [{name, kind, number, simulated, ...}]."""
        return self._request("GET", "/api/lines")["lines"]

    def queue_log(self) -> list[dict]:
        """Queue-log lines, newest first."""
        return self._request("GET", "/api/queue-log")["events"]

    def add_line(self, line: dict[str, Any]) -> dict:
        """Add a modem line: {name, kind: gsm|analog, device, audio_device?, profile?, pin?, number?}."""
        return self._request("POST", "/api/lines", line)

    # -- trunks and routes ------------------------------------------------

    def trunks(self) -> list[dict]:
        return self._request("GET", "/api/trunks")["trunks"]

    def add_trunk(self, trunk: dict[str, Any]) -> dict:
        return self._request("POST", "/api/trunks", trunk)

    def delete_trunk(self, name: str) -> None:
        self._request("DELETE", f"/api/trunks/{_quote(name)}")

    def routes(self) -> dict:
        """{"outbound": [{name, patterns, trunks, strip?, prefix?}], "inbound": [{did, caller?, destination, priority?}]}."""
        return self._request("GET", "/api/routes")

    def put_routes(self, routes: dict[str, Any]) -> dict:
        return self._request("PUT", "/api/routes", routes)

    # -- voicemail --------------------------------------------------------

    def voicemail_boxes(self) -> list[dict]:
        """[{number, email, max_message_s, max_messages, attach_audio, notify_unsolicited, new, old, ...}]."""
        return self._request("GET", "/api/voicemail")["boxes"]

    def voicemail_messages(self, box: str) -> list[dict]:
        return self._request("GET", f"/api/voicemail/{_quote(box)}")["messages"]

    def update_voicemail_box(self, box: str, **changes: Any) -> dict:
        return self._request("PATCH", f"/api/voicemail/{_quote(box)}", changes)

    def delete_voicemail(self, box: str, message_id: str) -> None:
        self._request("DELETE", f"/api/voicemail/{_quote(box)}/{_quote(message_id)}")

    def voicemail_audio(self, box: str, message_id: str) -> Iterator[bytes]:
        """The message's WAV in chunks."""
        return self.download(f"/api/voicemail/{_quote(box)}/{_quote(message_id)}.wav")

    # -- reports and prompts ------------------------------------------------

    def report(self, kind: str, **query: Any) -> dict:
        """GET /api/reports/<kind> (queues, agents, staffing, heatmap, today) with its query."""
        params = urllib.parse.urlencode({k: v for k, v in query.items() if v not in (None, "")})
        # The first report over a long range after a restart rolls up every day of it in the
        # core (some 6 s for a year of 200 calls a day): worth waiting for, unlike other calls.
        return self._request("GET", f"/api/reports/{_quote(kind)}" + (f"?{params}" if params else ""),
                             timeout=max(self.timeout, REPORT_TIMEOUT_S))

    def report_csv(self, kind: str, **query: Any) -> Iterator[bytes]:
        params = urllib.parse.urlencode({k: v for k, v in query.items() if v not in (None, "")})
        return self.download(f"/api/reports/{_quote(kind)}.csv" + (f"?{params}" if params else ""))

    def prompts(self) -> list[dict]:
        return self._request("GET", "/api/prompts")["prompts"]

    def speak_prompt(self, language: str, name: str, text: str) -> dict:
        """Make a prompt from text (the core speaks it with espeak-ng)."""
        return self._request("PUT", f"/api/prompts/{_quote(language)}/{_quote(name)}", {"text": text})

    def upload_prompt(self, language: str, name: str, audio: bytes) -> dict:
        """Replace a prompt with an uploaded recording (the core converts or refuses it)."""
        return self._request("PUT", f"/api/prompts/{_quote(language)}/{_quote(name)}",
                             raw=audio, content_type="application/octet-stream")

    # -- desk phones ----------------------------------------------------------

    def phones(self) -> dict:
        """{"phones": [{mac, extension, vendor, model, created, fetched}], "pending": [...], "url"}."""
        return self._request("GET", "/api/phones")

    def bind_phone(self, mac: str, extension: str, vendor: str | None = None,
                   model: str | None = None) -> dict:
        """Bind a MAC to an extension; without a vendor a pending phone is approved as it was seen.

        The answer carries the provisioning `password`, shown once."""
        body: dict[str, Any] = {"mac": mac, "extension": extension}
        if vendor:
            body["vendor"] = vendor
        if model:
            body["model"] = model
        return self._request("POST", "/api/phones", body)

    def unbind_phone(self, mac: str) -> None:
        self._request("DELETE", f"/api/phones/{_quote(mac)}")

    def phone_log(self) -> list[dict]:
        """The provisioning server's fetch log: [{time, ip, mac, file, outcome, user_agent}]."""
        return self._request("GET", "/api/phones/log")["fetches"]

    def phone_files(self, mac: str) -> dict[str, str]:
        """What the phone would fetch now, {file name: text} (a preview)."""
        return self._request("GET", f"/api/phones/{_quote(mac)}/files")["files"]

    # -- recordings and contract reports --------------------------------------

    def recordings(self, start: str | None = None, end: str | None = None, number: str = "",
                   agent: str = "") -> list[dict]:
        """Recorded calls: [{call_id, start, duration_s, caller, callee, queue, agent, answered_by, recording}]."""
        params = {k: v for k, v in (("from", start), ("to", end), ("number", number),
                                    ("agent", agent)) if v}
        query = urllib.parse.urlencode(params)
        return self._request("GET", "/api/recordings" + (f"?{query}" if query else ""))["recordings"]

    def recording_audio(self, call_id: str, actor: str) -> Iterator[bytes]:
        """A call's recording (WAV) in chunks; the core audits the fetch under `actor`."""
        return self.download(f"/api/recordings/{_quote(call_id)}.wav?"
                             + urllib.parse.urlencode({"actor": actor}))

    def business_report(self, kind: str, body: dict[str, Any], fmt: str = "json") -> Any:
        """POST /api/business/<sla|cost>?format=json|csv|html: a dict for json, else the text."""
        path = f"/api/business/{_quote(kind)}?format={_quote(fmt)}"
        if fmt == "json":
            return self._request("POST", path, body)
        for attempt in (1, 2):
            try:
                with self._open("POST", path, body) as resp:
                    return resp.read().decode("utf-8", "replace")
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt == 1 and self._rediscover():
                    continue
                raise ApiError(exc.code, _error_message(exc)) from None
            except (urllib.error.URLError, OSError) as exc:
                if attempt == 1 and self._rediscover():
                    continue
                raise ApiError(0, f"the core's control API is not reachable: "
                                  f"{getattr(exc, 'reason', exc)}") from None
        raise AssertionError("unreachable")

    # -- contacts, after-call work, click-to-dial ------------------------------

    def contacts(self, q: str = "", offset: int = 0, limit: int = 100) -> list[dict]:
        """[{id, name, company, numbers (E.164), email, notes, created, updated}]."""
        params = {"offset": str(int(offset)), "limit": str(int(limit))}
        if q:
            params["q"] = q
        return self._request("GET", "/api/contacts?" + urllib.parse.urlencode(params))["contacts"]

    def contact(self, contact_id: str) -> dict:
        return self._request("GET", f"/api/contacts/{_quote(contact_id)}")

    def add_contact(self, contact: dict[str, Any]) -> dict:
        """{name, company?, numbers: [...], email?, notes?}; a 400 names a bad number."""
        return self._request("POST", "/api/contacts", contact)

    def update_contact(self, contact_id: str, **changes: Any) -> dict:
        return self._request("PATCH", f"/api/contacts/{_quote(contact_id)}", changes)

    def delete_contact(self, contact_id: str) -> None:
        self._request("DELETE", f"/api/contacts/{_quote(contact_id)}")

    def lookup_contact(self, number: str) -> dict:
        """The screen pop: {"contact": {...} | None, "history": [the number's last calls]}."""
        return self._request("GET", "/api/contacts/lookup?"
                             + urllib.parse.urlencode({"number": number}))

    def contacts_csv(self) -> Iterator[bytes]:
        """Every contact as CSV (name, company, numbers joined by ';', email, notes)."""
        return self.download("/api/contacts.csv")

    def import_contacts_csv(self, text: bytes) -> dict:
        """{"imported": n, "errors": [{"line", "error"}]}: good rows are kept, bad ones listed."""
        return self._request("POST", "/api/contacts.csv", raw=text,
                             content_type="text/csv; charset=utf-8")

    def update_call_record(self, call_id: str, **changes: Any) -> dict:
        """After-call work on a call record: notes, disposition_code (<= 40 chars), agent."""
        return self._request("PATCH", f"/api/cdr/{_quote(call_id)}", changes)

    def dial(self, from_extension: str, to: str) -> dict:
        """Click-to-dial: the extension's phone rings first, then `to` is called: {call_id}."""
        return self._request("POST", "/api/calls", {"from": from_extension, "to": to})

    def browser_phone_ticket(self, extension: str) -> dict:
        """A single-use ticket that opens the browser phone's SIP WebSocket as `extension`:
        {ticket, extension, expires_in, port}; 409 while browser phones are off."""
        return self._request("POST", "/api/browser-phone/ticket", {"extension": extension})

    # -- backup, restore, logs -------------------------------------------------

    def backup(self, actor: str) -> Iterator[bytes]:
        """A backup of the box (.tar.gz) in chunks; the core audits it under `actor`."""
        return self.download("/api/backup?" + urllib.parse.urlencode({"actor": actor}))

    def restore(self, archive: bytes) -> dict:
        """Hand a backup to the core; it verifies it (400 with the reason) and restarts."""
        return self._request("POST", "/api/restore", raw=archive,
                             content_type="application/gzip",
                             timeout=max(self.timeout, REPORT_TIMEOUT_S))

    def logs(self, lines: int = 200) -> list[str]:
        """The core's recent log lines, oldest first."""
        return self._request("GET", f"/api/logs?lines={int(lines)}")["lines"]

    def download(self, path: str) -> Iterator[bytes]:
        """A file from the API (CSV, WAV), yielded in chunks; ApiError before the first one."""
        for attempt in (1, 2):
            try:
                resp = self._open("GET", path)
                break
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and attempt == 1 and self._rediscover():
                    continue
                raise ApiError(exc.code, _error_message(exc)) from None
            except (urllib.error.URLError, OSError) as exc:
                if attempt == 1 and self._rediscover():
                    continue
                raise ApiError(0, f"the core's control API is not reachable: "
                                  f"{getattr(exc, 'reason', exc)}") from None
        return _chunks(resp)

    # -- live events ----------------------------------------------------

    def events(self, idle_timeout: float = 30) -> Iterator[Event]:
        """Yield the core's events until the stream ends or stays silent for idle_timeout.

        Ending on silence (rather than blocking forever) lets a relay notice
        that its browser went away or its session expired; callers reconnect.
        """
        try:
            resp = self._open("GET", "/api/events", timeout=idle_timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                self._rediscover()
            raise ApiError(exc.code, _error_message(exc)) from None
        except (urllib.error.URLError, OSError) as exc:
            self._rediscover()
            raise ApiError(0, f"the core's event stream is not reachable: "
                              f"{getattr(exc, 'reason', exc)}") from None
        try:
            yield from parse_sse(resp)
        except (TimeoutError, OSError):
            return
        finally:
            resp.close()


def parse_sse(lines) -> Iterator[Event]:
    """Decode a Server-Sent Events stream (an iterable of byte lines) into Events."""
    name, data = "message", []
    for raw in lines:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line:
            if data:
                text = "\n".join(data)
                try:
                    payload = json.loads(text)
                except ValueError:
                    payload = text
                yield Event(name, payload)
            name, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)


def _cdr_query(start: str | None, end: str | None, number: str, offset: int, limit: int) -> str:
    params: dict[str, str] = {}
    if start:
        params["from"] = start
    if end:
        params["to"] = end
    if number:
        params["number"] = number
    params["offset"], params["limit"] = str(int(offset)), str(int(limit))
    return urllib.parse.urlencode(params)


def _chunks(resp, size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        while chunk := resp.read(size):
            yield chunk
    finally:
        resp.close()


def _read_discovery(path: Path) -> tuple[str, str]:
    try:
        info = json.loads(path.read_text())
        return str(info["url"]), str(info["token"])
    except FileNotFoundError:
        raise ApiError(0, f"{path} does not exist: is the core running?") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ApiError(0, f"{path} cannot be read: {exc}") from None


def _error_body(exc: urllib.error.HTTPError) -> dict:
    try:
        body = json.loads(exc.read() or b"{}")
        return body if isinstance(body, dict) else {}
    except (ValueError, AttributeError, OSError):
        return {}


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
        return str(body.get("error") or exc.reason)
    except (ValueError, AttributeError, OSError):
        return str(exc.reason)
