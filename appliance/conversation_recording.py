"""Recording conversations: by policy when two parties are bridged, on demand (*1 in a call, or the
API), never when the caller declined, and never when the data disk is nearly full."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.errors import Conflict, NotAllowed, NotFound
from appliance.ports import RecordingPolicy

log = logging.getLogger("callbox.switchboard")

# In a call, *1 starts recording it (on demand).
RECORD_CODE_DIGIT = "1"

# (owner of the conversation, the worker it is in) for a call id; None when there is no such call.
FindConversation = Callable[[str], "tuple[Any, Any] | None"]
# The legs to record of a conversation: [kept leg, answered leg] (None where not connected yet).
ConnectedLegs = Callable[[Any], "list[str | None]"]


class ConversationRecorder:
    def __init__(self, *, policy: RecordingPolicy, send: Callable[[Any, str, dict[str, Any]], None],
                 find: FindConversation, connected_legs: ConnectedLegs, data_dir: Path):
        self.policy, self.send, self.find, self.connected_legs = policy, send, find, connected_legs
        self.data_dir = data_dir
        self._last_digit: dict[tuple[str, str], str] = {}   # (call id, leg) -> the digit pressed before

    def record_code(self, owner: Any, leg: str, digit: str) -> bool:
        """*1 pressed during a conversation starts its recording (on demand)."""
        key = (owner.call_id, leg)
        previous, self._last_digit[key] = self._last_digit.get(key, ""), digit
        if previous == "*" and digit == RECORD_CODE_DIGIT:
            try:
                self.record_on_demand(owner.call_id)
            except Exception as e:  # declined, disk full, not connected: nothing to start
                log.info("recording on demand refused for %s: %s", owner.call_id, e)
            return True
        return False

    def forget(self, call_id: str) -> None:
        """The call is over: its digits are no longer a code in the making."""
        for key in [k for k in self._last_digit if k[0] == call_id]:
            del self._last_digit[key]

    def record_on_demand(self, call_id: str) -> dict[str, Any]:
        """Start recording a conversation now (an agent's or the API's choice)."""
        found = self.find(call_id)
        if found is None:
            raise NotFound(f"no call {call_id} in progress")
        owner, w = found
        if getattr(owner, "recording", None):
            return {"call_id": call_id, "recording": owner.recording}
        if getattr(owner, "declined", False):
            raise NotAllowed("the caller declined recording")
        legs = self.connected_legs(owner)
        if not all(legs):
            raise Conflict(f"call {call_id} is not connected yet")
        path = self.policy.path_for(call_id)
        if path is None:
            raise Conflict("the data disk is nearly full: recording is stopped")
        owner.recording = str(path)
        self.send(w, "record_start", {"legs": legs, "file": str(path)})
        return {"call_id": call_id, "recording": str(path.relative_to(self.data_dir))}

    def start(self, w: Any, owner: Any, legs: list[str], extensions: list[str], queue: str | None) -> None:
        """Record a conversation when the policy asks for it and the disk has room."""
        if getattr(owner, "declined", False) or \
                not self.policy.wanted(extensions, queue, str(getattr(owner, "notice_mode", "never"))):
            return  # a caller who declined is never recorded
        path = self.policy.path_for(owner.call_id)
        if path is None:
            return
        owner.recording = str(path)
        self.send(w, "record_start", {"legs": legs, "file": str(path)})
