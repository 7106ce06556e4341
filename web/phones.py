"""Desk phones (admin): bind a MAC to an extension, approve phones that asked for their
configuration, unbind, the provisioning server's fetch log and a preview of a phone's files.

The core makes each binding's provisioning password; the page shows it once, with
the URL a phone set up by hand needs, and never again (lists never carry it).
"""

from __future__ import annotations

import bottle
from bottle import HTTPError, request, response

from appliance.errors import ApiError
from web.kit import (_, MAC_TEXT, VENDORS, VENDOR_NAMES, Role, WebState, ask_core, credentials_url,
                     display_mac, notice, outcome_text, render, require, see_other)


def _mac_or_404(mac: str) -> str:
    if not MAC_TEXT.match(mac or ""):
        raise HTTPError(404, _("There is no phone {mac}.", mac=mac))
    return mac


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the phones pages to the app."""

    def page(api, form: dict | None = None, errors: dict | None = None,
             error: str | None = None) -> str:
        try:
            found = ask_core(api.phones)
        except HTTPError as exc:
            if exc.status_code != 404:
                raise
            # The core answers 404 while provisioning is switched off in its settings.
            return render("phones.tpl", title=_("Phones"), off=True, phones=[], pending=[],
                          url="", fetches=[], extensions=[], vendors=VENDORS,
                          vendor_names=VENDOR_NAMES, form={}, errors={}, error=error,
                          display_mac=display_mac, outcome_text=outcome_text)
        fetches = ask_core(api.phone_log)
        extensions = sorted(ask_core(api.extensions), key=lambda e: str(e.get("number")))
        return render("phones.tpl", title=_("Phones"), off=False,
                      phones=sorted(found.get("phones") or [], key=lambda p: str(p.get("extension"))),
                      pending=sorted(found.get("pending") or [], key=lambda p: -float(p.get("last_seen") or 0)),
                      url=found.get("url", ""), fetches=fetches[:50], extensions=extensions,
                      vendors=VENDORS, vendor_names=VENDOR_NAMES, form=form or {},
                      errors=errors or {}, error=error, display_mac=display_mac,
                      outcome_text=outcome_text)

    def bound(api, user, created: dict, how: str) -> str:
        # The password never goes into the audit log.
        state.audit(user.username, "phone_bound",
                    f"{created.get('mac')} -> {created.get('extension')} ({created.get('vendor', '')}, {how})")
        url = ""
        try:
            url = api.phones().get("url", "")
        except ApiError:
            pass
        return render("phone_password.tpl", title=_("Phone {mac}", mac=display_mac(created.get("mac", ""))),
                      phone=created, url=url, display_mac=display_mac,
                      full_url=credentials_url(url, created.get("mac", ""), created.get("password", "")),
                      vendor_names=VENDOR_NAMES)

    @app.get("/phones")
    @require(Role.ADMIN)
    def phones(api):
        return page(api)

    @app.post("/phones")
    @require(Role.ADMIN)
    def bind(api, user):
        form = {k: request.forms.getunicode(k, "").strip() for k in ("mac", "extension", "vendor", "model")}
        errors = {}
        if not form["mac"]:
            errors["mac"] = _("Enter the phone's MAC address.")
        if not form["extension"]:
            errors["extension"] = _("Choose an extension.")
        if form["vendor"] not in VENDORS:
            errors["vendor"] = _("Choose the maker of the phone.")
        if not errors:
            try:
                created = ask_core(api.bind_phone, form["mac"], form["extension"], form["vendor"],
                                   form["model"] or None)
            except ApiError as exc:
                key, _sep, reason = exc.message.partition(":")
                if key.strip() in form and reason:
                    errors[key.strip()] = reason.strip()
                else:
                    errors[""] = exc.message
            else:
                return bound(api, user, created, "bound by hand")
        response.status = 400
        return page(api, form=form, errors=errors,
                    error=errors.get("") or _("The phone was not bound: fix the fields marked below."))

    @app.post("/phones/<mac>/approve")
    @require(Role.ADMIN)
    def approve(api, user, mac):
        _mac_or_404(mac)
        extension = request.forms.getunicode("extension", "").strip()
        if not extension:
            response.status = 400
            return page(api, error=_("Choose an extension for phone {mac}.", mac=display_mac(mac)))
        try:
            # No vendor: the core approves the pending phone as it recognised it.
            created = ask_core(api.bind_phone, mac, extension)
        except ApiError as exc:
            response.status = 409 if exc.status == 409 else 400
            return page(api, error=exc.message)
        return bound(api, user, created, "approved")

    @app.post("/phones/<mac>/delete")
    @require(Role.ADMIN)
    def unbind(api, user, mac):
        _mac_or_404(mac)
        ask_core(api.unbind_phone, mac)
        state.audit(user.username, "phone_unbound", mac)
        notice(_("Phone {mac} was unbound.", mac=display_mac(mac)))
        raise see_other("/phones")

    @app.get("/phones/<mac>/files")
    @require(Role.ADMIN)
    def files(api, mac):
        _mac_or_404(mac)
        found = ask_core(api.phone_files, mac)
        return render("phone_files.tpl", title=_("Files for phone {mac}", mac=display_mac(mac)),
                      mac=mac, files=sorted(found.items()), display_mac=display_mac)
