"""Prompts: what the box says to callers, spoken from text or uploaded as a recording."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from appliance import prompts
from appliance.control.common import MAX_UPLOAD, Route, body, upload
from appliance.errors import ValidationError

if TYPE_CHECKING:
    from appliance.events import EventBus

TITLE = "Prompts"

ROUTES = (
    Route("GET", "/api/prompts", "list_prompts", '`{"prompts": [{name, language, path, seconds, rate, source}]}`'),
    Route("PUT", "/api/prompts/{lang}/{name}", "put_prompt",
          'JSON `{"text": ...}` is spoken (espeak-ng); any other body is an uploaded recording in any common '
          "format (converted to 8 kHz mono); a broken file is `400` and the old prompt stays"),
)


class PromptRoutes:
    def __init__(self, data_dir: Path, events: "EventBus") -> None:
        self.directory = data_dir / "prompts"
        self.events = events

    async def list_prompts(self, request: web.Request) -> web.Response:
        return web.json_response({"prompts": [p.to_dict() for p in prompts.list_prompts(self.directory)]})

    async def put_prompt(self, request: web.Request) -> web.Response:
        """JSON {"text": ...} is spoken with espeak-ng; any other body is an uploaded recording."""
        lang = request.match_info["lang"]
        dest = prompts.prompt_dest(self.directory, request.match_info["name"], lang)
        loop = asyncio.get_running_loop()
        if request.content_type == "application/json":
            data = await body(request)
            if not isinstance(data, dict) or not isinstance(data.get("text"), str):
                raise ValidationError("text: required")
            info = await loop.run_in_executor(None, prompts.synthesize, data["text"], lang, dest)
        else:
            data = await upload(request, MAX_UPLOAD, "prompt")
            info = await loop.run_in_executor(None, prompts.convert_upload, data, dest)
        self.events.publish("prompt", name=info.name, language=info.language, source=info.source)
        return web.json_response(info.to_dict(), status=201)
