"""Which phone is whose: MAC ↔ extension bindings, and phones waiting for an admin.

Pure: plain data in and out (`to_dict`/`from_dict`); `store.RegistryStore`
keeps it in a file. Time is passed in by the caller.

Each binding has its own provisioning password, made when the phone is
bound: the phone's MAC is its user name for the provisioning server, so a
phone on the LAN can fetch its own file and no other.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import asdict, dataclass, replace
from typing import Any

from appliance.directory import EXTENSION_NUMBER
from appliance.errors import Conflict, NotFound, ValidationError
from appliance.provisioning.macs import Vendor, normalise_mac

_PASSWORD_ALPHABET = string.ascii_letters + string.digits
PASSWORD_LENGTH = 24
MAX_PENDING = 256


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    """A provisioning password: letters and digits only, so it survives any phone's URL field."""
    return "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class PhoneBinding:
    """A phone bound to an extension. `password` is its provisioning password."""

    mac: str
    extension: str
    vendor: Vendor
    model: str = ""
    password: str = ""
    created: float = 0.0
    armed_at: float = 0.0          # when the password was made
    fetched: float | None = None   # the phone's first successful fetch with this password

    def public(self) -> dict[str, Any]:
        """What lists show: everything but the password."""
        return {"mac": self.mac, "extension": self.extension, "vendor": self.vendor.value,
                "model": self.model, "created": self.created, "fetched": self.fetched}

    def __repr__(self) -> str:
        return (f"PhoneBinding(mac={self.mac!r}, extension={self.extension!r}, "
                f"vendor={self.vendor.value!r}, password=<hidden>)")


@dataclass(frozen=True)
class PendingPhone:
    """A phone that asked for its configuration but is bound to no extension yet."""

    mac: str
    vendor: Vendor | None
    ip: str
    first_seen: float
    last_seen: float
    user_agent: str = ""
    filename: str = ""
    requests: int = 1

    def public(self) -> dict[str, Any]:
        out = asdict(self)
        out["vendor"] = self.vendor.value if self.vendor else None
        return out


def _vendor(value: Any) -> Vendor:
    try:
        return Vendor(value)
    except ValueError:
        raise ValidationError(f"vendor: must be one of {', '.join(v.value for v in Vendor)}") from None


def _extension(value: Any) -> str:
    if not isinstance(value, str) or not EXTENSION_NUMBER.match(value):
        raise ValidationError("extension: must be 2 to 8 digits, not starting with 0")
    return value


