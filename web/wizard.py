"""The set-up wizard: business, opening hours, staff, menu and queues, lines, a test call.

Each step is a plain form. Where the wizard stands (and the opening hours,
which the menu step needs later) is kept in the core, in the `setup.wizard`
setting, so a reload or another browser resumes at the same step. A core that
does not declare that setting yet gets the progress kept in this process
instead (lost when the web page restarts).
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

import bottle
from bottle import HTTPError, request, response

from appliance.errors import ApiError, FlowRejected, ValidationError
from appliance.logic.flows.template import default_flows
from web.i18n import _, ngettext, translate_message
from web.app import WebState, notice, render, require, see_other
from web.center_views import (DAY_NAMES, DAYS, DEFAULT_HOURS, STEP_NAMES, WIZARD_STEPS,
                              next_step, parse_hours, parse_staff, problems_by_node)
from web.monitor import Missing, _optional
from web.pages import _api, new_secret
from web.security import Role

PROGRESS_KEY = "setup.wizard"
# What staff dial to reach the menu from their desk phones; the core lets a phone into the
# flows only through a route with a number (a catch-all route is for outside callers).
SERVICE_NUMBER = "500"
SERVICE_RE = re.compile(r"^[0-9*#+]{1,16}$")


def _settings(api) -> dict[str, Any]:
    return {str(d["key"]): d.get("value") for d in api.settings()}


def wizard_never_opened(api) -> bool:
    """True on a box whose admin has not opened the wizard yet: their first login goes there."""
    try:
        values = _settings(api)
    except ApiError:
        return False
    return PROGRESS_KEY in values and not (values[PROGRESS_KEY] or {}).get("step")


def wizard_unfinished(api) -> bool:
    """True while the core says the wizard was started and not finished."""
    try:
        values = _settings(api)
    except ApiError:
        return False
    return (values.get(PROGRESS_KEY) or {}).get("step") not in (None, "", "done")


def _timezones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith("Etc"))


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the set-up wizard to the app."""
    kept_here: dict[str, Any] = {}  # progress, when the core has no setting for it

    def progress(api) -> dict[str, Any]:
        values = _api(_settings, api)
        if PROGRESS_KEY in values:
            return dict(values[PROGRESS_KEY] or {})
        return dict(kept_here)

    def save(api, changes: dict[str, Any]) -> dict[str, Any]:
        current = progress(api) | changes
        values = _api(_settings, api)
        if PROGRESS_KEY in values:
            _api(api.update_settings, {PROGRESS_KEY: current})
        else:
            kept_here.clear()
            kept_here.update(current)
        return current

    def page(step: str, **values: Any) -> str:
        values.setdefault("errors", {})
        return render("wizard.tpl", title=_("Set-up wizard"), step=step, steps=WIZARD_STEPS,
                      **values)

    def show(api, step: str, **values: Any) -> str:
        """A step's form, filled from what the core has now."""
        done = progress(api)
        settings = _api(_settings, api)
        values.setdefault("reached", done.get("step") or STEP_NAMES[0])
        if step == "business":
            values.setdefault("form", {"name": settings.get("box.name") or "",
                                       "timezone": settings.get("box.timezone") or "UTC"})
            values["timezones"] = _timezones()
        elif step == "hours":
            values.setdefault("hours", done.get("hours") or DEFAULT_HOURS)
            values.update(days=DAYS, day_names=DAY_NAMES)
        elif step == "staff":
            values.setdefault("text", "")
            values.setdefault("created", None)
            values.setdefault("kept", [])
            values["extensions"] = _api(api.extensions)
        elif step == "flows":
            staff = done.get("staff") or [e["number"] for e in _api(api.extensions)]
            flows = _optional(api.flows)
            values.setdefault("form", {"queue": "sales", "support": "support",
                                       "operator": staff[0] if staff else "",
                                       "box": staff[0] if staff else "general",
                                       "service": done.get("service_number") or SERVICE_NUMBER})
            values.update(staff=staff, has_flows=not isinstance(flows, Missing))
        elif step == "lines":
            engine = _optional(api.engine)
            values["workers"] = None if isinstance(engine, Missing) else engine.get("workers", [])
            lines = _optional(api.lines)
            values["lines"] = [] if isinstance(lines, Missing) else lines
        elif step == "test":
            values["registered"] = _api(api.registrations)
            values["service_number"] = done.get("service_number") or SERVICE_NUMBER
        return page(step, **values)

    @app.get("/wizard")
    @require(Role.ADMIN)
    def wizard(api):
        done = progress(api)
        step = done.get("step") or ""
        if step not in STEP_NAMES and step != "done":
            save(api, {"step": STEP_NAMES[0]})
            step = STEP_NAMES[0]
        if step == "done":
            return page("done", reached="done")
        raise see_other(f"/wizard/{step}")

    @app.get("/wizard/<step>")
    @require(Role.ADMIN)
    def wizard_step(api, step):
        if step not in STEP_NAMES:
            raise HTTPError(404, _("The wizard has no step {step}.", step=repr(step)))
        return show(api, step)

    def move_on(api, step: str) -> str:
        """Save that `step` is done; the step to show next."""
        done = progress(api)
        reached = done.get("step") or STEP_NAMES[0]
        following = next_step(step)
        # Going back to an earlier step and saving it must not forget how far the admin got.
        if reached == "done" or (reached in STEP_NAMES and following in STEP_NAMES
                                 and STEP_NAMES.index(reached) > STEP_NAMES.index(following)):
            following = reached
        save(api, {"step": following})
        return following

    def advance(api, step: str) -> None:
        following = move_on(api, step)
        raise see_other("/" if following == "done" else f"/wizard/{following}")

    @app.post("/wizard/business")
    @require(Role.ADMIN)
    def save_business(api, user):
        form = {"name": (request.forms.getunicode("name") or "").strip(),
                "timezone": (request.forms.getunicode("timezone") or "").strip()}
        errors = {}
        if not form["name"]:
            errors["name"] = _("The business needs a name.")
        if form["timezone"] not in zoneinfo.available_timezones():
            errors["timezone"] = _("Pick a time zone from the list, e.g. Europe/Warsaw.")
        if not errors:
            try:
                _api(api.update_settings, {"box.name": form["name"],
                                           "box.timezone": form["timezone"]})
            except ApiError as exc:
                errors[""] = exc.message
        if errors:
            response.status = 400
            return show(api, "business", form=form, errors=errors,
                        error=translate_message(errors.get("", "")) or _("Nothing was saved: fix the fields marked below."))
        state.audit(user.username, "wizard_business", f"{form['name']}, {form['timezone']}")
        advance(api, "business")

    @app.post("/wizard/hours")
    @require(Role.ADMIN)
    def save_hours(api, user):
        form = {k: request.forms.getunicode(k) for k in request.forms.keys()}
        hours, errors = parse_hours(form)
        if errors:
            response.status = 400
            shown = {d: [[form.get(f"{d}-start") or "", form.get(f"{d}-end") or ""]]
                     for d in DAYS if form.get(f"{d}-open") is not None}
            return show(api, "hours", hours=shown, errors=errors,
                        error=translate_message(errors.get("", "")) or _("Nothing was saved: fix the days marked below."))
        save(api, {"hours": hours})
        state.audit(user.username, "wizard_hours",
                    ", ".join(f"{d} {h[0][0]}-{h[0][1]}" for d, h in hours.items()))
        advance(api, "hours")

    @app.post("/wizard/staff")
    @require(Role.ADMIN)
    def save_staff(api, user):
        text = request.forms.getunicode("staff") or ""
        staff, errors = parse_staff(text)
        if errors:
            response.status = 400
            return show(api, "staff", text=text, error=_("Nobody was added: {reason}", reason="; ".join(errors)))
        created, kept, failed = [], [], []
        for number, name in staff:
            try:
                ext = _api(api.add_extension, number, name, secret=new_secret())
                created.append(ext)
            except ApiError as exc:
                (kept if exc.status == 409 else failed).append(f"{number}: {exc.message}")
        done = progress(api)
        numbers = sorted(set(done.get("staff") or []) | {n for n, _ in staff
                                                         if not any(f.startswith(n + ":")
                                                                    for f in failed)})
        save(api, {"staff": numbers})
        if created:
            state.audit(user.username, "extension_added",
                        ", ".join(f"{e['number']} ({e.get('name', '')})" for e in created))
        if failed:
            response.status = 400
            return show(api, "staff", text=text, created=created,
                        error=_("Some lines were not added: {reason}", reason="; ".join(failed)))
        move_on(api, "staff")
        # Not a redirect: this page lists the new phones, each with its printable sheet.
        return show(api, "staff", text="", created=created, kept=kept)

    @app.post("/wizard/flows")
    @require(Role.ADMIN)
    def save_flows(api, user):
        form = {k: (request.forms.getunicode(k) or "").strip()
                for k in ("queue", "support", "operator", "box", "service")}
        agents = request.forms.getall("agents")
        done = progress(api)
        settings = _api(_settings, api)
        queues = [q for q in (form["queue"], form["support"]) if q]
        errors: dict[str, str] = {}
        if not form["queue"]:
            errors["queue"] = _("The menu's option 1 needs a queue.")
        if not form["box"]:
            errors["box"] = _("After hours, callers leave voicemail in this box.")
        if not SERVICE_RE.match(form["service"]):
            errors["service"] = _("Digits only (and * # +), e.g. 500.")
        elif any(e["number"] == form["service"] for e in _api(api.extensions)):
            errors["service"] = _("{number} is an extension; pick a number that is not.",
                                  number=form["service"])
        for name in queues:
            if errors:
                break
            try:
                _api(api.add_queue, {"name": name})
            except ApiError as exc:
                if exc.status != 409:  # a queue made on an earlier visit stays as it is
                    errors["queue" if name == form["queue"] else "support"] = exc.message
        for number in agents if not errors else []:
            try:
                _api(api.add_agent, number, queues)
            except ApiError as exc:
                if exc.status != 409:
                    errors["agents"] = f"{number}: {exc.message}"
        if not errors:
            try:
                flows = default_flows(done.get("hours") or DEFAULT_HOURS, form["queue"],
                                      form["box"], support_queue=form["support"] or None,
                                      operator=form["operator"] or None,
                                      timezone=str(settings.get("box.timezone") or "UTC"))
                data = flows.to_dict()
                data["routes"].insert(0, {"name": "Service number", "did": form["service"],
                                          "caller": "", "priority": 5,
                                          "destination": "business_hours"})
                result = api.put_flows(data)
            except ValidationError as exc:
                errors[""] = str(exc)
            except FlowRejected as exc:
                nodes, other = problems_by_node(exc.problems)
                errors[""] = "; ".join(other + [m for ms in nodes.values() for m in ms])
            except ApiError as exc:
                errors[""] = exc.message
        if errors:
            response.status = 400
            return show(api, "flows", form=form, errors=errors,
                        error=translate_message(errors.get("", "")) or _("Nothing was saved: fix the fields marked below."))
        save(api, {"service_number": form["service"]})
        state.audit(user.username, "wizard_flows",
                    f"queues {', '.join(queues)}; agents {', '.join(agents) or '-'}; "
                    f"flows version {result.get('version')}")
        notice(_("The menu and the queues are set up (call flows version {version}).", version=result.get('version')))
        advance(api, "flows")

    @app.post("/wizard/lines")
    @require(Role.ADMIN)
    def save_lines(api):
        advance(api, "lines")

    @app.post("/wizard/test")
    @require(Role.ADMIN)
    def finish(api, user):
        save(api, {"step": "done"})
        state.audit(user.username, "wizard_finished", "")
        notice(_("Set-up is complete. The wizard stays in the menu if you want to run it again."))
        raise see_other("/")
