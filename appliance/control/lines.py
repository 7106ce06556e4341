"""Trunks and lines: SIP providers and IP peers, the routes in and out, the modem lines
(GSM, analog) and their SMS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from appliance.control.common import Route, body, no_content

if TYPE_CHECKING:
    from appliance.lines_runtime import Lines
    from appliance.store.records import MonthlyLog
    from appliance.trunks import Trunks

TITLE = "Trunks, routes, lines and SMS"

ROUTES = (
    Route("GET", "/api/trunks", "list_trunks",
          "SIP providers (`kind: register`, digest, registration state in `status`) and IP peers "
          "(`kind: peer`, `peer_networks`); see `trunks.md`"),
    Route("POST", "/api/trunks", "create_trunk", "a SIP provider or an IP peer (`trunks.md`) → `201`"),
    Route("DELETE", "/api/trunks/{name}", "delete_trunk", "`409` while an outbound route uses it"),
    Route("GET", "/api/routes", "get_routes",
          '`{"outbound": [{name, patterns, trunks (failover order), strip?, prefix?, cos_required?}], '
          '"inbound": [{did, caller?, destination: "extension:1001" \\| "flow:…", priority?}]}`'),
    Route("PUT", "/api/routes", "put_routes", "the same shape, all routes at once"),
    Route("GET", "/api/lines", "list_lines",
          'modem lines: `{"lines": [{name, kind, number, simulated, sip_port, state, signal, operator, sim, '
          "registered, in_call, last_error, restarts}]}`"),
    Route("POST", "/api/lines", "add_line",
          '`{name, kind: gsm\\|analog, device ("/dev/ttyUSB2", or "sim:gsm", "sim:gsm-simcom", "sim:analog" for '
          "simulated modems), audio_device?, profile?, pin?, number?}` → `201`"),
    Route("POST", "/api/lines/{name}/simulate", "simulate_line",
          "simulated modems only: `{action: ring (caller) \\| hangup \\| tone (hz) \\| dtmf (digit) \\| "
          "sms (sender, text) \\| save_audio}`"),
    Route("GET", "/api/sms", "list_sms", '`{"sms": [...]}`: SMS received on GSM lines (stored)'),
    Route("POST", "/api/sms", "send_sms", "SMS out: `{line, number, text}` → `202`"),
)


class LineRoutes:
    def __init__(self, trunks: "Trunks", lines: "Lines", sms_log: "MonthlyLog") -> None:
        self.trunks = trunks
        self.lines = lines
        self.sms_log = sms_log

    async def list_trunks(self, request: web.Request) -> web.Response:
        return web.json_response({"trunks": self.trunks.list()})

    async def create_trunk(self, request: web.Request) -> web.Response:
        return web.json_response(self.trunks.create(await body(request)), status=201)

    async def delete_trunk(self, request: web.Request) -> web.Response:
        self.trunks.delete(request.match_info["name"])
        return no_content()

    async def get_routes(self, request: web.Request) -> web.Response:
        return web.json_response(self.trunks.routes())

    async def put_routes(self, request: web.Request) -> web.Response:
        return web.json_response(self.trunks.put_routes(await body(request)))

    async def list_lines(self, request: web.Request) -> web.Response:
        return web.json_response({"lines": self.lines.status()})

    async def add_line(self, request: web.Request) -> web.Response:
        return web.json_response(await self.lines.add(await body(request)), status=201)

    async def simulate_line(self, request: web.Request) -> web.Response:
        return web.json_response(self.lines.simulate(request.match_info["name"], await body(request)))

    async def list_sms(self, request: web.Request) -> web.Response:
        return web.json_response({"sms": self.sms_log.query(None, None, limit=200)})

    async def send_sms(self, request: web.Request) -> web.Response:
        return web.json_response(self.lines.send_sms(await body(request)), status=202)
