"""Who may fetch which configuration file: the provisioning server's decisions.

Pure: a request (address, method, file name, headers) in, a `Reply` out;
the clock is injected. `http.create_provisioning_app()` puts it on a socket.

The order of checks, and why:

1. The allow-list and bans (appliance.sip.security.Guard, the SIP edge's own
   defences): anything from outside the LAN networks, or from an address
   banned for guessing, gets `403` with an empty body.
2. The file must name a bound phone. An unknown MAC gets `404` with an empty
   body whatever credentials it sent: it learns nothing, and the phone is
   remembered as pending for the admin to approve.
3. Credentials: the phone's MAC as user name and its binding's own password,
   by HTTP Digest (MD5, what every desk phone speaks) or Basic. No
   credentials yet gets a challenge (`401`) and counts for nothing: that is
   every phone's first request. Wrong ones get `401` and count towards a
   ban. A phone may fetch only its own files: another phone's credentials
   are wrong credentials here.
4. The file is generated fresh from the extension on every fetch, so a
   changed name or secret reaches the phone at its next check.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from appliance.errors import SettingError, SipParseError, ValidationError
from appliance.provisioning.generators import POLY_MASTER, config_files, mac_in_filename
from appliance.provisioning.macs import guess_vendor, normalise_mac
from appliance.provisioning.registry import PhoneBinding, PhoneRegistry
from appliance.provisioning.site import AGENT_KEYS, FeatureKey, PhoneAccount, PhoneSite
from appliance.provisioning.timezones import TimeZone, load_timezone
from appliance.sip.digest import DigestAuth
from appliance.sip.message import parse_auth
from appliance.sip.security import Guard, SecurityPolicy

log = logging.getLogger(__name__)

Clock = Callable[[], float]
ExtensionLookup = Callable[[str], Mapping[str, Any] | None]

# The private ranges an office LAN uses; loopback is not among them.
LAN_NETWORKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
                "fc00::/7", "fe80::/10"]

_COLON_MAC = re.compile(r"^(?:[0-9A-Fa-f]{2}:){6}")
_SAFE_FILENAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass
class ProvisioningSettings:
    """What the provisioning server and the phones' files depend on."""

    box_address: str                 # where phones reach the box (its LAN address)
    http_port: int = 8088
    sip_port: int = 5060
    timezone: str = "UTC"
    language: str = "en"
    voicemail_number: str = "*97"
    allow_networks: list[str] = field(default_factory=lambda: list(LAN_NETWORKS))
    realm: str = "callbox-provisioning"
    allow_basic: bool = True
    ban_failures: int = 5
    ban_window_s: float = 60.0
    ban_time_s: float = 600.0
    fetch_log_size: int = 500
    keys: tuple[FeatureKey, ...] = AGENT_KEYS

    @classmethod
    def from_settings(cls, settings: Any, box_address: str, **overrides: Any) -> ProvisioningSettings:
        """From the box's Settings: box.timezone, sip.port, the security.ban_* values,
        and provisioning.* keys where they are declared."""

        def get(key: str, default: Any) -> Any:
            try:
                return settings[key]
            except (SettingError, KeyError):
                return default

        values = dict(
            box_address=box_address,
            http_port=get("provisioning.port", 8088),
            sip_port=get("sip.port", 5060),
            timezone=get("box.timezone", "UTC"),
            language=get("provisioning.language", "en"),
            voicemail_number=get("provisioning.voicemail_number", "*97"),
            allow_networks=list(get("provisioning.allow_networks", LAN_NETWORKS)),
            allow_basic=get("provisioning.allow_basic", True),
            ban_failures=get("security.ban_failures", 5),
            ban_window_s=get("security.ban_window_s", 60.0),
            ban_time_s=get("security.ban_time_s", 600.0),
        )
        values.update(overrides)
        return cls(**values)

    def base_url(self) -> str:
        host = f"[{self.box_address}]" if ":" in self.box_address else self.box_address
        return f"http://{host}:{self.http_port}/p/"


class FetchOutcome(StrEnum):
    """What became of a request, in the words of the fetch log."""

    SENT = "ok"
    CHALLENGED = "challenged"            # no credentials yet: every phone's first request
    DENIED = "denied"                    # wrong credentials
    UNKNOWN_PHONE = "unknown phone"      # not bound: now pending
    NOT_FOUND = "not found"              # no such file for this phone
    REFUSED = "refused"                  # outside the allowed networks, or banned


