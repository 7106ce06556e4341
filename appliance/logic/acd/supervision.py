"""Who may listen to, whisper to or barge into an agent's call: a pure function of roles."""

from __future__ import annotations

from collections.abc import Iterable

from appliance.logic.acd.commands import MonitorMode

M = MonitorMode
# A team lead coaches (listens, whispers) but does not take over a customer's call.
ROLE_MODES: dict[str, frozenset[MonitorMode]] = {
    "admin": frozenset({M.LISTEN, M.WHISPER, M.BARGE}),
    "supervisor": frozenset({M.LISTEN, M.WHISPER, M.BARGE}),
    "team_lead": frozenset({M.LISTEN, M.WHISPER}),
    "agent": frozenset(),
}


def may_supervise(roles: Iterable[str], mode: MonitorMode | str) -> bool:
    """True when any of the roles allows the mode; unknown roles allow nothing."""
    if isinstance(roles, str):
        roles = (roles,)
    mode = MonitorMode(mode)
    return any(mode in ROLE_MODES.get(role, frozenset()) for role in roles)
