"""The control API: HTTP/JSON on loopback with a bearer token, and an event
stream (Server-Sent Events). What the web page can do, a CRM can do:
every route is documented in docs/api.md.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import io
import json
from datetime import datetime
import logging
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from aiohttp import web

from appliance.errors import CallboxError, Conflict, FlowInvalid, HardwareUnavailable, NotAllowed, NotFound, SettingError, ValidationError
from appliance.logic import csv_safe

if TYPE_CHECKING:
    from appliance.core import Core

log = logging.getLogger("callbox.api")

# Every request body is at most MAX_BODY (aiohttp's client_max_size), except on the
# routes that take a file, which read it through _upload() with their own cap.
MAX_BODY = 1 << 20
MAX_UPLOAD = 32 << 20  # a 10-minute prompt as 44.1 kHz stereo WAV is ~100 MB; compressed is less
MAX_IMPORT = 4 << 20  # a contacts CSV of some ten thousand contacts (the web page's cap too)
MAX_BACKUP = 256 << 20  # a backup with recordings and voicemail (the web page's cap too)
SSE_HEARTBEAT_S = 15.0

CORE: web.AppKey = web.AppKey("core", object)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def guard(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]):
    """Token check and error mapping: bad input is a 4xx with a reason, never a 500."""
    core: Core = request.app[CORE]  # type: ignore[assignment]
    auth = request.headers.get("Authorization", "")
    token = core.api_token()
    if not (auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].encode(), token.encode())):
        return _error(401, "missing or wrong bearer token")
    try:
        return await handler(request)
    except web.HTTPException as e:
        if e.status >= 400:
            return _error(e.status, e.reason)
        raise
    except NotFound as e:
        return _error(404, str(e))
    except Conflict as e:
        return _error(409, str(e))
    except (ValidationError, SettingError) as e:
        return _error(400, str(e))
    except CallboxError as e:
        return _error(400, str(e))


async def _body(request: web.Request) -> Any:
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ValidationError("body: too large")
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise ValidationError("body: too large")
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as e:
        raise ValidationError(f"body: not valid JSON ({e})") from None


async def _upload(request: web.Request, limit: int, what: str) -> bytes:
    """A file sent as the request body, refused with 413 past `limit` bytes (before or while reading)."""
    too_big = web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length or limit + 1,
                                            reason=f"{what}: too large (at most {limit >> 20} MB)")
    if request.content_length is not None and request.content_length > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _core(request: web.Request) -> "Core":
    return request.app[CORE]  # type: ignore[return-value]


async def health(request: web.Request) -> web.Response:
    return web.json_response(_core(request).health())


async def list_extensions(request: web.Request) -> web.Response:
    return web.json_response({"extensions": _core(request).extensions()})


async def create_extension(request: web.Request) -> web.Response:
    return web.json_response(_core(request).create_extension(await _body(request)), status=201)


async def get_extension(request: web.Request) -> web.Response:
    return web.json_response(_core(request).extension(request.match_info["number"]))


async def patch_extension(request: web.Request) -> web.Response:
    return web.json_response(_core(request).update_extension(request.match_info["number"], await _body(request)))


async def delete_extension(request: web.Request) -> web.Response:
    _core(request).delete_extension(request.match_info["number"])
    return web.Response(status=204)


async def registrations(request: web.Request) -> web.Response:
    return web.json_response({"registrations": _core(request).registrations()})


async def bans(request: web.Request) -> web.Response:
    return web.json_response({"bans": _core(request).bans()})


async def list_alarms(request: web.Request) -> web.Response:
    return web.json_response({"alarms": _core(request).alarms.active()})


async def acknowledge_alarm(request: web.Request) -> web.Response:
    try:
        alarm_id = int(request.match_info["id"])
    except ValueError:
        raise ValidationError("alarm id: a number") from None
    if not _core(request).alarms.acknowledge(alarm_id):
        raise NotFound(f"alarm {alarm_id} is not active")
    return web.Response(status=204)


async def unban(request: web.Request) -> web.Response:
    _core(request).unban(request.match_info["ip"])
    return web.Response(status=204)


async def get_settings(request: web.Request) -> web.Response:
    return web.json_response({"settings": _core(request).settings.describe()})


async def patch_settings(request: web.Request) -> web.Response:
    return web.json_response(_core(request).change_settings(await _body(request)))


async def list_users(request: web.Request) -> web.Response:
    return web.json_response({"users": _core(request).users()})


async def create_user(request: web.Request) -> web.Response:
    user = _core(request).create_user(await _body(request))
    return web.json_response({k: v for k, v in user.items() if k != "password_hash"}, status=201)


async def first_admin(request: web.Request) -> web.Response:
    """POST /api/setup {code, username, password_hash}: the first admin, with the one-time set-up code.

    Only while the box has no web users; the code (appliance/setup_code.py) is
    used up by the admin it creates. A wrong code is 403; the web page throttles
    the guesses. With no code on file (all users were removed since the start)
    a new one is made and printed on the core's console.
    """
    from appliance import setup_code
    core = _core(request)
    body = await _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        raise ValidationError("body: {code, username, password_hash}")
    if core.users():
        raise Conflict("the box has an admin already: log in instead")
    if setup_code.read(core.data_dir) is None:
        code, _ = setup_code.ensure(core.data_dir)
        setup_code.announce(code)
        return _error(403, "wrong set-up code")
    if not setup_code.matches(core.data_dir, body["code"]):
        return _error(403, "wrong set-up code")
    user = core.create_user({"username": body.get("username"), "role": "admin",
                             "password_hash": body.get("password_hash")})
    setup_code.discard(core.data_dir)
    core.audit(user["username"], "first_admin", "created with the set-up code")
    return web.json_response({k: v for k, v in user.items() if k != "password_hash"}, status=201)


def announce_setup_code(core: "Core") -> None:
    """At the core's start: while no admin exists, make (or keep) the set-up code and print it."""
    from appliance import setup_code
    try:
        if core.users():
            setup_code.discard(core.data_dir)
            return
        code, _ = setup_code.ensure(core.data_dir)
    except (CallboxError, OSError) as e:  # the box still runs; `callbox check` says what is wrong
        log.error("cannot make the first-run set-up code: %s", e)
        return
    setup_code.announce(code)


