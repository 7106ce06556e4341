"""The edge's signature on what it forwards to the engine: which extension (or trunk) it authenticated.

The key is made by the core at each start and handed to its engine workers in a 0600 file; a worker
takes an INVITE only with a valid signature, so a forged source address on the LAN gets nothing.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Callbox-Auth"


def sign_identity(key: bytes, call_id: str, ext: str, now: float) -> str:
    """A header value that proves to the engine which extension the edge authenticated."""
    ts = str(int(now))
    mac = hmac.new(key, f"{call_id}|{ext}|{ts}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{ext};ts={ts};mac={mac}"


def verify_identity(key: bytes, call_id: str, value: str, now: float, max_age: float = 300) -> str | None:
    """The extension named in an X-Callbox-Auth value, or None if it is forged or old."""
    try:
        ext, ts_part, mac_part = value.split(";")
        ts = ts_part.removeprefix("ts=")
        mac = mac_part.removeprefix("mac=")
        if abs(now - int(ts)) > max_age:
            return None
    except ValueError:
        return None
    good = hmac.new(key, f"{call_id}|{ext}|{ts}".encode(), hashlib.sha256).hexdigest()[:32]
    return ext if hmac.compare_digest(good, mac) else None
