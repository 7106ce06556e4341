"""Voicemail pages: the boxes, a box's messages, listening in the browser, box settings.

The admin sees every box; any other user sees only the box whose number is
their username (an agent's extension). The audio is fetched by the web
process with its own token and streamed on, so the browser never holds the
token; every listen or download is written to the audit log.
"""

from __future__ import annotations

from typing import Any

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from appliance.errors import ApiError
from web.kit import (_, BOX_FIELDS, Role, Session, WebState, ask_core, error_field, notice,
                     parse_box_form, render, see_other)


def may_open(user: Session, box: str) -> bool:
    return user.role == Role.ADMIN or user.username == box


def _box_or_403(user: Session, box: str) -> None:
    if not may_open(user, box):
        raise HTTPError(403, _("You may open only your own voicemail box."))


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the voicemail pages to the app."""

    @app.get("/voicemail")
    def boxes(api, user):
        all_boxes = ask_core(api.voicemail_boxes)
        shown = [b for b in all_boxes if may_open(user, str(b.get("number")))]
        if user.role != Role.ADMIN and len(shown) == 1:
            raise see_other(f"/voicemail/{shown[0]['number']}")
        return render("voicemail.tpl", title=_("Voicemail"), boxes=shown)

    def _box_page(api, user, box: str, errors: dict[str, str] | None = None,
                  submitted: dict[str, Any] | None = None, error: str | None = None) -> str:
        config = next((b for b in ask_core(api.voicemail_boxes) if str(b.get("number")) == box), None)
        if config is None:
            raise HTTPError(404, _("There is no voicemail box {box}.", box=box))
        messages = sorted(ask_core(api.voicemail_messages, box),
                          key=lambda m: m.get("received", 0), reverse=True)
        return render("voicemail_box.tpl", title=_("Voicemail box {box}", box=box), box=box,
                      config=config | (submitted or {}), messages=messages, errors=errors or {},
                      error=error, admin=user.role == Role.ADMIN)

    @app.get("/voicemail/<box>")
    def box_page(api, user, box):
        _box_or_403(user, box)
        return _box_page(api, user, box)

    @app.get("/voicemail/<box>/<message_id>.wav")
    def listen(api, user, box, message_id):
        _box_or_403(user, box)
        download = request.query.get("download") == "1"
        try:
            chunks = api.voicemail_audio(box, message_id)
        except ApiError as exc:
            if exc.status == 404:
                raise HTTPError(404, _("There is no such message."))
            raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
        state.audit(user.username, "voicemail_downloaded" if download else "voicemail_listened",
                    f"{box}/{message_id}")
        res = HTTPResponse(chunks, status=200)
        res.content_type = "audio/wav"
        if download:
            res.set_header("Content-Disposition",
                           f'attachment; filename="voicemail-{box}-{message_id}.wav"')
        return res

    @app.post("/voicemail/<box>/<message_id>/delete")
    def delete(api, user, box, message_id):
        _box_or_403(user, box)
        ask_core(api.delete_voicemail, box, message_id)
        state.audit(user.username, "voicemail_deleted", f"{box}/{message_id}")
        notice(_("The message was deleted."))
        raise see_other(f"/voicemail/{box}")

    @app.post("/voicemail/<box>/settings")
    def box_settings(api, user, box):
        _box_or_403(user, box)
        form = {k: request.forms.getunicode(k, "") for k in BOX_FIELDS}
        checked = {k for k in ("attach_audio", "notify_unsolicited") if request.forms.get(k)}
        admin = user.role == Role.ADMIN
        changes, errors = parse_box_form(form, checked, admin)
        if not errors:
            try:
                ask_core(api.update_voicemail_box, box, **changes)
            except ApiError as exc:
                key, reason = error_field(exc.message, set(BOX_FIELDS))
                errors[key or ""] = reason
            else:
                state.audit(user.username, "voicemail_box_changed",
                            f"{box}: " + ", ".join(sorted(changes)))
                notice(_("The box settings were saved."))
                raise see_other(f"/voicemail/{box}")
        response.status = 400
        shown = {k: v for k, v in changes.items() if k != "pin"}
        return _box_page(api, user, box, errors=errors, submitted=shown,
                         error=errors.get("") or _("Nothing was saved: fix the fields marked below."))
