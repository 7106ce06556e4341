"""Trunks, phone lines and call routes (admin).

The core validates; its errors name the field ("host: must be ...", several
joined by "; "), and the page shows each next to its field with the input kept.
"""

from __future__ import annotations

import bottle
from bottle import request, response

from appliance.errors import ApiError
from web.kit import (_, LINE_FORM, TRUNK_FORM, Role, WebState, ask_core, field_errors, notice,
                     render, require, routes_from_form, see_other, trunk_body)


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the trunks, lines and routes page to the app."""

    def page(api, trunk_form=None, trunk_errors=None, line_form=None, line_errors=None,
             routes=None, routes_error=None, error=None) -> str:
        return render("trunks.tpl", title=_("Trunks and lines"), trunks=ask_core(api.trunks),
                      lines=ask_core(api.lines), routes=routes or ask_core(api.routes),
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
            ask_core(api.add_trunk, trunk_body(form))
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
            ask_core(api.delete_trunk, name)
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
            ask_core(api.add_line, body)
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
        routes["inbound"] = (ask_core(api.routes) or {}).get("inbound") or []
        try:
            ask_core(api.put_routes, routes)
        except ApiError as exc:
            response.status = 400
            return page(api, routes=routes, routes_error=exc.message,
                        error=_("The routes were not saved."))
        state.audit(user.username, "routes_changed", f"{len(routes['outbound'])} outbound")
        notice(_("The routes were saved."))
        raise see_other("/trunks")
