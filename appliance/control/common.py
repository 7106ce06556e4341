"""What every area of the control API shares: the route declaration, the bearer token check,
reading JSON bodies and uploads, and errors as JSON.

Every request body is at most MAX_BODY (aiohttp's client_max_size), except on the routes
that take a file, which read it through `upload()` with their own cap.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from aiohttp import web

from appliance.errors import CallboxError, Conflict, NotFound, SettingError, ValidationError

MAX_BODY = 1 << 20
MAX_UPLOAD = 32 << 20  # a 10-minute prompt as 44.1 kHz stereo WAV is ~100 MB; compressed is less
MAX_IMPORT = 4 << 20  # a contacts CSV of some ten thousand contacts (the web page's cap too)
MAX_BACKUP = 256 << 20  # a backup with recordings and voicemail (the web page's cap too)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One route of the API: `handler` names a method of its area; `doc` is its row in docs/api.md.

    `shown` is the path as the docs write it when it says more than the pattern (a query, the
    values a placeholder takes); `doc=""` keeps a route out of the docs (an alias of the row above).
    """
    method: str
    path: str
    handler: str
    doc: str
    shown: str = ""


def error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def no_content() -> web.Response:
    return web.Response(status=204)


def guard(api_token: Callable[[], str]):
    """Token check and error mapping: bad input is a 4xx with a reason, never a 500."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        auth = request.headers.get("Authorization", "")
        token = api_token()
        if not (auth.startswith("Bearer ") and hmac.compare_digest(auth[7:].encode(), token.encode())):
            return error(401, "missing or wrong bearer token")
        try:
            return await handler(request)
        except web.HTTPException as e:
            if e.status >= 400:
                return error(e.status, e.reason)
            raise
        except NotFound as e:
            return error(404, str(e))
        except Conflict as e:
            return error(409, str(e))
        except (ValidationError, SettingError) as e:
            return error(400, str(e))
        except CallboxError as e:
            return error(400, str(e))

    return middleware


async def body(request: web.Request) -> Any:
    """The request's JSON body (null when empty), refused past MAX_BODY."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise ValidationError("body: too large")
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise ValidationError("body: too large")
    try:
        return json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as e:
        raise ValidationError(f"body: not valid JSON ({e})") from None


async def upload(request: web.Request, limit: int, what: str) -> bytes:
    """A file sent as the request body, refused with 413 past `limit` bytes (before or while reading)."""
    too_big = web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length or limit + 1,
                                            reason=f"{what}: too large (at most {limit >> 20} MB)")
    if request.content_length is not None and request.content_length > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)

