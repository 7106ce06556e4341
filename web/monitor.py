"""The pages that watch the box: call records, the live Now page, and the system page
with its virtual front panel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from appliance.errors import ApiError, ValidationError
from web.kit import (_, BUTTON_ACTIONS, CSV_LIMIT, NOT_YET, NOW_COLUMNS, PAGE_SIZE, CallFilter,
                     Missing, Role, WebState, ask_core_or_missing, current, fmt_bytes, fmt_uptime,
                     notice, now_blocks, panel_json, panel_view, parse_call_filter, read_machine,
                     record_row, render, require, see_other, translate_blocks, translate_message,
                     translate_word, upload_limit, worker_row, zone)

RECENT_ON_NOW = 10
LOG_LINES = 200
MAX_BACKUP = 256 << 20  # with recordings and voicemail a backup is big; still bounded
FILTER_KEYS = ("from", "to", "number", "page")


def _json_error(status: int, message: str) -> HTTPResponse:
    return HTTPResponse({"error": message}, status=status)


def _form_values() -> dict[str, str]:
    return {k: request.query.getunicode(k, "") or "" for k in FILTER_KEYS}


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the calls, Now and system pages to the app."""

    # -- call records -----------------------------------------------------

    @app.get("/calls")
    @require(Role.SUPERVISOR)
    def calls(api):
        form = _form_values()
        try:
            wanted = parse_call_filter(form)
        except ValidationError as exc:
            response.status = 400
            return _calls_page(form, CallFilter(), [], False, error=translate_message(str(exc)))
        start, end = wanted.api_range(zone(current().tz))  # the box's days, not the server's
        try:
            # One more than a page tells whether there is a next page without counting them all.
            records = ask_core_or_missing(api.call_records, start, end, wanted.number, wanted.offset,
                                          PAGE_SIZE + 1)
        except ApiError as exc:
            response.status = 400
            return _calls_page(form, wanted, [], False, error=exc.message)
        if isinstance(records, Missing):
            return _calls_page(form, wanted, [], False,
                               unavailable=NOT_YET.format(what="call records"))
        rows = [record_row(r, current().tz, current().lang) for r in records[:PAGE_SIZE]]
        return _calls_page(form, wanted, rows, len(records) > PAGE_SIZE)

    def _calls_page(form: dict, wanted: CallFilter, rows: list, has_next: bool,
                    error: str | None = None, unavailable: str | None = None) -> str:
        return render("calls.tpl", title=_("Calls"), form=form, wanted=wanted, rows=rows,
                      has_next=has_next, error=error, unavailable=unavailable,
                      page_size=PAGE_SIZE, csv_limit=CSV_LIMIT)

    @app.get("/calls.csv")
    @require(Role.SUPERVISOR)
    def calls_csv(api, user):
        try:
            wanted = parse_call_filter(_form_values())
        except ValidationError as exc:
            raise HTTPError(400, translate_message(str(exc)))
        start, end = wanted.api_range(zone(current().tz))
        try:
            chunks = api.call_records_csv(start, end, wanted.number, CSV_LIMIT)
        except ApiError as exc:
            if exc.status == 404:
                raise HTTPError(404, NOT_YET.format(what="call records"))
            if exc.status == 0 or exc.status >= 500:
                raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
            raise HTTPError(400, exc.message)
        # Call records name people's numbers: who took them home is worth knowing.
        state.audit(user.username, "calls_exported", wanted.describe())
        days = "-".join(d.isoformat() for d in (wanted.day_from, wanted.day_to) if d)
        response.content_type = "text/csv; charset=utf-8"
        response.set_header("Content-Disposition",
                            f'attachment; filename="calls{"-" + days if days else ""}.csv"')
        return chunks

    # -- the Now page ----------------------------------------------------------

    def _now(api) -> dict[str, Any]:
        engine = ask_core_or_missing(api.engine)
        records = ask_core_or_missing(api.call_records, limit=RECENT_ON_NOW)
        return translate_blocks(now_blocks(None if isinstance(engine, Missing) else engine,
                                           None if isinstance(records, Missing) else records,
                                           state.settings.clock(), current().tz, current().lang))

    @app.get("/now")
    @require(Role.SUPERVISOR)
    def now_page(api):
        return render("now.tpl", title=_("Now"), blocks=_now(api), columns=NOW_COLUMNS,
                      poll_s=state.settings.live_poll_s, not_yet=NOT_YET)

    # Polled and refetched by the open page: not a sign that someone is there.
    @app.get("/now.json", login_redirect=False, touch=False)
    @require(Role.SUPERVISOR)
    def now_json(api):
        try:
            return _now(api)
        except HTTPError as exc:
            return _json_error(exc.status_code, str(exc.body))
        except ApiError as exc:
            return _json_error(502, exc.message)

    # -- the system page and the virtual front panel -------------------------------

    @app.get("/system")
    @require(Role.ADMIN)
    def system(api):
        return _system_page(api)

    def _system_page(api, error: str | None = None) -> str:
        health = ask_core_or_missing(api.health)
        logs = ask_core_or_missing(api.logs, LOG_LINES)
        engine = ask_core_or_missing(api.engine)
        snapshot = ask_core_or_missing(api.panel)
        machine = read_machine(state.settings.data_dir)
        return render(
            "system.tpl", title=_("System"),
            health={} if isinstance(health, Missing) else health,
            workers=None if isinstance(engine, Missing) else
            [worker_row(w) for w in engine.get("workers", [])],
            panel=None if isinstance(snapshot, Missing) else panel_view(snapshot),
            panel_missing=snapshot.reason if isinstance(snapshot, Missing) else "",
            machine=machine, fmt_bytes=fmt_bytes, fmt_uptime=fmt_uptime, not_yet=NOT_YET,
            panel_unavailable=_panel_unavailable, error=error,
            logs=None if isinstance(logs, Missing) else logs, max_backup_mb=MAX_BACKUP >> 20)

    @app.get("/system/backup")
    @require(Role.ADMIN)
    def download_backup(api, user):
        try:
            chunks = api.backup(user.username)
        except ApiError as exc:
            if exc.status == 404:
                raise HTTPError(404, NOT_YET.format(what="backups"))
            if exc.status == 0 or exc.status >= 500:
                raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
            raise HTTPError(400, exc.message)
        # A backup holds every secret and call of the box: each download is on record.
        state.audit(user.username, "backup_downloaded", f"from {request.environ.get('REMOTE_ADDR', '')}")
        stamp = datetime.fromtimestamp(state.settings.clock()).strftime("%Y%m%d-%H%M%S")
        response.content_type = "application/gzip"
        response.set_header("Content-Disposition",
                            f'attachment; filename="callbox-backup-{stamp}.tar.gz"')
        return chunks

    @app.post("/system/restore", max_body=upload_limit(MAX_BACKUP))
    @require(Role.ADMIN)
    def restore_backup(api, user):
        upload = request.files.get("backup")
        if upload is None or not upload.raw_filename:
            response.status = 400
            return _system_page(api, error=_("Choose a backup file to restore."))
        if request.forms.get("confirm") is None:
            response.status = 400
            return _system_page(api, error=_("Tick the box to confirm that the box's settings "
                                             "are to be replaced."))
        data = upload.file.read(MAX_BACKUP + 1)
        if len(data) > MAX_BACKUP:
            response.status = 400
            return _system_page(api, error=_("The file is too big (at most {size} MB).",
                                             size=MAX_BACKUP >> 20))
        try:
            api.restore(data)
        except ApiError as exc:
            if exc.status == 0 or exc.status >= 500:
                raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
            response.status = 400
            state.audit(user.username, "restore_refused", f"{upload.raw_filename}: {exc.message}")
            return _system_page(api, error=_("The backup was not restored; nothing was changed: "
                                             "{reason}", reason=exc.message))
        state.audit(user.username, "restore_started", f"{upload.raw_filename} ({len(data)} bytes)")
        notice(_("The backup was accepted. The core is restarting to apply it; calls drop and "
                 "pages may not answer for a minute. Log in again if asked."))
        raise see_other("/system")

    @app.post("/system/panel")
    @require(Role.ADMIN)
    def press_panel(api, user):
        button = request.forms.getunicode("button", "") or ""
        action = request.forms.getunicode("action", "") or ""
        if action not in BUTTON_ACTIONS.get(button, ()):
            raise HTTPError(400, _("The panel has no {button} button that can {action}.", button=repr(button), action=repr(action)))
        steps = ["press", "release"] if action == "click" else [action]
        try:
            for step in steps:
                api.press_panel(button, step)
        except ApiError as exc:
            if exc.status == 0 or exc.status >= 500:
                raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
            notice(_panel_unavailable(exc.message) if exc.status == 404
                   else f"The panel did not take it: {exc.message}")
        else:
            state.audit(user.username, "panel_button", f"{button}: {action}")
            notice(_("Front panel: {button} — {done}.", button=_(button), done=_done(action)))
        raise see_other("/system#panel")

    @app.get("/system/panel.json", login_redirect=False, touch=False)
    @require(Role.ADMIN)
    def panel_state(api):
        try:
            snapshot = api.panel()
        except ApiError as exc:
            return _json_error(404 if exc.status == 404 else 502, exc.message)
        shown = panel_json(panel_view(snapshot))
        t = current()
        for led in shown["leds"].values():
            led["says"] = translate_word(t, led["says"])
        return shown


def _panel_unavailable(reason: str) -> str:
    return _("The front panel is not available (yet): the core says “{reason}”.", reason=reason)


def _done(action: str) -> str:
    return {"click": _("pressed and released"), "press": _("held down"), "release": _("let go"),
            "toggle": _("switched")}.get(action, action)
