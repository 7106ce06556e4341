"""The fake core's campaigns, do-not-call list and CSAT figures.

No hand-made imitation here: the fake runs the core's own campaign service
(`appliance.campaigns.Campaigns`) on an in-memory TinyDB and a scratch folder, and answers the
agent's card with the control API's own `CampaignRoutes.card`, so its answers are the core's
by construction (tests/web/test_campaigns_contract.py checks the shapes against a real core).
What the fake adds is what only the dialer does on a box: a preview "dial" marks the entry as
dialled and keeps a call for the agent, and `campaign_call_ends()` ends it as the engine would.
"""

from __future__ import annotations

import shutil
import tempfile
import time
import weakref
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from tinydb import TinyDB
from tinydb.storages import MemoryStorage

from appliance.campaigns import Campaigns
from appliance.control.campaigns import GROUPINGS, MAX_DAYS, CampaignRoutes
from appliance.errors import Conflict, NotFound, ValidationError
from appliance.logic.campaigns.model import EntryState, Result
from appliance.logic.csat import summarise
from appliance.logic.handlers.campaign_call import AttemptOver
from tests.web.fake_phones import Raw

ACTIONS = ("start", "pause", "resume", "stop")


@dataclass
class _Call:
    id: str
    campaign: str
    entry: str
    agent: str


@dataclass
class _Run:
    call: _Call
    ended: bool = False


@dataclass
class FakeDialer:
    """What the control API reads of the dialer: the calls it placed, by id."""

    calls: dict[str, _Run] = field(default_factory=dict)


def seed(api) -> None:
    folder = tempfile.mkdtemp(prefix="fake-campaigns-")
    weakref.finalize(api, shutil.rmtree, folder, True)
    db = TinyDB(storage=MemoryStorage)
    api.campaign_service = Campaigns(tables=db.table, folder=folder, clock=time.time,
                                     publish=lambda kind, **data: api.emit(kind, data),
                                     queues=lambda: list(api.queues))
    api.campaign_dialer = FakeDialer()
    api.campaign_dials = []  # (campaign, entry, agent) the core was asked to dial
    api.campaign_routes = CampaignRoutes(api.campaign_service, None, None, time.time,
                                         dialer=lambda: api.campaign_dialer)


def campaign_call_ends(api, campaign: str, entry: str, result: str = "ANSWERED", score: int | None = None) -> None:
    """The preview call the fake placed ends as the engine would report it."""
    with api._lock:
        for call_id, run in list(api.campaign_dialer.calls.items()):
            if (run.call.campaign, run.call.entry) == (campaign, entry):
                run.ended = True
                del api.campaign_dialer.calls[call_id]
                api.campaign_service.attempt_over(AttemptOver(campaign, entry, Result(result),
                                                              agent=run.call.agent, score=score))


def route(api, route_key, parts, query, body):
    try:
        return _route(api, route_key, parts, {k: v[0] for k, v in query.items()}, body)
    except ValidationError as exc:
        return 400, {"error": str(exc)}
    except NotFound as exc:
        return 404, {"error": str(exc)}
    except Conflict as exc:
        return 409, {"error": str(exc)}


def raw_post(api, campaign_id: str, data: bytes):
    """POST /api/campaigns/<id>/list.csv: the file's bytes as they came."""
    with api._lock:
        try:
            return 200, api.campaign_service.import_csv(campaign_id, data)
        except ValidationError as exc:
            return 400, {"error": str(exc)}
        except NotFound as exc:
            return 404, {"error": str(exc)}
        except Conflict as exc:
            return 409, {"error": str(exc)}


def _route(api, route_key, parts, q: dict[str, str], body):  # noqa: C901 - one table of endpoints
    method, what, n = route_key
    service: Campaigns = api.campaign_service
    if what == "do-not-call":
        if route_key == ("GET", "do-not-call", 1):
            return 200, {"numbers": service.do_not_call()}
        if route_key == ("POST", "do-not-call", 1):
            if not isinstance(body, dict):
                raise ValidationError("send {number, why?}")
            return 201, service.forbid(str(body.get("number") or ""), str(body.get("why") or "added by the admin"))
        if method == "DELETE" and n == 2:
            service.allow(parts[1])
            return 204, None
    if route_key == ("GET", "csat", 1):
        return 200, _csat(api, q)
    if what != "campaigns":
        return 404, {"error": "no such endpoint"}
    if route_key == ("GET", "campaigns", 1):
        return 200, {"campaigns": service.list()}
    if route_key == ("POST", "campaigns", 1):
        return 201, service.save(body)
    cid = parts[1] if n >= 2 else ""
    if n == 2:
        if method == "GET":
            return 200, service.describe(cid)
        if method == "DELETE":
            service.delete(cid)
            return 204, None
    if n == 3 and method == "POST" and parts[2] in ACTIONS:
        return 200, service.control(cid, parts[2])
    if n == 3 and (method, parts[2]) == ("GET", "list.csv"):
        return 200, Raw(service.to_csv(cid).encode(), "text/csv; charset=utf-8")
    if n == 3 and (method, parts[2]) == ("POST", "people"):
        return 200, service.add_people(cid, _people(api, body))
    if n == 3 and (method, parts[2]) == ("GET", "entries"):
        try:
            offset, limit = int(q.get("offset", "0")), int(q.get("limit", "100"))
        except ValueError:
            raise ValidationError("offset/limit: must be numbers") from None
        return 200, {"entries": service.entries(cid, q.get("state", ""), offset, limit)}
    if n == 3 and (method, parts[2]) == ("GET", "card"):
        if not q.get("agent"):
            raise ValidationError("agent: the agent's extension")
        return 200, api.campaign_routes.card(cid, service.describe(cid), q["agent"])
    if n == 3 and (method, parts[2]) == ("GET", "report"):
        service.describe(cid)
        return 200, service.report(cid, [r for r in api.call_records if r.get("campaign") == cid])
    if n == 5 and method == "POST" and parts[2] == "entries" and parts[4] == "result":
        return 200, _result(service, cid, parts[3], body)
    if n == 5 and method == "POST" and parts[2] == "entries" and parts[4] == "dial":
        return 200, _dial(api, cid, parts[3], body)
    return 404, {"error": "no such endpoint"}


