"""Agents follow their phones: the ACD offers calls only to an agent whose phone (a desk phone, or
the agent panel's browser phone) is registered, and hears at once when that changes.

- A phone that goes away (unregistered, expired, a browser whose connection dropped): the agent
  is offered nothing and shown without a phone, whatever they chose; when a phone is back, they
  are offered calls again (`ContactCenter.phone_changed`).
- The agent *closed the panel* (the browser closed its connection itself: the page was closed,
  reloaded or left; the edge's `unregistration` says `page closed`) and no other phone of theirs is
  registered: the agent is logged out of their queues, as closing the agent application does in
  the contact centers people know (a desk phone still registered keeps them in). Not at once: a
  panel back within `CLOSED_GRACE_S` (a reload, a second tab taking over) keeps them logged in;
  meanwhile they are offered nothing. A network that drops is not a choice: they stay logged in,
  without a phone until the panel reconnects.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from appliance.logic.acd import ContactCenter
from appliance.logic.acd.machines import AgentStatus

__all__ = ["AgentPhones", "PAGE_CLOSED", "CLOSED_GRACE_S"]

log = logging.getLogger("callbox.agent_phones")

PAGE_CLOSED = "page closed"  # the reason of an unregistration when a browser closed its connection
CLOSED_GRACE_S = 5.0  # a reload, or a second tab taking over, registers again well within this


class AgentPhones:
    """`registered(ext)`: whether a phone of the extension is registered; `run_acd(commands)`:
    carry out what the ACD decided; `log_out(ext)`: log an agent out as the agent would;
    `later(seconds, fn)`: call `fn` once that much time has passed (the loop's `call_later`)."""

    def __init__(self, center: ContactCenter, registered: Callable[[str], bool],
                 run_acd: Callable[[list], None], log_out: Callable[[str], Any],
                 later: Callable[[float, Callable[[], None]], Any]):
        self.center = center
        self.registered = registered
        self.run_acd = run_acd
        self.log_out = log_out
        self.later = later

    def restore(self) -> None:
        """At start, with registrations restored: whose phone is here."""
        for agent in self.center.agents():
            self.center.phone_changed(agent.id, self.registered(agent.id))

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        """An agent whose phone is gone is offered nothing and shown as such, at once."""
        if kind not in ("registration", "unregistration"):
            return
        aor = str(data.get("aor", ""))
        registered = self.registered(aor)
        commands = self.center.phone_changed(aor, registered)
        if commands:
            self.run_acd(commands)
        if kind == "unregistration" and data.get("reason") == PAGE_CLOSED and not registered:
            self.later(CLOSED_GRACE_S, lambda: self._closed_the_panel(aor))

    def _closed_the_panel(self, aor: str) -> None:
        if self.registered(aor):
            return  # the panel is back (reloaded, or another tab took over)
        agent = next((a for a in self.center.agents() if a.id == aor), None)
        if agent is not None and agent.status is not AgentStatus.LOGGED_OUT:
            log.info("agent %s closed the panel: logged out of their queues", aor)
            self.log_out(aor)
