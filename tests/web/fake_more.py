"""The fake control API's voicemail, reports, trunks, routes, lines and prompts endpoints.

They answer in the shapes of appliance/control/api.py and docs/reports.md and
validate like the core does (field-named errors), on the state of a FakeControlApi.
"""

from __future__ import annotations

import csv
import io
import re
import struct
from datetime import date, timedelta
from typing import Any

from appliance.errors import ValidationError
from appliance.logic.routing import validate_inbound_route, validate_outbound_route, validate_trunk
from appliance.logic.voicemail.boxes import validate_pin

BOX_KEYS = {"pin", "email", "max_message_s", "max_messages", "attach_audio", "notify_unsolicited",
            "delete_after_email", "owner"}
WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
QUEUE_FIELDS = ["offered", "answered", "abandoned", "short_abandoned", "timeout", "refused",
                "callbacks_requested", "callbacks_completed", "callbacks_failed",
                "answered_within_target", "service_level", "abandon_rate", "asa_s", "aht_s",
                "avg_talk_s", "avg_wrap_up_s", "avg_abandon_wait_s", "longest_wait_s",
                "csat_offered", "csat_answered", "csat_average", "csat_pct"]
LINE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,15}$")


def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A small valid PCM WAV of silence."""
    frames = b"\x00\x00" * int(seconds * rate)
    return (b"RIFF" + struct.pack("<I", 36 + len(frames)) + b"WAVEfmt "
            + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
            + b"data" + struct.pack("<I", len(frames)) + frames)


def seed(api) -> None:
    """What a box a few days into its life would answer."""
    api.voicemail_boxes = {
        "1001": {"number": "1001", "owner": "1001", "email": "ola@example.com", "max_message_s": 180,
                 "max_messages": 100, "attach_audio": True, "delete_after_email": False,
                 "notify_unsolicited": False},
        "sales": {"number": "sales", "owner": "", "email": "", "max_message_s": 120,
                  "max_messages": 50, "attach_audio": False, "delete_after_email": False,
                  "notify_unsolicited": True},
    }
    api.voicemail_messages = {
        "1001": [{"id": "m1", "box": "1001", "caller": "+48601234567", "caller_name": "Jan Kowalski",
                  "received": 1_795_000_000.0, "duration_s": 12.5, "folder": "new", "heard_by": [],
                  "saved": False, "emailed": None},
                 {"id": "m2", "box": "1001", "caller": "1002", "caller_name": "",
                  "received": 1_794_900_000.0, "duration_s": 65.0, "folder": "old",
                  "heard_by": ["1001"], "saved": False, "emailed": None}],
        "sales": [],
    }
    api.trunks = {}
    api.routes = {"outbound": [], "inbound": []}
    api.prompts = [{"name": "welcome", "language": "en", "path": "/x/en/welcome.wav",
                    "seconds": 2.4, "rate": 8000, "source": "builtin"},
                   {"name": "welcome", "language": "pl", "path": "/x/pl/welcome.wav",
                    "seconds": 2.9, "rate": 8000, "source": "tts"}]
    api.prompt_uploads = []
    api.report_queries = []


def _header(query: dict[str, list[str]]) -> dict[str, Any]:
    today = date(2026, 11, 22)
    start = query.get("from", [""])[0] or (today - timedelta(days=6)).isoformat()
    end = query.get("to", [""])[0] or today.isoformat()
    for key, value in (("from", start), ("to", end)):
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"{key}: must be an ISO date like 2026-11-01")
    return {"from": start, "to": end, "tz": "Europe/Warsaw", "as_of": "2026-11-22T14:05:00+01:00"}


def _queue_row(queue: str, interval: str, offered: int, answered: int) -> dict[str, Any]:
    row = {k: 0 for k in QUEUE_FIELDS}
    row |= {"queue": queue, "interval": interval, "offered": offered, "answered": answered,
            "abandoned": offered - answered, "answered_within_target": max(0, answered - 1),
            "service_level": round(max(0, answered - 1) / offered, 4) if offered else None,
            "abandon_rate": round((offered - answered) / offered, 4) if offered else None,
            "asa_s": 14.0, "aht_s": 151.0, "avg_talk_s": 130.0, "avg_wrap_up_s": 21.0,
            "csat_offered": answered, "csat_answered": answered // 2, "csat_average": 4.5 if answered > 1 else None,
            "csat_pct": 100.0 if answered > 1 else None}
    return row


def report(kind: str, query: dict[str, list[str]]) -> dict[str, Any]:
    head = _header(query)
    if kind == "queues":
        interval = query.get("interval", ["day"])[0]
        if interval not in ("15min", "hour", "day", "month"):
            raise ValidationError("interval: must be one of 15min, hour, day, month")
        days = [date.fromisoformat(head["from"]) + timedelta(days=i) for i in range(3)]
        rows = []
        for i, day in enumerate(days):
            rows += [_queue_row("*", day.isoformat(), 10 + i, 8 + i),
                     _queue_row("sales", day.isoformat(), 6 + i, 5 + i)]
        return head | {"interval": interval, "queue": None, "target_s": 20.0,
                       "target_service_level": 0.8, "short_abandon_s": 5.0, "rows": rows,
                       "summary": [_queue_row("*", f"{head['from']}/{head['to']}", 33, 27)]}
    if kind == "agents":
        return head | {"rows": [{"agent": "1001", "calls": 14, "talk_s": 2200.0, "wrap_up_s": 300.0,
                                 "logged_in_s": 28800.0, "break_s": 1800.0,
                                 "breaks_by_reason": {"lunch": 1800.0}, "missed_offers": 1,
                                 "utilisation": 0.076, "occupancy": 0.62, "avg_handle_s": 178.6,
                                 "csat_offered": 6, "csat_answered": 4, "csat_average": 4.25,
                                 "csat_pct": 75.0}]}
    if kind == "staffing":
        try:
            sl = float(query.get("target_sl", ["0.8"])[0])
            float(query.get("target_s", ["20"])[0])
        except ValueError:
            raise ValidationError("target_sl/target_s: must be numbers")
        rows = [{"label": f"{WEEKDAYS[d]} {h:02d}:00", "weekday": d, "hour": h,
                 "calls_per_hour": 4.0 if 9 <= h < 17 and d < 5 else 0.0, "aht_s": 170.0,
                 "agents": (2 if sl <= 0.8 else 3) if 9 <= h < 17 and d < 5 else 0,
                 "service_level": None, "asa_s": None} for d in range(7) for h in range(24)]
        return head | {"queue": None, "target_service_level": sl, "target_s": 20.0,
                       "max_occupancy": None, "days": 56, "rows": rows}
    if kind == "heatmap":
        calls = [[(h * 3 + d) % 11 if 8 <= h < 18 else 0 for h in range(24)] for d in range(7)]
        return head | {"queue": None, "weekdays": WEEKDAYS, "days": [1] * 7, "calls": calls,
                       "average": [[float(v) for v in row] for row in calls]}
    if kind == "today":
        return head | {"day": head["to"], "target_s": 20.0, "target_service_level": 0.8,
                       "queues": [_queue_row("*", head["to"], 12, 10), _queue_row("sales", head["to"], 5, 4)]}
    raise KeyError(kind)


def report_csv(kind: str, query: dict[str, list[str]]) -> str:
    data = report(kind, query)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if kind in ("queues", "today"):
        rows = data["rows"] if kind == "queues" else data["queues"]
        writer.writerow(["interval", "queue"] + QUEUE_FIELDS)
        for r in rows:
            writer.writerow([r["interval"], r["queue"]] + [r[k] for k in QUEUE_FIELDS])
    elif kind == "heatmap":
        writer.writerow(["weekday", "days"] + [f"{h:02d}" for h in range(24)])
        for name, days, row in zip(data["weekdays"], data["days"], data["calls"]):
            writer.writerow([name, days] + row)
    else:
        rows = data["rows"]
        writer.writerow(list(rows[0]))
        for r in rows:
            writer.writerow(list(r.values()))
    return out.getvalue()


def route(api, route: tuple[str, str, int], parts: list[str], query: dict, body: Any):
    """One of this module's endpoints; (404, ...) when none is."""
    method, what, n = route
    try:
        return _route(api, method, what, n, parts, query, body)
    except ValidationError as exc:
        return 400, {"error": str(exc)}


