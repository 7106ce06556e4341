"""The contract page (admin): the SLA report and the cost per handled call, from the core.

The targets, staff costs and offers have no home in the core's settings, so
they live only in the page's form: it is sent with GET, and the filled-in form
(with its query string) is what keeps them — bookmark it to keep a contract's
figures. The reports are the core's own printable HTML, served as a page of
their own (so the browser prints them alone) after taking out anything active.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from appliance.errors import ApiError
from web.kit import (_, COST_FIELDS, MODELS, OFFER_FIELDS, TARGET_FIELDS, ContractForm, Role,
                     WebState, ask_core, current, default_month, render, require, sanitise_report)

KINDS = ("sla", "cost")
# The print page may hold only the core's text and its own style sheet.
PRINT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
             "frame-ancestors 'self'; form-action 'none'; base-uri 'none'")


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the contract page, its print pages and CSV downloads to the app."""

    def form_from_query() -> ContractForm:
        return ContractForm({k: request.query.getunicode(k, "") or "" for k in request.query.keys()})

    @app.get("/contract")
    @require(Role.ADMIN)
    def contract(api):
        form = form_from_query()
        month = form.month or default_month(date.fromtimestamp(state.settings.clock()))
        values = dict(render_values(form), month=month)
        if not form.submitted:
            return render("contract.tpl", **values)
        if form.errors:
            response.status = 400
            return render("contract.tpl", error=_("No report was made: fix the fields marked below."),
                          **values)
        lang = current().lang
        kinds = ["sla"] + (["cost"] if form.has_costs else [])
        try:
            for kind in kinds:  # asked once here so that the core's refusal shows next to the form
                ask_core(api.business_report, kind, form.body(kind, lang), "json")
        except ApiError as exc:
            response.status = 400
            return render("contract.tpl", error=exc.message, **values)
        return render("contract.tpl", **(values | {"reports": kinds, "query": form.query()}))

    def render_values(form: ContractForm) -> dict[str, Any]:
        targets = form.targets or [{}]
        return {"title": _("Contract"), "form": form, "errors": form.errors, "reports": [],
                "query": "", "target_rows": max(form.row_count("t-count"), len(targets)) + 1,
                "offer_rows": max(form.row_count("o-count"), len(form.offers)) + 1,
                "models": MODELS, "target_fields": TARGET_FIELDS, "cost_fields": COST_FIELDS,
                "offer_fields": OFFER_FIELDS,
                "invalid": lambda key: (f'aria-invalid="true" aria-describedby="{key}-error"'
                                        if key in form.errors else "")}

    def fetch(api, kind: str, fmt: str) -> str:
        if kind not in KINDS:
            raise HTTPError(404, _("There is no such report."))
        form = form_from_query()
        if not form.submitted or form.errors or (kind == "cost" and not form.has_costs):
            raise HTTPError(400, _("The report's figures are missing or wrong; fill in the contract form again."))
        try:
            return ask_core(api.business_report, kind, form.body(kind, current().lang), fmt)
        except ApiError as exc:
            raise HTTPError(400, exc.message)

    @app.get("/contract/<kind>/print")
    @require(Role.ADMIN)
    def print_page(api, kind):
        html = sanitise_report(fetch(api, kind, "html"))
        request.environ["callbox.csp"] = PRINT_CSP
        request.environ["callbox.frame_options"] = "SAMEORIGIN"
        response.content_type = "text/html; charset=utf-8"
        return html

    @app.get("/contract/<kind>.csv")
    @require(Role.ADMIN)
    def report_csv(api, user, kind):
        text = fetch(api, kind, "csv")
        state.audit(user.username, "report_exported", f"contract {kind} {form_from_query().month}")
        res = HTTPResponse(text.encode("utf-8"), status=200)
        res.content_type = "text/csv; charset=utf-8"
        res.set_header("Content-Disposition",
                       f'attachment; filename="{kind}-{form_from_query().month}.csv"')
        return res
