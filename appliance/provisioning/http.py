"""The provisioning server on its own port: an aiohttp application around ProvisioningService.

Adapter. `GET /p/<file>` is the only route; everything else is an empty
`404`. The client's address is the TCP peer's: no forwarding headers are
believed, since the allow-list would mean nothing if a header could move a
client onto the LAN. The registry is saved (if a store is given) after a
request changed it: a new pending phone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web

from appliance.errors import StoreError
from appliance.provisioning.registry import PhoneRegistry
from appliance.provisioning.service import (
    ExtensionLookup,
    ProvisioningService,
    ProvisioningSettings,
    Reply,
)
from appliance.provisioning.store import RegistryStore
from appliance.provisioning.timezones import TimeZone

log = logging.getLogger(__name__)

PROVISIONING = web.AppKey("provisioning", ProvisioningService)
# Phones only GET: no request here has a body. The headers are capped too (a phone's
# are a few hundred bytes; aiohttp's own limit is 8 KiB a line).
MAX_HEADERS_BYTES = 16 << 10


@web.middleware
async def no_bodies(request: web.Request, handler):
    """413 (empty) for any request that carries a body, before anything reads it."""
    if (request.content_length or 0) > 0 or "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        return web.Response(status=413)
    if sum(len(k) + len(v) for k, v in request.raw_headers) > MAX_HEADERS_BYTES:
        return web.Response(status=431)
    return await handler(request)


def _to_response(reply: Reply) -> web.Response:
    response = web.Response(status=reply.status, body=reply.body)
    for name, value in reply.headers:
        if name.lower() == "content-type":
            response.headers["Content-Type"] = value
        else:
            response.headers.add(name, value)
    return response


def create_provisioning_app(
    registry: PhoneRegistry,
    settings: ProvisioningSettings,
    *,
    extensions: ExtensionLookup,
    store: RegistryStore | None = None,
    clock: Callable[[], float] = time.time,
    timezone: TimeZone | None = None,
) -> web.Application:
    """The provisioning web application; the service is at `app[PROVISIONING]`."""
    service = ProvisioningService(registry, settings, extensions, clock=clock, timezone=timezone)
    app = web.Application(client_max_size=4096, middlewares=[no_bodies])
    app[PROVISIONING] = service

    async def fetch(request: web.Request) -> web.StreamResponse:
        ip = request.remote or ""
        reply = service.fetch(ip, request.method, request.match_info["file"], request.headers,
                              path=request.path_qs)
        if store is not None:
            try:
                store.save_if_changed(registry)
            except StoreError as e:
                # A full or failing card must not stop phones getting their files;
                # the change is kept in memory and saved with the next one.
                log.warning("cannot save the phone registry: %s", e)
        return _to_response(reply)

    async def nothing(request: web.Request) -> web.StreamResponse:
        return web.Response(status=404)

    async def no_server_header(request: web.Request, response: web.StreamResponse) -> None:
        # Naming the server and its version only helps someone shopping for exploits.
        response.headers.pop("Server", None)

    app.router.add_get("/p/{file}", fetch)
    app.router.add_route("*", "/{tail:.*}", nothing)
    app.on_response_prepare.append(no_server_header)
    return app


async def start_provisioning_server(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve `app` on host:port (0 picks a free port); returns the runner (await
    `runner.cleanup()` to stop) and the port bound."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = [s for s in (runner.addresses or [])]
    bound = sockets[0][1] if sockets else port
    return runner, bound
