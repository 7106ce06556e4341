"""The contact-center pages: queues and agents, the wallboard, and the agent's own panel.

Agents are extensions. A web user with the role `agent` is the agent whose
extension number is the username (user 1001 is agent 1001): the core keeps
no other link between the two, so the panel acts only for that number.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from appliance.errors import ApiError
from web.kit import (_, ACTIONS, BREAK_REASONS, NOT_YET, WALLBOARD_COLUMNS, Missing, Role, WebState,
                     agent_panel, agent_row, ask_core, ask_core_or_missing, campaign_progress_rows,
                     csat_rows, event_is_for_agent, midnight, notice, parse_queue_form, queue_fields,
                     queue_row, relay_events, render, require, see_other, translate_blocks,
                     wallboard_blocks)

# A day's call records fetched for the provisional service level; more is not a small box.
RECORDS_FOR_SERVICE_LEVEL = 10_000
# A campaign's report reads all its call records: the wallboard, refetched on every queue or
# agent event, asks for it at most this often.
CAMPAIGN_REPORT_TTL_S = 15.0

# -- the agent's browser phone (docs/agent-panel.md) -------------------------------------------
# The pages that show the agent's panel, and so its phone (an agent's "/" is their panel).
PHONE_PAGES = ("/", "/agent")
# web/app.py's policy, plus the phone's SIP WebSocket: the box's own host, on the port the
# core's ticket names (sip.wss_port), hence any port of that host and of no other.
PAGE_POLICY = ("default-src 'self'; frame-ancestors 'none'; form-action 'self'; "
               "base-uri 'none'; object-src 'none'")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(?::\d{1,5})?$")


def phone_policy(host_header: str) -> str:
    """The panel's Content-Security-Policy: the usual one, and WebSockets to the host the browser
    used for this page (a Host header the policy cannot carry opens nothing more)."""
    found = _HOST.match(host_header or "")
    return PAGE_POLICY + "; connect-src 'self'" + (f" wss://{found.group(1)}:*" if found else "")


def _list(value: Any) -> list:
    return [] if isinstance(value, Missing) else value


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the queues, wallboard and agent pages to the app."""

    # -- queues and agents ------------------------------------------------------------

    def _queues_page(api, user, error: str | None = None, form: dict | None = None,
                     errors: dict | None = None) -> str:
        queues, agents = ask_core_or_missing(api.queues), ask_core_or_missing(api.agents)
        extensions = ask_core(api.extensions) if user.role == Role.ADMIN else []
        agent_exts = {a["extension"] for a in _list(agents)}
        now = state.settings.clock()
        return render(
            "queues.tpl", title=_("Queues and agents"), error=error,
            missing=NOT_YET.format(what="queues and agents")
            if isinstance(queues, Missing) or isinstance(agents, Missing) else None,
            queues=[queue_row(q, _list(agents), now) for q in _list(queues)],
            agents=[agent_row(a) for a in _list(agents)], actions=ACTIONS, reasons=BREAK_REASONS,
            fields=queue_fields(form), errors=errors or {}, now=now,
            candidates=[e for e in extensions if e["number"] not in agent_exts])

    @app.get("/queues")
    @require(Role.SUPERVISOR)
    def queues_page(api, user):
        return _queues_page(api, user)

    @app.post("/queues")
    @require(Role.ADMIN)
    def add_queue(api, user):
        form = {k: request.forms.getunicode(k) for k in request.forms.keys() if k != "csrf_token"}
        config, errors = parse_queue_form(form)
        if not errors:
            try:
                ask_core(api.add_queue, config)
            except ApiError as exc:
                errors[""] = exc.message
            else:
                state.audit(user.username, "queue_added", config["name"])
                notice(_("Queue {name} was added.", name=config['name']))
                raise see_other("/queues")
        response.status = 400
        return _queues_page(api, user, error=_("The queue was not added: {reason}",
                                   reason=errors.get("") or _("fix the fields marked below.")),
                            form=form, errors=errors)

    @app.post("/agents")
    @require(Role.ADMIN)
    def add_agent(api, user):
        extension = (request.forms.getunicode("extension") or "").strip()
        queues = request.forms.getall("queues")
        try:
            ask_core(api.add_agent, extension, queues)
        except ApiError as exc:
            response.status = 409 if exc.status == 409 else 400
            return _queues_page(api, user, error=_("{extension} did not become an agent: {reason}",
                                                 extension=extension, reason=exc.message))
        state.audit(user.username, "agent_added", f"{extension} in {', '.join(queues) or '-'}")
        notice(_("Extension {extension} is an agent now.", extension=extension))
        raise see_other("/queues")

    @app.post("/agents/<extension>/<action>")
    @require(Role.SUPERVISOR)
    def supervise_agent(api, user, extension, action):
        if action not in ACTIONS:
            raise HTTPError(404, _("No agent action {action}.", action=repr(action)))
        reason = (request.forms.getunicode("reason") or "break").strip()[:40]
        try:
            result = ask_core(api.agent_action, extension, action, reason)
        except ApiError as exc:
            notice(_("Agent {extension}: {message}", extension=extension, message=exc.message))
        else:
            state.audit(user.username, "agent_" + action, f"{extension}"
                        + (f" ({reason})" if action == "break" else ""))
            notice(_("Agent {extension} is {status}.", extension=extension, status=_(result.get('status', '?').replace('_', ' ').lower())))
        raise see_other("/queues")

    # -- the wallboard ----------------------------------------------------------------

    campaign_reports: dict[str, tuple[float, Any]] = {}

    def _campaign_report(api, campaign_id: str) -> Any:
        now = state.settings.clock()
        kept = campaign_reports.get(campaign_id)
        if kept is None or now - kept[0] > CAMPAIGN_REPORT_TTL_S:
            kept = campaign_reports[campaign_id] = (now, ask_core_or_missing(api.campaign_report, campaign_id))
        return kept[1]

    def _wallboard(api) -> dict[str, Any]:
        queues, agents = ask_core_or_missing(api.queues), ask_core_or_missing(api.agents)
        engine, bans = ask_core_or_missing(api.engine), ask_core_or_missing(api.bans)
        box_alarms = ask_core_or_missing(api.alarms)
        today = date.today()
        records = ask_core_or_missing(api.call_records, midnight(today, None),
                                      midnight(today + timedelta(days=1), None), "", 0,
                                      RECORDS_FOR_SERVICE_LEVEL)
        name = ""
        try:
            name = next((str(s.get("value")) for s in api.settings() if s["key"] == "box.name"), "")
        except (ApiError, KeyError, TypeError):
            pass
        blocks = wallboard_blocks(_list(queues), _list(agents),
                                  None if isinstance(engine, Missing) else engine, _list(bans),
                                  None if isinstance(records, Missing) else records,
                                  state.settings.clock(), name, _list(box_alarms))
        campaigns = _list(ask_core_or_missing(api.campaigns))
        reports = {c["id"]: _campaign_report(api, c["id"]) for c in campaigns if c.get("state") == "running"}
        blocks["campaigns"] = campaign_progress_rows(
            campaigns, {k: v for k, v in reports.items() if not isinstance(v, Missing)})
        csat = ask_core_or_missing(api.csat, "queue", 1)  # the last 24 hours
        blocks["csat"] = csat_rows(None if isinstance(csat, Missing) else csat)
        blocks["available"] = {"center": not isinstance(queues, Missing),
                               "records": not isinstance(records, Missing)}
        return translate_blocks(blocks)

    def _wallboard_page(api, kiosk: bool) -> str:
        return render("wallboard.tpl", title=_("Wallboard"), blocks=_wallboard(api),
                      columns=WALLBOARD_COLUMNS, kiosk=kiosk, not_yet=NOT_YET,
                      data_url="/wallboard/kiosk.json" if kiosk else "/wallboard.json",
                      poll_s=state.settings.live_poll_s)

    def _wallboard_json(api):
        try:
            return _wallboard(api)
        except HTTPError as exc:
            return HTTPResponse({"error": str(exc.body)}, status=exc.status_code)
        except ApiError as exc:
            return HTTPResponse({"error": exc.message}, status=502)

    @app.get("/wallboard")
    @require(Role.SUPERVISOR)
    def wallboard(api):
        return _wallboard_page(api, kiosk=False)

    @app.get("/wallboard.json", login_redirect=False, touch=False)
    @require(Role.SUPERVISOR)
    def wallboard_json(api):
        return _wallboard_json(api)

    # The TV on the wall: no menus, big type. Its refreshes keep its session alive (up
    # to the absolute limit), unlike a page left open on a desk.
    @app.get("/wallboard/kiosk")
    @require(Role.SUPERVISOR)
    def wallboard_kiosk(api):
        return _wallboard_page(api, kiosk=True)

    @app.get("/wallboard/kiosk.json", login_redirect=False)
    @require(Role.SUPERVISOR)
    def wallboard_kiosk_json(api):
        return _wallboard_json(api)

    # -- the agent's panel ------------------------------------------------------------

    @app.get("/agent")
    @require(Role.AGENT)
    def my_panel(api, user):
        return agent_panel(api, user)

    @app.post("/agent/status")
    @require(Role.AGENT)
    def my_status(api, user):
        action = request.forms.getunicode("action") or ""
        if action not in ACTIONS:
            raise HTTPError(400, _("No such status change {action}.", action=repr(action)))
        reason = (request.forms.getunicode("reason") or "break").strip()[:40]
        try:
            result = ask_core(api.agent_action, user.username, action, reason)
        except ApiError as exc:
            response.status = 404 if exc.status == 404 else 400
            return agent_panel(api, user, error=_not_an_agent(user.username)
                               if exc.status == 404 else exc.message)
        state.audit(user.username, "agent_" + action, user.username
                    + (f" ({reason})" if action == "break" else ""))
        notice(_("You are {status}.", status=_(result.get('status', '?').replace('_', ' ').lower())))
        raise see_other("/agent")

    # -- the agent's browser phone -------------------------------------------------------

    def _phone_policy() -> None:
        if request.method == "GET" and request.path in PHONE_PAGES:
            request.environ["callbox.csp"] = phone_policy(request.environ.get("HTTP_HOST", ""))

    app.add_hook("before_request", _phone_policy)

    # The phone's script asks for a ticket for each connection (a reconnect too); asking is
    # not activity, like the event stream, so a panel left open logs out like any page.
    @app.post("/agent/phone/ticket", login_redirect=False, touch=False)
    @require(Role.AGENT)
    def my_phone_ticket(api, user):
        try:
            agents = ask_core_or_missing(api.agents)
            if isinstance(agents, Missing) or not any(
                    str(a.get("extension")) == user.username for a in agents):
                return HTTPResponse({"error": _not_an_agent(user.username)}, status=403)
            ticket = ask_core(api.browser_phone_ticket, user.username)
        except HTTPError as exc:  # the core unreachable (503), the extension gone (404)
            return HTTPResponse({"error": str(exc.body)}, status=exc.status_code)
        except ApiError as exc:
            return HTTPResponse({"error": exc.message}, status=409 if exc.status == 409 else 502)
        return {k: ticket.get(k) for k in ("ticket", "extension", "expires_in", "port")}

    @app.get("/agent/events", login_redirect=False, touch=False)
    @require(Role.AGENT)
    def my_events(api, user):
        response.content_type = "text/event-stream; charset=utf-8"
        response.set_header("X-Accel-Buffering", "no")
        extension = user.username
        # An agent hears only about themselves: their status and the calls offered to them.
        return relay_events(state, user,
                            keep=lambda event: event_is_for_agent(event.name, event.data,
                                                                  extension))


def _not_an_agent(username: str) -> str:
    return _("Extension {username} is not an agent. An agent's username is their extension "
             "number; ask an admin to make it an agent on the Queues page.", username=username)

