"""The contract page (admin): the SLA report and the cost per handled call, from the core.

The targets, staff costs and offers have no home in the core's settings, so
they live only in the page's form: it is sent with GET, and the filled-in form
(with its query string) is what keeps them — bookmark it to keep a contract's
figures. The reports are the core's own printable HTML, served as a page of
their own (so the browser prints them alone) after taking out anything active.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Mapping
from urllib.parse import urlencode

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from appliance.errors import ApiError
from web.app import WebState, render, require
from web.i18n import _, current
from web.pages import _api
from web.security import Role

KINDS = ("sla", "cost")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
TARGET_FIELDS = ("answer_pct", "within_s", "max_abandon_pct", "min_coverage_pct")
COST_FIELDS = ("wage_per_hour", "recruiting_per_hire", "training_per_hire", "annual_turnover_pct",
               "agents", "overhead_per_month")
OFFER_FIELDS = ("price_per_hour", "price_per_call", "base_per_month", "commission_per_call",
                "minimum_per_month")
MODELS = ("per_hour", "per_handled_call", "base_plus_commission")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_ROWS = 20
# The print page may hold only the core's text and its own style sheet.
PRINT_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
             "frame-ancestors 'self'; form-action 'none'; base-uri 'none'")


class ContractForm:
    """The submitted form as the core's request bodies, or the fields that are wrong.

    `errors` maps a form field's name to what is wrong with it; the bodies are
    made only from what was filled in (an empty target row or offer row drops).
    """

    def __init__(self, query: Mapping[str, str]):
        self.values = {k: str(v) for k, v in query.items()}
        self.errors: dict[str, str] = {}
        self.month = self._month()
        self.targets = self._targets()
        self.costs = self._costs()
        self.offers = self._offers()

    def get(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    @property
    def submitted(self) -> bool:
        return "month" in self.values

    @property
    def has_costs(self) -> bool:
        return self.costs is not None

    def _number(self, key: str, whole: bool = False, required: bool = False) -> float | int | None:
        text = self.get(key).strip().replace(" ", "").replace("\u00a0", "").replace(",", ".")
        if not text:
            if required:
                self.errors[key] = _("Enter a number.")
            return None
        try:
            value = float(text)
        except ValueError:
            self.errors[key] = _("Enter a number.")
            return None
        if value < 0:
            self.errors[key] = _("Must not be negative.")
            return None
        if whole:
            if value != int(value):
                self.errors[key] = _("Enter a whole number.")
                return None
            return int(value)
        return value

    def _month(self) -> str:
        month = self.get("month").strip()
        if self.submitted and not MONTH.match(month):
            self.errors["month"] = _("Pick a month, e.g. 2026-11.")
        return month

    def _count(self, key: str) -> int:
        raw = self.get(key, "0").strip()
        return min(int(raw), MAX_ROWS) if raw.isdigit() else 0

    def _targets(self) -> list[dict[str, Any]]:
        targets = []
        for i in range(self._count("t-count")):
            queue = self.get(f"t-queue-{i}").strip()
            numbers = {f: self._number(f"t-{f}-{i}") for f in TARGET_FIELDS}
            if not queue and all(v is None for v in numbers.values()):
                continue
            if queue and not re.match(r"^[\w.-]{1,64}$", queue):
                self.errors[f"t-queue-{i}"] = _("Use letters, digits, dots and dashes.")
            for f in ("answer_pct", "max_abandon_pct", "min_coverage_pct"):
                if numbers[f] is not None and numbers[f] > 100:
                    self.errors[f"t-{f}-{i}"] = _("A percentage from 0 to 100.")
            target: dict[str, Any] = {"queue": queue} if queue else {}
            target |= {f: v for f, v in numbers.items() if v is not None}
            targets.append(target)
        return targets

    def _costs(self) -> dict[str, Any] | None:
        if not any(self.get(f"c-{f}").strip() for f in COST_FIELDS):
            return None
        costs: dict[str, Any] = {}
        for f in COST_FIELDS:
            value = self._number(f"c-{f}", whole=f == "agents", required=f != "overhead_per_month")
            if value is not None:
                costs[f] = value
        currency = self.get("c-currency").strip().upper()
        if currency:
            if CURRENCY.match(currency):
                costs["currency"] = currency
            else:
                self.errors["c-currency"] = _("Three capital letters, e.g. PLN.")
        return costs

    def _offers(self) -> list[dict[str, Any]]:
        offers = []
        for i in range(self._count("o-count")):
            name = self.get(f"o-name-{i}").strip()
            numbers = {f: self._number(f"o-{f}-{i}") for f in OFFER_FIELDS}
            if not name and all(v is None for v in numbers.values()):
                continue
            if not name:
                self.errors[f"o-name-{i}"] = _("Give the offer a name.")
            model = self.get(f"o-model-{i}")
            if model not in MODELS:
                self.errors[f"o-model-{i}"] = _("Choose how the offer is priced.")
            offer: dict[str, Any] = {"name": name, "model": model}
            offer |= {f: v for f, v in numbers.items() if v is not None}
            if self.costs and self.costs.get("currency"):
                offer["currency"] = self.costs["currency"]
            offers.append(offer)
        return offers

    def body(self, kind: str, language: str) -> dict[str, Any]:
        """The request body of POST /api/business/<kind>."""
        if kind == "sla":
            return {"month": self.month, "targets": self.targets, "language": language}
        return {"month": self.month, "costs": self.costs or {}, "offers": self.offers,
                "language": language}

    def query(self) -> str:
        """The form again as a query string, for the print and CSV links."""
        return urlencode({k: v for k, v in self.values.items() if v != ""})


_ACTIVE = [
    re.compile(r"<\s*(script|iframe|object|embed|frame|frameset|applet|form)\b.*?<\s*/\s*\1\s*>",
               re.I | re.S),
    re.compile(r"<\s*/?\s*(script|iframe|object|embed|frame|frameset|applet|form|base|link|input|button)\b[^>]*>",
               re.I),
    re.compile(r"<\s*meta\b[^>]*http-equiv[^>]*>", re.I),
]
_EVENT_ATTR = re.compile(r"""\s+on\w+\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""", re.I)
_JS_URL = re.compile(r"""(href|src|action|xlink:href)\s*=\s*(["']?)\s*(javascript|vbscript|data):""", re.I)


def sanitise_report(html: str) -> str:
    """The core's report page without anything that could run or load: no scripts,
    frames, forms, event handlers or script URLs. The page's CSP forbids them too."""
    for pattern in _ACTIVE:
        html = pattern.sub("", html)
    html = _EVENT_ATTR.sub("", html)
    return _JS_URL.sub(r"\1=\2#", html)


def default_month(today: date) -> str:
    """Last month: the one a contract's monthly report is about."""
    year, month = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    return f"{year:04d}-{month:02d}"


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
                _api(api.business_report, kind, form.body(kind, lang), "json")
        except ApiError as exc:
            response.status = 400
            return render("contract.tpl", error=exc.message, **values)
        return render("contract.tpl", **(values | {"reports": kinds, "query": form.query()}))

    def render_values(form: ContractForm) -> dict[str, Any]:
        targets = form.targets or [{}]
        return {"title": _("Contract"), "form": form, "errors": form.errors, "reports": [],
                "query": "", "target_rows": max(form._count("t-count"), len(targets)) + 1,
                "offer_rows": max(form._count("o-count"), len(form.offers)) + 1,
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
            return _api(api.business_report, kind, form.body(kind, current().lang), fmt)
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
