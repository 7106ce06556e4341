"""The fake control API's HTTP side: one request in, the FakeControlApi's answer out.

Most requests are JSON and go to `FakeControlApi.handle`; uploads (a prompt, a contact or call
list CSV, a backup), downloads (WAV, CSV) and the event stream are served here, as the core's
aiohttp routes serve them.
"""

from __future__ import annotations

import json
import queue
import re
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from appliance.errors import ValidationError
from tests.web import fake_campaigns, fake_contacts, fake_more, fake_phones


class Handler(BaseHTTPRequestHandler):
    api: Any  # the FakeControlApi it serves
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def _reply(self, status: int, payload) -> None:
        if isinstance(payload, fake_phones.Raw):
            return self._raw(payload.body, payload.content_type)
        if isinstance(payload, dict) and isinstance(payload.get("error"), str):
            with self.api._lock:  # what the core said in its own words, for the language checks
                self.api.errors_sent.append(payload["error"])
        raw = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if raw:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _serve(self) -> None:
        url = urlsplit(self.path)
        self.api.requests.append((self.command, url.path))
        if self.headers.get("Authorization") != f"Bearer {self.api.token}":
            return self._reply(401, {"error": "missing or wrong token"})
        length = int(self.headers.get("Content-Length") or 0)
        body = None
        if self.command == "PUT" and url.path.startswith("/api/prompts/"):
            parts = [unquote(p) for p in url.path.split("/")[3:]]
            raw = self.rfile.read(length) if length else b""
            with self.api._lock:
                status, payload = (fake_more.put_prompt(self.api, parts[0], parts[1],
                                                        self.headers.get("Content-Type", ""), raw)
                                   if len(parts) == 2 else (404, {"error": "no such endpoint"}))
            return self._reply(status, payload)
        if self.command == "POST" and url.path in ("/api/contacts.csv", "/api/restore"):
            raw = self.rfile.read(length) if length else b""
            with self.api._lock:
                status, payload = fake_contacts.raw_post(self.api, url.path, raw)
            return self._reply(status, payload)
        if self.command == "POST" and re.fullmatch(r"/api/campaigns/[^/]+/list\.csv", url.path):
            raw = self.rfile.read(length) if length else b""
            status, payload = fake_campaigns.raw_post(self.api, unquote(url.path.split("/")[3]), raw)
            return self._reply(status, payload)
        if self.command == "GET" and re.fullmatch(r"/api/voicemail/[^/]+/[^/]+\.wav", url.path):
            box, message = [unquote(p) for p in url.path[len("/api/voicemail/"):-4].split("/")]
            with self.api._lock:
                found = any(m["id"] == message for m in self.api.voicemail_messages.get(box, []))
                if found:  # as the core does: listening through the API is audited there too
                    self.api.audit.insert(0, {"time": time.strftime("%Y-%m-%d %H:%M:%S"), "actor": "api",
                                              "action": "voicemail_listened", "detail": f"{box}/{message}"})
            if not found:
                return self._reply(404, {"error": "no such message"})
            return self._raw(fake_more.wav(), "audio/wav")
        if self.command == "GET" and re.fullmatch(r"/api/reports/\w+\.csv", url.path):
            kind = url.path[len("/api/reports/"):-4]
            with self.api._lock:
                self.api.report_queries.append((kind + ".csv", {k: v[0] for k, v in parse_qs(url.query).items()}))
            try:
                text = fake_more.report_csv(kind, parse_qs(url.query))
            except KeyError:
                return self._reply(404, {"error": f"no report {kind!r}"})
            except ValidationError as exc:
                return self._reply(400, {"error": str(exc)})
            return self._raw(text.encode(), "text/csv", f'attachment; filename="{kind}.csv"')
        if length:
            try:
                body = json.loads(self.rfile.read(length))
            except ValueError:
                return self._reply(400, {"error": "body is not JSON"})
        if self.command == "GET" and url.path == "/api/events":
            return self._stream()
        if self.command == "GET" and url.path == "/api/alarms" and getattr(self.api, "alarm_list", None) is not None:
            return self._reply(200, {"alarms": self.api.alarm_list})  # a test sets alarm_list
        if self.command == "GET" and url.path == "/api/cdr.csv" and self.api.has_cdr:
            with self.api._lock:
                self.api.queries.append(("cdr.csv", parse_qs(url.query)))
                status, payload = self.api.cdr_csv(parse_qs(url.query))
            if status != 200:
                return self._reply(status, payload)
            raw = payload.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/csv; charset=utf-8")
            self.send_header("Content-Disposition", 'attachment; filename="calls.csv"')
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            return
        status, payload = self.api.handle(self.command, url.path, parse_qs(url.query), body)
        self._reply(status, payload)

    def _raw(self, raw: bytes, content_type: str, disposition: str = "") -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if disposition:
            self.send_header("Content-Disposition", disposition)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _stream(self) -> None:
        q: queue.Queue = queue.Queue()
        with self.api._lock:
            self.api._subscribers.append(q)
        self.close_connection = True
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            while not self.api._stopping.is_set():
                try:
                    event, data = q.get(timeout=0.2)
                except queue.Empty:
                    continue
                self.wfile.write(f"event: {event}\ndata: {json.dumps(data)}\n\n".encode())
                self.wfile.flush()
        except OSError:
            pass
        finally:
            with self.api._lock:
                self.api._subscribers.remove(q)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve
