"""Privacy: everything held about one number, exported or erased (both audited)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

from appliance.control.common import Route, body
from appliance.errors import ValidationError

if TYPE_CHECKING:
    from appliance.privacy_runtime import Privacy

TITLE = "Privacy"

ROUTES = (
    Route("GET", "/api/privacy/export", "privacy_export",
          "everything held about one number as a `.tar.gz` (call records, queue log, voicemail, recordings); "
          "audited", shown="/api/privacy/export?number=&actor="),
    Route("POST", "/api/privacy/erase", "privacy_erase", "`{number, actor?}` → counts removed per kind; audited"),
)


class PrivacyRoutes:
    def __init__(self, privacy: "Privacy") -> None:
        self.privacy = privacy

    async def privacy_export(self, request: web.Request) -> web.Response:
        number = request.query.get("number", "")
        data = await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.privacy.export(number, request.query.get("actor", "api")))
        return web.Response(body=data, content_type="application/gzip",
                            headers={"Content-Disposition": f'attachment; filename="callbox-{number}.tar.gz"'})

    async def privacy_erase(self, request: web.Request) -> web.Response:
        data = await body(request)
        if not isinstance(data, dict) or not isinstance(data.get("number"), str):
            raise ValidationError("number: required")
        counts = await asyncio.get_running_loop().run_in_executor(
            None, lambda: self.privacy.erase(data["number"], str(data.get("actor", "api"))))
        return web.json_response(counts)
