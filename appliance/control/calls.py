"""Calls: call records (and their after-call work), click-to-dial, recording a call now,
supervisors joining a call, and the recordings of calls."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from aiohttp import web

from appliance.control.common import Route, body, error
from appliance.control.services import Users
from appliance.errors import NotAllowed, NotFound, ValidationError
from appliance.logic import csv_safe

if TYPE_CHECKING:
    from appliance.store.records import MonthlyLog
    from appliance.switchboard import Switchboard

TITLE = "Calls, call records and recordings"

CDR_COLUMNS = ("id", "start", "answer", "end", "duration_s", "talk_s", "disposition", "direction", "caller",
               "caller_name", "callee", "answered_by", "hangup_by", "status", "trunk", "worker", "call_id")

ROUTES = (
    Route("GET", "/api/cdr", "list_cdr",
          'call records, newest first: `{"records": [{id, call_id, start, answer, end (ISO-8601), duration_s, '
          "talk_s, disposition, direction, caller, caller_name, callee, answered_by, hangup_by, status, trunk, "
          "worker, transferred, legs}]}`; `from`/`to` are ISO dates or times; `number` matches caller or callee",
          shown="/api/cdr?from=&to=&number=&offset=0&limit=100"),
    Route("GET", "/api/cdr.csv", "cdr_csv", "the same records (same filters) as CSV"),
    Route("PATCH", "/api/cdr/{call_id}", "patch_cdr", "after-call work: `{notes?, disposition_code?, agent?}`"),
    Route("POST", "/api/calls", "click_to_dial",
          "click-to-dial: `{from: extension, to: number}` → `202 {call_id}`; the box rings the extension first, "
          "then the number (class of service applies: `403`)"),
    Route("POST", "/api/calls/{call_id}/record", "record_call",
          "record a connected call now (not when the caller declined; `409` when the disk guard has stopped "
          "recording)"),
    Route("POST", "/api/supervise", "supervise",
          "`{supervisor, agent, mode: listen\\|whisper\\|barge}`: the box rings the supervisor's phone and joins "
          "it to the agent's call; `403` unless the supervisor's extension has `supervisor: true`"),
    Route("GET", "/api/recordings", "list_recordings",
          'recorded calls: `{"recordings": [{call_id, start, duration_s, caller, callee, queue, agent, '
          "answered_by, recording}]}`", shown="/api/recordings?from=&to=&number=&agent="),
    Route("GET", "/api/recordings/{call_id}.wav", "recording_audio",
          "the recording (each listen is in the audit log, with `actor`)",
          shown="/api/recordings/<call_id>.wav?actor="),
    Route("GET", "/api/recordings/{call_id}", "recording_audio", ""),
)


def _record_query(request: web.Request) -> dict[str, Any]:
    """The filters of /api/cdr (and /api/recordings) as the call records' query takes them."""
    q = request.query
    try:
        start = datetime.fromisoformat(q["from"]) if "from" in q else None
        end = datetime.fromisoformat(q["to"]) if "to" in q else None
    except ValueError:
        raise ValidationError("from/to: must be ISO-8601 dates, e.g. 2026-11-01 or 2026-11-01T08:00+01:00") from None
    try:
        offset = int(q.get("offset", "0"))
        limit = int(q.get("limit", "100"))
    except ValueError:
        raise ValidationError("offset/limit: must be numbers") from None
    if offset < 0 or not 1 <= limit <= 10000:
        raise ValidationError("offset must not be negative and limit must be between 1 and 10000")
    number = q.get("number", "")
    match = (lambda r: number in (r.get("caller") or "") or number in (r.get("callee") or "")) if number else None
    return {"start": start, "end": end, "match": match, "offset": offset, "limit": limit}