async def get_user(request: web.Request) -> web.Response:
    return web.json_response(_core(request).user(request.match_info["username"]))


async def patch_user(request: web.Request) -> web.Response:
    user = _core(request).update_user(request.match_info["username"], await _body(request))
    return web.json_response({k: v for k, v in user.items() if k != "password_hash"})


async def delete_user(request: web.Request) -> web.Response:
    _core(request).delete_user(request.match_info["username"])
    return web.Response(status=204)


async def post_audit(request: web.Request) -> web.Response:
    body = await _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        raise ValidationError("action: required")
    return web.json_response(_core(request).audit(body.get("actor", "api"), body["action"],
                                                  body.get("detail", "")), status=201)


async def get_audit(request: web.Request) -> web.Response:
    try:
        limit = max(1, min(1000, int(request.query.get("limit", "100"))))
    except ValueError:
        raise ValidationError("limit: must be a number") from None
    return web.json_response({"audit": _core(request).audit_log(limit)})


CDR_COLUMNS = ("id", "start", "answer", "end", "duration_s", "talk_s", "disposition", "direction", "caller",
               "caller_name", "callee", "answered_by", "hangup_by", "status", "trunk", "worker", "call_id")


def _cdr_query(request: web.Request) -> list[dict[str, Any]]:
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
    return _core(request).call_records.query(start, end, match, offset=offset, limit=limit)


async def list_cdr(request: web.Request) -> web.Response:
    return web.json_response({"records": _cdr_query(request)})