def _route(api, method, what, n, parts, query, body):  # noqa: C901 - one table of endpoints
    if what == "voicemail":
        if (method, n) == ("GET", 1):
            return 200, {"boxes": [b | {"new": sum(m["folder"] == "new" for m in api.voicemail_messages[k]),
                                        "old": sum(m["folder"] != "new" for m in api.voicemail_messages[k])}
                                   for k, b in sorted(api.voicemail_boxes.items())]}
        box = parts[1] if n >= 2 else ""
        if box not in api.voicemail_boxes and box in api.extensions and (method, n) == ("PATCH", 2):
            # As the core: an extension's box comes to be when it is first set up or used.
            api.voicemail_boxes[box] = {"number": box, "owner": api.extensions[box]["name"], "email": "",
                                        "max_message_s": 180, "max_messages": 100, "attach_audio": True,
                                        "delete_after_email": False, "notify_unsolicited": False}
            api.voicemail_messages[box] = []
        if box not in api.voicemail_boxes:
            return 404, {"error": f"no voicemail box {box}"}
        if (method, n) == ("GET", 2):
            return 200, {"messages": [dict(m) for m in api.voicemail_messages[box]]}
        if (method, n) == ("PATCH", 2):
            if not isinstance(body, dict) or "pin_hash" in body or "number" in body:
                raise ValidationError("body: an object of box settings (pin, email, max_message_s, ...)")
            unknown = set(body) - BOX_KEYS
            if unknown:
                raise ValidationError(f"{sorted(unknown)[0]}: unknown field")
            for key, top in (("max_message_s", 3600), ("max_messages", 10_000)):
                if key in body and (type(body[key]) is not int or not 1 <= body[key] <= top):
                    raise ValidationError(f"{key} must be between 1 and {top}")
            if "pin" in body:
                validate_pin(body["pin"])  # the core's own rule
            if body.get("email") and "@" not in body["email"]:
                raise ValidationError("email: must be an address like name@example.com")
            new = dict(api.voicemail_boxes[box])
            new.update({k: v for k, v in body.items() if k != "pin"})
            if "pin" in body:
                new["pin_set"] = True
            api.voicemail_boxes[box] = new
            api.box_changes.append((box, dict(body)))
            return 200, {k: v for k, v in new.items() if k != "pin_set"}
        if (method, n) == ("DELETE", 3):
            before = len(api.voicemail_messages[box])
            api.voicemail_messages[box] = [m for m in api.voicemail_messages[box] if m["id"] != parts[2]]
            return (204, None) if len(api.voicemail_messages[box]) < before \
                else (404, {"error": "no such message"})
    if what == "reports" and method == "GET" and n == 2:
        kind = parts[1]
        api.report_queries.append((kind, {k: v[0] for k, v in query.items()}))
        if kind.partition(".")[0] not in ("queues", "agents", "staffing", "heatmap", "today"):
            return 404, {"error": f"no report {kind!r}"}
        return 200, report(kind, query)
    if what == "trunks":
        if (method, n) == ("GET", 1):
            return 200, {"trunks": [{"name": t.name, "kind": str(t.kind), "host": t.host,
                                     "port": t.port, "register": t.register, "enabled": t.enabled,
                                     "dids": list(t.dids),
                                     "status": {"state": "unregistered" if t.register else "peer"}}
                                    for t in api.trunks.values()]}
        if (method, n) == ("POST", 1):
            trunk = validate_trunk(body)
            if trunk.name in api.trunks:
                return 409, {"error": f"trunk {trunk.name} exists already"}
            api.trunks[trunk.name] = trunk
            return 201, {"name": trunk.name}
        if (method, n) == ("DELETE", 2):
            if api.trunks.pop(parts[1], None) is None:
                return 404, {"error": f"no trunk {parts[1]}"}
            return 204, None
    if what == "routes":
        if method == "GET":
            return 200, dict(api.routes)
        if method == "PUT":
            if not isinstance(body, dict) or set(body) - {"outbound", "inbound"}:
                raise ValidationError('body: {"outbound": [...], "inbound": [...]}')
            names = set(api.trunks) | {f"line-{ln['name']}" for ln in api.lines}
            out = [validate_outbound_route(r, names) for r in body.get("outbound", [])]
            inb = [validate_inbound_route(r) for r in body.get("inbound", [])]
            api.routes = {"outbound": body.get("outbound", []), "inbound": body.get("inbound", [])}
            return 200, {"outbound": len(out), "inbound": len(inb)}
    if (method, what, n) == ("POST", "lines", 1):
        if not isinstance(body, dict):
            raise ValidationError("line: must be a JSON object")
        unknown = set(body) - {"name", "kind", "device", "audio_device", "profile", "pin", "number"}
        if unknown:
            raise ValidationError(f"{sorted(unknown)[0]}: unknown field")
        if not LINE_NAME.match(str(body.get("name", ""))):
            raise ValidationError("name: 1 to 16 lowercase letters, digits or -, starting with a letter")
        if body.get("kind") not in ("gsm", "analog"):
            raise ValidationError("kind: gsm or analog")
        device = str(body.get("device", ""))
        if not (device.startswith("/dev/") or device in ("sim:gsm", "sim:analog")):
            raise ValidationError("device: the modem's tty (e.g. /dev/ttyUSB2) or sim:gsm / sim:analog")
        if any(ln["name"] == body["name"] for ln in api.lines):
            raise ValidationError(f"name: a line {body['name']} exists already")
        api.lines.append({"name": body["name"], "kind": body["kind"], "number": body.get("number", ""),
                          "simulated": device.startswith("sim:"), "sip_port": 0, "restarts": 0,
                          "state": "starting", "signal": None, "operator": "", "sim": "",
                          "last_error": ""})
        return 201, {"name": body["name"]}
    if what == "prompts" and (method, n) == ("GET", 1):
        return 200, {"prompts": [dict(p) for p in api.prompts]}
    return 404, {"error": "no such endpoint"}


