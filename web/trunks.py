"""Trunks, phone lines and call routes (admin).

The core validates; its errors name the field ("host: must be ...", several
joined by "; "), and the page shows each next to its field with the input kept.
"""

from __future__ import annotations

import re
from typing import Any

import bottle
from bottle import request, response

from appliance.errors import ApiError
from web.app import WebState, notice, render, require, see_other
from web.i18n import _
from web.pages import _api
from web.security import Role

TRUNK_FORM = ("name", "kind", "host", "port", "transport", "username", "secret", "dids",
              "caller_id_number")
LINE_FORM = ("name", "kind", "device", "audio_device", "profile", "pin", "number")
_WHO = re.compile(r"^(trunk|line|route) '[^']*': ")


def field_errors(message: str, fields: tuple[str, ...] | set[str]) -> dict[str, str]:
    """The API's "key: reason; key: reason" as {field: reason}; the rest under ""."""
    errors: dict[str, str] = {}
    for part in _WHO.sub("", message).split("; "):
        key, sep, reason = part.partition(":")
        target = key.strip() if sep and key.strip() in fields else ""
        text = reason.strip() if target else part.strip()
        errors[target] = f"{errors[target]}; {text}" if target in errors else text
    return errors


def trunk_body(form: dict[str, str]) -> dict[str, Any]:
    """The trunk as the API takes it; numbers and lists from the form's text."""
    body: dict[str, Any] = {"name": form["name"].strip(), "kind": form["kind"] or "register",
                            "host": form["host"].strip(), "transport": form["transport"] or "udp"}
    port = form["port"].strip()
    body["port"] = int(port) if port.isdigit() else (port or 5060)
    for key in ("username", "secret", "caller_id_number"):
        if form[key].strip():
            body[key] = form[key].strip()
    dids = form["dids"].replace(",", " ").split()
    if dids:
        body["dids"] = dids
    body["register"] = body["kind"] == "register"
    return body


def routes_from_form(form: bottle.FormsDict) -> dict[str, list[dict[str, Any]]]:
    """Rows of the routes form (out-*-i, in-*-i) as the API's routes; empty or removed rows drop."""
    def value(name: str) -> str:
        return (form.getunicode(name) or "").strip()

    outbound, inbound = [], []
    for i in range(int(value("out-count") or 0)):
        if value(f"out-remove-{i}") or not value(f"out-name-{i}"):
            continue
        route: dict[str, Any] = {"name": value(f"out-name-{i}"),
                                 "patterns": value(f"out-patterns-{i}").split(),
                                 "trunks": value(f"out-trunks-{i}").replace(",", " ").split()}
        strip = value(f"out-strip-{i}")
        if strip:
            route["strip"] = int(strip) if strip.isdigit() else strip
        if value(f"out-prefix-{i}"):
            route["prefix"] = value(f"out-prefix-{i}")
        outbound.append(route)
    for i in range(int(value("in-count") or 0)):
        if value(f"in-remove-{i}") or not (value(f"in-did-{i}") or value(f"in-destination-{i}")):
            continue
        route = {"did": value(f"in-did-{i}"), "destination": value(f"in-destination-{i}")}
        if value(f"in-caller-{i}"):
            route["caller"] = value(f"in-caller-{i}")
        priority = value(f"in-priority-{i}")
        if priority:
            route["priority"] = int(priority) if priority.lstrip("-").isdigit() else priority
        inbound.append(route)
    return {"outbound": outbound, "inbound": inbound}


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the trunks, lines and routes page to the app."""

    def page(api, trunk_form=None, trunk_errors=None, line_form=None, line_errors=None,
             routes=None, routes_error=None, error=None) -> str:
        return render("trunks.tpl", title=_("Trunks and lines"), trunks=_api(api.trunks),
                      lines=_api(api.lines), routes=routes or _api(api.routes),
                      trunk_form=trunk_form or {}, trunk_errors=trunk_errors or {},
                      line_form=line_form or {}, line_errors=line_errors or {},
                      routes_error=routes_error, error=error)

    @app.get("/trunks")
    @require(Role.ADMIN)
    def trunks(api):
        return page(api)

    @app.post("/trunks")
    @require(Role.ADMIN)
    def add_trunk(api, user):
        form = {k: request.forms.getunicode(k, "") for k in TRUNK_FORM}
        try:
            _api(api.add_trunk, trunk_body(form))
        except ApiError as exc:
            response.status = 409 if exc.status == 409 else 400
            form["secret"] = ""
            return page(api, trunk_form=form,
                        trunk_errors=field_errors(exc.message, set(TRUNK_FORM) | {"register", "dids"}),
                        error=_("The trunk was not added: fix the fields marked below."))
        state.audit(user.username, "trunk_added", form["name"].strip())
        notice(_("Trunk {name} was added.", name=form["name"].strip()))
        raise see_other("/trunks")

    @app.post("/trunks/<name>/delete")
    @require(Role.ADMIN)
    def delete_trunk(api, user, name):
        try:
            _api(api.delete_trunk, name)
        except ApiError as exc:
            response.status = 409 if exc.status == 409 else 400
            return page(api, error=exc.message)
        state.audit(user.username, "trunk_deleted", name)
        notice(_("Trunk {name} was deleted.", name=name))
        raise see_other("/trunks")

    @app.post("/lines")
    @require(Role.ADMIN)
    def add_line(api, user):
        form = {k: request.forms.getunicode(k, "").strip() for k in LINE_FORM}
        body = {k: v for k, v in form.items() if v}
        try:
            _api(api.add_line, body)
        except ApiError as exc:
            response.status = 409 if exc.status == 409 else 400
            form["pin"] = ""
            return page(api, line_form=form, line_errors=field_errors(exc.message, set(LINE_FORM)),
                        error=_("The line was not added: fix the fields marked below."))
        state.audit(user.username, "line_added", f"{form['name']} ({form['kind']}, {form['device']})")
        notice(_("Line {name} was added.", name=form["name"]))
        raise see_other("/trunks")

    @app.post("/routes")
    @require(Role.ADMIN)
    def save_routes(api, user):
        try:
            routes = routes_from_form(request.forms)
        except ValueError:
            routes = None
        if routes is None:
            response.status = 400
            return page(api, routes_error=_("The form was incomplete; reload the page."))
        # The inbound routes are edited on the IVR page (web/inbound.py): kept here as they are.
        routes["inbound"] = (_api(api.routes) or {}).get("inbound") or []
        try:
            _api(api.put_routes, routes)
        except ApiError as exc:
            response.status = 400
            return page(api, routes=routes, routes_error=exc.message,
                        error=_("The routes were not saved."))
        state.audit(user.username, "routes_changed", f"{len(routes['outbound'])} outbound")
        notice(_("The routes were saved."))
        raise see_other("/trunks")