async def cdr_csv(request: web.Request) -> web.Response:
    out = io.StringIO()
    writer = csv_safe.writer(out)
    writer.writerow(CDR_COLUMNS)
    for rec in _cdr_query(request):
        writer.writerow(["" if rec.get(c) is None else rec.get(c) for c in CDR_COLUMNS])
    return web.Response(text=out.getvalue(), content_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="calls.csv"'})


async def engine_status(request: web.Request) -> web.Response:
    sb = _core(request).switchboard
    return web.json_response({"workers": sb.status() if sb else [], "calls": sb.active_calls() if sb else []})


async def panel(request: web.Request) -> web.Response:
    core = _core(request)
    if core.panel is None:
        raise NotFound("the front panel is not running")
    return web.json_response(core.panel.snapshot())


async def panel_press(request: web.Request) -> web.Response:
    try:
        return web.json_response(_core(request).panel_press(await _body(request)))
    except HardwareUnavailable as e:
        return _error(409, str(e))


async def list_queues(request: web.Request) -> web.Response:
    return web.json_response({"queues": _core(request).center_admin.queues()})


async def create_queue(request: web.Request) -> web.Response:
    return web.json_response(_core(request).center_admin.create_queue(await _body(request)), status=201)


async def list_agents(request: web.Request) -> web.Response:
    return web.json_response({"agents": _core(request).center_admin.agents()})


async def create_agent(request: web.Request) -> web.Response:
    admin = _core(request).center_admin
    return web.json_response(admin.create_agent(request.match_info["ext"], await _body(request)), status=201)


async def agent_action(request: web.Request) -> web.Response:
    admin = _core(request).center_admin
    body = await _body(request) if request.can_read_body else {}
    return web.json_response(admin.agent_action(request.match_info["ext"], request.match_info["action"], body))


async def get_flows(request: web.Request) -> web.Response:
    return web.json_response(_core(request).center_admin.get_flows())


async def put_flows(request: web.Request) -> web.Response:
    try:
        return web.json_response(_core(request).center_admin.put_flows(await _body(request)))
    except FlowInvalid as e:
        return web.json_response({"error": str(e), "problems": [
            {"where": p.where, "id": p.id, "field": p.field, "reason": p.reason, "message": str(p)}
            for p in e.problems]}, status=400)


async def flow_override(request: web.Request) -> web.Response:
    return web.json_response(_core(request).set_flow_override(await _body(request)))


async def record_call(request: web.Request) -> web.Response:
    """On-demand recording of a call in progress (the policy still decides; a caller who declined is not)."""
    core = _core(request)
    sb = core.switchboard
    if sb is None:
        raise NotFound("the engine is not running")
    return web.json_response(sb.record_on_demand(request.match_info["call_id"]))


async def upload_greeting(request: web.Request) -> web.Response:
    """A voicemail greeting (unavailable, busy, temporary) uploaded as audio in any common format."""
    from appliance import prompts
    core = _core(request)
    box, kind = request.match_info["box"], request.match_info["kind"]
    if kind not in ("unavailable", "busy", "temporary"):
        raise ValidationError("greeting: unavailable, busy or temporary")
    core.voicemail_box(box)
    data = await _upload(request, MAX_UPLOAD, "greeting")
    tmp = core.data_dir / "run" / f"greeting-{box}-{kind}.wav"
    info = await asyncio.get_running_loop().run_in_executor(None, prompts.convert_upload, data, tmp)
    core.voicemail.set_greeting(box, kind, tmp)
    return web.json_response({"box": box, "kind": kind, "seconds": info.seconds}, status=201)


async def queue_log(request: web.Request) -> web.Response:
    return web.json_response({"events": _core(request).queue_log.query(None, None, limit=200)})


async def list_trunks(request: web.Request) -> web.Response:
    return web.json_response({"trunks": _core(request).trunks.list()})


async def create_trunk(request: web.Request) -> web.Response:
    return web.json_response(_core(request).trunks.create(await _body(request)), status=201)


async def delete_trunk(request: web.Request) -> web.Response:
    _core(request).trunks.delete(request.match_info["name"])
    return web.Response(status=204)


async def get_routes(request: web.Request) -> web.Response:
    return web.json_response(_core(request).trunks.routes())


async def put_routes(request: web.Request) -> web.Response:
    return web.json_response(_core(request).trunks.put_routes(await _body(request)))


async def list_prompts(request: web.Request) -> web.Response:
    from appliance import prompts
    core = _core(request)
    return web.json_response({"prompts": [p.to_dict() for p in prompts.list_prompts(core.data_dir / "prompts")]})


async def put_prompt(request: web.Request) -> web.Response:
    """JSON {"text": ...} is spoken with espeak-ng; any other body is an uploaded recording."""
    from appliance import prompts
    core = _core(request)
    dest = prompts.prompt_dest(core.data_dir / "prompts", request.match_info["name"], request.match_info["lang"])
    loop = asyncio.get_running_loop()
    if request.content_type == "application/json":
        body = await _body(request)
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            raise ValidationError("text: required")
        info = await loop.run_in_executor(None, prompts.synthesize, body["text"], request.match_info["lang"], dest)
    else:
        data = await _upload(request, MAX_UPLOAD, "prompt")
        info = await loop.run_in_executor(None, prompts.convert_upload, data, dest)
    core.events.publish("prompt", name=info.name, language=info.language, source=info.source)
    return web.json_response(info.to_dict(), status=201)


async def list_contacts(request: web.Request) -> web.Response:
    q = request.query
    try:
        offset, limit = int(q.get("offset", "0")), int(q.get("limit", "100"))
    except ValueError:
        raise ValidationError("offset/limit: must be numbers") from None
    return web.json_response({"contacts": _core(request).contacts.list(q.get("q", ""), offset, limit)})


async def create_contact(request: web.Request) -> web.Response:
    return web.json_response(_core(request).contacts.create(await _body(request)), status=201)


async def get_contact(request: web.Request) -> web.Response:
    cid = request.match_info["id"]
    if cid == "lookup":
        return web.json_response(_core(request).contacts.lookup(request.query.get("number", "")))
    return web.json_response(_core(request).contacts.get(cid))


async def patch_contact(request: web.Request) -> web.Response:
    return web.json_response(_core(request).contacts.update(request.match_info["id"], await _body(request)))


async def delete_contact(request: web.Request) -> web.Response:
    _core(request).contacts.delete(request.match_info["id"])
    return web.Response(status=204)


async def contacts_csv(request: web.Request) -> web.Response:
    return web.Response(text=_core(request).contacts.to_csv(), content_type="text/csv")


async def import_contacts(request: web.Request) -> web.Response:
    raw = await _upload(request, MAX_IMPORT, "CSV")
    return web.json_response(_core(request).contacts.import_csv(raw))  # it finds the encoding itself


async def patch_cdr(request: web.Request) -> web.Response:
    """After-call work: notes and a disposition code on a call record."""
    core = _core(request)
    body = await _body(request)
    if not isinstance(body, dict) or not body or set(body) - {"notes", "disposition_code", "agent"}:
        raise ValidationError("body: {notes?, disposition_code?, agent?}")
    if len(str(body.get("notes", ""))) > 4000 or len(str(body.get("disposition_code", ""))) > 40:
        raise ValidationError("notes: at most 4000 characters; disposition_code: at most 40")
    call_id = request.match_info["call_id"]
    found = core.call_records.query(None, None, lambda r: r.get("call_id") == call_id, limit=1)
    if not found:
        raise NotFound(f"no call record {call_id}")
    core.call_records.update(found[0]["id"], {k: str(v) for k, v in body.items()})
    return web.json_response(core.call_records.query(None, None, lambda r: r.get("call_id") == call_id,
                                                     limit=1)[0])


async def click_to_dial(request: web.Request) -> web.Response:
    core = _core(request)
    body = await _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("from"), str) or not isinstance(body.get("to"), str):
        raise ValidationError("body: {from: extension, to: number}")
    if core.switchboard is None:
        raise NotFound("the engine is not running")
    try:
        return web.json_response(core.switchboard.originate(body["from"], body["to"]), status=202)
    except NotAllowed as e:
        return _error(403, str(e))


