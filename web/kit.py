"""What every page shares: the one module a page imports from web/.

A page is a module that adds its routes to the app (`register(app, state)`): pages.py,
monitor.py, center.py, ivr.py, wizard.py, voicemail.py, reports.py, trunks.py, prompts.py,
phones.py, recordings.py, contract.py, contacts.py, campaigns.py. A page imports from web/ only this
module, never another page, so that any page can change or go without touching the others
(tests/web/test_web_layers.py holds every page to it).

Defined here: rendering a page and answering a request (render, notice, see_other,
require), asking the core for a page (ask_core, ask_core_or_missing), the live event
relay, and the agent's panel (the agent's own page, which the dashboard shows an agent).
The rest is made in the modules below, which import neither this module nor a page, and
is named here so that a page finds it in one place; the web suite takes its helpers from
here too.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import bottle
from bottle import HTTPError, HTTPResponse, request, response

from appliance.errors import ApiError

# The pieces the pages are made of, each in its own module; re-exported for the pages.
# -- the page's words (translation, times on the box's clock)
from web.i18n import (LANGUAGES, MARK_CLOSE, MARK_OPEN, Translator, _, catalogue, current,
                      flow_words, negotiate, ngettext, plural_categories, plural_form,
                      reload_catalogues, script_messages, set_marking, translate_alarm,
                      translate_blocks, translate_message, translate_word, zone)
from web.hw_words import panel_reason
from web.timezones import country_names, country_of, zone_choices, zone_options
# -- who may do what: roles, passwords, sessions, the login throttle
from web.security import (DUMMY_HASH, LoginThrottle, Role, Session, SessionStore,
                          check_new_password, check_username, csrf_ok, hash_password,
                          password_generation, role_allows, verify_password)
from web.nav import menu_for
from web.state import WebSettings, WebState
from web.phone_secrets import new_secret, secret_made, take_fresh_secret
# -- the settings form, built from the core's declarations
from web.forms import build_fields, error_field, field_kind, group_title, grouped, parse_submission
# -- call records, the Now page, the front panel, the machine
from web.views import (BUTTON_ACTIONS, CSV_LIMIT, NOW_COLUMNS, NUMBER_RE, PAGE_SIZE, CallFilter,
                       fmt_duration, fmt_time, led_view, midnight, now_blocks, panel_json,
                       panel_view, parse_call_filter, record_row, worker_row)
from web.machine import (Usage, fmt_bytes, fmt_uptime, parse_loadavg, parse_meminfo,
                         parse_temperature, parse_uptime, read_machine)
# -- the owner's dashboard
from web.dashboard import DAY_LIMIT, calls_today, day_bounds, voicemail_waiting, who_is_on
# -- the contact center: queues, wallboard, the agent's panel; contacts and screen pop
from web.center_views import (ACTIONS, BREAK_REASONS, WALLBOARD_COLUMNS, agent_row, agent_says,
                              current_call, event_is_for_agent, parse_queue_form, queue_fields,
                              queue_row, service_level, wallboard_blocks)
from web.contact_views import (DISPOSITION_CODES, agent_handled, contact_row, format_number,
                               last_call, parse_after_call, parse_contact_form, parse_dial,
                               screen_pop)
# -- outbound campaigns: their pages, the agent's card, the wallboard's lines
from web.campaign_views import (BUTTON_LABELS, CAMPAIGN_BUTTONS, COUNTRIES, DAYS as CAMPAIGN_DAYS,
                                ENTRY_STATES, MODES, RETRY_RESULTS, campaign_form, default_place,
                                campaign_progress_rows, campaign_row, card_view, csat_rows,
                                entry_row, error_field_of, fill_script, parse_callback,
                                parse_campaign_form, pick_card, report_blocks)
# -- the IVR editor and the inbound routes it lists
from web.ivr_views import flow_tree, node_form, parse_node_form, problems_by_node
from web.inbound import inbound_rows, rows_from_form as inbound_rows_from_form, save as save_inbound
# -- the set-up wizard
from web.wizard_views import (DAY_NAMES, DEFAULT_HOURS, PROGRESS_KEY, STEP_NAMES, WIZARD_STEPS,
                              next_step, parse_hours, parse_staff, setting_values,
                              wizard_never_opened, wizard_unfinished)
# -- trunks, voicemail boxes, desk phones, the contract, reports
from web.trunk_views import LINE_FORM, TRUNK_FORM, field_errors, routes_from_form, trunk_body
from web.voicemail_views import BOX_FIELDS, parse_box_form
from web.phone_views import (MAC_TEXT, VENDOR_NAMES, VENDORS, credentials_url, display_mac,
                             outcome_text)
from web.contract_views import (COST_FIELDS, MODELS, OFFER_FIELDS, TARGET_FIELDS, ContractForm,
                                default_month, sanitise_report)
from web.report_views import (INTERVALS, WEEKDAYS, ReportFilter, heat_rows, interval_label,
                              parse_report_filter, queue_table, service_level_svg,
                              staffing_grid, trend_rows)

# What a page may use: the names below, defined here or made in the modules above.
__all__ = ["_", "ACTIONS", "BOX_FIELDS", "BREAK_REASONS", "BUTTON_ACTIONS", "COST_FIELDS",
           "BUTTON_LABELS", "CAMPAIGN_BUTTONS", "CAMPAIGN_DAYS", "COUNTRIES", "ENTRY_STATES", "MODES",
           "RETRY_RESULTS", "campaign_card", "campaign_form", "campaign_progress_rows", "campaign_row",
           "card_view", "csat_rows", "default_place", "entry_row", "error_field_of", "fill_script", "parse_callback",
           "parse_campaign_form", "pick_card", "report_blocks",
           "CSV_LIMIT", "DAY_LIMIT", "DAY_NAMES", "DEFAULT_HOURS", "DISPOSITION_CODES",
           "DUMMY_HASH", "FORM_MAX", "HERE", "INTERVALS", "LANGUAGES", "LINE_FORM", "MAC_TEXT",
           "MARK_CLOSE", "MARK_OPEN", "MAX_HEADER", "MODELS", "MULTIPART_SLACK", "NOT_YET",
           "NOW_COLUMNS", "NUMBER_RE", "OFFER_FIELDS", "PAGE_SIZE", "PROGRESS_KEY",
           "SERVER_MAX_BODY", "STATIC", "STEP_NAMES", "TARGET_FIELDS", "TEMPLATES", "TRUNK_FORM",
           "VENDORS", "VENDOR_NAMES", "WALLBOARD_COLUMNS", "WEEKDAYS", "WIZARD_STEPS", "CallFilter",
           "ContractForm", "LoginThrottle", "Missing", "ReportFilter", "Role", "Session",
           "SessionStore", "Translator", "Usage", "WebSettings", "WebState", "agent_handled",
           "agent_panel", "agent_row", "agent_says", "ask_core", "ask_core_or_missing",
           "build_fields", "calls_today", "catalogue", "check_new_password", "check_username",
           "client_ip", "contact_row", "country_names", "country_of", "credentials_url", "csrf_ok",
           "current", "current_call", "day_bounds", "default_month", "display_mac", "error_field",
           "event_is_for_agent", "field_errors", "field_kind", "flow_tree", "flow_words",
           "fmt_bytes", "fmt_duration", "fmt_time", "fmt_uptime", "format_event", "format_number",
           "group_title", "grouped", "hash_password", "heat_rows", "inbound_rows",
           "inbound_rows_from_form", "interval_label", "last_call", "led_view", "menu_for",
           "midnight", "negotiate", "new_secret", "next_step", "ngettext", "node_form", "notice",
           "now_blocks", "outcome_text", "panel_json", "panel_reason", "panel_view",
           "parse_after_call", "parse_box_form", "parse_call_filter", "parse_contact_form",
           "parse_dial", "parse_hours", "parse_loadavg", "parse_meminfo", "parse_node_form",
           "parse_queue_form", "parse_report_filter", "parse_staff", "parse_submission",
           "parse_temperature", "parse_uptime", "password_generation", "plural_categories",
           "plural_form", "problems_by_node", "queue_fields", "queue_row", "queue_table",
           "read_machine", "record_row", "relay_events", "reload_catalogues", "render", "require",
           "role_allows", "routes_from_form", "safe_next", "sanitise_report", "save_inbound",
           "screen_pop", "script_messages", "secret_made", "see_other", "service_level",
           "service_level_svg", "set_marking", "setting_values", "staffing_grid",
           "take_fresh_secret", "translate_alarm", "translate_blocks", "translate_message",
           "translate_word", "trend_rows", "trunk_body", "upload_limit", "verify_password",
           "voicemail_waiting", "wallboard_blocks", "who_is_on", "wizard_never_opened",
           "wizard_unfinished", "worker_row", "zone", "zone_choices", "zone_options"]

HERE = Path(__file__).resolve().parent
TEMPLATES = [str(HERE / "templates")]
STATIC = HERE / "static"
# Request bodies: a form is small; a route that takes a file declares its own cap with
# max_body=... (see upload_limit). Checked before anything reads the body, so an
# oversized or endless request costs neither memory nor the SD card.
FORM_MAX = 1 << 20
MULTIPART_SLACK = 64 << 10  # the form fields and boundaries around an uploaded file
# The largest any route declares (a backup with audio); cheroot refuses more before the app sees it.
SERVER_MAX_BODY = (256 << 20) + MULTIPART_SLACK
MAX_HEADER = 64 << 10


def upload_limit(file_bytes: int) -> int:
    """The max_body of a route that takes one file of at most file_bytes."""
    return file_bytes + MULTIPART_SLACK


# -- rendering and answering -------------------------------------------------

def render(name: str, **values: Any) -> str:
    """Render a page template with the session's user, CSRF token and notices."""
    session: Session | None = request.environ.get("callbox.session")
    values.setdefault("title", "Callbox")
    t = current()
    values.update(_=t.gettext, ngettext=t.ngettext, t=t, lang=t.lang, languages=LANGUAGES,
                  translate_word=translate_word, flow_words=flow_words,
                  translate_message=translate_message)
    values["messages_json"] = script_messages(t)
    values.setdefault("error", None)
    values.setdefault("user", session if session and session.logged_in else None)
    values["csrf"] = session.csrf_token if session else ""
    values["notices"] = session.notices[:] if session else []
    if session:
        session.notices.clear()
    values["path"] = request.path
    user = values["user"]
    values["menu"] = menu_for(user.role or "", request.path) if user else None
    state: WebState | None = request.environ.get("callbox.state")
    if state is not None and user:
        values.setdefault("box_name", state.box_name())
    values["fullpath"] = request.fullpath + (f"?{request.query_string}" if request.query_string else "")
    return bottle.template(name, template_lookup=TEMPLATES, **values)


