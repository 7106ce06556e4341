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
from appliance.logic.flows.schedule import DAYS
from appliance.logic.flows.template import default_flows
from web.kit import (_, DAY_NAMES, DEFAULT_HOURS, PROGRESS_KEY, STEP_NAMES, WIZARD_STEPS, Missing,
                     Role, WebState, ask_core, ask_core_or_missing, current, error_field,
                     field_errors, hash_password, new_secret, next_step, notice, parse_box_form,
                     parse_hours, parse_staff, problems_by_node, render, require, secret_made,
                     see_other, setting_values, translate_message, trunk_body, zone_options)

# What staff dial to reach the menu from their desk phones; the core lets a phone into the
# flows only through a route with a number (a catch-all route is for outside callers).
SERVICE_NUMBER = "500"
SERVICE_RE = re.compile(r"^[0-9*#+]{1,16}$")
# The trunk the wizard's SIP provider step adds.
PROVIDER_TRUNK = "provider"


def _zone_options(lang: str) -> list[tuple[str, str]]:
    """The wizard's time zones by country; the bare IANA list when the box lacks zone.tab."""
    found = zone_options(lang)
    if found:
        return found
    return [(z, z) for z in sorted(z for z in zoneinfo.available_timezones()
                                   if "/" in z and not z.startswith("Etc"))]


def agent_password(length: int = 12) -> str:
    """A first password for an agent's login (letters and digits), shown once in the wizard."""
    return new_secret(length)