async def download_backup(request: web.Request) -> web.StreamResponse:
    from appliance.backup import create_backup
    core = _core(request)
    dest = core.data_dir / "run" / "download.tar.gz"
    await asyncio.get_running_loop().run_in_executor(None, lambda: create_backup(core.data_dir, dest))
    core.audit(request.query.get("actor", "api"), "backup_downloaded", "")
    return web.FileResponse(dest, headers={"Content-Type": "application/gzip",
                                           "Content-Disposition": 'attachment; filename="callbox-backup.tar.gz"'})


async def upload_restore(request: web.Request) -> web.Response:
    from appliance.errors import BackupError
    core = _core(request)
    data = await _upload(request, MAX_BACKUP, "backup")
    try:
        result = await asyncio.get_running_loop().run_in_executor(None, core.stage_restore, data)
    except BackupError as e:
        return _error(400, str(e))
    core.restart_soon()
    return web.json_response(result, status=202)


async def restart(request: web.Request) -> web.Response:
    """Restart the core (systemd starts it again); calls in progress end."""
    core = _core(request)
    core.audit(request.query.get("actor", "api"), "restart", "")
    core.restart_soon()
    return web.json_response({"restarting": True}, status=202)


async def recent_logs(request: web.Request) -> web.Response:
    from appliance.core import RECENT_LOG
    try:
        n = max(1, min(1000, int(request.query.get("lines", "200"))))
    except ValueError:
        raise ValidationError("lines: a number") from None
    return web.json_response({"lines": list(RECENT_LOG.lines)[-n:]})


