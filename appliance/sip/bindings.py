"""What the registrar reads and keeps (RFC 3261 §10.3): a REGISTER reduced to what it needs,
the bindings of an extension to the contacts where it can be reached, and what to answer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from appliance.errors import ValidationError
from appliance.sip.grammar import uri_key
from appliance.sip.source import Source

__all__ = ["ContactRequest", "RegisterRequest", "Binding", "RegisterResult", "contact_key"]


@dataclass
class ContactRequest:
    """One Contact of a REGISTER, as the parser found it."""

    uri: str
    expires: int | None
    q: float | None
    raw: str
    star: bool = False


@dataclass
class RegisterRequest:
    """A REGISTER reduced to what the registrar needs."""

    aor: str
    call_id: str
    cseq: int
    contacts: list[ContactRequest]
    expires_header: int | None
    source: Source
    user_agent: str = ""
    instance: str | None = None
    reg_id: str | None = None


@dataclass(slots=True)  # one per registered phone, kept for as long as it stays registered
class Binding:
    """One contact at which an AOR (an extension) can be reached, until it expires."""

    aor: str
    contact: str
    expires_at: float
    call_id: str
    cseq: int
    q: float | None
    source: Source
    user_agent: str
    registered_at: float
    instance: str | None = None
    reg_id: str | None = None

    def expires_in(self, now: float) -> int:
        """Whole seconds left, for the `;expires=` of a 200; 0 once expired."""
        left = self.expires_at - now
        if left <= 0:
            return 0
        # Rounding noise of `now + expires - now` must not turn 3600 into 3601.
        return max(1, math.ceil(left - 1e-6))

    def to_dict(self) -> dict[str, Any]:
        return {
            "aor": self.aor,
            "contact": self.contact,
            "expires_at": self.expires_at,
            "call_id": self.call_id,
            "cseq": self.cseq,
            "q": self.q,
            "source": self.source.to_dict(),
            "user_agent": self.user_agent,
            "registered_at": self.registered_at,
            "instance": self.instance,
            "reg_id": self.reg_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Binding:
        if not isinstance(data, dict):
            raise ValidationError(f"binding: expected an object, got {type(data).__name__}")
        try:
            binding = cls(
                aor=data["aor"],
                contact=data["contact"],
                expires_at=data["expires_at"],
                call_id=data["call_id"],
                cseq=data["cseq"],
                q=data.get("q"),
                source=Source.from_dict(data["source"]),
                user_agent=data.get("user_agent", ""),
                registered_at=data.get("registered_at", data["expires_at"]),
                instance=data.get("instance"),
                reg_id=data.get("reg_id"),
            )
        except KeyError as exc:
            raise ValidationError(f"binding: missing {exc}") from None
        for name in ("aor", "contact", "call_id", "user_agent"):
            if not isinstance(getattr(binding, name), str):
                raise ValidationError(f"binding: {name} must be text")
        for name in ("expires_at", "registered_at"):
            value = getattr(binding, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValidationError(f"binding: {name} must be a number")
        if isinstance(binding.cseq, bool) or not isinstance(binding.cseq, int):
            raise ValidationError("binding: cseq must be an integer")
        if binding.q is not None and (
            isinstance(binding.q, bool) or not isinstance(binding.q, (int, float))
        ):
            raise ValidationError("binding: q must be a number")
        return binding


@dataclass
class RegisterResult:
    """What to answer: status, reason, and the AOR's bindings for a 200."""

    status: int
    reason: str
    bindings: list[Binding] = field(default_factory=list)
    min_expires: int | None = None
    changed: bool = False

    @property
    def ok(self) -> bool:
        return self.status == 200


def contact_key(uri: str) -> str:
    """The form under which two Contact URIs count as the same binding."""
    text = uri.strip()
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    return uri_key(text)
