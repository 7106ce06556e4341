"""The fake control API's phones, recordings and business (contract) endpoints.

Shapes as appliance/control/api.py, appliance/phones_runtime.py and
appliance/business_runtime.py answer them; the business reports are made by the
real pure functions (appliance.logic.business) from a month without calls.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from dataclasses import dataclass

from appliance.errors import ValidationError
from appliance.logic import business as biz
from appliance.provisioning.macs import normalise_mac
from tests.web import fake_more

VENDORS = {"yealink", "grandstream", "snom", "poly", "fanvil"}


@dataclass(frozen=True)
class Raw:
    """A reply that is not JSON: the bytes and their content type."""

    body: bytes
    content_type: str


def seed(api) -> None:
    api.provisioning_on = True
    api.provisioning_url = "http://127.0.0.1:8088/p/"
    api.previewed_files = {}     # mac -> the files last previewed
    api.phone_bindings = {}      # mac -> binding with its password
    api.pending_phones = {}      # mac -> pending phone
    api.phone_fetches = []       # newest first
    api.recorded_calls = []      # call records that have a recording
    api.business_bodies = []     # (kind, format, body) as the core received them


def add_pending(api, mac: str, vendor: str | None = "yealink", ip: str = "127.0.0.50",
                user_agent: str = "Yealink SIP-T46U 108.86.0.20") -> dict:
    now = time.time()
    phone = {"mac": normalise_mac(mac), "vendor": vendor, "ip": ip, "first_seen": now - 60,
             "last_seen": now, "user_agent": user_agent, "filename": f"{normalise_mac(mac)}.cfg",
             "requests": 2}
    api.pending_phones[phone["mac"]] = phone
    api.phone_fetches.insert(0, {"time": now, "ip": ip, "mac": phone["mac"], "file": phone["filename"],
                                 "outcome": "unknown phone", "user_agent": user_agent})
    return phone


def add_recording(api, call_id: str, caller: str = "+48601234567", callee: str = "100",
                  agent: str = "1001", queue: str = "sales",
                  start: str = "2026-11-20T10:00:00+01:00") -> dict:
    rec = {"call_id": call_id, "start": start, "duration_s": 42.0, "caller": caller,
           "callee": callee, "queue": queue, "agent": agent, "answered_by": agent,
           "recording": f"recordings/{call_id}.wav"}
    api.recorded_calls.append(rec)
    return rec


def _public(binding: dict) -> dict:
    return {k: v for k, v in binding.items() if k != "password"}


def route(api, route, parts, query, body):  # noqa: C901 - one table, as api.py
    method, what, n = route
    if what == "phones":
        if not api.provisioning_on:
            return 404, {"error": "phone provisioning is off (provisioning.enabled)"}
        return _phones(api, method, parts, n, body)
    if what == "recordings":
        if route == ("GET", "recordings", 1):
            return 200, {"recordings": _recordings(api, query)}
        if method == "GET" and n == 2 and parts[1].endswith(".wav"):
            call_id = parts[1][:-4]
            if not any(r["call_id"] == call_id for r in api.recorded_calls):
                return 404, {"error": f"no recording of call {call_id}"}
            actor = (query.get("actor") or ["api"])[0]
            api.audit.insert(0, {"time": time.strftime("%Y-%m-%d %H:%M:%S"), "actor": actor,
                                 "action": "recording_listened", "detail": call_id})
            return 200, Raw(fake_more.wav(), "audio/wav")
    if what == "business" and method == "POST" and n == 2:
        fmt = (query.get("format") or ["json"])[0]
        api.business_bodies.append((parts[1], fmt, body))
        if parts[1] not in ("sla", "cost"):
            return 404, {"error": "no such report; there are sla and cost"}
        try:
            return 200, _business(parts[1], fmt, body)
        except ValidationError as exc:
            return 400, {"error": str(exc)}
    return 404, {"error": "no such endpoint"}


def _phones(api, method, parts, n, body):
    if method == "GET" and n == 1:
        return 200, {"phones": [_public(b) for b in api.phone_bindings.values()],
                     "pending": list(api.pending_phones.values()),
                     "url": api.provisioning_url}
    if method == "POST" and n == 1:
        if not isinstance(body, dict) or not {"mac", "extension"} <= set(body):
            return 400, {"error": "body: {mac, extension, vendor?, model?}"}
        if str(body["extension"]) not in api.extensions:
            return 404, {"error": f"extension {body['extension']} does not exist"}
        try:
            mac = normalise_mac(str(body["mac"]))
        except ValidationError as exc:
            return 400, {"error": str(exc)}
        vendor = body.get("vendor")
        if mac in api.pending_phones and not vendor:
            vendor = api.pending_phones.pop(mac)["vendor"]
            if not vendor:
                return 400, {"error": "vendor: yealink, grandstream, snom, poly or fanvil"}
        elif vendor not in VENDORS:
            return 400, {"error": "vendor: yealink, grandstream, snom, poly or fanvil"}
        api.pending_phones.pop(mac, None)
        binding = {"mac": mac, "extension": str(body["extension"]), "vendor": vendor,
                   "model": str(body.get("model", "")), "created": time.time(), "fetched": None,
                   "password": secrets.token_urlsafe(12).replace("-", "x").replace("_", "y")}
        api.phone_bindings[mac] = binding
        return 201, dict(binding)
    if method == "GET" and n == 2 and parts[1] == "log":
        return 200, {"fetches": list(api.phone_fetches)}
    if method == "DELETE" and n == 2:
        try:
            gone = api.phone_bindings.pop(normalise_mac(parts[1]), None)
        except ValidationError as exc:
            return 400, {"error": str(exc)}
        return (204, None) if gone else (404, {"error": f"phone {parts[1]} is not bound"})
    if method == "GET" and n == 3 and parts[2] == "files":
        try:
            binding = api.phone_bindings.get(normalise_mac(parts[1]))
        except ValidationError:
            binding = None
        if binding is None:
            return 404, {"error": f"phone {parts[1]} is not bound"}
        ext = api.extensions[binding["extension"]]
        files = {f"{binding['mac']}.cfg": f"#!version:1.0.0.1\naccount.1.user_name = {ext['number']}\n"
                                          f"account.1.password = {ext.get('secret', '')}\n"}
        # Line by line: the language check reads the fake's state as JSON, where "\n" would glue words.
        api.previewed_files[binding["mac"]] = {k: v.splitlines() for k, v in files.items()}
        return 200, {"files": files}
    return 404, {"error": "no such endpoint"}


def _recordings(api, query) -> list[dict]:
    def one(key):
        return (query.get(key) or [""])[0]

    out = []
    for rec in api.recorded_calls:
        if one("from") and rec["start"] < one("from")[:10]:
            continue
        if one("number") and one("number") not in rec["caller"] + " " + rec["callee"]:
            continue
        if one("agent") and one("agent") not in (rec["agent"], rec["answered_by"]):
            continue
        out.append(dict(rec))
    return out


def _build(cls, data, what):
    if not isinstance(data, dict):
        raise ValidationError(f"{what}: must be an object")
    unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise ValidationError(f"{what}: unknown field {sorted(unknown)[0]}")
    try:
        return cls(**data)
    except TypeError as e:
        raise ValidationError(f"{what}: {e}") from None


def _business(kind: str, fmt: str, body):
    if not isinstance(body, dict):
        raise ValidationError("body: must be an object")
    month = str(body.get("month", ""))
    if len(month) != 7 or month[4] != "-":
        raise ValidationError("month: YYYY-MM, e.g. 2026-11")
    quiet: list = []  # a month without queue calls
    lang = str(body.get("language", "en"))
    if kind == "sla":
        targets = [_build(biz.SlaTargets, t, "targets") for t in (body.get("targets") or [{}])]
        report = biz.sla_report(quiet, targets, biz.SlaCalendar(month, tz="UTC"))
        text = {"csv": lambda: biz.to_csv(report), "html": lambda: biz.to_html(report, lang)}
    else:
        if not isinstance(body.get("costs"), dict):
            raise ValidationError("body: {month, costs: {...}, offers: [...], language?}")
        costs = _build(biz.StaffCosts, body["costs"], "costs")
        offers = [_build(biz.OutsourcingOffer, o, "offers") for o in body.get("offers") or []]
        traffic = biz.MonthTraffic(month=month, handled_calls=1200, staffed_h=800.0, talk_h=300.0)
        report = biz.cost_report(traffic, costs, offers)
        text = {"csv": lambda: biz.cost_to_csv(report), "html": lambda: biz.cost_to_html(report, lang)}
    if fmt in text:
        return Raw(text[fmt]().encode("utf-8"), "text/csv" if fmt == "csv" else "text/html")
    return json.loads(json.dumps(dataclasses.asdict(report), default=str))