def notice(text: str) -> None:
    """A one-time message shown at the top of the next page this browser sees."""
    session: Session | None = request.environ.get("callbox.session")
    if session is not None:
        session.notices.append(text)


def client_ip() -> str:
    # Not request.remote_addr: it trusts X-Forwarded-For, which any client can send.
    return request.environ.get("REMOTE_ADDR", "")


def safe_next(target: str | None) -> str:
    """Only local paths, so a crafted login link cannot send the user elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def see_other(location: str) -> HTTPResponse:
    res = response.copy(cls=HTTPResponse)
    res.status = 303
    res.set_header("Location", location)
    return res


def require(role: str | Role) -> Callable:
    """Let a page be used only by users with at least this role; others get 403."""
    need = Role(role)

    def decorate(handler: Callable) -> Callable:
        @functools.wraps(handler)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            session: Session | None = request.environ.get("callbox.session")
            if session is None or not session.logged_in:
                raise HTTPError(403, _("You must be logged in."))
            if not role_allows(session.role or "", need):
                raise HTTPError(403, _("This page needs the {role} role.", role=_(str(need))))
            return handler(*args, **kwargs)

        guarded.required_role = need
        return guarded

    return decorate


# -- asking the core ---------------------------------------------------------

def ask_core(call: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call the API for a page; an unreachable core becomes a 503 page, a 404 a 404 page."""
    try:
        return call(*args, **kwargs)
    except ApiError as exc:
        if exc.status == 404:
            raise HTTPError(404, exc.message)
        if exc.status == 0 or exc.status >= 500:
            raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
        raise