def _people(api, data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict):
        raise ValidationError("send {people: [...]}, {contacts: [...]} or {called: {queue, days}}")
    if "people" in data:
        return list(data["people"])
    if "contacts" in data:
        people = []
        for contact_id in data["contacts"]:
            c = api.contacts.get(str(contact_id))
            if c is None:
                raise NotFound(f"no contact {contact_id}")
            if c.get("numbers"):
                people.append({"number": c["numbers"][0], "name": c.get("name", ""),
                               "fields": {"company": c["company"]} if c.get("company") else {}})
        return people
    if "called" in data:
        spec = data["called"] if isinstance(data["called"], dict) else {}
        queue, days = str(spec.get("queue") or ""), spec.get("days", 7)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise ValidationError(f"days: from 1 to {MAX_DAYS}")
        since = datetime.now(timezone.utc) - timedelta(days=days)
        people, seen = [], set()
        for r in reversed(api.call_records):  # newest first, as the core reads them
            if r.get("direction") != "inbound" or not r.get("caller") or (queue and r.get("queue") != queue):
                continue
            if datetime.fromisoformat(str(r["start"])) < since or r["caller"] in seen:
                continue
            seen.add(r["caller"])
            people.append({"number": str(r["caller"]), "name": str(r.get("caller_name") or "")})
        return people
    raise ValidationError("send {people: [...]}, {contacts: [...]} or {called: {queue, days}}")


def _result(service: Campaigns, cid: str, entry: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not data.get("agent") or not data.get("result"):
        raise ValidationError("send {agent, result, notes?, callback_at?}")
    at = data.get("callback_at")
    if at is not None and (isinstance(at, bool) or not isinstance(at, (int, float))):
        raise ValidationError("callback_at: seconds since the epoch")
    return service.set_result(cid, entry, agent=str(data["agent"]), result=str(data["result"]),
                              notes=str(data.get("notes") or ""), callback_at=at)


def _dial(api, cid: str, entry_id: str, data: Any) -> dict[str, Any]:
    """As the dialer answers for a preview card, without a phone: the call is only remembered."""
    if not isinstance(data, dict) or not data.get("agent"):
        raise ValidationError("send {agent}")
    service: Campaigns = api.campaign_service
    entry = service.entry(cid, entry_id)
    c = service.describe(cid)
    if c["state"] != "running":
        raise Conflict(f"campaign {cid} is not running")
    if c["mode"] != "preview":
        raise Conflict(f"campaign {cid} is {c['mode']}: the box dials it itself")
    who = api.agents.get(str(data["agent"])) or {}
    if (who.get("status"), who.get("state")) != ("AVAILABLE", "IDLE") or c["queue"] not in (who.get("queues") or ()):
        raise Conflict(f"agent {data['agent']} is not free in queue {c['queue']}")
    if entry.state is not EntryState.WAITING:
        raise Conflict(f"{entry.number} is {entry.state.value}")
    call_id = f"cmp-{cid}-{entry_id}-{int(time.time() * 1000)}"
    service.dialling(cid, entry_id)
    api.campaign_dialer.calls[call_id] = _Run(_Call(call_id, cid, entry_id, str(data["agent"])))
    api.campaign_dials.append((cid, entry_id, str(data["agent"])))
    return {"call_id": call_id, "dialled": True}


def _csat(api, q: dict[str, str]) -> dict[str, Any]:
    by = q.get("by", "")
    if by not in GROUPINGS:
        raise ValidationError("by: agent, queue, campaign or day")
    try:
        days = int(q.get("days", "30"))
    except ValueError:
        raise ValidationError("days: a number") from None
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError(f"days: from 1 to {MAX_DAYS}")
    since = datetime.now(timezone.utc) - timedelta(days=days)
    records = [r for r in api.call_records if "csat" in r and datetime.fromisoformat(str(r["start"])) >= since]
    results = [{**r, "score": r["csat"] if isinstance(r.get("csat"), int) else None} for r in records]
    groups = summarise(results, GROUPINGS[by])
    return {"by": by or "all", "days": days, "groups": {k: v.to_dict() for k, v in sorted(groups.items())}}
