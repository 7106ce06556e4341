"""Contacts (the address book behind the screen pop), after-call notes and click-to-dial.

Everyone logged in may read contacts and dial from their own extension (the
username, as on the agent's panel); supervisors and admins change them,
import and export them. Numbers are normalised by the core; the page only
formats them for reading.
"""

from __future__ import annotations

from datetime import date

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from appliance.errors import ApiError
from web.kit import (_, NOT_YET, Missing, Role, WebState, agent_handled, ask_core,
                     ask_core_or_missing, contact_row, current as _translator, ngettext, notice,
                     parse_after_call, parse_contact_form, parse_dial, render, require, role_allows,
                     safe_next, screen_pop, see_other, translate_message, upload_limit)

PAGE_SIZE = 50
MAX_IMPORT = 4 << 20  # a CSV of some ten thousand contacts


def _tz() -> str:
    """The box's time zone, for the times a contact page shows."""
    return _translator().tz


def _query() -> tuple[str, int]:
    q = (request.query.getunicode("q") or "").strip()[:100]
    try:
        offset = max(0, int(request.query.get("offset") or 0))
    except ValueError:
        offset = 0
    return q, offset


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the contacts page, the screen pop's lookup, after-call notes and click-to-dial."""

    def contacts_page(api, user, form: dict | None = None, errors: dict | None = None,
                      error: str | None = None, import_errors: list | None = None) -> str:
        q, offset = _query()
        found = ask_core_or_missing(api.contacts, q, offset, PAGE_SIZE + 1)
        lang = _translator().lang
        rows = [] if isinstance(found, Missing) else [contact_row(c, _tz(), lang) for c in found[:PAGE_SIZE]]
        return render("contacts.tpl", title=_("Contacts"), rows=rows, q=q, offset=offset,
                      has_next=not isinstance(found, Missing) and len(found) > PAGE_SIZE,
                      page_size=PAGE_SIZE, missing=NOT_YET.format(what="contacts")
                      if isinstance(found, Missing) else None,
                      can_edit=role_allows(user.role or "", Role.SUPERVISOR),
                      can_dial=user.username.isdigit(), form=form or {}, errors=errors or {},
                      error=error, import_errors=import_errors or [])

    @app.get("/contacts")
    @require(Role.AGENT)
    def contacts(api, user):
        return contacts_page(api, user)

    @app.post("/contacts")
    @require(Role.SUPERVISOR)
    def add_contact(api, user):
        form = {k: request.forms.getunicode(k, "") for k in
                ("name", "company", "numbers", "email", "notes")}
        body, errors = parse_contact_form(form)
        if not errors:
            try:
                created = ask_core(api.add_contact, body)
            except ApiError as exc:
                errors[""] = exc.message
            else:
                state.audit(user.username, "contact_added", f"{created.get('id', '')} "
                            f"({body['name']})")
                notice(_("Contact {name} was added.", name=body["name"]))
                raise see_other("/contacts")
        response.status = 400
        return contacts_page(api, user, form=form, errors={k: translate_message(v)
                                                           for k, v in errors.items()},
                             error=_("The contact was not added: {reason}",
                                     reason=errors.get("") or _("fix the fields marked below.")))

    @app.get("/contacts/<contact_id>/edit")
    @require(Role.SUPERVISOR)
    def edit_contact_form(api, contact_id):
        return render("contact_edit.tpl", title=_("Edit contact"),
                      contact=contact_row(ask_core(api.contact, contact_id), _tz(), _translator().lang), errors={})

    @app.post("/contacts/<contact_id>/edit")
    @require(Role.SUPERVISOR)
    def edit_contact(api, user, contact_id):
        current = ask_core(api.contact, contact_id)
        form = {k: request.forms.getunicode(k, "") for k in
                ("name", "company", "numbers", "email", "notes")}
        body, errors = parse_contact_form(form)
        if not errors:
            try:
                ask_core(api.update_contact, contact_id, **body)
            except ApiError as exc:
                errors[""] = exc.message
            else:
                state.audit(user.username, "contact_changed", f"{contact_id} ({body['name']})")
                notice(_("Contact {name} was changed.", name=body["name"]))
                raise see_other("/contacts")
        response.status = 400
        shown = contact_row(current, _tz(), _translator().lang) | {k: v for k, v in body.items() if k != "numbers"}
        shown["numbers_text"] = form["numbers"]
        return render("contact_edit.tpl", title=_("Edit contact"), contact=shown,
                      errors={k: translate_message(v) for k, v in errors.items()},
                      error=_("The contact was not saved: {reason}",
                              reason=errors.get("") or _("fix the fields marked below.")))

    @app.post("/contacts/<contact_id>/delete")
    @require(Role.SUPERVISOR)
    def delete_contact(api, user, contact_id):
        contact = ask_core(api.contact, contact_id)
        ask_core(api.delete_contact, contact_id)
        state.audit(user.username, "contact_deleted", f"{contact_id} ({contact.get('name', '')})")
        notice(_("Contact {name} was deleted.", name=contact.get("name", "")))
        raise see_other("/contacts")

    @app.get("/contacts.csv")
    @require(Role.SUPERVISOR)
    def export_contacts(api, user):
        try:
            chunks = api.contacts_csv()
        except ApiError as exc:
            if exc.status == 404:
                raise HTTPError(404, NOT_YET.format(what="contacts"))
            raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
        # An address book is personal data: who took it home is worth knowing.
        state.audit(user.username, "contacts_exported", "all contacts")
        response.content_type = "text/csv; charset=utf-8"
        response.set_header("Content-Disposition",
                            f'attachment; filename="contacts-{date.today().isoformat()}.csv"')
        return chunks

    @app.post("/contacts/import", max_body=upload_limit(MAX_IMPORT))
    @require(Role.SUPERVISOR)
    def import_contacts(api, user):
        upload = request.files.get("file")
        if upload is None or not upload.raw_filename:
            response.status = 400
            return contacts_page(api, user, error=_("Choose a CSV file to import."))
        data = upload.file.read(MAX_IMPORT + 1)
        if len(data) > MAX_IMPORT:
            response.status = 400
            return contacts_page(api, user, error=_("The file is too big (at most {size} MB).",
                                                    size=MAX_IMPORT >> 20))
        try:
            result = ask_core(api.import_contacts_csv, data)
        except ApiError as exc:
            response.status = 400
            return contacts_page(api, user, error=_("Nothing was imported: {reason}",
                                                    reason=exc.message))
        imported, errors = int(result.get("imported") or 0), list(result.get("errors") or [])
        state.audit(user.username, "contacts_imported",
                    f"{imported} from {upload.raw_filename}, {len(errors)} rows refused")
        notice(ngettext("{n} contact was imported.", "{n} contacts were imported.", imported))
        if not errors:
            raise see_other("/contacts")
        response.status = 400
        return contacts_page(api, user, import_errors=errors,
                             error=ngettext("{n} row was not imported; see the list below.",
                                            "{n} rows were not imported; see the list below.",
                                            len(errors)))

    # -- the screen pop, after-call work and click-to-dial ---------------------------

    @app.get("/agent/lookup.json", login_redirect=False)
    @require(Role.AGENT)
    def lookup(api):
        number = (request.query.getunicode("number") or "").strip()[:64]
        if not number:
            return HTTPResponse({"error": _("Which number?")}, status=400)
        try:
            return screen_pop(api.lookup_contact(number), _tz(), _translator().lang)
        except ApiError as exc:
            return HTTPResponse({"error": exc.message}, status=exc.status or 502)

    @app.post("/agent/calls/<call_id>/notes")
    @require(Role.AGENT)
    def after_call(api, user, call_id):
        form = {k: request.forms.getunicode(k, "") for k in ("notes", "disposition_code")}
        changes, reason = parse_after_call(form)
        if reason:
            raise HTTPError(400, translate_message(reason))
        if user.role == Role.AGENT:
            log = ask_core_or_missing(api.queue_log)
            # An agent writes notes on their own calls only.
            if isinstance(log, Missing) or not agent_handled(user.username, call_id, log):
                raise HTTPError(403, _("Call {call} was not yours.", call=call_id))
        try:
            ask_core(api.update_call_record, call_id, agent=user.username, **changes)
        except ApiError as exc:
            raise HTTPError(400, exc.message)
        state.audit(user.username, "after_call_notes",
                    f"{call_id}: {changes.get('disposition_code', '-')}")
        notice(_("The notes on call {call} were saved.", call=call_id))
        raise see_other(safe_next(request.forms.getunicode("next")))

    @app.post("/dial")
    @require(Role.AGENT)
    def dial(api, user):
        back = safe_next(request.forms.getunicode("next"))
        to, reason = parse_dial(request.forms.getunicode("to", ""))
        if reason:
            notice(translate_message(reason))
            raise see_other(back)
        try:
            result = api.dial(user.username, to)
        except ApiError as exc:
            if exc.status == 0 or exc.status >= 500:
                raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
            notice(_("{number} was not called: {reason}", number=to, reason=exc.message))
            raise see_other(back)
        state.audit(user.username, "dialled", f"{user.username} -> {to} "
                    f"({(result or {}).get('call_id', '')})")
        notice(_("Your phone rings first; pick it up and {number} is called.", number=to))
        raise see_other(back)

