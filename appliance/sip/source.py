"""Where a SIP request came from: the transport and the far end's address."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.errors import ValidationError

__all__ = ["Source"]


@dataclass(frozen=True)
class Source:
    """Where a request came from: the transport and the far end's address."""

    transport: str
    ip: str
    port: int

    def to_dict(self) -> dict[str, Any]:
        return {"transport": self.transport, "ip": self.ip, "port": self.port}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Source:
        try:
            transport, ip, port = data["transport"], data["ip"], data["port"]
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"source: missing {exc}") from None
        if not isinstance(transport, str) or not isinstance(ip, str):
            raise ValidationError("source: transport and ip must be text")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ValidationError(f"source: bad port {port!r}")
        return cls(transport, ip, port)