async def list_sms(request: web.Request) -> web.Response:
    return web.json_response({"sms": _core(request).sms_log.query(None, None, limit=200)})


async def send_sms(request: web.Request) -> web.Response:
    return web.json_response(_core(request).lines.send_sms(await _body(request)), status=202)


async def list_lines(request: web.Request) -> web.Response:
    return web.json_response({"lines": _core(request).lines.status()})


async def add_line(request: web.Request) -> web.Response:
    return web.json_response(await _core(request).lines.add(await _body(request)), status=201)


async def simulate_line(request: web.Request) -> web.Response:
    return web.json_response(_core(request).lines.simulate(request.match_info["name"], await _body(request)))


REPORTS = ("queues", "agents", "staffing", "heatmap", "today")


async def report(request: web.Request) -> web.Response:
    """GET /api/reports/<kind>[.csv]: the reports of docs/reports.md, computed off the loop."""
    core = _core(request)
    kind, _, fmt = request.match_info["kind"].partition(".")
    if kind not in REPORTS or fmt not in ("", "csv"):
        raise NotFound(f"no report {request.match_info['kind']!r}; there are {', '.join(REPORTS)} (and .csv)")
    q = request.query
    args: dict[str, Any] = {}
    if kind != "today":
        today = core.reports.today_date().isoformat()  # the business's day, not the server's (UTC)
        args = {"start": q.get("from", today), "end": q.get("to", today)}
    if kind == "queues":
        args |= {"interval": q.get("interval", "day"), "queue": q.get("queue") or None}
    elif kind in ("heatmap", "staffing") and q.get("queue"):
        args["queue"] = q["queue"]
    if kind == "staffing":
        try:
            args["target_sl"] = float(q.get("target_sl", "0.8"))
            args["target_s"] = float(q.get("target_s", "20"))
        except ValueError:
            raise ValidationError("target_sl/target_s: must be numbers") from None
    method = {"queues": "queue_report", "agents": "agent_report", "staffing": "staffing",
              "heatmap": "heatmap", "today": "today"}[kind] + ("_csv" if fmt else "")
    fn = getattr(core.reports, method)
    positional = [args.pop("start"), args.pop("end")] if "start" in args else []
    result = await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*positional, **args))
    if fmt:
        return web.Response(text=result, content_type="text/csv",
                            headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})
    return web.json_response(result)


async def list_voicemail(request: web.Request) -> web.Response:
    core = _core(request)
    boxes = []
    for config in core.voicemail.boxes():
        new, old = core._voicemail_counts(config.number)
        d = config.to_dict()
        d.pop("pin_hash", None)
        boxes.append(d | {"new": new, "old": old})
    return web.json_response({"boxes": boxes})


async def box_messages(request: web.Request) -> web.Response:
    core = _core(request)
    box = request.match_info["box"]
    core.voicemail.box(box)
    return web.json_response({"messages": [m.to_dict() for m in core.voicemail.messages(box)]})


