"""Call events to a CRM: each one POSTed as JSON to the URL of the crm.webhook_url setting."""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.request

from appliance.ports import Setting

log = logging.getLogger("callbox.core")

KINDS = {"call_record", "queue", "agent", "voicemail", "sms", "campaign_attempt", "campaign_result", "do_not_call"}


async def post_events(events, setting: Setting) -> None:
    """Runs until cancelled; a CRM that is down loses events, never calls. `events` is the event bus."""
    sub = events.subscribe(KINDS)
    loop = asyncio.get_running_loop()
    try:
        while True:
            event = await sub.queue.get()
            url = setting("crm.webhook_url")
            if not url:
                continue
            body = json.dumps({"event": event.kind, "time": event.time, **event.data}).encode()

            def post() -> None:
                req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json",
                                                                      "User-Agent": "Callbox"})
                urllib.request.urlopen(req, timeout=5).read()

            try:
                await loop.run_in_executor(None, post)
            except Exception as e:
                log.warning("CRM webhook %s: %s", url, e)
    finally:
        events.unsubscribe(sub)