class CallRoutes:
    def __init__(self, call_records: "MonthlyLog", switchboard: Callable[[], "Switchboard | None"],
                 users: Users, data_dir: Path) -> None:
        self.call_records = call_records
        self.switchboard = switchboard
        self.users = users
        self.data_dir = data_dir

    def _engine(self) -> "Switchboard":
        sb = self.switchboard()
        if sb is None:
            raise NotFound("the engine is not running")
        return sb

    def _records(self, request: web.Request) -> list[dict[str, Any]]:
        f = _record_query(request)
        return self.call_records.query(f["start"], f["end"], f["match"], offset=f["offset"], limit=f["limit"])

    def _by_call_id(self, call_id: str) -> list[dict[str, Any]]:
        return self.call_records.query(None, None, lambda r: r.get("call_id") == call_id, limit=1)

    async def list_cdr(self, request: web.Request) -> web.Response:
        return web.json_response({"records": self._records(request)})

    async def cdr_csv(self, request: web.Request) -> web.Response:
        out = io.StringIO()
        writer = csv_safe.writer(out)
        writer.writerow(CDR_COLUMNS)
        for rec in self._records(request):
            writer.writerow(["" if rec.get(c) is None else rec.get(c) for c in CDR_COLUMNS])
        return web.Response(text=out.getvalue(), content_type="text/csv",
                            headers={"Content-Disposition": 'attachment; filename="calls.csv"'})

    async def patch_cdr(self, request: web.Request) -> web.Response:
        """After-call work: notes and a disposition code on a call record."""
        data = await body(request)
        if not isinstance(data, dict) or not data or set(data) - {"notes", "disposition_code", "agent"}:
            raise ValidationError("body: {notes?, disposition_code?, agent?}")
        if len(str(data.get("notes", ""))) > 4000 or len(str(data.get("disposition_code", ""))) > 40:
            raise ValidationError("notes: at most 4000 characters; disposition_code: at most 40")
        call_id = request.match_info["call_id"]
        found = self._by_call_id(call_id)
        if not found:
            raise NotFound(f"no call record {call_id}")
        self.call_records.update(found[0]["id"], {k: str(v) for k, v in data.items()})
        return web.json_response(self._by_call_id(call_id)[0])

    async def click_to_dial(self, request: web.Request) -> web.Response:
        data = await body(request)
        if not isinstance(data, dict) or not isinstance(data.get("from"), str) or not isinstance(data.get("to"), str):
            raise ValidationError("body: {from: extension, to: number}")
        sb = self._engine()
        try:
            return web.json_response(sb.originate(data["from"], data["to"]), status=202)
        except NotAllowed as e:
            return error(403, str(e))

    async def record_call(self, request: web.Request) -> web.Response:
        """On-demand recording of a call in progress (the policy still decides; a caller who declined is not)."""
        return web.json_response(self._engine().record_on_demand(request.match_info["call_id"]))

    async def supervise(self, request: web.Request) -> web.Response:
        """Listen, whisper or barge: the box rings the supervisor's phone and joins them to the agent's call."""
        data = await body(request)
        if not isinstance(data, dict) or not {"supervisor", "agent", "mode"} <= set(data):
            raise ValidationError("body: {supervisor, agent, mode: listen|whisper|barge}")
        sb = self._engine()
        try:
            sb.supervise(str(data["supervisor"]), str(data["agent"]), str(data["mode"]))
        except NotAllowed as e:
            return error(403, str(e))
        return web.json_response({"supervisor": data["supervisor"], "agent": data["agent"], "mode": data["mode"]})

    async def list_recordings(self, request: web.Request) -> web.Response:
        """Recorded calls: the call records that have a recording, with the same filters as /api/cdr."""
        agent = request.query.get("agent", "")
        records = [r for r in self._records(request) if r.get("recording")
                   and (not agent or agent in (r.get("agent"), r.get("answered_by")))]
        return web.json_response({"recordings": [{k: r.get(k) for k in (
            "call_id", "start", "duration_s", "caller", "callee", "queue", "agent", "answered_by", "recording")}
            for r in records]})

    async def recording_audio(self, request: web.Request) -> web.StreamResponse:
        call_id = request.match_info["call_id"]
        found = self._by_call_id(call_id)
        if not found or not found[0].get("recording"):
            raise NotFound(f"no recording of call {call_id}")
        path = self.data_dir / found[0]["recording"]
        if not path.exists():
            raise NotFound(f"the recording of call {call_id} was deleted")
        self.users.audit(request.query.get("actor", "api"), "recording_listened", call_id)
        kind = "audio/ogg" if path.suffix == ".opus" else "audio/wav"
        return web.FileResponse(path, headers={"Content-Type": kind})
