"""Desk phones in the page's words: makers, MAC addresses as printed on the label, the
provisioning URL with a phone's own credentials, and the fetch log in words. No I/O."""

from __future__ import annotations

import re
from urllib.parse import quote

from web.i18n import _

VENDORS = ("yealink", "grandstream", "snom", "poly", "fanvil")
VENDOR_NAMES = {"yealink": "Yealink", "grandstream": "Grandstream", "snom": "Snom",
                "poly": "Poly", "fanvil": "Fanvil"}
# What a MAC may look like in a path: hex digits and the usual separators; the core normalises.
MAC_TEXT = re.compile(r"^[0-9A-Fa-f:.\-]{12,17}$")


def display_mac(mac: str) -> str:
    """00:15:65:AB:CD:EF, as printed on the phone's label."""
    plain = re.sub(r"[^0-9A-Fa-f]", "", mac or "").upper()
    return ":".join(plain[i:i + 2] for i in range(0, len(plain), 2)) if len(plain) == 12 else mac


def credentials_url(base_url: str, mac: str, password: str) -> str:
    """The provisioning URL with the phone's own user (its MAC) and password in it."""
    scheme, sep, rest = base_url.partition("://")
    if not sep:
        return base_url
    return f"{scheme}://{mac}:{quote(password, safe='')}@{rest}"


def outcome_text(outcome: str) -> str:
    """A line of the fetch log in words (the core's words are its FetchOutcome values)."""
    return {"ok": _("sent"), "challenged": _("asked for the password"),
            "denied": _("wrong password"), "unknown phone": _("unknown phone, now waiting"),
            "not found": _("no such file"), "refused": _("refused (address not allowed)")
            }.get(str(outcome), str(outcome))
