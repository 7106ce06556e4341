"""The media bridge's error: what went wrong with one browser call's media, said plainly."""

from __future__ import annotations

from appliance.errors import CallboxError


class MediaBridgeError(CallboxError):
    """A browser call's media cannot be set up or carried (bad SDP, no common codec, a closed call)."""