def put_prompt(api, lang: str, name: str, content_type: str, raw: bytes):
    """PUT /api/prompts/<lang>/<name>: JSON {"text"} or a recording as the body."""
    if lang not in ("en", "pl", "zh"):
        return 400, {"error": f"language {lang!r}: one of en, pl, zh"}
    if not re.fullmatch(r"[a-z0-9-]{1,64}", name):
        return 400, {"error": f"prompt name {name!r} must be 1 to 64 of a-z, 0-9 and '-'"}
    if content_type.startswith("application/json"):
        import json
        try:
            text = json.loads(raw).get("text")
        except (ValueError, AttributeError):
            text = None
        if not isinstance(text, str) or not text.strip():
            return 400, {"error": "text: required"}
        source, seconds = "tts", 1.5
    else:
        if not raw.startswith(b"RIFF") or raw[8:12] != b"WAVE" or len(raw) < 44:
            return 400, {"error": "the upload is not a sound file we can read (WAV, MP3, OGG or FLAC)"}
        source, seconds = "upload", round((len(raw) - 44) / 16000, 2)
    api.prompt_uploads.append((lang, name, source, len(raw)))
    info = {"name": name, "language": lang, "path": f"/x/{lang}/{name}.wav", "seconds": seconds,
            "rate": 8000, "source": source}
    api.prompts = [p for p in api.prompts if (p["name"], p["language"]) != (name, lang)] + [info]
    return 201, info
