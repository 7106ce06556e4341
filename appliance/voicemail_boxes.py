"""The voicemail boxes as the rest of the box meets them: the box of an extension, queue or shared
number (made on first use), its counts for the phones' message lamp, and a change told to the event
stream and to the phones (MWI)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appliance.errors import NotFound, ValidationError
from appliance.logic import voicemail as vm
from appliance.ports import FindExtension, Publish
from appliance.voicemail_store import VoicemailStore


class VoicemailBoxes:
    def __init__(self, *, store: VoicemailStore, extension: FindExtension, publish: Publish,
                 notify_mwi: Callable[..., Any]):
        self.store, self.extension, self.publish, self.notify_mwi = store, extension, publish, notify_mwi

    def box(self, number: str) -> vm.BoxConfig:
        """The box of an extension, queue or shared number; made on first use."""
        try:
            return self.store.box(number)
        except NotFound:
            ext = self.extension(number)
            config = vm.BoxConfig(number=number, owner=ext["name"] if ext else number)
            self.store.save_box(config)
            return config

    def counts(self, box: str) -> tuple[int, int]:
        """(new, old) messages, for the message lamp; (0, 0) when the box cannot be read."""
        try:
            c = self.store.counts(box)
        except (NotFound, ValidationError, OSError):
            return 0, 0
        return c.new, c.old

    def changed(self, box: str) -> None:
        """A box's messages changed: the event stream and the phones' lamps follow."""
        self.publish("voicemail", box=box, action="changed")
        self.notify_mwi(box, unsolicited=self.box(box).notify_unsolicited)
