"""The box itself: health, alarms, settings, the engine, the front panel, backup and restore,
the recent log and a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from aiohttp import web

from appliance.control.common import MAX_BACKUP, Route, body, error, no_content, upload
from appliance.control.services import Box, FrontPanel, Users
from appliance.errors import HardwareUnavailable, NotFound, ValidationError

if TYPE_CHECKING:
    from appliance.alarms import Alarms
    from appliance.switchboard import Switchboard

TITLE = "The box: health, alarms, settings, engine, panel, backup"

ROUTES = (
    Route("GET", "/api/health", "health",
          '`{"status": "ok", "version", "uptime_s", "sip_port", "registrations", "bans", "network"}`'),
    Route("GET", "/api/alarms", "list_alarms",
          '`{"alarms": [{id, kind, key, text, action, incident, since, last, count}]}`, newest first '
          '(see "Alarms" below)'),
    Route("POST", "/api/alarms/{id}/ack", "acknowledge_alarm",
          "an incident was dealt with: it goes (`204`; `404` when it is not active)"),
    Route("GET", "/api/settings", "get_settings",
          '`{"settings": [{key, group, type, default, value, help, restart, choices}]}` — the declarations '
          "of `settings.md` with current values"),
    Route("PATCH", "/api/settings", "patch_settings",
          '`{"key": value, ...}` → `{"changed": [...], "restart_needed": [...]}`; all or nothing'),
    Route("GET", "/api/engine", "engine_status",
          '`{"workers": [{id, alive, pid, sip_port, max_calls, free, room, restarts}], '
          '"calls": [{call_id, worker, state, caller, callee, start, answer}]}`'),
    Route("GET", "/api/panel", "panel",
          "the front panel: backend, LEDs (`lit`, mode, pattern), buttons, night mode, faults with blink codes"),
    Route("POST", "/api/panel/press", "panel_press",
          '`{"button": "night"\\|"reset"\\|"status", "action": "press"\\|"release"\\|"toggle"}` — '
          "simulated panel only (`409` on real hardware)"),
    Route("GET", "/api/backup", "download_backup",
          "the data directory as one verified `.tar.gz` (audited)", shown="/api/backup?actor="),
    Route("POST", "/api/restore", "upload_restore",
          "body = a backup file: verified (a corrupt or foreign file is `400` and nothing changes), then the "
          "core restarts and restores it before opening anything"),
    Route("GET", "/api/logs", "recent_logs", "the core's recent log lines", shown="/api/logs?lines=200"),
    Route("POST", "/api/restart", "restart",
          "restart the core (exit status 3; systemd starts it again); calls in progress end",
          shown="/api/restart?actor="),
)


class SystemRoutes:
    def __init__(self, box: Box, alarms: "Alarms", users: Users, panel: FrontPanel,
                 switchboard: Callable[[], "Switchboard | None"], data_dir: Path) -> None:
        self.box = box
        self.alarms = alarms
        self.users = users
        self.front_panel = panel
        self.switchboard = switchboard
        self.data_dir = data_dir

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response(self.box.health())

    async def list_alarms(self, request: web.Request) -> web.Response:
        return web.json_response({"alarms": self.alarms.active()})

    async def acknowledge_alarm(self, request: web.Request) -> web.Response:
        try:
            alarm_id = int(request.match_info["id"])
        except ValueError:
            raise ValidationError("alarm id: a number") from None
        if not self.alarms.acknowledge(alarm_id):
            raise NotFound(f"alarm {alarm_id} is not active")
        return no_content()

    async def get_settings(self, request: web.Request) -> web.Response:
        return web.json_response({"settings": self.box.describe_settings()})

    async def patch_settings(self, request: web.Request) -> web.Response:
        return web.json_response(self.box.change_settings(await body(request)))

    async def engine_status(self, request: web.Request) -> web.Response:
        sb = self.switchboard()
        return web.json_response({"workers": sb.status() if sb else [], "calls": sb.active_calls() if sb else []})

    async def panel(self, request: web.Request) -> web.Response:
        snapshot = self.front_panel.snapshot()
        if snapshot is None:
            raise NotFound("the front panel is not running")
        return web.json_response(snapshot)

    async def panel_press(self, request: web.Request) -> web.Response:
        try:
            return web.json_response(self.front_panel.press(await body(request)))
        except HardwareUnavailable as e:
            return error(409, str(e))

    async def download_backup(self, request: web.Request) -> web.StreamResponse:
        from appliance.backup import create_backup
        dest = self.data_dir / "run" / "download.tar.gz"
        await asyncio.get_running_loop().run_in_executor(None, lambda: create_backup(self.data_dir, dest))
        self.users.audit(request.query.get("actor", "api"), "backup_downloaded", "")
        return web.FileResponse(dest, headers={"Content-Type": "application/gzip",
                                               "Content-Disposition": 'attachment; filename="callbox-backup.tar.gz"'})

    async def upload_restore(self, request: web.Request) -> web.Response:
        from appliance.errors import BackupError
        data = await upload(request, MAX_BACKUP, "backup")
        try:
            result = await asyncio.get_running_loop().run_in_executor(None, self.box.stage_restore, data)
        except BackupError as e:
            return error(400, str(e))
        self.box.restart_soon()
        return web.json_response(result, status=202)

    async def restart(self, request: web.Request) -> web.Response:
        """Restart the core (systemd starts it again); calls in progress end."""
        self.users.audit(request.query.get("actor", "api"), "restart", "")
        self.box.restart_soon()
        return web.json_response({"restarting": True}, status=202)

    async def recent_logs(self, request: web.Request) -> web.Response:
        try:
            n = max(1, min(1000, int(request.query.get("lines", "200"))))
        except ValueError:
            raise ValidationError("lines: a number") from None
        return web.json_response({"lines": self.box.recent_log()[-n:]})
