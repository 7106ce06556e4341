"""Outbound campaigns: the list, the editor, the call list, the live report, the do-not-call
list, and the agent's side (the card's result and preview dial). docs/campaigns.md says what a
campaign is; docs/web.md ("Campaigns") what these pages do.

Admins create, change and run campaigns and keep the do-not-call list; supervisors follow them
(the list, the call list and the report). An agent works the card on their panel: the page
acts only for the agent whose extension is the username, as everywhere on the panel.
"""

from __future__ import annotations

import time
from datetime import date

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from appliance.errors import ApiError
from web.kit import (_, BUTTON_LABELS, CAMPAIGN_DAYS, COUNTRIES, ENTRY_STATES, MODES, NOT_YET,
                     RETRY_RESULTS, Missing, Role, WebState, ask_core, ask_core_or_missing,
                     campaign_card, campaign_form, campaign_row, current, default_place, entry_row,
                     error_field_of, notice, parse_callback, parse_campaign_form, render,
                     report_blocks, require, see_other, upload_limit, zone_options)

MAX_LIST = 8 << 20  # a call list of some hundred thousand rows
PAGE_SIZE = 100
ACTION_WORDS = {"start": "started", "pause": "paused", "resume": "resumed", "stop": "stopped"}


def _list(value) -> list:
    return [] if isinstance(value, Missing) else value


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the campaign pages, the do-not-call page and the agent's card routes."""

    # -- the list ------------------------------------------------------------------------

    @app.get("/campaigns")
    @require(Role.SUPERVISOR)
    def campaigns_page(api, user):
        found = ask_core_or_missing(api.campaigns)
        return render("campaigns.tpl", title=_("Campaigns"), rows=[campaign_row(c) for c in _list(found)],
                      missing=NOT_YET.format(what="campaigns") if isinstance(found, Missing) else None,
                      can_edit=user.role == Role.ADMIN, labels=BUTTON_LABELS)

    @app.post("/campaigns/<cid>/delete")
    @require(Role.ADMIN)
    def delete(api, user, cid):
        try:
            ask_core(api.delete_campaign, cid)
        except ApiError as exc:
            notice(_("Campaign {name}: {reason}", name=cid, reason=exc.message))
        else:
            state.audit(user.username, "campaign_deleted", cid)
            notice(_("Campaign {name} was deleted.", name=cid))
        raise see_other("/campaigns")

    # -- the editor ----------------------------------------------------------------------

    def editor(api, form: dict, new: bool, errors: dict | None = None, error: str | None = None) -> str:
        queues = [q["name"] for q in _list(ask_core_or_missing(api.queues))]
        trunks = [t["name"] for t in _list(ask_core_or_missing(api.trunks))]
        lines = [ln["name"] for ln in _list(ask_core_or_missing(api.lines))]
        prompts = sorted({p["name"] for p in _list(ask_core_or_missing(api.prompts))})
        title = _("New campaign") if new else _("Campaign {name}", name=form.get("name") or form.get("id"))
        return render("campaign_edit.tpl", title=title, form=form, new=new, errors=errors or {}, error=error,
                      modes=MODES, queues=queues, routes=trunks + lines, prompts=prompts, countries=COUNTRIES,
                      zones=zone_options(current().lang), retry_results=RETRY_RESULTS, days=CAMPAIGN_DAYS)

    @app.get("/campaigns/new")
    @require(Role.ADMIN)
    def new_form(api):
        form = campaign_form(None)
        form["country"], form["zone"] = default_place(current().tz)
        # The core's default result words, offered in the admin's language: they become the
        # campaign's own words once saved.
        form["dispositions"] = "\n".join(_(word) for word in form["dispositions"].splitlines())
        return editor(api, form, new=True)

    @app.get("/campaigns/<cid>/edit")
    @require(Role.ADMIN)
    def edit_form(api, cid):
        return editor(api, campaign_form(ask_core(api.campaign, cid)), new=False)

    def save(api, user, cid: str | None):
        form = {k: request.forms.getunicode(k) for k in request.forms.keys() if k != "csrf_token"}
        if cid is not None:
            form["id"] = cid
        body, checks = parse_campaign_form(form)
        errors = {key: _(text, **values) for key, (text, values) in checks.items()}
        if not errors:
            try:
                saved = ask_core(api.save_campaign, body)
            except ApiError as exc:
                errors[error_field_of(exc.message)] = exc.message
                response.status = 409 if exc.status == 409 else 400
            else:
                state.audit(user.username, "campaign_saved", f"{saved['id']} ({saved['name']})")
                notice(_("Campaign {name} was saved.", name=saved["name"]))
                raise see_other(f"/campaigns/{saved['id']}/list" if cid is None else "/campaigns")
        else:
            response.status = 400
        shown = campaign_form(None) | {k: v for k, v in form.items()}
        shown["collect_digit"], shown["survey"] = "collect_digit" in form, "survey" in form
        reason = next(iter(errors.values())) if len(errors) == 1 else _("fix the fields marked below.")
        return editor(api, shown, new=cid is None, errors={k: v for k, v in errors.items() if k},
                      error=_("The campaign was not saved: {reason}", reason=reason))

    @app.post("/campaigns/new")
    @require(Role.ADMIN)
    def create(api, user):
        return save(api, user, None)

    @app.post("/campaigns/<cid>/edit")
    @require(Role.ADMIN)
    def change(api, user, cid):
        return save(api, user, cid)

    # -- the call list -------------------------------------------------------------------

    def list_page(api, user, cid: str, import_result: dict | None = None, error: str | None = None) -> str:
        campaign = ask_core(api.campaign, cid)
        shown_state = request.query.get("state") or ""
        shown_state = shown_state if shown_state in ENTRY_STATES else ""
        try:
            offset = max(0, int(request.query.get("offset") or 0))
        except ValueError:
            offset = 0
        entries = ask_core(api.campaign_entries, cid, shown_state, offset, PAGE_SIZE + 1)
        admin = user.role == Role.ADMIN
        q = (request.query.getunicode("q") or "").strip()[:100]
        contacts = _list(ask_core_or_missing(api.contacts, q, 0, 50)) if admin else []
        queues = [x["name"] for x in _list(ask_core_or_missing(api.queues))] if admin else []
        return render("campaign_list.tpl", title=_("Call list of {name}", name=campaign["name"]),
                      campaign=campaign_row(campaign), entries=[entry_row(e) for e in entries[:PAGE_SIZE]],
                      shown_state=shown_state, states=ENTRY_STATES, offset=offset, page_size=PAGE_SIZE,
                      has_next=len(entries) > PAGE_SIZE, can_edit=admin, contacts=contacts, q=q,
                      queues=queues, import_result=import_result, error=error, labels=BUTTON_LABELS)

    @app.get("/campaigns/<cid>/list")
    @require(Role.SUPERVISOR)
    def call_list(api, user, cid):
        return list_page(api, user, cid)

    @app.post("/campaigns/<cid>/list/import", max_body=upload_limit(MAX_LIST))
    @require(Role.ADMIN)
    def import_list(api, user, cid):
        upload = request.files.get("file")
        if upload is None:
            response.status = 400
            return list_page(api, user, cid, error=_("Choose a CSV file to import."))
        try:
            result = ask_core(api.import_campaign_csv, cid, upload.file.read(MAX_LIST + 1))
        except ApiError as exc:
            response.status = 409 if exc.status == 409 else 400
            return list_page(api, user, cid, error=_("The list was not imported: {reason}", reason=exc.message))
        state.audit(user.username, "campaign_list_imported", f"{cid}: {result.get('added', 0)} added")
        return list_page(api, user, cid, import_result=result)

    @app.post("/campaigns/<cid>/list/people")
    @require(Role.ADMIN)
    def add_people(api, user, cid):
        source = request.forms.getunicode("source") or ""
        if source == "contacts":
            body = {"contacts": request.forms.getall("contact")}
            if not body["contacts"]:
                response.status = 400
                return list_page(api, user, cid, error=_("Tick the contacts to add."))
        elif source == "called":
            days = (request.forms.getunicode("days") or "").strip()
            if not days.isdigit() or not 1 <= int(days) <= 366:
                response.status = 400
                return list_page(api, user, cid, error=_("Days: a whole number from 1 to 366."))
            body = {"called": {"queue": request.forms.getunicode("queue") or "", "days": int(days)}}
        else:
            raise HTTPError(400, _("Choose where the people come from."))
        try:
            result = ask_core(api.add_campaign_people, cid, body)
        except ApiError as exc:
            response.status = 409 if exc.status == 409 else 400
            return list_page(api, user, cid, error=_("Nobody was added: {reason}", reason=exc.message))
        state.audit(user.username, "campaign_people_added", f"{cid}: {result.get('added', 0)} from {source}")
        return list_page(api, user, cid, import_result=result)

    @app.get("/campaigns/<cid>/list.csv")
    @require(Role.SUPERVISOR)
    def export_list(api, user, cid):
        try:
            chunks = api.campaign_list_csv(cid)
        except ApiError as exc:
            if exc.status == 404:
                raise HTTPError(404, exc.message)
            raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
        # A call list is personal data: who took it home is worth knowing.
        state.audit(user.username, "campaign_list_exported", cid)
        response.content_type = "text/csv; charset=utf-8"
        response.set_header("Content-Disposition",
                            f'attachment; filename="campaign-{cid}-{date.today().isoformat()}.csv"')
        return chunks

    # -- the live report -----------------------------------------------------------------

    def blocks(api, cid: str) -> dict:
        campaign, report = ask_core(api.campaign, cid), ask_core(api.campaign_report, cid)
        out = report_blocks(report, campaign, time.time())
        out["summary"]["state"] = _(out["summary"]["state"])
        for name in ("results", "dispositions"):
            for row in out[name]:
                row["what"] = _(row["what"]) if name == "results" else row["what"]
        return out

    @app.get("/campaigns/<cid>/report")
    @require(Role.SUPERVISOR)
    def report(api, user, cid):
        campaign = ask_core(api.campaign, cid)
        return render("campaign_report.tpl", title=_("Report of {name}", name=campaign["name"]),
                      campaign=campaign_row(campaign), blocks=blocks(api, cid),
                      poll_s=state.settings.live_poll_s, can_edit=user.role == Role.ADMIN, labels=BUTTON_LABELS)

    @app.get("/campaigns/<cid>/report.json", login_redirect=False, touch=False)
    @require(Role.SUPERVISOR)
    def report_json(api, cid):
        try:
            return blocks(api, cid)
        except HTTPError as exc:
            return HTTPResponse({"error": str(exc.body)}, status=exc.status_code)

    # -- do not call ---------------------------------------------------------------------

    def dnc_page(api, error: str | None = None, form: dict | None = None) -> str:
        found = ask_core_or_missing(api.do_not_call)
        return render("do_not_call.tpl", title=_("Do not call"), numbers=_list(found), error=error,
                      form=form or {}, missing=NOT_YET.format(what="campaigns") if isinstance(found, Missing) else None)

    @app.get("/do-not-call")
    @require(Role.ADMIN)
    def do_not_call(api):
        return dnc_page(api)

    @app.post("/do-not-call")
    @require(Role.ADMIN)
    def forbid(api, user):
        form = {k: (request.forms.getunicode(k) or "").strip() for k in ("number", "why")}
        try:
            ask_core(api.add_do_not_call, form["number"], form["why"])
        except ApiError as exc:
            response.status = 400
            return dnc_page(api, error=_("The number was not added: {reason}", reason=exc.message), form=form)
        state.audit(user.username, "do_not_call_added", form["number"])
        notice(_("{number} will not be called by any campaign.", number=form["number"]))
        raise see_other("/do-not-call")

    @app.post("/do-not-call/<number>/remove")
    @require(Role.ADMIN)
    def allow(api, user, number):
        try:
            ask_core(api.remove_do_not_call, number)
        except HTTPError as exc:
            notice(str(exc.body))
        except ApiError as exc:
            notice(exc.message)
        else:
            state.audit(user.username, "do_not_call_removed", number)
            notice(_("{number} may be called again.", number=number))
        raise see_other("/do-not-call")

    # -- the agent's card ----------------------------------------------------------------

    def my_card(api, user):
        agents = ask_core_or_missing(api.agents)
        me = next((a for a in _list(agents) if str(a.get("extension")) == user.username), None)
        return campaign_card(api, user.username, me) if me is not None else None

    @app.get("/agent/campaign/card", login_redirect=False, touch=False)
    @require(Role.AGENT)
    def card_fragment(api, user):
        """The card alone, for the panel's script to put in place when the agent's work changes."""
        return render("campaign_card.tpl", card=my_card(api, user))

    def on_my_card(api, user, cid: str, entry: str) -> bool:
        """Whether this is the card the user works now: nobody answers for another's person."""
        card = my_card(api, user)
        if card is not None and (card["campaign"], card["entry"]["id"]) == (cid, entry):
            return True
        notice(_("That person is not on your card now."))
        return False

    @app.post("/agent/campaign/<cid>/<entry>/result")
    @require(Role.AGENT)
    def set_result(api, user, cid, entry):
        result = request.forms.getunicode("result") or ""
        notes = (request.forms.getunicode("notes") or "").strip()[:2000]
        try:
            callback_at = parse_callback(request.forms.getunicode("callback_at") or "", current().tz)
        except ValueError:
            notice(_("Call back at: write a date and a time."))
            raise see_other("/agent")
        if request.forms.get("callback_required") and callback_at is None:
            notice(_("Before the call a result books a callback: choose when to call back."))
            raise see_other("/agent")
        if not on_my_card(api, user, cid, entry):
            raise see_other("/agent")
        try:
            ask_core(api.set_campaign_result, cid, entry, user.username, result, notes, callback_at)
        except ApiError as exc:
            notice(_("The result was not saved: {reason}", reason=exc.message))
        else:
            state.audit(user.username, "campaign_result", f"{cid}/{entry}: {result}")
            notice(_("Result saved: {result}.", result=result))
        raise see_other("/agent")

    @app.post("/agent/campaign/<cid>/<entry>/dial")
    @require(Role.AGENT)
    def dial(api, user, cid, entry):
        if not on_my_card(api, user, cid, entry):
            raise see_other("/agent")
        try:
            ask_core(api.dial_campaign_entry, cid, entry, user.username)
        except ApiError as exc:
            notice(_("The call was not placed: {reason}", reason=exc.message))
        except HTTPError as exc:
            notice(_("The call was not placed: {reason}", reason=str(exc.body)))
        else:
            state.audit(user.username, "campaign_dial", f"{cid}/{entry}")
            notice(_("Your phone rings: pick it up to call the person."))
        raise see_other("/agent")

    # Last, so that the campaign's other pages (edit, delete, list) are matched before it.
    @app.post("/campaigns/<cid>/<action>")
    @require(Role.ADMIN)
    def control(api, user, cid, action):
        if action not in ACTION_WORDS:
            raise HTTPError(404, _("No campaign action {action}.", action=repr(action)))
        try:
            done = ask_core(api.campaign_action, cid, action)
        except ApiError as exc:
            notice(_("Campaign {name}: {reason}", name=cid, reason=exc.message))
        else:
            state.audit(user.username, f"campaign_{action}", cid)
            notice(_("Campaign {name} is {state}.", name=done.get("name", cid),
                     state=_(str(done.get("state", ACTION_WORDS[action])))))
        raise see_other(request.forms.getunicode("next") or "/campaigns")
