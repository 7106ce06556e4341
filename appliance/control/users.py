"""The web page's users, the first admin (with the one-time set-up code), and the audit log."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from appliance import setup_code
from appliance.control.common import Route, body, error, no_content
from appliance.control.services import Users
from appliance.errors import CallboxError, Conflict, ValidationError

log = logging.getLogger("callbox.api")

TITLE = "Web users and the audit log"

ROUTES = (
    Route("POST", "/api/setup", "first_admin",
          "the first admin: `{code, username, password_hash}` with the one-time set-up code "
          "(`state/setup_code`, printed on the console) → `201`; wrong code `403`; an admin exists `409` "
          "(docs/security.md)"),
    Route("GET", "/api/users", "list_users", 'web users: `{"users": [{username, role, created, language}]}`'),
    Route("POST", "/api/users", "create_user",
          "`{username, role: admin\\|supervisor\\|agent, password_hash}` (hash made by the web page: "
          "`scrypt$…`) → `201`"),
    Route("GET", "/api/users/{username}", "get_user",
          "one user, including `password_hash` (for the web page's login)"),
    Route("PATCH", "/api/users/{username}", "patch_user", "change `role`, `password_hash` or `language`"),
    Route("DELETE", "/api/users/{username}", "delete_user", "`204`"),
    Route("GET", "/api/audit", "get_audit", "newest first", shown="/api/audit?limit=100"),
    Route("POST", "/api/audit", "post_audit", "`{actor, action, detail}` → `201`"),
)


def _public(user: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in user.items() if k != "password_hash"}


def announce_setup_code(users: Users, data_dir: Path) -> None:
    """At the core's start: while no admin exists, make (or keep) the set-up code and print it."""
    try:
        if users.all():
            setup_code.discard(data_dir)
            return
        code, _ = setup_code.ensure(data_dir)
    except (CallboxError, OSError) as e:  # the box still runs; `callbox check` says what is wrong
        log.error("cannot make the first-run set-up code: %s", e)
        return
    setup_code.announce(code)


class UserRoutes:
    def __init__(self, users: Users, data_dir: Path) -> None:
        self.users = users
        self.data_dir = data_dir

    async def list_users(self, request: web.Request) -> web.Response:
        return web.json_response({"users": self.users.all()})

    async def create_user(self, request: web.Request) -> web.Response:
        return web.json_response(_public(self.users.create(await body(request))), status=201)

    async def get_user(self, request: web.Request) -> web.Response:
        return web.json_response(self.users.get(request.match_info["username"]))

    async def patch_user(self, request: web.Request) -> web.Response:
        return web.json_response(_public(self.users.update(request.match_info["username"], await body(request))))

    async def delete_user(self, request: web.Request) -> web.Response:
        self.users.delete(request.match_info["username"])
        return no_content()

    async def first_admin(self, request: web.Request) -> web.Response:
        """POST /api/setup {code, username, password_hash}: the first admin, with the one-time set-up code.

        Only while the box has no web users; the code (appliance/setup_code.py) is
        used up by the admin it creates. A wrong code is 403; the web page throttles
        the guesses. With no code on file (all users were removed since the start)
        a new one is made and printed on the core's console.
        """
        data = await body(request)
        if not isinstance(data, dict) or not isinstance(data.get("code"), str):
            raise ValidationError("body: {code, username, password_hash}")
        if self.users.all():
            raise Conflict("the box has an admin already: log in instead")
        if setup_code.read(self.data_dir) is None:
            code, _ = setup_code.ensure(self.data_dir)
            setup_code.announce(code)
            return error(403, "wrong set-up code")
        if not setup_code.matches(self.data_dir, data["code"]):
            return error(403, "wrong set-up code")
        user = self.users.create({"username": data.get("username"), "role": "admin",
                                  "password_hash": data.get("password_hash")})
        setup_code.discard(self.data_dir)
        self.users.audit(user["username"], "first_admin", "created with the set-up code")
        return web.json_response(_public(user), status=201)

    async def post_audit(self, request: web.Request) -> web.Response:
        data = await body(request)
        if not isinstance(data, dict) or not isinstance(data.get("action"), str):
            raise ValidationError("action: required")
        return web.json_response(self.users.audit(data.get("actor", "api"), data["action"], data.get("detail", "")),
                                 status=201)

    async def get_audit(self, request: web.Request) -> web.Response:
        try:
            limit = max(1, min(1000, int(request.query.get("limit", "100"))))
        except ValueError:
            raise ValidationError("limit: must be a number") from None
        return web.json_response({"audit": self.users.audit_log(limit)})
