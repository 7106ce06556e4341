"""The control API: HTTP/JSON on loopback with a bearer token, and an event stream
(Server-Sent Events). What the web page can do, a CRM can do.

One module per area declares its routes (`ROUTES`, which docs/api.md is generated from:
`python -m appliance.control.doc`) and answers them with the services it is given; this module
puts the areas together. The composition root hands over a `ControlServices`
(`wiring.control_services`), never the Core.
"""

from __future__ import annotations

from types import ModuleType

from aiohttp import web

from appliance.control import (browser_phone, calls, campaigns, center, contacts, event_stream, lines, phones, privacy,
                               prompts, reports, system, users, voicemail)
from appliance.control.calls import CDR_COLUMNS
from appliance.control.common import MAX_BODY, Route, guard
from appliance.control.services import ControlServices

__all__ = ["AREAS", "CDR_COLUMNS", "ROUTES", "create_api", "start_api"]

# In the order of docs/api.md.
AREAS: tuple[ModuleType, ...] = (system, users, phones, browser_phone, calls, center, voicemail, prompts, lines,
                                 contacts, campaigns, reports, privacy, event_stream)
ROUTES: tuple[Route, ...] = tuple(route for area in AREAS for route in area.ROUTES)


def _areas(s: ControlServices) -> dict[ModuleType, object]:
    """Each area with the services it uses, and only those."""
    return {
        system: system.SystemRoutes(s.box, s.alarms, s.users, s.panel, s.switchboard, s.data_dir),
        users: users.UserRoutes(s.users, s.data_dir),
        phones: phones.PhoneRoutes(s.extensions, s.registrations, s.phones),
        browser_phone: browser_phone.BrowserPhoneRoutes(s.browser_phone, s.extensions),
        calls: calls.CallRoutes(s.call_records, s.switchboard, s.users, s.data_dir),
        center: center.CenterRoutes(s.center_admin, s.queue_log, s.ring_groups),
        voicemail: voicemail.VoicemailRoutes(s.voicemail, s.mailboxes, s.extensions, s.numbers, s.users,
                                             s.data_dir),
        prompts: prompts.PromptRoutes(s.data_dir, s.events),
        lines: lines.LineRoutes(s.trunks, s.lines, s.sms_log),
        contacts: contacts.ContactRoutes(s.contacts),
        campaigns: campaigns.CampaignRoutes(s.campaigns, s.contacts, s.call_records, s.clock,
                                                s.campaign_dialer),
        reports: reports.ReportRoutes(s.reports, s.business),
        privacy: privacy.PrivacyRoutes(s.privacy),
        event_stream: event_stream.EventStreamRoutes(s.events),
    }


def create_api(services: ControlServices) -> web.Application:
    app = web.Application(middlewares=[guard(services.api_token)], client_max_size=MAX_BODY)
    answering = _areas(services)
    for area in AREAS:
        for route in area.ROUTES:
            handler = getattr(answering[area], route.handler)
            if route.method == "GET":
                app.router.add_get(route.path, handler)  # and HEAD
            else:
                app.router.add_route(route.method, route.path, handler)
    return app


async def start_api(services: ControlServices, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(create_api(services), access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    users.announce_setup_code(services.users, services.data_dir)
    actual = runner.addresses[0][1]
    return runner, f"http://{host}:{actual}"