def register(app: bottle.Bottle, state: WebState) -> None:
    """Add the set-up wizard to the app."""
    kept_here: dict[str, Any] = {}  # progress, when the core has no setting for it

    def progress(api) -> dict[str, Any]:
        values = ask_core(setting_values, api)
        if PROGRESS_KEY in values:
            return dict(values[PROGRESS_KEY] or {})
        return dict(kept_here)

    def save(api, changes: dict[str, Any]) -> dict[str, Any]:
        current = progress(api) | changes
        values = ask_core(setting_values, api)
        if PROGRESS_KEY in values:
            ask_core(api.update_settings, {PROGRESS_KEY: current})
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
        settings = ask_core(setting_values, api)
        values.setdefault("reached", done.get("step") or STEP_NAMES[0])
        if step == "business":
            zone = str(settings.get("box.timezone") or "")
            # A zone never chosen (the core's default, UTC) is a guess: the browser's zone wins.
            chosen = bool(done.get("timezone_chosen")) or zone not in ("", "UTC")
            values.setdefault("form", {"name": settings.get("box.name") or "",
                                       "timezone": zone if chosen else "UTC"})
            values["timezones"] = _zone_options(current().lang)
            values["from_browser"] = not chosen
        elif step == "hours":
            values.setdefault("hours", done.get("hours") or DEFAULT_HOURS)
            values.update(days=DAYS, day_names=DAY_NAMES)
        elif step == "staff":
            values.setdefault("text", "")
            values.setdefault("created", None)
            values.setdefault("kept", [])
            values["extensions"] = ask_core(api.extensions)
        elif step == "flows":
            staff = done.get("staff") or [e["number"] for e in ask_core(api.extensions)]
            flows = ask_core_or_missing(api.flows)
            values.setdefault("form", {"queue": "sales", "support": "support",
                                       "operator": staff[0] if staff else "",
                                       "box": staff[0] if staff else "general",
                                       "service": done.get("service_number") or SERVICE_NUMBER})
            values.update(staff=staff, has_flows=not isinstance(flows, Missing))
        elif step == "voicemail":
            staff = done.get("staff") or [e["number"] for e in ask_core(api.extensions)]
            boxes = ask_core_or_missing(api.voicemail_boxes)
            boxes = [] if isinstance(boxes, Missing) else boxes
            owner = done.get("owner") or (staff[0] if staff else "")
            box = next((b for b in boxes if b.get("number") == owner), {})
            values.setdefault("form", {"box": owner, "email": box.get("email") or ""})
            values.update(staff=staff, boxes=[b.get("number") for b in boxes])
        elif step == "provider":
            trunks = ask_core_or_missing(api.trunks)
            values["trunks"] = [] if isinstance(trunks, Missing) else trunks
            values.setdefault("form", {"host": "", "username": "", "number": ""})
        elif step == "lines":
            lines = ask_core_or_missing(api.lines)
            values["lines"] = [] if isinstance(lines, Missing) else lines
        elif step == "test":
            values["registered"] = ask_core(api.registrations)
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
        browser = (request.forms.getunicode("browser_timezone") or "").strip()
        if not form["timezone"] and browser in zoneinfo.available_timezones():
            form["timezone"] = browser
        errors = {}
        if not form["name"]:
            errors["name"] = _("The business needs a name.")
        if form["timezone"] not in zoneinfo.available_timezones():
            errors["timezone"] = _("Pick a time zone from the list, e.g. Europe/Warsaw.")
        if not errors:
            try:
                ask_core(api.update_settings, {"box.name": form["name"],
                                               "box.timezone": form["timezone"]})
            except ApiError as exc:
                errors[""] = exc.message
        if errors:
            response.status = 400
            return show(api, "business", form=form, errors=errors,
                        error=translate_message(errors.get("", "")) or _("Nothing was saved: fix the fields marked below."))
        state.audit(user.username, "wizard_business", f"{form['name']}, {form['timezone']}")
        save(api, {"timezone_chosen": True})
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
                ext = ask_core(api.add_extension, number, name, secret=new_secret())
                created.append(ext)
                secret_made(user.id, ext["number"])
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
        settings = ask_core(setting_values, api)
        queues = [q for q in (form["queue"], form["support"]) if q]
        errors: dict[str, str] = {}
        if not form["queue"]:
            errors["queue"] = _("The menu's option 1 needs a queue.")
        if not form["box"]:
            errors["box"] = _("After hours, callers leave voicemail in this box.")
        if not SERVICE_RE.match(form["service"]):
            errors["service"] = _("Digits only (and * # +), e.g. 500.")
        elif any(e["number"] == form["service"] for e in ask_core(api.extensions)):
            errors["service"] = _("{number} is an extension; pick a number that is not.",
                                  number=form["service"])
        for name in queues:
            if errors:
                break
            try:
                ask_core(api.add_queue, {"name": name})
            except ApiError as exc:
                if exc.status != 409:  # a queue made on an earlier visit stays as it is
                    errors["queue" if name == form["queue"] else "support"] = exc.message
        for number in agents if not errors else []:
            try:
                ask_core(api.add_agent, number, queues)
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
        if request.forms.get("logins") is not None:
            add_agent_logins(api, user, agents)
        state.audit(user.username, "wizard_flows",
                    f"queues {', '.join(queues)}; agents {', '.join(agents) or '-'}; "
                    f"flows version {result.get('version')}")
        notice(_("The menu and the queues are set up (call flows version {version}).", version=result.get('version')))
        advance(api, "flows")

    def add_agent_logins(api, user, agents: list[str]) -> None:
        """A login to the agent panel for each new agent (username = extension), its first
        password shown once, on the next page only."""
        existing = {str(u.get("username")) for u in ask_core(api.users)}
        made = []
        for number in agents:
            if number in existing:
                continue
            password = agent_password()
            try:
                ask_core(api.add_user, number, "agent", hash_password(password))
            except ApiError as exc:
                notice(_("No login was made for {number}: {reason}", number=number, reason=exc.message))
                continue
            made.append(f"{number}: {password}")
        if made:
            state.has_users = True
            state.audit(user.username, "user_added", ", ".join(f"{m.split(':')[0]} (agent)" for m in made))
            notice(_("Agent logins (user name: first password), shown only now; each agent should "
                     "change theirs at the first login: {list}", list="; ".join(made)))

    @app.post("/wizard/voicemail")
    @require(Role.ADMIN)
    def save_voicemail(api, user):
        form = {k: (request.forms.getunicode(k) or "").strip() for k in ("box", "pin", "email")}
        changes, errors = parse_box_form({"pin": form["pin"], "email": form["email"]}, set(), False)
        changes = {k: v for k, v in changes.items() if k in ("pin", "email")}
        if not form["pin"] and "pin" not in errors:
            errors["pin"] = _("Choose a PIN of 4 to 10 digits: it guards the box when you listen from a phone.")
        if not form["box"]:
            errors["box"] = _("Pick your own extension.")
        if not errors:
            try:
                ask_core(api.update_voicemail_box, form["box"], **changes)
            except HTTPError as exc:
                if exc.status_code != 404:
                    raise
                errors["box"] = _("Extension {number} has no voicemail box.", number=form["box"])
            except ApiError as exc:
                key, reason = error_field(exc.message, {"pin", "email"})
                errors[key or ""] = reason
        if errors:
            response.status = 400
            form["pin"] = ""
            return show(api, "voicemail", form=form, errors=errors,
                        error=translate_message(errors.get("", "")) or _("Nothing was saved: fix the fields marked below."))
        save(api, {"owner": form["box"]})
        state.audit(user.username, "voicemail_box_changed", f"{form['box']}: " + ", ".join(sorted(changes)))
        advance(api, "voicemail")

    @app.post("/wizard/provider")
    @require(Role.ADMIN)
    def save_provider(api, user):
        form = {k: (request.forms.getunicode(k) or "").strip()
                for k in ("host", "username", "secret", "number")}
        if request.forms.get("skip") is not None:
            advance(api, "provider")
        errors: dict[str, str] = {}
        for key, message in (("host", _("The provider's server, e.g. sip.example.com.")),
                             ("username", _("The user name the provider gave you.")),
                             ("secret", _("The password the provider gave you."))):
            if not form[key]:
                errors[key] = message
        if not errors:
            # Providers often write their server with a port ("sip.example.com:5080"): take it.
            host, port = form["host"], ""
            with_port = re.fullmatch(r"([^:]+):(\d{1,5})", host)
            if with_port:
                host, port = with_port.groups()
            body = trunk_body({"name": PROVIDER_TRUNK, "kind": "register", "host": host,
                               "port": port, "transport": "", "username": form["username"],
                               "secret": form["secret"], "dids": form["number"],
                               "caller_id_number": form["number"]})
            try:
                ask_core(api.add_trunk, body)
            except ApiError as exc:
                found = field_errors(exc.message, {"host", "username", "secret", "dids", "caller_id_number"})
                for key, reason in found.items():
                    errors[{"dids": "number", "caller_id_number": "number"}.get(key, key)] = reason
        if errors:
            response.status = 409 if "already" in errors.get("", "") else 400
            form["secret"] = ""
            return show(api, "provider", form=form, errors=errors,
                        error=translate_message(errors.get("", "")) or _("The provider was not added: fix the fields marked below."))
        state.audit(user.username, "trunk_added", f"{PROVIDER_TRUNK} ({form['host']})")
        notice(_("The SIP provider {host} was added; the box registers with it now.", host=form["host"]))
        advance(api, "provider")

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
