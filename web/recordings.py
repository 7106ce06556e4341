"""Recorded calls (admin, supervisor): a filtered list with a player and downloads.

The audio is fetched by the web process with its own token and streamed on, so the
browser never holds the token. The core writes its own audit line for the fetch
(actor = the user, passed as `?actor=`); the page writes one more that says whether
the recording was listened to or downloaded, because recordings are personal data.
"""

from __future__ import annotations

import re

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from appliance.errors import ApiError, ValidationError
from web.kit import (_, NUMBER_RE, CallFilter, Role, WebState, ask_core, fmt_duration,
                     parse_call_filter, render, require, translate_message)

# Call ids are the core's own (letters, digits, - _ . @); anything else is no recording.
CALL_ID = re.compile(r"^[\w.@-]{1,128}$")
LIMIT = 200


def parse_recording_filter(query: dict[str, str]) -> tuple[CallFilter, str]:
    """(days and number, agent) from the query; ValidationError naming the field."""
    wanted = parse_call_filter({k: v for k, v in query.items() if k != "page"})
    agent = (query.get("agent") or "").strip()
    if agent and not NUMBER_RE.match(agent):
        raise ValidationError("agent: use digits, letters, + * # . @ - only, at most 64")
    return wanted, agent


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the recordings page to the app."""

    @app.get("/recordings")
    @require(Role.SUPERVISOR)
    def recordings(api):
        form = {k: request.query.getunicode(k, "") or "" for k in ("from", "to", "number", "agent")}
        try:
            wanted, agent = parse_recording_filter(form)
        except ValidationError as exc:
            response.status = 400
            return render("recordings.tpl", title=_("Recordings"), form=form, rows=[],
                          error=translate_message(str(exc)), limit=LIMIT, fmt_duration=fmt_duration)
        start, end = wanted.api_range()
        try:
            rows = ask_core(api.recordings, start, end, wanted.number, agent)
        except ApiError as exc:
            response.status = 400
            return render("recordings.tpl", title=_("Recordings"), form=form, rows=[],
                          error=exc.message, limit=LIMIT, fmt_duration=fmt_duration)
        rows = sorted(rows, key=lambda r: str(r.get("start") or ""), reverse=True)
        return render("recordings.tpl", title=_("Recordings"), form=form,
                      rows=[r for r in rows if CALL_ID.match(str(r.get("call_id") or ""))][:LIMIT],
                      more=len(rows) > LIMIT, limit=LIMIT, fmt_duration=fmt_duration)

    @app.get("/recordings/<call_id>.wav")
    @require(Role.SUPERVISOR)
    def audio(api, user, call_id):
        if not CALL_ID.match(call_id):
            raise HTTPError(404, _("There is no such recording."))
        download = request.query.get("download") == "1"
        try:
            chunks = api.recording_audio(call_id, user.username)
        except ApiError as exc:
            if exc.status == 404:
                raise HTTPError(404, _("There is no such recording."))
            raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
        state.audit(user.username, "recording_downloaded" if download else "recording_listened",
                    call_id)
        res = HTTPResponse(chunks, status=200)
        res.content_type = "audio/wav"
        if download:
            res.set_header("Content-Disposition", f'attachment; filename="recording-{call_id}.wav"')
        return res
