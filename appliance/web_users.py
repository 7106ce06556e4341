"""The web page's users and the audit trail of what people (and the box) did."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from appliance import directory
from appliance.errors import Conflict, NotFound
from appliance.ports import Clock, RecordLog, Tables


def _username(name: str):
    return lambda doc: doc.get("username") == name


class WebUsers:
    def __init__(self, *, tables: Tables, clock: Clock, audit_trail: RecordLog):
        self.tables = tables
        self.clock = clock
        self.audit_trail = audit_trail

    def users(self) -> list[dict[str, Any]]:
        return [{k: u[k] for k in ("username", "role", "created", "language") if k in u}
                for u in self.tables("users").all()]

    def user(self, username: str) -> dict[str, Any]:
        found = self.tables("users").get(_username(username))
        if found is None:
            raise NotFound(f"user {username} does not exist")
        return dict(found)

    def create_user(self, data: Any) -> dict[str, Any]:
        user = directory.new_user(data, self.clock())
        if self.tables("users").get(_username(user["username"])) is not None:
            raise Conflict(f"user {user['username']} exists already")
        self.tables("users").insert(user)
        return user

    def update_user(self, username: str, data: Any) -> dict[str, Any]:
        new = directory.change_user(self.user(username), data)
        self.tables("users").update(new, _username(username))
        return new

    def delete_user(self, username: str) -> None:
        self.user(username)
        self.tables("users").remove(_username(username))

    def audit(self, actor: str, action: str, detail: Any = "") -> dict[str, Any]:
        # An append-only monthly log: the audit trail grows forever, config.json must not.
        entry = {"time": datetime.fromtimestamp(self.clock(), timezone.utc).isoformat(),
                 "actor": str(actor)[:64], "action": str(action)[:64],
                 "detail": detail if isinstance(detail, (str, dict, list)) else str(detail)}
        self.audit_trail.append(entry)
        return entry

    def audit_log(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.audit_trail.query(None, None, limit=limit, newest_first=True)