async def patch_box(request: web.Request) -> web.Response:
    """Change a box: pin (hashed on the way in), email, limits, notify_unsolicited ..."""
    from appliance.logic import voicemail as vm
    core = _core(request)
    body = await _body(request)
    if not isinstance(body, dict) or "pin_hash" in body or "number" in body:
        raise ValidationError("body: an object of box settings (pin, email, max_message_s, ...)")
    number = request.match_info["box"]
    if number not in {b.number for b in core.voicemail.boxes()} and core.extension_or_none(number) is None \
            and number not in core.contact_center.queue_names():
        from appliance.numbers_runtime import check_free
        check_free(core, number, "box")  # a new shared box takes a number of its own
    config = core.voicemail_box(number).to_dict()
    new = vm.BoxConfig.from_dict(config | body)
    core.voicemail.save_box(new)
    d = new.to_dict()
    d.pop("pin_hash", None)
    return web.json_response(d)


async def message_audio(request: web.Request) -> web.StreamResponse:
    core = _core(request)
    path = core.voicemail.audio_path(request.match_info["box"], request.match_info["id"])
    core.audit("api", "voicemail_listened", f"{request.match_info['box']}/{request.match_info['id']}")
    return web.FileResponse(path, headers={"Content-Type": "audio/wav"})


async def delete_message(request: web.Request) -> web.Response:
    core = _core(request)
    core.voicemail.delete(request.match_info["box"], request.match_info["id"])
    core.voicemail_changed(request.match_info["box"])
    return web.Response(status=204)


def _phones(request: web.Request):
    phones = _core(request).phones
    if phones is None:
        raise NotFound("phone provisioning is off (provisioning.enabled)")
    return phones


async def list_phones(request: web.Request) -> web.Response:
    return web.json_response(_phones(request).list())


async def bind_phone(request: web.Request) -> web.Response:
    return web.json_response(_phones(request).bind(await _body(request)), status=201)


async def unbind_phone(request: web.Request) -> web.Response:
    _phones(request).unbind(request.match_info["mac"])
    return web.Response(status=204)


async def phone_log(request: web.Request) -> web.Response:
    return web.json_response({"fetches": _phones(request).fetch_log()})


async def phone_files(request: web.Request) -> web.Response:
    return web.json_response({"files": _phones(request).files(request.match_info["mac"])})


async def supervise(request: web.Request) -> web.Response:
    """Listen, whisper or barge: the box rings the supervisor's phone and joins them to the agent's call."""
    core = _core(request)
    body = await _body(request)
    if not isinstance(body, dict) or not {"supervisor", "agent", "mode"} <= set(body):
        raise ValidationError("body: {supervisor, agent, mode: listen|whisper|barge}")
    if core.switchboard is None:
        raise NotFound("the engine is not running")
    try:
        core.switchboard.supervise(str(body["supervisor"]), str(body["agent"]), str(body["mode"]))
    except NotAllowed as e:
        return _error(403, str(e))
    return web.json_response({"supervisor": body["supervisor"], "agent": body["agent"], "mode": body["mode"]})


async def privacy_export(request: web.Request) -> web.Response:
    core = _core(request)
    number = request.query.get("number", "")
    data = await asyncio.get_running_loop().run_in_executor(
        None, lambda: core.privacy.export(number, request.query.get("actor", "api")))
    return web.Response(body=data, content_type="application/gzip",
                        headers={"Content-Disposition": f'attachment; filename="callbox-{number}.tar.gz"'})


async def privacy_erase(request: web.Request) -> web.Response:
    core = _core(request)
    body = await _body(request)
    if not isinstance(body, dict) or not isinstance(body.get("number"), str):
        raise ValidationError("number: required")
    counts = await asyncio.get_running_loop().run_in_executor(
        None, lambda: core.privacy.erase(body["number"], str(body.get("actor", "api"))))
    return web.json_response(counts)


async def list_ring_groups(request: web.Request) -> web.Response:
    return web.json_response({"ring_groups": _core(request).ring_groups.all()})


async def create_ring_group(request: web.Request) -> web.Response:
    return web.json_response(_core(request).ring_groups.create(await _body(request)), status=201)


async def delete_ring_group(request: web.Request) -> web.Response:
    _core(request).ring_groups.delete(request.match_info["name"])
    return web.Response(status=204)