class PhoneRegistry:
    """Bindings by MAC and pending phones by MAC, at most `max_pending` of them."""

    def __init__(self, max_pending: int = MAX_PENDING) -> None:
        self._bindings: dict[str, PhoneBinding] = {}
        self._pending: dict[str, PendingPhone] = {}
        self.max_pending = max_pending
        self.version = 0  # bumped on every change, so a writer knows when to save

    # ---- bindings -----------------------------------------------------------

    def bind(self, mac: str, extension: str, vendor: Vendor | str, *, model: str = "",
             now: float = 0.0, password: str | None = None) -> PhoneBinding:
        """Bind a phone to an extension; a new password is made unless one is given.

        Binding a MAC again replaces its binding (a phone moved to another
        desk) and keeps its password, so the phone need not be told again.
        """
        mac = normalise_mac(mac)
        extension = _extension(extension)
        vendor = _vendor(vendor)
        if not isinstance(model, str) or len(model) > 64 or not model.isprintable():
            raise ValidationError("model: at most 64 printable characters")
        old = self._bindings.get(mac)
        if password is None:
            password = old.password if old else generate_password()
        elif not password.isalnum() or not 12 <= len(password) <= 64:
            raise ValidationError("password: 12 to 64 letters and digits")
        if old is not None and old.password == password:
            binding = replace(old, extension=extension, vendor=vendor, model=model)
        else:
            binding = PhoneBinding(mac, extension, vendor, model, password,
                                   old.created if old else now, armed_at=now)
        self._bindings[mac] = binding
        self._pending.pop(mac, None)
        self.version += 1
        return binding

    def approve(self, mac: str, extension: str, vendor: Vendor | str | None = None,
                now: float = 0.0) -> PhoneBinding:
        """Bind a pending phone, taking the vendor it was guessed to be unless told."""
        mac = normalise_mac(mac)
        pending = self._pending.get(mac)
        if pending is None:
            raise NotFound(f"no pending phone {mac}")
        vendor = vendor or pending.vendor
        if vendor is None:
            raise ValidationError("vendor: could not be guessed; say which it is")
        return self.bind(mac, extension, vendor, now=now)

    def unbind(self, mac: str) -> PhoneBinding:
        mac = normalise_mac(mac)
        binding = self._bindings.pop(mac, None)
        if binding is None:
            raise NotFound(f"no phone {mac}")
        self.version += 1
        return binding

    def new_password(self, mac: str, now: float = 0.0) -> PhoneBinding:
        """Make a new provisioning password (the old one stops working at once)."""
        binding = self.binding(mac)
        if binding is None:
            raise NotFound(f"no phone {mac}")
        binding = replace(binding, password=generate_password(), armed_at=now, fetched=None)
        self._bindings[binding.mac] = binding
        self.version += 1
        return binding

    def mark_fetched(self, mac: str, now: float) -> None:
        """The phone fetched a file with its password: the phones page shows it as set up."""
        binding = self.binding(mac)
        if binding is not None and binding.fetched is None:
            self._bindings[binding.mac] = replace(binding, fetched=now)
            self.version += 1

    def binding(self, mac: str) -> PhoneBinding | None:
        try:
            return self._bindings.get(normalise_mac(mac))
        except ValidationError:
            return None

    def bindings(self) -> list[PhoneBinding]:
        return sorted(self._bindings.values(), key=lambda b: (b.extension, b.mac))

    def phones_of(self, extension: str) -> list[PhoneBinding]:
        return [b for b in self.bindings() if b.extension == extension]

    def forget_extension(self, extension: str) -> list[PhoneBinding]:
        """Unbind every phone of a deleted extension; they become unknown."""
        gone = self.phones_of(extension)
        for binding in gone:
            del self._bindings[binding.mac]
        if gone:
            self.version += 1
        return gone

    # ---- pending ------------------------------------------------------------

    def saw_unbound(self, mac: str, *, ip: str, now: float, vendor: Vendor | None = None,
                    user_agent: str = "", filename: str = "") -> PendingPhone | None:
        """Remember a phone that asked and is not bound; None if it is bound after all."""
        mac = normalise_mac(mac)
        if mac in self._bindings:
            return None
        old = self._pending.get(mac)
        user_agent = user_agent[:200]
        if old is None:
            pending = PendingPhone(mac, vendor, ip, now, now, user_agent, filename[:100])
            self._pending[mac] = pending
            while len(self._pending) > self.max_pending:
                # The one not heard from for longest goes first.
                stalest = min(self._pending.values(), key=lambda p: p.last_seen)
                del self._pending[stalest.mac]
            # Only a new phone counts as a change to save: a pending phone that
            # polls every minute must not rewrite the file on the SD card each time.
            self.version += 1
        else:
            pending = replace(old, vendor=vendor or old.vendor, ip=ip, last_seen=now,
                              user_agent=user_agent or old.user_agent,
                              filename=filename[:100] or old.filename, requests=old.requests + 1)
            self._pending[mac] = pending
        return pending

    def pending(self) -> list[PendingPhone]:
        return sorted(self._pending.values(), key=lambda p: p.first_seen)

    def dismiss(self, mac: str) -> PendingPhone:
        """Forget a pending phone (it comes back if it asks again)."""
        pending = self._pending.pop(normalise_mac(mac), None)
        if pending is None:
            raise NotFound(f"no pending phone {mac}")
        self.version += 1
        return pending

    # ---- persistence --------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "bindings": [asdict(b) | {"vendor": b.vendor.value} for b in self.bindings()],
            "pending": [p.public() for p in self.pending()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], max_pending: int = MAX_PENDING) -> PhoneRegistry:
        """Rebuild a registry; ValidationError on anything malformed (nothing half-loaded)."""
        if not isinstance(data, dict):
            raise ValidationError("phones: must be a JSON object")
        registry = cls(max_pending)
        try:
            for b in data.get("bindings", []):
                if b["mac"] in registry._bindings:
                    raise Conflict(f"phone {b['mac']} is bound twice")
                binding = registry.bind(b["mac"], b["extension"], b["vendor"], model=b.get("model", ""),
                                        now=float(b.get("created", 0.0)), password=b["password"])
                fetched = b.get("fetched")
                registry._bindings[binding.mac] = replace(
                    binding, armed_at=float(b.get("armed_at", binding.created)),
                    fetched=None if fetched is None else float(fetched))
            for p in data.get("pending", []):
                mac = normalise_mac(p["mac"])
                registry._pending[mac] = PendingPhone(
                    mac, Vendor(p["vendor"]) if p.get("vendor") else None, str(p["ip"]),
                    float(p["first_seen"]), float(p["last_seen"]), str(p.get("user_agent", "")),
                    str(p.get("filename", "")), int(p.get("requests", 1)))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise ValidationError(f"phones: malformed entry ({e})") from None
        registry.version = 0
        return registry
