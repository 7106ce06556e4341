"""The contract page's form, checked and turned into the core's request bodies, and the
core's printable report with anything active taken out. No I/O."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Mapping
from urllib.parse import urlencode

from web.i18n import _

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
TARGET_FIELDS = ("answer_pct", "within_s", "max_abandon_pct", "min_coverage_pct")
COST_FIELDS = ("wage_per_hour", "recruiting_per_hire", "training_per_hire", "annual_turnover_pct",
               "agents", "overhead_per_month")
OFFER_FIELDS = ("price_per_hour", "price_per_call", "base_per_month", "commission_per_call",
                "minimum_per_month")
MODELS = ("per_hour", "per_handled_call", "base_plus_commission")
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_ROWS = 20


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

    def row_count(self, key: str) -> int:
        """How many rows of a repeated group (t-count, o-count) the form says it has."""
        raw = self.get(key, "0").strip()
        return min(int(raw), MAX_ROWS) if raw.isdigit() else 0

    def _targets(self) -> list[dict[str, Any]]:
        targets = []
        for i in range(self.row_count("t-count")):
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
        for i in range(self.row_count("o-count")):
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
