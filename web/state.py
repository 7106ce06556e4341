"""What the running web page shares between requests: its settings, the sessions, the login
throttle, and the business's name and time zone as the core last told them."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from appliance.errors import ApiError
from web.api_client import ApiClient
from web.security import LoginThrottle, SessionStore

log = logging.getLogger(__name__)

BOX_NAME_TTL_S = 30.0


@dataclass(frozen=True)
class WebSettings:
    """How the web process behaves; the defaults are the ones documented in docs/web.md."""

    secure_cookie: bool = True
    session_idle_s: float = 30 * 60
    session_absolute_s: float = 12 * 3600
    # Failed logins (per address and username) before each try must wait; the wait then
    # doubles from 1 s up to login_max_delay_s; failures are forgotten after login_forget_s.
    login_free_failures: int = 5
    login_max_delay_s: float = 5 * 60
    login_forget_s: float = 3600
    min_password_length: int = 10
    event_idle_s: float = 15
    event_relay_max_s: float = 10 * 60
    # The live pages refetch on events; this poll catches what has no event (a call starting).
    # 0 turns it off.
    live_poll_s: float = 10
    # The core's data directory, for the disk space the system page shows.
    data_dir: str | None = None
    clock: Callable[[], float] = time.time


@dataclass
class WebState:
    """What the running app shares between requests."""

    settings: WebSettings
    api: ApiClient
    sessions: SessionStore
    throttle: LoginThrottle
    has_users: bool = False
    setup_lock: threading.Lock = field(default_factory=threading.Lock)
    # The business name (box.name) for the page header and its time zone (box.timezone) for
    # every time shown, asked of the core at most every BOX_NAME_TTL_S seconds and again after
    # any change made through the page.
    _box_name: tuple[float, str, str] | None = None

    def _box(self) -> tuple[float, str, str]:
        now = time.monotonic()
        if self._box_name is None or now - self._box_name[0] > BOX_NAME_TTL_S:
            try:
                values = {d.get("key"): d.get("value") for d in self.api.settings()}
                name = str(values.get("box.name") or "").strip()
                tz = str(values.get("box.timezone") or "UTC")
            except (ApiError, AttributeError, TypeError):
                name, tz = (self._box_name[1], self._box_name[2]) if self._box_name else ("", "UTC")
            self._box_name = (now, name, tz)
        return self._box_name

    def box_name(self) -> str:
        return self._box()[1]

    def box_timezone(self) -> str:
        """The box's time zone (IANA name): every time a page shows is on this clock."""
        return self._box()[2]

    def forget_box_name(self) -> None:
        self._box_name = None

    def audit(self, actor: str, action: str, detail: str) -> None:
        """Write an audit entry; a failing write is logged, never shown as a failed change."""
        try:
            self.api.add_audit(actor, action, detail)
        except ApiError as exc:
            log.error("audit entry %s/%s not written: %s", actor, action, exc)

    def users_exist(self) -> bool:
        if not self.has_users:
            self.has_users = bool(self.api.users())
        return self.has_users
