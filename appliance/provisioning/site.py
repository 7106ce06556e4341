"""What the box tells every phone, and the one account each phone carries.

Pure values; the core builds them from its settings and the extension.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.provisioning.timezones import TimeZone, parse_posix_tz


@dataclass(frozen=True)
class FeatureKey:
    """A programmable key that dials a feature code, e.g. the agent's break key."""

    label: str
    code: str


# The agent's keys: the codes the call logic answers (docs/provisioning.md).
AGENT_KEYS: tuple[FeatureKey, ...] = (
    FeatureKey("Login/Logout", "*45"),
    FeatureKey("Break", "*46"),
    FeatureKey("Available", "*47"),
)

LANGUAGES = ("en", "de", "pl", "fr", "es", "it", "zh")


@dataclass(frozen=True)
class PhoneSite:
    """The box as phones must see it: where to register, the time, the language, the keys."""

    sip_server: str
    sip_port: int = 5060
    timezone: TimeZone = field(default_factory=lambda: parse_posix_tz("UTC", "UTC0"))
    language: str = "en"
    voicemail_number: str = "*97"
    keys: tuple[FeatureKey, ...] = AGENT_KEYS
    provisioning_url: str = ""

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            object.__setattr__(self, "language", "en")


@dataclass(frozen=True)
class PhoneAccount:
    """One extension as a phone needs it. `secret` is the SIP password: never log it."""

    number: str
    name: str
    secret: str

    @classmethod
    def from_extension(cls, ext: dict[str, Any]) -> PhoneAccount:
        return cls(number=str(ext["number"]), name=str(ext.get("name") or ext["number"]),
                   secret=str(ext["secret"]))

    def __repr__(self) -> str:
        return f"PhoneAccount(number={self.number!r}, name={self.name!r}, secret=<hidden>)"
