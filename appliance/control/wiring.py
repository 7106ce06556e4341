"""The composition root's part for the control API: the one place here that sees the Core.

It names, from the running core, the services the API may use (`ControlServices`); the
routes never get the Core itself. Services that the core starts after the API, or replaces
while it runs (the switchboard, phone provisioning, the panel, the settings), are read
through at each request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from appliance.control.services import (Box, BrowserPhone, ControlServices, Extensions, FrontPanel, Mailboxes,
                                        Registrations, Users)

if TYPE_CHECKING:
    from appliance.core import Core


def control_services(core: "Core") -> ControlServices:
    from appliance.core import RECENT_LOG
    return ControlServices(
        api_token=core.api_token,
        data_dir=core.data_dir,
        box=Box(health=core.health, describe_settings=lambda: core.settings.describe(),
                change_settings=core.change_settings, stage_restore=core.stage_restore,
                restart_soon=core.restart_soon, recent_log=lambda: list(RECENT_LOG.lines)),
        alarms=core.alarms,
        events=core.events,
        extensions=Extensions(all=core.extensions, get=core.extension, get_or_none=core.extension_or_none,
                              create=core.create_extension, update=core.update_extension,
                              delete=core.delete_extension),
        registrations=Registrations(all=core.registrations, bans=core.bans, unban=core.unban),
        users=Users(all=core.users, get=core.user, create=core.create_user, update=core.update_user,
                    delete=core.delete_user, audit=core.audit, audit_log=core.audit_log),
        numbers=core.numbers,
        call_records=core.call_records,
        queue_log=core.queue_log,
        sms_log=core.sms_log,
        switchboard=lambda: core.switchboard,
        panel=FrontPanel(snapshot=lambda: core.panel.snapshot() if core.panel is not None else None,
                         press=core.panel_press),
        center_admin=core.center_admin,
        ring_groups=core.ring_groups,
        trunks=core.trunks,
        lines=core.lines,
        contacts=core.contacts,
        voicemail=core.voicemail,
        mailboxes=Mailboxes(box=core.voicemail_box, changed=core.voicemail_changed),
        reports=core.reports,
        business=core.business,
        privacy=core.privacy,
        phones=lambda: core.phones,
        campaigns=core.campaigns,
        clock=core.clock,
        browser_phone=BrowserPhone(issue_ticket=lambda ext: core.edge.browser_tickets.issue(ext).to_dict(),
                                   port=lambda: core.edge.websockets.port),
        campaign_dialer=lambda: core.campaign_dialer,
    )