class _NotYet:
    """The notice for a part the core does not offer yet, in the reader's language."""

    def format(self, what: str) -> str:
        return _("This core does not offer {what} yet; update the core to see it here.",
                 what=_(what))


NOT_YET = _NotYet()


@dataclass(frozen=True)
class Missing:
    """What the core answered 404 for (an older core, or a part that is not running)."""

    reason: str


def ask_core_or_missing(call: Callable, *args: Any, **kwargs: Any) -> Any:
    """Call the API; Missing when the core answers 404, a 503 page when it is unreachable."""
    try:
        return call(*args, **kwargs)
    except ApiError as exc:
        if exc.status == 404:
            return Missing(exc.message)
        if exc.status == 0 or exc.status >= 500:
            raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
        raise


# -- the live event relay ----------------------------------------------------

def relay_events(state: WebState, user: Session,
                 keep: Callable[[Any], bool] | None = None):
    """Pass the core's events to a logged-in browser until its session ends.

    The upstream stream is reopened after each quiet spell so that a
    logged-out or expired session stops receiving within event_idle_s, and
    the relay ends after event_relay_max_s (EventSource reconnects) so that
    no server thread is held forever. `keep` picks the events this user may see.
    """
    settings = state.settings
    deadline = settings.clock() + settings.event_relay_max_s
    yield "retry: 3000\n\n"
    while settings.clock() < deadline and state.sessions.alive(user.id):
        try:
            for event in state.api.events(idle_timeout=settings.event_idle_s):
                if not state.sessions.alive(user.id):
                    return
                if keep is None or keep(event):
                    yield format_event(event.name, event.data)
            yield ": keepalive\n\n"
        except ApiError as exc:
            yield format_event("core", {"status": "unreachable", "detail": exc.message})
            time.sleep(min(3.0, settings.event_idle_s))


