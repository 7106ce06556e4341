"""What the control API is given: the named services of the box, and nothing else.

The composition root fills a `ControlServices` (see `wiring.py`); each area of the API takes
from it only what it uses (`api.create_api`). A service that starts after the API (the
engine's switchboard, phone provisioning, the front panel) is given as a function that
answers it, or None while it is not running.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from appliance.alarms import Alarms
    from appliance.business_runtime import Business
    from appliance.campaign_dialer import CampaignDialer
    from appliance.campaigns import Campaigns
    from appliance.center_admin import CenterAdmin
    from appliance.contacts import Contacts
    from appliance.events import EventBus
    from appliance.lines_runtime import Lines
    from appliance.numbers_runtime import Numbers
    from appliance.logic.voicemail import BoxConfig
    from appliance.phones_runtime import Phones
    from appliance.privacy_runtime import Privacy
    from appliance.reports import Reports
    from appliance.ring_groups import RingGroups
    from appliance.store.records import MonthlyLog
    from appliance.switchboard import Switchboard
    from appliance.trunks import Trunks
    from appliance.voicemail_store import VoicemailStore

Json = dict[str, Any]


@dataclass(frozen=True)
class Extensions:
    """The box's extensions (numbers, names, secrets, class of service)."""
    all: Callable[[], list[Json]]
    get: Callable[[str], Json]
    get_or_none: Callable[[str], Json | None]
    create: Callable[[Any], Json]
    update: Callable[[str, Any], Json]
    delete: Callable[[str], None]


@dataclass(frozen=True)
class Registrations:
    """Who is registered on the SIP edge, and the addresses it has banned."""
    all: Callable[[], list[Json]]
    bans: Callable[[], list[Json]]
    unban: Callable[[str], None]


@dataclass(frozen=True)
class Users:
    """The web page's users, and the audit log of what people did."""
    all: Callable[[], list[Json]]
    get: Callable[[str], Json]
    create: Callable[[Any], Json]
    update: Callable[[str, Any], Json]
    delete: Callable[[str], None]
    audit: Callable[[str, str, Any], Json]
    audit_log: Callable[[int], list[Json]]


@dataclass(frozen=True)
class Box:
    """The box itself: its health, settings, restarts and restores, its recent log."""
    health: Callable[[], Json]
    describe_settings: Callable[[], list[Json]]
    change_settings: Callable[[Any], Json]
    stage_restore: Callable[[bytes], Json]
    restart_soon: Callable[[], None]
    recent_log: Callable[[], list[str]]


@dataclass(frozen=True)
class FrontPanel:
    """The front panel, when it runs: what it shows, and a press of the simulated one."""
    snapshot: Callable[[], Json | None]
    press: Callable[[Any], Json]


@dataclass(frozen=True)
class Mailboxes:
    """Voicemail beyond the store: a box made on first use, and telling phones (MWI) of a change."""
    box: Callable[[str], "BoxConfig"]
    changed: Callable[[str], None]


@dataclass(frozen=True)
class BrowserPhone:
    """The browser phones' WebSocket: a ticket for an extension, and its port (0 while it is off)."""
    issue_ticket: Callable[[str], Json]
    port: Callable[[], int]


@dataclass(frozen=True)
class ControlServices:
    api_token: Callable[[], str]
    data_dir: Path
    box: Box
    alarms: "Alarms"
    events: "EventBus"
    extensions: Extensions
    registrations: Registrations
    users: Users
    numbers: "Numbers"
    call_records: "MonthlyLog"
    queue_log: "MonthlyLog"
    sms_log: "MonthlyLog"
    switchboard: Callable[[], "Switchboard | None"]
    panel: FrontPanel
    center_admin: "CenterAdmin"
    ring_groups: "RingGroups"
    trunks: "Trunks"
    lines: "Lines"
    contacts: "Contacts"
    voicemail: "VoicemailStore"
    mailboxes: Mailboxes
    reports: "Reports"
    business: "Business"
    privacy: "Privacy"
    phones: Callable[[], "Phones | None"]
    campaigns: "Campaigns"
    clock: Callable[[], float]
    browser_phone: BrowserPhone
    campaign_dialer: Callable[[], "CampaignDialer | None"]
