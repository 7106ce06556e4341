"""Voicemail to email: a new message is told to the box's phones, the event stream and its owner's inbox.

The mail goes through the mailer's spool (`appliance.mailer`), which retries on
its own schedule: an SMTP server that is down delays a message, never drops it.
Once sent, the message is marked emailed in the voicemail store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.mailer import Mailer, SmtpSettings
from appliance.ports import Clock, Mailbox, Publish, Setting

log = logging.getLogger("callbox.voicemail")

DELIVER_EVERY_S = 5.0


def mailer_from_settings(setting: Setting, spool: Path, clock: Clock) -> Mailer | None:
    """The mailer of the smtp.* settings, or None when no SMTP server is set."""
    if not setting("smtp.host"):
        return None
    return Mailer(SmtpSettings(host=setting("smtp.host"), port=setting("smtp.port"), starttls=setting("smtp.starttls"),
                               username=setting("smtp.username"), password=setting("smtp.password"),
                               sender=setting("smtp.sender") or f"callbox@{setting('sip.realm')}"),
                  spool, clock)


class VoicemailMail:
    """`box(number)` is the box's settings (made on first use); `notify_mwi(box, unsolicited=)` lights the
    message lamps of the box's phones."""

    def __init__(self, *, mailer: Mailer | None, mailbox: Mailbox, box: Callable[[str], Any], publish: Publish,
                 notify_mwi: Callable[..., Any]):
        self.mailer = mailer
        self.mailbox = mailbox
        self.box = box
        self.publish = publish
        self.notify_mwi = notify_mwi

    def deposited(self, box: str, message: Any) -> None:
        """A caller left `message` in `box`."""
        config = self.box(box)
        info = message.to_dict()
        self.publish("voicemail", box=box, action="new", id=info.get("id"), caller=info.get("caller"),
                     duration_s=info.get("duration_s"))
        self.notify_mwi(box, unsolicited=config.notify_unsolicited)
        if config.email and self.mailer is not None:
            path = self.mailbox.audio_path(box, info["id"]) if config.attach_audio else None
            self.mailer.queue(config.email, f"Voicemail from {info.get('caller') or 'unknown'} for {box}",
                              f"A new voicemail message for box {box} from {info.get('caller')} "
                              f"({info.get('duration_s')} s).", path, ref=f"{box}/{info['id']}")

    async def deliver(self) -> None:
        """Voicemail emails: sent off the loop, retried by the mailer's own schedule, never dropped."""
        while self.mailer is not None:
            await asyncio.sleep(DELIVER_EVERY_S)
            sent = await asyncio.get_running_loop().run_in_executor(None, self.mailer.deliver_due)
            for status in sent or []:
                self.sent(status)

    def sent(self, status: Any) -> None:
        ref = getattr(status, "ref", "") or (status.get("ref") if isinstance(status, dict) else "")
        state = getattr(status, "state", None) or (status.get("state") if isinstance(status, dict) else None)
        if ref and str(state).lower() == "sent":
            box, _, message_id = ref.partition("/")
            self.mailbox.mark_emailed(box, message_id)