def format_event(name: str, data: Any) -> str:
    if isinstance(data, dict):
        # A phone's secret never travels to a browser through the live panel.
        data = {k: v for k, v in data.items() if k not in ("secret", "password_hash")}
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


# -- the agent's panel -------------------------------------------------------

def agent_panel(api, user: Session, error: str | None = None) -> str:
    """The agent's panel: status buttons, the current call with its screen pop, own password."""
    agents = ask_core_or_missing(api.agents)
    me = None
    if not isinstance(agents, Missing):
        me = next((a for a in agents if str(a.get("extension")) == user.username), None)
    call = pop = after = None
    if me is not None:
        log = ask_core_or_missing(api.queue_log)
        log = [] if isinstance(log, Missing) else log
        call = current_call(user.username, me, log)
        if call and call["number"] not in ("", "unknown"):
            found = ask_core_or_missing(api.lookup_contact, call["number"])
            pop = None if isinstance(found, Missing) else screen_pop(found, current().tz, current().lang)
        elif call is None:
            after = last_call(user.username, log)
    card = campaign_card(api, user.username, me) if me is not None else None
    return render("panel.tpl", title=_("My panel"), error=error, agent=agent_row(me) if me else None,
                  center_missing=isinstance(agents, Missing), call=call, actions=ACTIONS,
                  reasons=BREAK_REASONS, pop=pop, after=after, dispositions=DISPOSITION_CODES,
                  card=card)


def campaign_card(api, extension: str, agent: dict) -> dict | None:
    """The campaign card the agent works now (docs/campaigns.md, "Agents"), or None: their call on
    a campaign, an answered call waiting for their result, else the next person to preview."""
    campaigns = ask_core_or_missing(api.campaigns)
    if isinstance(campaigns, Missing):
        return None
    mine = [c for c in campaigns if c.get("mode") in ("preview", "progressive")
            and c.get("state") not in ("draft", "stopped") and c.get("queue") in (agent.get("queues") or ())]
    cards = []
    for c in sorted(mine, key=lambda c: -int(c.get("priority") or 5)):
        try:
            found = ask_core_or_missing(api.campaign_card, c["id"], extension)
        except ApiError:  # a core without the card (405), or a campaign gone meanwhile: no card
            continue
        if not isinstance(found, Missing):
            cards.append((c, found))
    picked = pick_card(cards)
    return card_view(picked[0], picked[1], current().tz, time.time()) if picked else None
