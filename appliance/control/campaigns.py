"""Campaigns: outbound call lists and their rules, the do-not-call list, and satisfaction (CSAT)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable

from aiohttp import web

from appliance.control.common import MAX_IMPORT, Route, body, no_content, upload
from appliance.errors import Conflict, ValidationError
from appliance.logic.campaigns.config import campaign_from_dict
from appliance.logic.csat import summarise

if TYPE_CHECKING:
    from appliance.campaign_dialer import CampaignDialer
    from appliance.campaigns import Campaigns
    from appliance.contacts import Contacts
    from appliance.store.records import MonthlyLog

TITLE = "Campaigns"
ACTION = "{action:(start|pause|resume|stop)}"
MAX_DAYS = 366

ROUTES = (
    Route("GET", "/api/campaigns", "list_campaigns", '`{"campaigns": [...]}`, each with its state and progress'),
    Route("POST", "/api/campaigns", "save_campaign",
          "create or change (paused) a campaign: `{id, name, mode: preview\\|progressive\\|message, queue?, caller_id?, "
          "route?, priority?, max_lines?, ring_timeout_s?, max_attempts?, retries?: {BUSY: {delay_s, times}, ...}, "
          "country?, zone?, hours?: {mon: [{start, end}]}, dispositions?, script?, message?, collect_digit?, "
          "survey?}` → `201` (docs/campaigns.md)"),
    Route("GET", "/api/campaigns/{id}", "get_campaign", "one campaign with its progress"),
    Route("DELETE", "/api/campaigns/{id}", "delete_campaign", "`204`; a running campaign is `409`"),
    Route("POST", f"/api/campaigns/{{id}}/{ACTION}", "control_campaign",
          "start, pause, resume or stop; a step the campaign's state does not allow is `409`",
          shown="/api/campaigns/<id>/start\\|pause\\|resume\\|stop"),
    Route("GET", "/api/campaigns/{id}/list.csv", "list_csv", "the call list with each entry's state and result"),
    Route("POST", "/api/campaigns/{id}/list.csv", "import_list",
          'add people from a CSV file (the body): `{"added", "duplicates", "errors": [{"line", "error"}], "encoding"}`'),
    Route("POST", "/api/campaigns/{id}/people", "add_people",
          '`{"people": [{number, name?, fields?}]}`, or `{"contacts": [ids]}`, or '
          '`{"called": {queue?, days?}}` (everyone who called, from the call records) → as the CSV import'),
    Route("GET", "/api/campaigns/{id}/entries", "list_entries", '`{"entries": [...]}`; `state`, `offset`, `limit`',
          shown="/api/campaigns/<id>/entries?state=&offset=&limit="),
    Route("POST", "/api/campaigns/{id}/entries/{entry}/result", "set_result",
          "the agent's result: `{agent, result (one of the campaign's), notes?, callback_at? (epoch s)}`"),
    Route("POST", "/api/campaigns/{id}/entries/{entry}/dial", "dial_entry",
          "preview: the agent calls this person, `{agent}`: the agent's phone rings first, then the callee's "
          "→ `{call_id, dialled}` (`dialled` false: the numbering plan refused the number, the attempt is FAILED); "
          "`409` when the campaign is not a running preview, the agent is not free, the person may not be "
          "called now (hours, retry not due, do-not-call) or the box is full"),
    Route("GET", "/api/campaigns/{id}/card", "agent_card",
          "the card an agent works now (read only): `{step: call\\|result\\|preview\\|null, entry, call_id}`: "
          "the campaign call they are on, else their answered call still without a result, else (a running "
          "preview campaign) the next person due", shown="/api/campaigns/<id>/card?agent="),
    Route("GET", "/api/campaigns/{id}/report", "campaign_report",
          "attempted, reached, results, attempts per contact, talk time, abandoned share, CSAT"),
    Route("GET", "/api/do-not-call", "list_dnc", '`{"numbers": [{number, why, added}]}`'),
    Route("POST", "/api/do-not-call", "add_dnc", "`{number, why?}` → `201`"),
    Route("DELETE", "/api/do-not-call/{number}", "remove_dnc", "`204`; `404` if not on the list"),
    Route("GET", "/api/csat", "csat",
          "satisfaction scores `{by, groups: {key: {offered, answered, average, csat_pct, distribution}}}`; "
          "`by` = agent, queue, campaign or day; `days` back (default 30)", shown="/api/csat?by=&days="),
)

GROUPINGS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "agent": lambda r: r.get("agent") or None,
    "queue": lambda r: r.get("queue") or None,
    "campaign": lambda r: r.get("campaign") or None,
    "day": lambda r: str(r.get("start") or "")[:10] or None,
    "": lambda r: "all",
}


class CampaignRoutes:
    def __init__(self, campaigns: "Campaigns", contacts: "Contacts", call_records: "MonthlyLog",
                 clock: Callable[[], float],
                 dialer: Callable[[], "CampaignDialer | None"] = lambda: None) -> None:
        """`dialer()` is the campaign dialer while the box places calls (None with the engine off)."""
        self.campaigns = campaigns
        self.contacts = contacts
        self.call_records = call_records
        self.clock = clock
        self.dialer = dialer

    async def list_campaigns(self, request: web.Request) -> web.Response:
        return web.json_response({"campaigns": self.campaigns.list()})

    async def save_campaign(self, request: web.Request) -> web.Response:
        return web.json_response(self.campaigns.save(await body(request)), status=201)

    async def get_campaign(self, request: web.Request) -> web.Response:
        return web.json_response(self.campaigns.describe(request.match_info["id"]))

    async def delete_campaign(self, request: web.Request) -> web.Response:
        self.campaigns.delete(request.match_info["id"])
        return no_content()

    async def control_campaign(self, request: web.Request) -> web.Response:
        return web.json_response(self.campaigns.control(request.match_info["id"], request.match_info["action"]))

    async def list_csv(self, request: web.Request) -> web.Response:
        return web.Response(text=self.campaigns.to_csv(request.match_info["id"]), content_type="text/csv")

    async def import_list(self, request: web.Request) -> web.Response:
        raw = await upload(request, MAX_IMPORT, "CSV")
        return web.json_response(self.campaigns.import_csv(request.match_info["id"], raw))

    async def add_people(self, request: web.Request) -> web.Response:
        data = await body(request)
        if not isinstance(data, dict):
            raise ValidationError("send {people: [...]}, {contacts: [...]} or {called: {queue, days}}")
        cid = request.match_info["id"]
        if "people" in data:
            people = data["people"]
            if not isinstance(people, list) or not all(isinstance(p, dict) for p in people):
                raise ValidationError("people: a list of {number, name?, fields?}")
        elif "contacts" in data:
            ids = data["contacts"]
            if not isinstance(ids, list):
                raise ValidationError("contacts: a list of contact ids")
            people = []
            for contact_id in ids:
                c = self.contacts.get(str(contact_id))
                if c.get("numbers"):
                    people.append({"number": c["numbers"][0], "name": c.get("name", ""),
                                   "fields": {"company": c.get("company", "")} if c.get("company") else {}})
        elif "called" in data:
            people = self._callers(data["called"])
        else:
            raise ValidationError("send {people: [...]}, {contacts: [...]} or {called: {queue, days}}")
        return web.json_response(self.campaigns.add_people(cid, people))

    def _callers(self, spec: Any) -> list[dict[str, Any]]:
        """Everyone who called (a queue) in the last days, from the call records, each number once."""
        if not isinstance(spec, dict):
            raise ValidationError("called: {queue?, days?}")
        queue, days = str(spec.get("queue") or ""), spec.get("days", 7)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise ValidationError(f"days: from 1 to {MAX_DAYS}")
        end = datetime.fromtimestamp(self.clock(), timezone.utc)

        def wanted(r: dict[str, Any]) -> bool:
            return r.get("direction") == "inbound" and bool(r.get("caller")) and (not queue or r.get("queue") == queue)

        records = self.call_records.query(end - timedelta(days=days), end, wanted, limit=None)
        people, seen = [], set()
        for r in records:
            number = str(r["caller"])
            if number not in seen:
                seen.add(number)
                people.append({"number": number, "name": str(r.get("caller_name") or "")})
        return people

    async def list_entries(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            offset, limit = int(q.get("offset", "0")), int(q.get("limit", "100"))
        except ValueError:
            raise ValidationError("offset/limit: must be numbers") from None
        return web.json_response({"entries": self.campaigns.entries(request.match_info["id"], q.get("state", ""),
                                                                    offset, limit)})

    async def set_result(self, request: web.Request) -> web.Response:
        data = await body(request)
        if not isinstance(data, dict) or not data.get("agent") or not data.get("result"):
            raise ValidationError("send {agent, result, notes?, callback_at?}")
        at = data.get("callback_at")
        if at is not None and (isinstance(at, bool) or not isinstance(at, (int, float))):
            raise ValidationError("callback_at: seconds since the epoch")
        return web.json_response(self.campaigns.set_result(
            request.match_info["id"], request.match_info["entry"], agent=str(data["agent"]),
            result=str(data["result"]), notes=str(data.get("notes") or ""), callback_at=at))

    async def dial_entry(self, request: web.Request) -> web.Response:
        data = await body(request)
        if not isinstance(data, dict) or not data.get("agent"):
            raise ValidationError("send {agent}")
        cid, entry = request.match_info["id"], request.match_info["entry"]
        self.campaigns.entry(cid, entry)  # 404 first
        dialer = self.dialer()
        if dialer is None:
            raise Conflict("the box places no calls now (the engine is off)")
        return web.json_response(dialer.dial_preview(cid, entry, str(data["agent"])))

    async def agent_card(self, request: web.Request) -> web.Response:
        agent = request.query.get("agent", "")
        if not agent:
            raise ValidationError("agent: the agent's extension")
        cid = request.match_info["id"]
        return web.json_response(self.card(cid, self.campaigns.describe(cid), agent))

    def card(self, cid: str, described: dict[str, Any], agent: str) -> dict[str, Any]:
        """What the agent's panel shows for this campaign; nothing here changes an entry."""
        none: dict[str, Any] = {"step": None, "entry": None, "call_id": None}
        if described["mode"] == "message":
            return none
        dialer = self.dialer()
        calls = [run.call for run in list(getattr(dialer, "calls", {}).values()) if dialer is not None
                 and getattr(run, "call", None) is not None and not getattr(run, "ended", False)
                 and run.call.campaign == cid]
        for call in calls:
            if call.agent == agent:
                return {"step": "call", "entry": self.campaigns.entry(cid, call.entry).to_dict(), "call_id": call.id}
        entries = self.campaigns.entries(cid, "", 0, 1 << 30)
        mine = [e for e in entries if e["agent"] == agent]
        elsewhere = {call.entry for call in calls}  # a retry another agent is on names the last agent still
        for e in mine:
            if e["state"] in ("offered", "dialling", "connected") and e["id"] not in elsewhere:
                return {"step": "call", "entry": e, "call_id": None}
        for e in reversed(mine):  # answered, and the agent has not chosen a result yet
            if e["state"] == "done" and e["result"] == "ANSWERED":
                return {"step": "result", "entry": e, "call_id": None}
        if described["state"] != "running" or described["mode"] != "preview":
            return none
        campaign, now = campaign_from_dict(described), self.clock()
        moment = datetime.fromtimestamp(now, timezone.utc)
        due = [e for e in entries if e["state"] == "waiting" and e["due"] <= now
               and campaign.calling_hours.may_call(moment, e["zone"] or campaign.zone)]
        # A callback the agent booked comes back to them first.
        pick = next((e for e in due if e["agent"] == agent), None) or next(iter(due), None)
        return {"step": "preview", "entry": pick, "call_id": None} if pick else none

    async def campaign_report(self, request: web.Request) -> web.Response:
        cid = request.match_info["id"]
        self.campaigns.describe(cid)  # 404 first
        records = self.call_records.query(None, None, lambda r: r.get("campaign") == cid, limit=None)
        return web.json_response(self.campaigns.report(cid, records))

    async def list_dnc(self, request: web.Request) -> web.Response:
        return web.json_response({"numbers": self.campaigns.do_not_call()})

    async def add_dnc(self, request: web.Request) -> web.Response:
        data = await body(request)
        if not isinstance(data, dict):
            raise ValidationError("send {number, why?}")
        return web.json_response(self.campaigns.forbid(str(data.get("number") or ""),
                                                       str(data.get("why") or "added by the admin")), status=201)

    async def remove_dnc(self, request: web.Request) -> web.Response:
        self.campaigns.allow(request.match_info["number"])
        return no_content()

    async def csat(self, request: web.Request) -> web.Response:
        by = request.query.get("by", "")
        if by not in GROUPINGS:
            raise ValidationError("by: agent, queue, campaign or day")
        try:
            days = int(request.query.get("days", "30"))
        except ValueError:
            raise ValidationError("days: a number") from None
        if not 1 <= days <= MAX_DAYS:
            raise ValidationError(f"days: from 1 to {MAX_DAYS}")
        end = datetime.fromtimestamp(self.clock(), timezone.utc)
        records = self.call_records.query(end - timedelta(days=days), end, lambda r: "csat" in r, limit=None)
        results = [{**r, "score": r["csat"] if isinstance(r.get("csat"), int) else None} for r in records]
        groups = summarise(results, GROUPINGS[by])
        return web.json_response({"by": by or "all", "days": days,
                                  "groups": {k: v.to_dict() for k, v in sorted(groups.items())}})
