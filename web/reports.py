"""The reports page: queue tables, the service level trend, the calls heat map,
agent occupancy and staffing advice, with CSV downloads proxied from the core."""

from __future__ import annotations

from urllib.parse import urlencode

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from appliance.errors import ApiError, ValidationError
from web.kit import (_, INTERVALS, WEEKDAYS, ReportFilter, Role, WebState, ask_core, current,
                     heat_rows, interval_label, parse_report_filter, queue_table, render, require,
                     service_level_svg, staffing_grid, translate_message, trend_rows)

KINDS = ("queues", "agents", "staffing", "heatmap", "today")


def _query() -> dict[str, str]:
    return {k: request.query.getunicode(k, "") or "" for k in request.query.keys()}


def _api_args(kind: str, wanted: ReportFilter) -> dict[str, str | float]:
    if kind == "today":
        return {}
    args: dict[str, str | float] = {"from": wanted.day_from, "to": wanted.day_to}
    if kind in ("queues", "heatmap", "staffing"):
        args["queue"] = wanted.queue
    if kind == "queues":
        args["interval"] = wanted.interval
    if kind == "staffing":
        args |= {"target_sl": wanted.target_sl, "target_s": wanted.target_s}
    return args


def _report(api, kind: str, wanted: ReportFilter) -> dict:
    return ask_core(api.report, kind, **_api_args(kind, wanted))


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the reports pages to the app."""

    @app.get("/reports")
    @require(Role.SUPERVISOR)
    def reports(api):
        form = _query()
        try:
            wanted = parse_report_filter(form)
        except ValidationError as exc:
            response.status = 400
            return render("reports.tpl", title=_("Reports"), form=form, wanted=None,
                          error=translate_message(str(exc)))
        try:
            found = {kind: _report(api, kind, wanted) for kind in KINDS}
        except ApiError as exc:
            response.status = 400
            return render("reports.tpl", title=_("Reports"), form=form, wanted=None,
                          error=exc.message)
        t = current()
        trend = trend_rows(found["queues"], wanted.queue)
        points = [(interval_label(r["interval"], t), r.get("service_level")) for r in trend]
        chart = service_level_svg(
            points, wanted.target_sl, title=_("Service level"),
            desc=_("Share of calls answered within {s} seconds, per interval; the dashed line is the target of {target}.",
                   s=t.number(wanted.target_s), target=t.percent(wanted.target_sl, 0)),
            fmt=lambda v: t.percent(v, 0))
        csv_query = urlencode({k: v for k, v in wanted.query().items() if v})
        return render("reports.tpl", title=_("Reports"), form=form, wanted=wanted, found=found,
                      chart=chart, trend=trend, queue_rows=queue_table(found["queues"]),
                      heat=heat_rows(found["heatmap"]),
                      staffing=staffing_grid(found["staffing"]), csv_query=csv_query,
                      intervals=INTERVALS, weekdays=WEEKDAYS, label=interval_label)

    @app.get("/reports/<kind>.csv")
    @require(Role.SUPERVISOR)
    def report_csv(api, user, kind):
        if kind not in KINDS:
            raise HTTPError(404, _("There is no such report."))
        try:
            wanted = parse_report_filter(_query())
        except ValidationError as exc:
            raise HTTPError(400, translate_message(str(exc)))
        try:
            chunks = api.report_csv(kind, **_api_args(kind, wanted))
        except ApiError as exc:
            if exc.status == 0 or exc.status >= 500:
                raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
            raise HTTPError(400 if exc.status != 404 else 404, exc.message)
        # Reports name agents and their hours: who took them home is worth knowing.
        state.audit(user.username, "report_exported",
                    f"{kind} " + urlencode({k: v for k, v in _api_args(kind, wanted).items() if v}))
        res = HTTPResponse(chunks, status=200)
        res.content_type = "text/csv; charset=utf-8"
        span = "-".join(x for x in (wanted.day_from, wanted.day_to) if x and kind != "today")
        res.set_header("Content-Disposition",
                       f'attachment; filename="{kind}{"-" + span if span else ""}.csv"')
        return res
