"""Voicemail: boxes with their counts and settings, messages, and greetings."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from appliance.control.common import MAX_UPLOAD, Route, body, no_content, upload
from appliance.control.services import Extensions, Mailboxes, Users
from appliance.errors import NotFound, ValidationError
from appliance.logic import voicemail as vm

if TYPE_CHECKING:
    from appliance.numbers_runtime import Numbers
    from appliance.voicemail_store import VoicemailStore

TITLE = "Voicemail"

GREETINGS = ("unavailable", "busy", "temporary")

ROUTES = (
    Route("GET", "/api/voicemail", "list_voicemail", "boxes with `new`/`old` counts (never the PIN)"),
    Route("GET", "/api/voicemail/{box}", "box_messages", "its messages"),
    Route("PATCH", "/api/voicemail/{box}", "patch_box",
          "its settings (`pin`, `email`, `max_message_s`, `max_messages`, `attach_audio`, `delete_after_email`, "
          "`notify_unsolicited`); a new shared box takes a number of its own (`409` when it is taken)"),
    Route("GET", "/api/voicemail/{box}/{id}.wav", "message_audio",
          "the message (each listen is in the audit log)"),
    Route("DELETE", "/api/voicemail/{box}/{id}", "delete_message", "delete a message (phones are told by MWI)"),
    Route("PUT", "/api/voicemail/{box}/greeting/{kind}", "upload_greeting",
          "upload a greeting in any common audio format (broken files `400`, the old greeting stays)",
          shown="/api/voicemail/<box>/greeting/<unavailable\\|busy\\|temporary>"),
)


def _public(config: vm.BoxConfig) -> dict:
    d = config.to_dict()
    d.pop("pin_hash", None)
    return d


class VoicemailRoutes:
    def __init__(self, voicemail: "VoicemailStore", mailboxes: Mailboxes, extensions: Extensions,
                 numbers: "Numbers", users: Users, data_dir: Path) -> None:
        self.store = voicemail
        self.mailboxes = mailboxes
        self.extensions = extensions
        self.numbers = numbers
        self.users = users
        self.data_dir = data_dir

    def _counts(self, box: str) -> tuple[int, int]:
        try:
            c = self.store.counts(box)
        except (NotFound, ValidationError, OSError):
            return 0, 0
        return c.new, c.old

    async def list_voicemail(self, request: web.Request) -> web.Response:
        boxes = []
        for config in self.store.boxes():
            new, old = self._counts(config.number)
            boxes.append(_public(config) | {"new": new, "old": old})
        return web.json_response({"boxes": boxes})

    async def box_messages(self, request: web.Request) -> web.Response:
        box = request.match_info["box"]
        self.store.box(box)
        return web.json_response({"messages": [m.to_dict() for m in self.store.messages(box)]})

    async def patch_box(self, request: web.Request) -> web.Response:
        """Change a box: pin (hashed on the way in), email, limits, notify_unsolicited ..."""
        data = await body(request)
        if not isinstance(data, dict) or "pin_hash" in data or "number" in data:
            raise ValidationError("body: an object of box settings (pin, email, max_message_s, ...)")
        number = request.match_info["box"]
        if number not in {b.number for b in self.store.boxes()} and self.extensions.get_or_none(number) is None \
                and number not in self.numbers.queue_names():
            self.numbers.check_free(number, "box")  # a new shared box takes a number of its own
        config = self.mailboxes.box(number).to_dict()
        new = vm.BoxConfig.from_dict(config | data)
        self.store.save_box(new)
        return web.json_response(_public(new))

    async def message_audio(self, request: web.Request) -> web.StreamResponse:
        box, mid = request.match_info["box"], request.match_info["id"]
        path = self.store.audio_path(box, mid)
        self.users.audit("api", "voicemail_listened", f"{box}/{mid}")
        return web.FileResponse(path, headers={"Content-Type": "audio/wav"})

    async def delete_message(self, request: web.Request) -> web.Response:
        self.store.delete(request.match_info["box"], request.match_info["id"])
        self.mailboxes.changed(request.match_info["box"])
        return no_content()

    async def upload_greeting(self, request: web.Request) -> web.Response:
        """A voicemail greeting (unavailable, busy, temporary) uploaded as audio in any common format."""
        from appliance import prompts
        box, kind = request.match_info["box"], request.match_info["kind"]
        if kind not in GREETINGS:
            raise ValidationError("greeting: unavailable, busy or temporary")
        self.mailboxes.box(box)
        data = await upload(request, MAX_UPLOAD, "greeting")
        tmp = self.data_dir / "run" / f"greeting-{box}-{kind}.wav"
        info = await asyncio.get_running_loop().run_in_executor(None, prompts.convert_upload, data, tmp)
        self.store.set_greeting(box, kind, tmp)
        return web.json_response({"box": box, "kind": kind, "seconds": info.seconds}, status=201)
