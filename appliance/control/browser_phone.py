"""The browser phone: tickets that open its SIP WebSocket, so that no SIP password reaches a page.

The web page checks the agent's session, then asks for a ticket for the agent's own extension;
the browser opens `wss://BOX:PORT/?ticket=...` with it within a minute. A ticket opens one
connection once (docs/browser-phone.md, "Signalling").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from appliance.control.common import Route, body
from appliance.errors import Conflict, ValidationError

if TYPE_CHECKING:
    from appliance.control.services import BrowserPhone, Extensions

TITLE = "Browser phone"

ROUTES = (
    Route("POST", "/api/browser-phone/ticket", "browser_phone_ticket",
          "`{extension}` → 201 `{ticket, extension, expires_in, port}`: a ticket for one WebSocket connection "
          "(`wss://<box>:<port>/?ticket=<ticket>`), single use, valid `expires_in` seconds; 404 for an unknown "
          "extension, 409 while browser phones are off (`sip.wss_port` 0, or its port taken)"),
)


class BrowserPhoneRoutes:
    def __init__(self, browser_phone: "BrowserPhone", extensions: "Extensions") -> None:
        self.browser_phone, self.extensions = browser_phone, extensions

    async def browser_phone_ticket(self, request: web.Request) -> web.Response:
        data = await body(request)
        number = data.get("extension") if isinstance(data, dict) else None
        if not isinstance(number, str) or not number:
            raise ValidationError("extension: required")
        port = self.browser_phone.port()
        if not port:
            raise Conflict("the browser phone is off (sip.wss_port is 0, or another program holds the port)")
        self.extensions.get(number)  # NotFound: 404
        ticket = self.browser_phone.issue_ticket(number)
        return web.json_response(ticket | {"port": port}, status=201)