async def list_recordings(request: web.Request) -> web.Response:
    """Recorded calls: the call records that have a recording, with the same filters as /api/cdr."""
    core = _core(request)
    agent = request.query.get("agent", "")
    records = [r for r in _cdr_query(request) if r.get("recording")
               and (not agent or agent in (r.get("agent"), r.get("answered_by")))]
    return web.json_response({"recordings": [{k: r.get(k) for k in (
        "call_id", "start", "duration_s", "caller", "callee", "queue", "agent", "answered_by", "recording")}
        for r in records]})


async def recording_audio(request: web.Request) -> web.StreamResponse:
    core = _core(request)
    call_id = request.match_info["call_id"]
    found = core.call_records.query(None, None, lambda r: r.get("call_id") == call_id, limit=1)
    if not found or not found[0].get("recording"):
        raise NotFound(f"no recording of call {call_id}")
    path = core.data_dir / found[0]["recording"]
    if not path.exists():
        raise NotFound(f"the recording of call {call_id} was deleted")
    core.audit(request.query.get("actor", "api"), "recording_listened", call_id)
    kind = "audio/ogg" if path.suffix == ".opus" else "audio/wav"
    return web.FileResponse(path, headers={"Content-Type": kind})


async def business_report(request: web.Request) -> web.Response:
    """POST /api/business/sla|cost?format=json|csv|html: contract figures from the box's own month."""
    from appliance.logic import business as biz
    core = _core(request)
    kind = request.match_info["kind"]
    if kind not in ("sla", "cost"):
        raise NotFound("no such report; there are sla and cost")
    body = await _body(request)
    fmt = request.query.get("format", "json")
    report, language = await asyncio.get_running_loop().run_in_executor(
        None, lambda: getattr(core.business, kind)(body))
    if fmt == "csv":
        text = biz.to_csv(report) if kind == "sla" else biz.cost_to_csv(report)
        return web.Response(text=text, content_type="text/csv")
    if fmt == "html":
        text = biz.to_html(report, language) if kind == "sla" else biz.cost_to_html(report, language)
        return web.Response(text=text, content_type="text/html")
    return web.json_response(json.loads(json.dumps(dataclasses.asdict(report), default=str)))


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: `event: <kind>` lines with JSON data; resumable with Last-Event-ID."""
    core = _core(request)
    kinds = set(filter(None, request.query.get("kinds", "").split(","))) or None
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                       "X-Accel-Buffering": "no"})
    await resp.prepare(request)
    sub = core.events.subscribe(kinds)
    try:
        await resp.write(b": callbox event stream\n\n")
        last = request.headers.get("Last-Event-ID", "")
        if last.isdigit():
            for e in core.events.since(int(last)):
                if kinds is None or e.kind in kinds:
                    await resp.write(_sse(e))
        while True:
            try:
                e = await asyncio.wait_for(sub.queue.get(), SSE_HEARTBEAT_S)
            except asyncio.TimeoutError:
                await resp.write(b": keep-alive\n\n")
                continue
            await resp.write(_sse(e))
    except (ConnectionResetError, asyncio.CancelledError):
        pass
    finally:
        core.events.unsubscribe(sub)
    return resp


def _sse(e) -> bytes:
    return f"id: {e.id}\nevent: {e.kind}\ndata: {json.dumps(e.data | {'time': e.time})}\n\n".encode()


def create_api(core: "Core") -> web.Application:
    app = web.Application(middlewares=[guard], client_max_size=MAX_BODY)
    app[CORE] = core
    r = app.router
    r.add_get("/api/health", health)
    r.add_get("/api/alarms", list_alarms)
    r.add_post("/api/alarms/{id}/ack", acknowledge_alarm)
    r.add_get("/api/extensions", list_extensions)
    r.add_post("/api/extensions", create_extension)
    r.add_get("/api/extensions/{number}", get_extension)
    r.add_patch("/api/extensions/{number}", patch_extension)
    r.add_delete("/api/extensions/{number}", delete_extension)
    r.add_get("/api/registrations", registrations)
    r.add_get("/api/bans", bans)
    r.add_delete("/api/bans/{ip}", unban)
    r.add_get("/api/settings", get_settings)
    r.add_patch("/api/settings", patch_settings)
    r.add_post("/api/setup", first_admin)
    r.add_get("/api/users", list_users)
    r.add_post("/api/users", create_user)
    r.add_get("/api/users/{username}", get_user)
    r.add_patch("/api/users/{username}", patch_user)
    r.add_delete("/api/users/{username}", delete_user)
    r.add_get("/api/audit", get_audit)
    r.add_post("/api/audit", post_audit)
    r.add_get("/api/cdr", list_cdr)
    r.add_get("/api/cdr.csv", cdr_csv)
    r.add_get("/api/engine", engine_status)
    r.add_post("/api/supervise", supervise)
    r.add_post("/api/business/{kind}", business_report)
    r.add_get("/api/ring-groups", list_ring_groups)
    r.add_post("/api/ring-groups", create_ring_group)
    r.add_delete("/api/ring-groups/{name}", delete_ring_group)
    r.add_get("/api/recordings", list_recordings)
    r.add_get("/api/recordings/{call_id}.wav", recording_audio)
    r.add_get("/api/recordings/{call_id}", recording_audio)
    r.add_get("/api/privacy/export", privacy_export)
    r.add_post("/api/privacy/erase", privacy_erase)
    r.add_get("/api/phones", list_phones)
    r.add_post("/api/phones", bind_phone)
    r.add_get("/api/phones/log", phone_log)
    r.add_get("/api/phones/{mac}/files", phone_files)
    r.add_delete("/api/phones/{mac}", unbind_phone)
    r.add_get("/api/voicemail", list_voicemail)
    r.add_get("/api/voicemail/{box}", box_messages)
    r.add_patch("/api/voicemail/{box}", patch_box)
    r.add_get("/api/voicemail/{box}/{id}.wav", message_audio)
    r.add_delete("/api/voicemail/{box}/{id}", delete_message)
    r.add_get("/api/reports/{kind}", report)
    r.add_get("/api/contacts", list_contacts)
    r.add_post("/api/contacts", create_contact)
    r.add_get("/api/contacts.csv", contacts_csv)
    r.add_post("/api/contacts.csv", import_contacts)
    r.add_get("/api/contacts/{id}", get_contact)
    r.add_patch("/api/contacts/{id}", patch_contact)
    r.add_delete("/api/contacts/{id}", delete_contact)
    r.add_patch("/api/cdr/{call_id}", patch_cdr)
    r.add_post("/api/calls", click_to_dial)
    r.add_get("/api/backup", download_backup)
    r.add_post("/api/restore", upload_restore)
    r.add_get("/api/logs", recent_logs)
    r.add_post("/api/restart", restart)
    r.add_get("/api/sms", list_sms)
    r.add_post("/api/sms", send_sms)
    r.add_get("/api/lines", list_lines)
    r.add_post("/api/lines", add_line)
    r.add_post("/api/lines/{name}/simulate", simulate_line)
    r.add_get("/api/prompts", list_prompts)
    r.add_put("/api/prompts/{lang}/{name}", put_prompt)
    r.add_get("/api/trunks", list_trunks)
    r.add_post("/api/trunks", create_trunk)
    r.add_delete("/api/trunks/{name}", delete_trunk)
    r.add_get("/api/routes", get_routes)
    r.add_put("/api/routes", put_routes)
    r.add_get("/api/queues", list_queues)
    r.add_post("/api/queues", create_queue)
    r.add_get("/api/agents", list_agents)
    r.add_post("/api/agents/{ext}", create_agent)
    r.add_post("/api/agents/{ext}/{action}", agent_action)
    r.add_get("/api/flows", get_flows)
    r.add_put("/api/flows", put_flows)
    r.add_get("/api/queue-log", queue_log)
    r.add_put("/api/flows/override", flow_override)
    r.add_post("/api/calls/{call_id}/record", record_call)
    r.add_put("/api/voicemail/{box}/greeting/{kind}", upload_greeting)
    r.add_get("/api/panel", panel)
    r.add_post("/api/panel/press", panel_press)
    r.add_get("/api/events", events)
    return app


async def start_api(core: "Core", host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(create_api(core), access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    announce_setup_code(core)
    sock = site._server.sockets[0]  # type: ignore[union-attr]
    actual = sock.getsockname()[1]
    return runner, f"http://{host}:{actual}"
