"""The admin web page: an explicit Bottle app built by create_app(settings, api).

Everything the page shows or changes goes through the core's control API.
This module holds the app object, its plugin (sessions, CSRF, first run,
injection of `api` and `user`), and the pages about logging in, and mounts
the other pages (one module per area: web/pages.py, web/monitor.py,
web/center.py, ...). What the pages share (render, require, asking the core)
is in web/kit.py, the one module a page imports from web/.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any, Callable
from urllib.parse import quote

import bottle
from bottle import HTTPError, request, response

from appliance.errors import ApiError, ValidationError
from web import (campaigns, center, contacts, contract, ivr, monitor, pages,  # the pages
                 phones, prompts, recordings, reports, trunks, voicemail, wizard)
from web.api_client import ApiClient
from web.kit import (DUMMY_HASH, FORM_MAX, LANGUAGES, STATIC, LoginThrottle, Role, Session,
                     SessionStore, WebSettings, WebState, _, check_new_password, check_username,
                     client_ip, csrf_ok, hash_password, negotiate, ngettext, notice,
                     password_generation, relay_events, render, require, safe_next, see_other,
                     translate_message, verify_password, wizard_never_opened)

log = logging.getLogger(__name__)

COOKIE = "callbox_session"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Wrong first-run set-up codes are throttled like failed logins of this (impossible) username.
SETUP_GUESSER = "(set-up)"


# -- the plugin ------------------------------------------------------------

class CallboxPlugin:
    """Finds the session, enforces first run, login and CSRF, injects `api`, `user`, `state`.

    Routes are private unless declared with `public=True`; a route declared
    with `touch=False` (a page's own polling) does not count as activity. A handler gets
    the control API client when it has a parameter named `api`, the
    logged-in session as `user`, and the shared state as `state`.
    """

    name = "callbox"
    api = 2

    def __init__(self, state: WebState):
        self.state = state

    def apply(self, callback: Callable, route: bottle.Route) -> Callable:
        wanted = set(inspect.signature(route.callback).parameters)
        public = bool(route.config.get("public"))
        state = self.state

        limit = int(route.config.get("max_body", FORM_MAX))

        @functools.wraps(callback)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            _check_body_size(limit, takes_file="max_body" in route.config)
            session = state.sessions.get(request.get_cookie(COOKIE),
                                         touch=route.config.get("touch", True))
            if session is None and public and request.method == "GET":
                session = state.sessions.new()
                set_session_cookie(state.settings, session)
            request.environ["callbox.session"] = session
            request.environ["callbox.state"] = state
            if request.method in UNSAFE_METHODS:
                state.forget_box_name()  # a change may have renamed the business
            if not public:
                try:
                    first_run = not state.users_exist()
                except ApiError as exc:
                    raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
                if first_run:
                    if request.method == "GET":
                        raise see_other("/setup")
                    raise HTTPError(403, _("Create the first admin at /setup."))
                if session is None or not session.logged_in:
                    if request.method == "GET" and route.config.get("login_redirect", True):
                        raise see_other("/login?next=" + quote(request.fullpath))
                    raise HTTPError(403, _("You must be logged in."))
                request.environ["callbox.tz"] = state.box_timezone()  # times on the box's clock
            if request.method in UNSAFE_METHODS:
                supplied = request.headers.get("X-CSRF-Token") or request.forms.get("csrf_token")
                if not csrf_ok(session, supplied):
                    raise HTTPError(403, _("The form was out of date or did not come from "
                                       "this page. Reload the page and try again."))
            if "api" in wanted:
                kwargs["api"] = state.api
            if "user" in wanted:
                kwargs["user"] = session
            if "state" in wanted:
                kwargs["state"] = state
            return callback(*args, **kwargs)

        return wrapper


def _check_body_size(limit: int, takes_file: bool) -> None:
    """413 for a body over the route's cap, 411 for one of unknown length, before it is read."""
    if "chunked" in request.environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise HTTPError(411, _("Send the request with its length (Content-Length)."))
    if request.content_length > limit:
        size = max(1, -(-limit // (1 << 20)))
        if takes_file:
            raise HTTPError(413, _("The file is too big (at most {size} MB).", size=size))
        raise HTTPError(413, _("The request is too large (at most {size} MB).", size=size))


def set_session_cookie(settings: WebSettings, session: Session) -> None:
    # No max_age: the cookie dies with the browser; the server enforces expiry.
    response.set_cookie(COOKIE, session.id, path="/", httponly=True, samesite="Strict",
                        secure=settings.secure_cookie)


def _security_headers() -> None:
    response.set_header("X-Content-Type-Options", "nosniff")
    # A page may ask for its own policy (the contract's print pages: inline styles, framed by us).
    response.set_header("X-Frame-Options", request.environ.get("callbox.frame_options", "DENY"))
    response.set_header("Referrer-Policy", "same-origin")
    response.set_header("Content-Security-Policy", request.environ.get(
        "callbox.csp", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; "
                       "base-uri 'none'; object-src 'none'"))
    if not request.path.startswith("/static/") and request.path != "/favicon.ico":
        response.set_header("Cache-Control", "no-store")


def _static_app() -> bottle.Bottle:
    static = bottle.Bottle()

    @static.get("/<name:path>")
    def asset(name: str):
        return bottle.static_file(name, root=str(STATIC))

    return static


# -- the app ---------------------------------------------------------------

def create_app(settings: WebSettings, api: ApiClient) -> bottle.Bottle:
    """The admin web page as a WSGI app talking to the core through `api`."""
    state = WebState(
        settings=settings, api=api,
        sessions=SessionStore(settings.clock, settings.session_idle_s, settings.session_absolute_s),
        throttle=LoginThrottle(settings.clock, free_failures=settings.login_free_failures,
                               max_delay_s=settings.login_max_delay_s, forget_s=settings.login_forget_s),
    )
    app = bottle.Bottle()
    app.config["callbox.state"] = state
    app.install(CallboxPlugin(state))
    app.add_hook("before_request", functools.partial(_pick_language, state))
    app.add_hook("after_request", _security_headers)
    app.mount("/static/", _static_app())

    for code in (400, 403, 404, 405, 409, 411, 413, 429, 500, 503):
        app.error(code)(_error_page)

    _auth_routes(app, state)
    pages.register(app, state)
    monitor.register(app, state)
    center.register(app, state)
    ivr.register(app, state)
    wizard.register(app, state)
    voicemail.register(app, state)
    reports.register(app, state)
    trunks.register(app, state)
    prompts.register(app, state)
    phones.register(app, state)
    recordings.register(app, state)
    contract.register(app, state)
    contacts.register(app, state)
    campaigns.register(app, state)
    return app


def _pick_language(state: WebState) -> None:
    """The language of this request: the logged-in user's choice, else the browser's."""
    session = state.sessions.get(request.get_cookie(COOKIE), touch=False)
    chosen = session.language if session is not None else None
    request.environ["callbox.lang"] = chosen or negotiate(request.headers.get("Accept-Language"))


def _error_page(error: HTTPError) -> str:
    if request.path == "/healthz" or request.path.startswith("/static/"):
        return str(error.body)
    body = error.body if isinstance(error.body, str) and error.status_code != 500 else None
    if error.status_code == 404 and body and body.startswith("Not found: "):
        body = _("Not found: {path}", path=body[len("Not found: "):])  # Bottle's own words
    if error.status_code == 500:
        log.error("internal error: %s", error.traceback)
    try:
        return render("error.tpl", title=_("Error {code}", code=error.status_code),
                      status=error.status_code, message=body or _("Something went wrong."))
    except Exception:  # the error page must never raise in turn
        return f"{error.status_line}\n"


def _auth_routes(app: bottle.Bottle, state: WebState) -> None:
    settings = state.settings

    @app.get("/favicon.ico", skip=True)  # no session, no login: browsers ask for it on every page
    def favicon():
        reply = bottle.static_file("favicon.ico", root=str(STATIC), mimetype="image/x-icon")
        reply.set_header("Cache-Control", "public, max-age=86400")
        return reply

    @app.get("/healthz", public=True)
    def healthz():
        response.content_type = "text/plain; charset=utf-8"
        return "ok"

    @app.get("/setup", public=True)
    def setup_form(api):
        if _users_exist_or_503(state):
            raise see_other("/login")
        return render("setup.tpl", title=_("First run"), username="",
                      min_length=settings.min_password_length)

    @app.post("/setup", public=True)
    def setup(api):
        username = request.forms.getunicode("username", "")
        password = request.forms.getunicode("password", "")
        repeated = request.forms.getunicode("password2", "")
        code = request.forms.getunicode("code", "")[:64]
        ip = client_ip()
        wait = state.throttle.retry_after(ip, SETUP_GUESSER)
        if wait:
            response.set_header("Retry-After", str(wait))
            return _setup_again(username, ngettext(
                "Too many wrong set-up codes. Try again in {n} second.",
                "Too many wrong set-up codes. Try again in {n} seconds.", int(wait)), status=429)
        with state.setup_lock:
            state.has_users = False
            if _users_exist_or_503(state):
                raise HTTPError(403, _("Callbox already has an admin; log in instead."))
            try:
                name = check_username(username)
            except ValidationError as exc:
                return _setup_again(username, translate_message(str(exc)))
            reason = check_new_password(name, password, repeated, settings.min_password_length)
            if reason:
                return _setup_again(username, translate_message(reason))
            try:
                api.first_admin(code, name, hash_password(password))
            except ApiError as exc:
                if exc.status == 403:
                    state.throttle.failed(ip, SETUP_GUESSER)
                    state.audit("-", "setup_failed", f"wrong set-up code from {ip}")
                    return _setup_again(username, _("Wrong set-up code."), status=403)
                if exc.status == 409:
                    raise HTTPError(403, _("Callbox already has an admin; log in instead."))
                if exc.status == 0:
                    raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
                return _setup_again(username, exc.message)
            state.has_users = True
        state.throttle.succeeded(ip, SETUP_GUESSER)
        state.audit(name, "setup", f"created the first admin {name} from {ip}")
        notice(_("The admin was created. Log in with the new password."))
        raise see_other("/login")

    def _setup_again(username: str, error: str, status: int = 400) -> str:
        response.status = status
        return render("setup.tpl", title=_("First run"), username=username, error=error,
                      min_length=settings.min_password_length)

    @app.get("/login", public=True)
    def login_form():
        if not _users_exist_or_503(state):
            raise see_other("/setup")
        return render("login.tpl", title=_("Log in"), username="",
                      next=safe_next(request.query.getunicode("next")))

    @app.post("/login", public=True)
    def login(api, user):
        username = request.forms.getunicode("username", "").strip().lower()
        password = request.forms.getunicode("password", "")
        target = safe_next(request.forms.getunicode("next"))
        ip = client_ip()
        try:
            record = api.user(username) if username else None
        except ApiError as exc:
            if exc.status != 404:
                raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
            record = None
        stored = record.get("password_hash", "") if record else DUMMY_HASH
        # A new password (callbox reset-password) starts the count afresh, from any address.
        generation = password_generation(stored) if record else ""
        wait = state.throttle.retry_after(ip, username, generation)
        if wait:
            response.status = 429
            response.set_header("Retry-After", str(wait))
            return render("login.tpl", title=_("Log in"), username=username, next=target,
                          error=ngettext("Too many failed logins. Try again in {n} second.",
                                         "Too many failed logins. Try again in {n} seconds.",
                                         int(wait)))
        if not (verify_password(password[:1024], stored) and record):
            state.throttle.failed(ip, username, generation)
            state.audit(username or "-", "login_failed", f"from {ip}")
            response.status = 400
            return render("login.tpl", title=_("Log in"), username=username, next=target,
                          error=_("Wrong username or password."))
        state.throttle.succeeded(ip, username)
        # A new id at login, so an id planted before login is worthless after it.
        if user is not None:
            state.sessions.drop(user.id)
        session = state.sessions.new(record["username"], record["role"])
        session.language = record.get("language") if record.get("language") in LANGUAGES else None
        request.environ["callbox.lang"] = session.language or request.environ.get("callbox.lang")
        set_session_cookie(settings, session)
        request.environ["callbox.session"] = session
        state.audit(session.username, "login", f"from {ip}")
        if target == "/" and session.role == Role.ADMIN:
            if wizard_never_opened(api):
                raise see_other("/wizard")
        raise see_other(target)

    @app.post("/logout")
    def logout(user):
        state.sessions.drop(user.id)
        state.audit(user.username, "logout", f"from {client_ip()}")
        response.delete_cookie(COOKIE, path="/")
        raise see_other("/login")

    @app.post("/language")
    def choose_language(api, user):
        lang = request.forms.getunicode("language", "")
        if lang not in LANGUAGES:
            raise HTTPError(400, _("Unknown language {code}.", code=lang))
        try:
            api.update_user(user.username, language=lang)
        except ApiError as exc:
            if exc.status != 400:
                raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
            raise HTTPError(400, exc.message)
        user.language = lang
        request.environ["callbox.lang"] = lang
        state.audit(user.username, "language_changed", lang)
        raise see_other(safe_next(request.forms.getunicode("next")))

    @app.get("/events", login_redirect=False, touch=False)
    @require(Role.SUPERVISOR)
    def events(api, user):
        response.content_type = "text/event-stream; charset=utf-8"
        response.set_header("X-Accel-Buffering", "no")
        return relay_events(state, user)


def _users_exist_or_503(state: WebState) -> bool:
    try:
        return state.users_exist()
    except ApiError as exc:
        raise HTTPError(503, _("The core is not reachable: {reason}", reason=exc.message))
