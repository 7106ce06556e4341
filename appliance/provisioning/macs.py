"""MAC addresses as phones and admins write them, and what a MAC tells us.

Pure. The canonical form is 12 lowercase hex digits without separators: the
form Yealink, Grandstream, Poly and Fanvil put in their file names.
"""

from __future__ import annotations

import re
from enum import StrEnum

from appliance.errors import ValidationError

_SEPARATORS = re.compile(r"[\s:.\-]")
_HEX12 = re.compile(r"^[0-9a-f]{12}$")
_GRANDSTREAM_FILE = re.compile(r"^cfg[0-9a-f]{12}(\.xml)?$")


class Vendor(StrEnum):
    """The phone makers whose configuration files the box writes."""

    YEALINK = "yealink"
    GRANDSTREAM = "grandstream"
    SNOM = "snom"
    POLY = "poly"
    FANVIL = "fanvil"


def normalise_mac(text: str) -> str:
    """'00:15:65:AB:CD:EF', '0015.65ab.cdef', '00-15-65-ab-cd-ef' → '001565abcdef'."""
    if not isinstance(text, str):
        raise ValidationError("mac: must be text")
    mac = _SEPARATORS.sub("", text).lower()
    if not _HEX12.match(mac):
        raise ValidationError("mac: must be 12 hexadecimal digits (separators : - . allowed)")
    if mac in ("000000000000", "ffffffffffff"):
        raise ValidationError("mac: not the address of a phone")
    if int(mac[1], 16) & 1:
        # The group bit: a multicast address never belongs to one phone.
        raise ValidationError("mac: a multicast address, not the address of a phone")
    return mac


def is_mac(text: str) -> bool:
    try:
        normalise_mac(text)
    except ValidationError:
        return False
    return True


def display_mac(mac: str) -> str:
    """The colon form people read on a phone's label: 00:15:65:AB:CD:EF."""
    mac = normalise_mac(mac)
    return ":".join(mac[i:i + 2] for i in range(0, 12, 2)).upper()


# Organisationally unique identifiers (the first 3 bytes) the makers ship with.
# Only a guess for the pending list: phones are rebadged and OUIs bought.
_OUIS: dict[str, Vendor] = {
    "001565": Vendor.YEALINK, "805ec0": Vendor.YEALINK, "249ad8": Vendor.YEALINK,
    "44dbd2": Vendor.YEALINK, "c4fc22": Vendor.YEALINK,
    "000b82": Vendor.GRANDSTREAM, "c074ad": Vendor.GRANDSTREAM, "ec74d7": Vendor.GRANDSTREAM,
    "000413": Vendor.SNOM,
    "0004f2": Vendor.POLY, "64167f": Vendor.POLY, "482567": Vendor.POLY, "00e0db": Vendor.POLY,
    "0c383e": Vendor.FANVIL, "0ca36c": Vendor.FANVIL,
}

_AGENT_WORDS: tuple[tuple[str, Vendor], ...] = (
    ("yealink", Vendor.YEALINK),
    ("grandstream", Vendor.GRANDSTREAM),
    ("snom", Vendor.SNOM),
    ("polycom", Vendor.POLY),
    ("poly", Vendor.POLY),
    ("fanvil", Vendor.FANVIL),
)


def guess_vendor(mac: str | None = None, user_agent: str | None = None,
                 filename: str | None = None) -> Vendor | None:
    """The maker a request most likely came from: User-Agent, then file name, then OUI."""
    agent = (user_agent or "").lower()
    for word, vendor in _AGENT_WORDS:
        if word in agent:
            return vendor
    name = (filename or "").lower()
    if _GRANDSTREAM_FILE.match(name):
        return Vendor.GRANDSTREAM
    if name.endswith(".xml"):
        return Vendor.SNOM
    if name.endswith("-callbox.cfg") or name == "000000000000.cfg":
        return Vendor.POLY
    if mac:
        try:
            return _OUIS.get(normalise_mac(mac)[:6])
        except ValidationError:
            return None
    return None