@dataclass(frozen=True)
class FetchRecord:
    """One line of the fetch log. Never holds a password."""

    time: float
    ip: str
    mac: str | None
    file: str
    outcome: FetchOutcome
    user_agent: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is FetchOutcome.SENT

    def public(self) -> dict[str, Any]:
        return {"time": self.time, "ip": self.ip, "mac": self.mac, "file": self.file,
                "outcome": self.outcome.value, "ok": self.ok, "user_agent": self.user_agent}


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, headers, body."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""


_EMPTY_404 = Reply(404)
_EMPTY_403 = Reply(403)


def _printable(text: str) -> str:
    return "".join(c for c in text[:200] if c.isprintable())


def _content_type(filename: str) -> str:
    return "application/xml; charset=utf-8" if filename.endswith(".xml") or filename.startswith("cfg") \
        else "text/plain; charset=utf-8"


class ProvisioningService:
    """Answers phones' file requests; keeps the fetch log and feeds the pending list."""

    def __init__(self, registry: PhoneRegistry, settings: ProvisioningSettings,
                 extensions: ExtensionLookup, *, clock: Clock = time.time,
                 timezone: TimeZone | None = None) -> None:
        self.registry = registry
        self.settings = settings
        self.extensions = extensions
        self.clock = clock
        self.site = PhoneSite(
            sip_server=settings.box_address, sip_port=settings.sip_port,
            timezone=timezone or load_timezone(settings.timezone), language=settings.language,
            voicemail_number=settings.voicemail_number, keys=tuple(settings.keys),
            provisioning_url=settings.base_url())
        self.guard = Guard(SecurityPolicy(
            ban_failures=settings.ban_failures, ban_window_s=settings.ban_window_s,
            ban_time_s=settings.ban_time_s, rate_limit_per_s=20.0, rate_burst=100,
            allow_networks=list(settings.allow_networks), scanner_user_agents=()), clock)
        self.digest = DigestAuth(settings.realm, self._password_of, algorithms=("MD5",), clock=clock)
        self.log: deque[FetchRecord] = deque(maxlen=settings.fetch_log_size)

    # ---- the fetch log --------------------------------------------------------

    def fetch_log(self, limit: int = 100, mac: str | None = None) -> list[FetchRecord]:
        """Newest first; only one phone's when `mac` is given."""
        if mac is not None:
            mac = normalise_mac(mac)
        out = [r for r in reversed(self.log) if mac is None or r.mac == mac]
        return out[:max(0, limit)]

    def _record(self, ip: str, mac: str | None, filename: str, outcome: FetchOutcome,
                user_agent: str) -> None:
        self.log.append(FetchRecord(self.clock(), ip, mac, filename, outcome, user_agent[:200]))
        log.info("provisioning %s %s from %s: %s", mac or "-", filename, ip, outcome.value)

    # ---- one request ------------------------------------------------------------

    def fetch(self, ip: str, method: str, filename: str, headers: Mapping[str, str],
              path: str | None = None) -> Reply:
        """Answer GET /p/<filename>. `headers` must look names up case-insensitively."""
        user_agent = _printable(headers.get("User-Agent", "") or "")
        safe = bool(_SAFE_FILENAME.match(filename))
        if not self.guard.check(ip).allowed:
            self._record(ip, None, filename if safe else "(bad name)", FetchOutcome.REFUSED, user_agent)
            return _EMPTY_403
        if not safe:
            # Not echoed anywhere: a name with line breaks could forge log lines.
            self._record(ip, None, "(bad name)", FetchOutcome.NOT_FOUND, user_agent)
            return _EMPTY_404
        mac = mac_in_filename(filename)
        if mac is None and filename.lower() != POLY_MASTER:
            # Shared files (a model's common .cfg, firmware): we have none to give.
            self._record(ip, None, filename, FetchOutcome.NOT_FOUND, user_agent)
            return _EMPTY_404
        if mac is not None and self.registry.binding(mac) is None:
            self.registry.saw_unbound(mac, ip=ip, now=self.clock(), user_agent=user_agent,
                                      filename=filename,
                                      vendor=guess_vendor(mac, user_agent, filename))
            self._record(ip, mac, filename, FetchOutcome.UNKNOWN_PHONE, user_agent)
            return _EMPTY_404

        authorization = headers.get("Authorization")
        if not authorization:
            self._record(ip, mac, filename, FetchOutcome.CHALLENGED, user_agent)
            return self._challenge()
        user, stale = self._authenticate(method, path or f"/p/{filename}", authorization)
        if stale:
            self._record(ip, mac, filename, FetchOutcome.CHALLENGED, user_agent)
            return self._challenge(stale=True)
        if user is None or (mac is not None and user != mac):
            self.guard.auth_failed(ip)
            self._record(ip, mac, filename, FetchOutcome.DENIED, user_agent)
            return self._challenge()
        self.guard.auth_succeeded(ip)
        mac = user
        binding = self.registry.binding(mac)
        body = self._file(binding, filename) if binding else None
        if body is None:
            self._record(ip, mac, filename, FetchOutcome.NOT_FOUND, user_agent)
            return _EMPTY_404
        self._record(ip, mac, filename, FetchOutcome.SENT, user_agent)
        self.registry.mark_fetched(mac, self.clock())
        return Reply(200, (("Content-Type", _content_type(filename.lower())),
                           ("Cache-Control", "no-store")), body)

    def files_for(self, mac: str) -> dict[str, bytes]:
        """Every file a bound phone may fetch (for the admin's preview); {} when unbound."""
        binding = self.registry.binding(mac)
        if binding is None:
            return {}
        account = self._account(binding)
        return config_files(binding.vendor, binding.mac, account, self.site) if account else {}

    # ---- internals --------------------------------------------------------------

    def _account(self, binding: PhoneBinding) -> PhoneAccount | None:
        ext = self.extensions(binding.extension)
        if not ext or "secret" not in ext:
            return None
        return PhoneAccount.from_extension(dict(ext))

    def _file(self, binding: PhoneBinding, filename: str) -> bytes | None:
        account = self._account(binding)
        if account is None:
            return None  # the extension was deleted under the binding
        return config_files(binding.vendor, binding.mac, account, self.site).get(filename.lower())

    def _password_of(self, user: str) -> str | None:
        binding = self.registry.binding(user)
        return binding.password if binding else None

    def _challenge(self, stale: bool = False) -> Reply:
        values = [("WWW-Authenticate", v) for v in self.digest.challenge(stale=stale)]
        if self.settings.allow_basic:
            values.append(("WWW-Authenticate", f'Basic realm="{self.settings.realm}", charset="UTF-8"'))
        return Reply(401, tuple(values))

    def _authenticate(self, method: str, path: str, authorization: str) -> tuple[str | None, bool]:
        """(the MAC the credentials prove, stale) — (None, False) when they prove nothing."""
        scheme, _, rest = authorization.strip().partition(" ")
        if scheme.lower() == "basic" and self.settings.allow_basic:
            return self._basic(rest.strip()), False
        if scheme.lower() != "digest":
            return None, False
        try:
            _, params = parse_auth(authorization)
        except SipParseError:
            return None, False
        # The digest covers the URI the phone says it asked for; it must be this one,
        # or an answer overheard for one file would open another.
        uri = params.get("uri", "")
        if uri != path and not uri.endswith(path):
            return None, False
        result = self.digest.verify(method, authorization)
        if result.stale:
            return None, True
        if not result.ok or result.user is None:
            return None, False
        try:
            return normalise_mac(result.user), False
        except ValidationError:
            return None, False

    def _basic(self, token: str) -> str | None:
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        if _COLON_MAC.match(decoded):
            # A MAC typed with colons: Basic's user name ends at the first colon,
            # but the phone meant all six bytes.
            user, colon, password = decoded[:17], ":", decoded[18:]
        else:
            user, colon, password = decoded.partition(":")
        if not colon:
            return None
        expected = self._password_of(user)
        # Compared even for an unknown user, so timing tells nothing.
        if not hmac.compare_digest((expected or "\0" * 24).encode(), password.encode()) or expected is None:
            return None
        return normalise_mac(user)
