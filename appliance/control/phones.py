"""Phones and extensions: the extensions, who is registered, banned addresses, and the desk
phones that the box provisions (plug and play)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from aiohttp import web

from appliance.control.common import Route, body, no_content
from appliance.control.services import Extensions, Registrations
from appliance.errors import NotFound

if TYPE_CHECKING:
    from appliance.phones_runtime import Phones

TITLE = "Phones and extensions"

ROUTES = (
    Route("GET", "/api/extensions", "list_extensions",
          '`{"extensions": [{number, name, class_of_service, voicemail, call_waiting, registered}]}` — '
          "never the secret"),
    Route("POST", "/api/extensions", "create_extension",
          "create: `{number, name?, secret?, class_of_service?, voicemail?, call_waiting?}` → `201` with the "
          "extension *including* `secret` (a strong one is generated when absent). `409` if it exists or the "
          "number is taken"),
    Route("GET", "/api/extensions/{number}", "get_extension",
          "one extension including `secret` (for the phone sheet)"),
    Route("PATCH", "/api/extensions/{number}", "patch_extension",
          "change `name`, `secret`, `class_of_service`, `voicemail`, `call_waiting`"),
    Route("DELETE", "/api/extensions/{number}", "delete_extension",
          "`204`; its registrations are dropped at once"),
    Route("GET", "/api/registrations", "registrations",
          '`{"registrations": [{aor, contact, source: "udp:ip:port", expires_in, user_agent}]}`'),
    Route("GET", "/api/bans", "bans", '`{"bans": [{ip, since, until, reason, failures}]}` (epoch seconds)'),
    Route("DELETE", "/api/bans/{ip}", "unban", "lift a ban: `204`, or `404` when the address is not banned"),
    Route("GET", "/api/phones", "list_phones",
          "bound phones, pending phones (asked but unknown), and the provisioning URL"),
    Route("POST", "/api/phones", "bind_phone",
          "`{mac, extension, vendor?, model?}` → `201` with the phone's provisioning password (shown once)"),
    Route("GET", "/api/phones/log", "phone_log", "fetches: time, ip, mac, file, outcome"),
    Route("GET", "/api/phones/{mac}/files", "phone_files", "the generated files, for a preview"),
    Route("DELETE", "/api/phones/{mac}", "unbind_phone", "unbind"),
)


class PhoneRoutes:
    def __init__(self, extensions: Extensions, registrations: Registrations,
                 phones: Callable[[], "Phones | None"]) -> None:
        self.extensions = extensions
        self.sip = registrations
        self.provisioning = phones

    def _phones(self) -> "Phones":
        phones = self.provisioning()
        if phones is None:
            raise NotFound("phone provisioning is off (provisioning.enabled)")
        return phones

    async def list_extensions(self, request: web.Request) -> web.Response:
        return web.json_response({"extensions": self.extensions.all()})

    async def create_extension(self, request: web.Request) -> web.Response:
        return web.json_response(self.extensions.create(await body(request)), status=201)

    async def get_extension(self, request: web.Request) -> web.Response:
        return web.json_response(self.extensions.get(request.match_info["number"]))

    async def patch_extension(self, request: web.Request) -> web.Response:
        return web.json_response(self.extensions.update(request.match_info["number"], await body(request)))

    async def delete_extension(self, request: web.Request) -> web.Response:
        self.extensions.delete(request.match_info["number"])
        return no_content()

    async def registrations(self, request: web.Request) -> web.Response:
        return web.json_response({"registrations": self.sip.all()})

    async def bans(self, request: web.Request) -> web.Response:
        return web.json_response({"bans": self.sip.bans()})

    async def unban(self, request: web.Request) -> web.Response:
        self.sip.unban(request.match_info["ip"])
        return no_content()

    async def list_phones(self, request: web.Request) -> web.Response:
        return web.json_response(self._phones().list())

    async def bind_phone(self, request: web.Request) -> web.Response:
        return web.json_response(self._phones().bind(await body(request)), status=201)

    async def unbind_phone(self, request: web.Request) -> web.Response:
        self._phones().unbind(request.match_info["mac"])
        return no_content()

    async def phone_log(self, request: web.Request) -> web.Response:
        return web.json_response({"fetches": self._phones().fetch_log()})

    async def phone_files(self, request: web.Request) -> web.Response:
        return web.json_response({"files": self._phones().files(request.match_info["mac"])})
