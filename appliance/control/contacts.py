"""Contacts: the address book, the screen pop, and CSV export and import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from appliance.control.common import MAX_IMPORT, Route, body, no_content, upload
from appliance.errors import ValidationError

if TYPE_CHECKING:
    from appliance.contacts import Contacts

TITLE = "Contacts"

ROUTES = (
    Route("GET", "/api/contacts", "list_contacts",
          '`{"contacts": [...]}` by name; `q` searches names, companies and numbers',
          shown="/api/contacts?q=&offset=&limit="),
    Route("POST", "/api/contacts", "create_contact",
          "`{name, company?, numbers: [...], email?, notes?}` → `201`; numbers are normalised to E.164 "
          "(`phonenumbers`, in `privacy.country_code`'s country); a bad number is `400` naming it"),
    Route("GET", "/api/contacts.csv", "contacts_csv", "export"),
    Route("POST", "/api/contacts.csv", "import_contacts",
          'import (body = the CSV file\'s bytes, see "Contact import" below): `{"imported": n, "duplicates": n, '
          '"errors": [{"line", "error", "duplicate"?}], "encoding", "delimiter", "columns", "ignored_columns"}`'),
    Route("GET", "/api/contacts/{id}", "get_contact",
          "one contact; `/api/contacts/lookup?number=` is the screen pop: "
          '`{"contact": {...} or null, "history": [last 10 call records]}`'),
    Route("PATCH", "/api/contacts/{id}", "patch_contact", "change a contact"),
    Route("DELETE", "/api/contacts/{id}", "delete_contact", "`204`"),
)


class ContactRoutes:
    def __init__(self, contacts: "Contacts") -> None:
        self.contacts = contacts

    async def list_contacts(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            offset, limit = int(q.get("offset", "0")), int(q.get("limit", "100"))
        except ValueError:
            raise ValidationError("offset/limit: must be numbers") from None
        return web.json_response({"contacts": self.contacts.list(q.get("q", ""), offset, limit)})

    async def create_contact(self, request: web.Request) -> web.Response:
        return web.json_response(self.contacts.create(await body(request)), status=201)

    async def get_contact(self, request: web.Request) -> web.Response:
        cid = request.match_info["id"]
        if cid == "lookup":
            return web.json_response(self.contacts.lookup(request.query.get("number", "")))
        return web.json_response(self.contacts.get(cid))

    async def patch_contact(self, request: web.Request) -> web.Response:
        return web.json_response(self.contacts.update(request.match_info["id"], await body(request)))

    async def delete_contact(self, request: web.Request) -> web.Response:
        self.contacts.delete(request.match_info["id"])
        return no_content()

    async def contacts_csv(self, request: web.Request) -> web.Response:
        return web.Response(text=self.contacts.to_csv(), content_type="text/csv")

    async def import_contacts(self, request: web.Request) -> web.Response:
        raw = await upload(request, MAX_IMPORT, "CSV")
        return web.json_response(self.contacts.import_csv(raw))  # it finds the encoding itself
