"""Reports: service level, agents, staffing (Erlang C), the heat map and today's figures, and
the business reports (the month against the contract, the cost of the center)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from appliance.control.common import Route, body
from appliance.errors import NotFound, ValidationError
from appliance.logic import business as biz

if TYPE_CHECKING:
    from appliance.business_runtime import Business
    from appliance.reports import Reports

TITLE = "Reports"

REPORTS = ("queues", "agents", "staffing", "heatmap", "today")
BUSINESS_REPORTS = ("sla", "cost")

ROUTES = (
    Route("GET", "/api/reports/{kind}", "report",
          "see `reports.md` (`from`, `to`, `interval`, `queue`, `target_sl`, `target_s`)",
          shown="/api/reports/queues\\|agents\\|staffing\\|heatmap\\|today[.csv]"),
    Route("POST", "/api/business/{kind}", "business_report",
          '`sla`: `{month: "2026-11", targets: [{queue, answer_pct, within_s, max_abandon_pct, '
          "min_coverage_pct?}], language?}`: the month against the contract (`business.md`); "
          "`cost`: `{month, costs: {wage_per_hour, recruiting_per_hire, training_per_hire, annual_turnover_pct, "
          "agents, …}, offers: [{name, model: per_hour\\|per_handled_call\\|base_plus_commission, …}], "
          "language?}`: cost per handled call and per staffed hour, next to each offer, every figure with its terms",
          shown="/api/business/sla\\|cost?format=json\\|csv\\|html"),
)


class ReportRoutes:
    def __init__(self, reports: "Reports", business: "Business") -> None:
        self.reports = reports
        self.business = business

    async def report(self, request: web.Request) -> web.Response:
        """GET /api/reports/<kind>[.csv]: the reports of docs/reports.md, computed off the loop."""
        kind, _, fmt = request.match_info["kind"].partition(".")
        if kind not in REPORTS or fmt not in ("", "csv"):
            raise NotFound(f"no report {request.match_info['kind']!r}; there are {', '.join(REPORTS)} (and .csv)")
        q = request.query
        args: dict[str, Any] = {}
        if kind != "today":
            today = self.reports.today_date().isoformat()  # the business's day, not the server's (UTC)
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
        fn = getattr(self.reports, method)
        positional = [args.pop("start"), args.pop("end")] if "start" in args else []
        result = await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*positional, **args))
        if fmt:
            return web.Response(text=result, content_type="text/csv",
                                headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})
        return web.json_response(result)

    async def business_report(self, request: web.Request) -> web.Response:
        """POST /api/business/sla|cost?format=json|csv|html: contract figures from the box's own month."""
        kind = request.match_info["kind"]
        if kind not in BUSINESS_REPORTS:
            raise NotFound("no such report; there are sla and cost")
        data = await body(request)
        fmt = request.query.get("format", "json")
        figures = self.business.sla if kind == "sla" else self.business.cost
        report, language = await asyncio.get_running_loop().run_in_executor(None, lambda: figures(data))
        if fmt == "csv":
            text = biz.to_csv(report) if kind == "sla" else biz.cost_to_csv(report)
            return web.Response(text=text, content_type="text/csv")
        if fmt == "html":
            text = biz.to_html(report, language) if kind == "sla" else biz.cost_to_html(report, language)
            return web.Response(text=text, content_type="text/html")
        return web.json_response(json.loads(json.dumps(dataclasses.asdict(report), default=str)))
