"""The pages behind the login: dashboard, extensions, registrations, bans, settings, users, audit."""

from __future__ import annotations

import zoneinfo
from typing import Any

import bottle
from bottle import HTTPError, abort, request, response

from appliance.errors import ApiError, ValidationError
from web.kit import (_, DAY_LIMIT, Role, WebState, agent_panel, ask_core, build_fields, calls_today,
                     check_new_password, check_username, day_bounds, error_field, field_kind,
                     group_title, grouped, hash_password, new_secret, notice, parse_submission,
                     render, require, secret_made, see_other, take_fresh_secret, translate_message,
                     verify_password, voicemail_waiting, who_is_on, wizard_unfinished)

CLASSES_OF_SERVICE = ["internal", "local", "national", "international"]


def _optional_list(call, *args: Any, **kwargs: Any) -> list[dict]:
    """What a dashboard tile shows: the core's list, or nothing when it cannot say (older core)."""
    try:
        return list(call(*args, **kwargs) or [])
    except ApiError as exc:
        if exc.status == 0 or exc.status >= 500:
            raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
        return []


def _checkbox(name: str) -> bool:
    return request.forms.get(name) is not None


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the admin pages to the app."""

    # -- dashboard and own panel ------------------------------------------

    @app.get("/")
    def dashboard(api, user):
        if not (user.role in (Role.ADMIN, Role.SUPERVISOR)):
            return agent_panel(api, user)
        values = {str(d.get("key")): d.get("value") for d in ask_core(api.settings)}
        try:
            zone = zoneinfo.ZoneInfo(str(values.get("box.timezone") or "UTC"))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            zone = zoneinfo.ZoneInfo("UTC")
        start, end = day_bounds(state.settings.clock(), zone)
        day = calls_today(_optional_list(api.call_records, start=start.isoformat(),
                                         end=end.isoformat(), limit=DAY_LIMIT))
        boxes = _optional_list(api.voicemail_boxes)
        if user.role != Role.ADMIN:  # a supervisor sees the shared boxes, not each person's own
            boxes = [b for b in boxes if not str(b.get("number") or "").isdigit()]
        wizard_open = False
        if user.role == Role.ADMIN:
            wizard_open = wizard_unfinished(api)
        try:
            box_alarms = api.alarms()
        except ApiError:
            box_alarms = []
        registrations = _optional_list(api.registrations)
        return render("dashboard.tpl", title=_("Dashboard"), alarms=box_alarms, day=day,
                      voicemail=voicemail_waiting(boxes),
                      who=who_is_on(_optional_list(api.agents)),
                      registrations=registrations, wizard_open=wizard_open,
                      can_dial=user.username.isdigit(), zone=zone)

    @app.post("/account/password")
    def change_own_password(api, user):
        current = request.forms.getunicode("current", "")
        password = request.forms.getunicode("password", "")
        repeated = request.forms.getunicode("password2", "")
        record = ask_core(api.user, user.username)
        if not verify_password(current[:1024], record.get("password_hash", "")):
            response.status = 400
            return agent_panel(api, user, error=_("The current password is wrong."))
        reason = check_new_password(user.username, password, repeated,
                                    state.settings.min_password_length)
        if reason:
            response.status = 400
            return agent_panel(api, user, error=translate_message(reason))
        ask_core(api.update_user, user.username, password_hash=hash_password(password))
        state.sessions.drop_user(user.username, keep=user.id)
        state.audit(user.username, "password_changed", "own password")
        notice(_("Your password was changed; your other sessions were logged out."))
        raise see_other("/")

    # -- extensions -------------------------------------------------------

    @app.get("/extensions")
    @require(Role.ADMIN)
    def extensions(api):
        return render("extensions.tpl", title=_("Extensions"), extensions=ask_core(api.extensions),
                      form={}, classes=CLASSES_OF_SERVICE)

    @app.post("/extensions")
    @require(Role.ADMIN)
    def add_extension(api, user):
        form = {k: request.forms.getunicode(k, "").strip()
                for k in ("number", "name", "secret", "class_of_service")}
        form["voicemail"] = _checkbox("voicemail")
        secret = form["secret"] or new_secret()
        try:
            created = ask_core(api.add_extension, form["number"], form["name"], secret=secret,
                               class_of_service=form["class_of_service"] or None,
                               voicemail=form["voicemail"])
        except ApiError as exc:
            response.status = 400 if exc.status != 409 else 409
            return render("extensions.tpl", title=_("Extensions"), extensions=ask_core(api.extensions),
                          form=form, classes=CLASSES_OF_SERVICE, error=exc.message)
        state.audit(user.username, "extension_added",
                    f"{created['number']} ({created.get('name', '')})")
        secret_made(user.id, created["number"])
        return render("extension_secret.tpl", title=_("Extension {number}", number=created['number']),
                      extension=created, what="created")

    @app.get("/extensions/<number>/sheet")
    @require(Role.ADMIN)
    def phone_sheet(api, user, number):
        extension = ask_core(api.extension, number)
        if not take_fresh_secret(user.id, number):
            extension = {k: v for k, v in extension.items() if k != "secret"}
        # The address the box found on the LAN, not the name this browser used (localhost, a tunnel).
        server, port = request.urlparts.hostname or "", 5060
        try:
            health = api.health()
            server = (health.get("network") or {}).get("address") or server
            port = int(health.get("sip_port") or port)
        except (ApiError, ValueError, TypeError, AttributeError):
            pass
        return render("sheet.tpl", title=_("Phone sheet {number}", number=number), extension=extension,
                      server=server, port=port)

    @app.get("/extensions/<number>/edit")
    @require(Role.ADMIN)
    def edit_extension_form(api, number):
        return render("extension_edit.tpl", title=_("Edit {number}", number=number),
                      extension=ask_core(api.extension, number), classes=CLASSES_OF_SERVICE)

    @app.post("/extensions/<number>/edit")
    @require(Role.ADMIN)
    def edit_extension(api, user, number):
        current = ask_core(api.extension, number)
        changes: dict[str, Any] = {}
        name = request.forms.getunicode("name", "").strip()
        cos = request.forms.getunicode("class_of_service", "").strip()
        voicemail = _checkbox("voicemail")
        if name != current.get("name"):
            changes["name"] = name
        if cos and cos != current.get("class_of_service"):
            changes["class_of_service"] = cos
        if voicemail != bool(current.get("voicemail")):
            changes["voicemail"] = voicemail
        if _checkbox("new_secret"):
            changes["secret"] = new_secret()
        if not changes:
            notice(_("Extension {number}: nothing to change.", number=number))
            raise see_other("/extensions")
        try:
            updated = ask_core(api.update_extension, number, **changes)
        except ApiError as exc:
            response.status = 400
            current.update({k: v for k, v in changes.items() if k != "secret"})
            return render("extension_edit.tpl", title=_("Edit {number}", number=number), extension=current,
                          classes=CLASSES_OF_SERVICE, error=exc.message)
        state.audit(user.username, "extension_changed",
                    f"{number}: {', '.join(sorted(changes))}")
        if "secret" in changes:
            shown = dict(updated or current)
            shown["secret"] = changes["secret"]
            secret_made(user.id, number)
            return render("extension_secret.tpl", title=_("Extension {number}", number=number),
                          extension=shown, what="given a new secret")
        notice(_("Extension {number} was changed.", number=number))
        raise see_other("/extensions")

    @app.post("/extensions/<number>/delete")
    @require(Role.ADMIN)
    def delete_extension(api, user, number):
        ask_core(api.delete_extension, number)
        state.audit(user.username, "extension_deleted", number)
        notice(_("Extension {number} was deleted.", number=number))
        raise see_other("/extensions")

    # -- registrations and bans -------------------------------------------

    @app.get("/registrations")
    @require(Role.ADMIN)
    def registrations(api):
        return render("registrations.tpl", title=_("Registrations"),
                      registrations=ask_core(api.registrations))

    @app.get("/bans")
    @require(Role.ADMIN)
    def bans(api):
        return render("bans.tpl", title=_("Bans"), bans=ask_core(api.bans))

    @app.post("/alarms/<alarm_id>/ack")
    @require(Role.ADMIN)
    def acknowledge_alarm(api, user, alarm_id):
        if not alarm_id.isdigit():
            abort(404, _("No such alarm."))
        ask_core(api.acknowledge_alarm, int(alarm_id))
        state.audit(user.username, "alarm_acknowledged", str(alarm_id))
        raise see_other("/")

    @app.post("/bans/<ip>/unban")
    @require(Role.ADMIN)
    def unban(api, user, ip):
        ask_core(api.unban, ip)
        state.audit(user.username, "unbanned", ip)
        notice(_("{ip} may register again.", ip=ip))
        raise see_other("/bans")

    # -- settings ---------------------------------------------------------

    @app.get("/settings")
    @require(Role.ADMIN)
    def settings_form(api):
        declarations = ask_core(api.settings)
        return render("settings.tpl", title=_("Settings"), group_title=group_title,
                      groups=grouped(build_fields(declarations)), errors={})

    @app.post("/settings")
    @require(Role.ADMIN)
    def save_settings(api, user):
        declarations = ask_core(api.settings)
        shown = set(request.forms.getall("shown"))
        form = {k: request.forms.getunicode(k) for k in request.forms.keys()}
        changes, errors, submitted = parse_submission(declarations, form, shown)
        if not errors and changes:
            try:
                result = ask_core(api.update_settings, changes)
            except ApiError as exc:
                key, reason = error_field(exc.message, {str(d["key"]) for d in declarations})
                errors[key or ""] = reason
            else:
                state.audit(user.username, "settings_changed",
                            ", ".join(f"{k}={changes[k]!r}" for k in sorted(changes)
                                      if field_kind(_decl(declarations, k)) != "password"))
                restart = result.get("restart_needed") or []
                notice(_("Saved. A restart is needed for: {settings}.", settings=", ".join(restart))
                       if restart else _("Saved."))
                raise see_other("/settings")
        if not errors:
            notice(_("Nothing was changed."))
            raise see_other("/settings")
        response.status = 400
        return render("settings.tpl", title=_("Settings"), group_title=group_title, errors=errors,
                      groups=grouped(build_fields(declarations, submitted)),
                      error=_("Nothing was saved: fix the fields marked below."))

    # -- users ------------------------------------------------------------

    @app.get("/users")
    @require(Role.ADMIN)
    def users(api):
        return render("users.tpl", title=_("Users"), users=ask_core(api.users), roles=list(Role),
                      form={})

    @app.post("/users")
    @require(Role.ADMIN)
    def add_user(api, user):
        form = {k: request.forms.getunicode(k, "") for k in ("username", "role")}
        password = request.forms.getunicode("password", "")
        try:
            name = check_username(form["username"])
            role = Role(form["role"])
            reason = check_new_password(name, password, request.forms.getunicode("password2", ""),
                                        state.settings.min_password_length)
            if reason:
                raise ValidationError(reason)
            ask_core(api.add_user, name, role.value, hash_password(password))
        except (ValidationError, ApiError, ValueError) as exc:
            response.status = 409 if getattr(exc, "status", 0) == 409 else 400
            message = translate_message(getattr(exc, "message", None) or str(exc))
            return render("users.tpl", title=_("Users"), users=ask_core(api.users), roles=list(Role),
                          form=form, error=message)
        state.audit(user.username, "user_added", f"{name} as {role}")
        notice(_("User {name} was added.", name=name))
        raise see_other("/users")

    @app.post("/users/<username>/edit")
    @require(Role.ADMIN)
    def edit_user(api, user, username):
        if username == user.username:
            raise HTTPError(403, _("Change your own password on your panel; "
                                   "another admin changes your role."))
        changes: dict[str, Any] = {}
        role = request.forms.getunicode("role", "")
        password = request.forms.getunicode("password", "")
        if role:
            try:
                changes["role"] = Role(role).value
            except ValueError:
                raise HTTPError(400, _("Unknown role {role}.", role=repr(role)))
        if password:
            reason = check_new_password(username, password,
                                        request.forms.getunicode("password2", ""),
                                        state.settings.min_password_length)
            if reason:
                raise HTTPError(400, translate_message(reason))
            changes["password_hash"] = hash_password(password)
        if changes:
            ask_core(api.update_user, username, **changes)
            state.sessions.drop_user(username)
            state.audit(user.username, "user_changed",
                        f"{username}: " + ", ".join("password" if k == "password_hash"
                                                    else f"role={changes[k]}" for k in changes))
            notice(_("User {username} was changed and logged out everywhere.", username=username))
        raise see_other("/users")

    @app.post("/users/<username>/delete")
    @require(Role.ADMIN)
    def delete_user(api, user, username):
        if username == user.username:
            raise HTTPError(403, _("You cannot delete yourself."))
        ask_core(api.delete_user, username)
        state.sessions.drop_user(username)
        state.audit(user.username, "user_deleted", username)
        notice(_("User {username} was deleted.", username=username))
        raise see_other("/users")

    # -- audit ------------------------------------------------------------

    @app.get("/audit")
    @require(Role.ADMIN)
    def audit(api):
        try:
            limit = max(1, min(1000, int(request.query.get("limit", "100"))))
        except ValueError:
            limit = 100
        return render("audit.tpl", title=_("Audit log"), entries=ask_core(api.audit, limit))


def _decl(declarations: list[dict], key: str) -> dict:
    return next((d for d in declarations if d["key"] == key), {})
