"""Every setting of the box, declared once.

A declaration carries the key, type, default, help text, validator and
whether a change needs a restart. Validation, defaults, `docs/settings.md`
and the admin forms are all built from this one table (the Pi-hole FTL
habit), so a setting cannot be documented one way and behave another.
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from appliance.errors import SettingError
from appliance.hw.panel import DEFAULT_PINS, validate_pin_map

Validator = Callable[[Any], str | None]  # returns the reason it is invalid, or None


@dataclass(frozen=True)
class Setting:
    key: str
    type: type
    default: Any
    help: str
    validator: Validator | None = None
    restart: bool = False
    choices: tuple[str, ...] | None = None
    secret: bool = False

    @property
    def group(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def type_name(self) -> str:
        if self.type is list:
            return "list"
        return self.type.__name__

    def coerce(self, value: Any) -> Any:
        """Turn a value from JSON or a form into this setting's type, or raise."""
        t = self.type
        try:
            if t is bool:
                if isinstance(value, bool):
                    return value
                if isinstance(value, str) and value.lower() in ("true", "yes", "on", "1"):
                    return True
                if isinstance(value, str) and value.lower() in ("false", "no", "off", "0", ""):
                    return False
                if isinstance(value, int) and value in (0, 1):
                    return bool(value)
                raise ValueError
            if t is int:
                if isinstance(value, bool):
                    raise ValueError
                if isinstance(value, float) and not value.is_integer():
                    raise ValueError
                return int(value)
            if t is float:
                if isinstance(value, bool):
                    raise ValueError
                return float(value)
            if t is str:
                if not isinstance(value, str):
                    raise ValueError
                return value
            if t is list:
                if isinstance(value, str):
                    return [v.strip() for v in value.split(",") if v.strip()]
                if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                    return list(value)
                raise ValueError
            if t is dict:
                if isinstance(value, dict):
                    return dict(value)
                raise ValueError
        except (TypeError, ValueError):
            pass
        raise SettingError(self.key, f"must be of type {self.type_name}, got {value!r}")

    def validate(self, value: Any) -> Any:
        value = self.coerce(value)
        if self.choices is not None and value not in self.choices:
            raise SettingError(self.key, f"must be one of {', '.join(self.choices)}")
        if self.validator is not None:
            reason = self.validator(value)
            if reason:
                raise SettingError(self.key, reason)
        return value


# Validators: each returns None when fine, else the reason in the user's words.

def between(lo: float, hi: float) -> Validator:
    def check(v: float) -> str | None:
        return None if lo <= v <= hi else f"must be between {lo} and {hi}"
    return check


def port(v: int) -> str | None:
    return None if 0 <= v <= 65535 else "must be between 0 and 65535 (0 picks a free port)"


def ip_address(v: str) -> str | None:
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return f"{v!r} is not an IP address"
    return None


def optional_ip(v: str) -> str | None:
    return None if v == "" else ip_address(v)


def networks(v: list[str]) -> str | None:
    for item in v:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            return f"{item!r} is not a network (use CIDR like 192.168.1.0/24)"
    return None


_HOSTPORT = re.compile(r"^[A-Za-z0-9.\-\[\]:]+:\d{1,5}$")


def optional_hostport(v: str) -> str | None:
    if v == "" or _HOSTPORT.match(v):
        return None
    return "must be host:port, or empty"


def non_empty(v: str) -> str | None:
    return None if v.strip() else "must not be empty"


def bcm_pin_map(v: dict) -> str | None:
    try:
        validate_pin_map(v)
    except SettingError as e:
        return f"{e.key.removeprefix('panel.pins.')}: {e.reason}"
    return None


SCANNER_USER_AGENTS = [
    "friendly-scanner", "sipcli", "sipvicious", "sip-scan", "sipsak", "VaxSIPUserAgent",
    "sundayddr", "iWar", "smap", "pplsip", "SIVuS", "Gulp", "cpxvoip", "sipptk",
]


DECLARATIONS: tuple[Setting, ...] = (
    Setting("box.name", str, "Callbox", "Business name, shown on the web page and in prompts.",
            non_empty),
    Setting("box.timezone", str, "UTC", "Time zone of the business (IANA name, e.g. Europe/Warsaw).",
            lambda v: None if re.match(r"^[A-Za-z_]+(/[A-Za-z0-9_+\-]+)*$", v) else "is not an IANA time zone name"),
    Setting("sip.bind", str, "0.0.0.0", "Address the SIP edge listens on. 0.0.0.0: every address, and the box "
            "tells phones the address it finds on the LAN (see network.interface); an address: that one only, "
            "and it is what phones are told.", ip_address, restart=True),
    Setting("network.interface", str, "", "Network interface phones reach the box on (e.g. eth0 or wlan0); empty: "
            "the interface of the default route. The box follows a change of its address there without a "
            "restart.", lambda v: None if re.fullmatch(r"[A-Za-z0-9_.:@-]{0,15}", v) else
            "is not an interface name"),
    Setting("sip.port", int, 5060, "SIP port of the edge (UDP and TCP).", port, restart=True),
    Setting("sip.tcp", bool, True, "Also accept SIP over TCP.", restart=True),
    Setting("sip.wss_port", int, 7443, "Port of the browser phones: SIP over secure WebSocket (RFC 7118) with the "
            "web page's certificate, on sip.bind; 0: off. (8089, the usual one, is the control API's.)", port,
            restart=True),
    Setting("sip.realm", str, "callbox", "Digest authentication realm presented to phones.", non_empty,
            restart=True),
    Setting("sip.min_expires", int, 60, "Shortest registration a phone may ask for, in seconds (shorter gets 423).",
            between(1, 3600)),
    Setting("sip.max_expires", int, 3600, "Longest registration granted, in seconds (longer is shortened).",
            between(60, 86400)),
    Setting("sip.default_expires", int, 3600, "Registration time when a phone asks for none, in seconds.",
            between(60, 86400)),
    Setting("sip.nonce_ttl", int, 300, "How long a digest nonce stays fresh, in seconds (then stale=true).",
            between(10, 3600)),
    Setting("sip.digest_algorithms", list, ["MD5"],
            "Digest algorithms offered to phones, one challenge each, in this order. MD5 alone by default: "
            "sipp and many desk phones read only the first challenge and know only MD5, and some "
            "(baresip 1.0) fail outright when a SHA-256 challenge is present. Add SHA-256 when every "
            "phone on the box supports RFC 7616.",
            lambda v: None if v and all(a in ("MD5", "SHA-256") for a in v) and len(set(v)) == len(v)
            else "must list MD5 and/or SHA-256, each once"),
    Setting("sip.forward_to", str, "", "Where requests from registered phones go (host:port of the call engine); "
            "empty: the engine workers started by the core.", optional_hostport),
    Setting("sip.external_address", str, "", "Public IP address of the office router, for providers behind NAT "
            "(empty: not behind NAT, or use STUN).", optional_ip),
    Setting("security.ban_failures", int, 5, "Failed authentications from one address that lead to a ban.",
            between(1, 1000)),
    Setting("security.ban_window_s", int, 60, "Window in which failed authentications are counted, in seconds.",
            between(1, 86400)),
    Setting("security.ban_time_s", int, 600, "How long a ban lasts, in seconds.", between(1, 30 * 86400)),
    Setting("security.rate_limit_per_s", int, 200, "SIP requests per second one address may send (more are dropped).",
            between(1, 100000)),
    Setting("security.rate_burst", int, 400, "Burst of requests allowed above the rate limit.", between(1, 1000000)),
    Setting("security.allow_networks", list, [], "If not empty, only these networks (CIDR) may talk SIP to the box.",
            networks),
    Setting("security.scanner_user_agents", list, SCANNER_USER_AGENTS,
            "User agents of known SIP scanners; their requests are dropped without an answer."),
    Setting("api.bind", str, "127.0.0.1", "Address of the control API (keep it on loopback).", ip_address,
            restart=True),
    Setting("api.port", int, 8089, "Port of the control API (0 picks a free port).", port, restart=True),
    Setting("web.port", int, 8443, "Port of the admin web page (HTTPS; the demo serves plain HTTP on 8080 on loopback).",
            port, restart=True),
    Setting("callbacks.class_of_service", str, "national",
            "What a queue callback may dial through a trunk. The number comes from the caller (their caller "
            "ID), so it is data, not a permission: the agent's class of service does not apply. internal: "
            "extensions only; local; national (default: no international or premium numbers); international.",
            choices=("internal", "local", "national", "international")),
    Setting("campaigns.class_of_service", str, "national",
            "What an outbound campaign may dial through a trunk. The numbers come from a list (an import, the "
            "contacts, the call records), not from a person with a permission; a campaign's own route does not "
            "bypass it. internal: extensions only; local; national (default: no international or premium "
            "numbers); international.",
            choices=("internal", "local", "national", "international")),
    Setting("engine.enabled", bool, True, "Start the engine workers (off: calls are refused with 503, "
            "or go to sip.forward_to).", restart=True),
    Setting("engine.bind", str, "", "Address the engine workers use for SIP and RTP; phones must reach it "
            "(empty: the box's LAN address, followed when it changes).", optional_ip, restart=True),
    Setting("engine.max_calls", int, 10, "Conversations the box should carry at once; engine workers are started to "
            "fit (two legs each; the x86 engine holds 4 legs per worker, the Pi image's 128).",
            between(1, 1000), restart=True),
    Setting("engine.idle_stop_s", int, 60, "Engine workers start as calls come (one idle worker is always kept "
            "ready); an extra worker with no call for this many seconds stops, so an idle box costs almost "
            "nothing.", between(1, 86400)),
    Setting("prompts.builtin_languages", list, ["en", "pl", "zh"],
            "Languages of the built-in prompt set (digits, queue announcements, menus) made at first start.",
            lambda v: None if all(x in ("en", "pl", "zh") for x in v) else "languages are en, pl and zh",
            restart=True),
    Setting("voicemail.pin_lockout_failures", int, 6, "Wrong voicemail PINs in a row, across calls, that lock a box.",
            between(1, 100)),
    Setting("voicemail.pin_lockout_s", int, 900, "How long a locked voicemail box stays locked, in seconds.",
            between(10, 86400)),
    Setting("smtp.host", str, "", "Mail server for voicemail emails (empty: no email)."),
    Setting("smtp.port", int, 587, "Port of the mail server.", port),
    Setting("smtp.starttls", bool, True, "Encrypt the mail connection with STARTTLS."),
    Setting("smtp.username", str, "", "Login name at the mail server (empty: no login)."),
    Setting("smtp.password", str, "", "Password at the mail server.", secret=True),
    Setting("smtp.sender", str, "", "From address of the box's emails."),
    Setting("recording.policy", str, "never", "Which calls are recorded: never, always, or queue calls only "
            "(an extension's own setting wins over this).", choices=("never", "always", "queues")),
    Setting("recording.compress", bool, True, "Compress finished recordings to Opus (speech at 16 kbit/s, about a "
            "tenth of the WAV) to spare the SD card; needs opusenc."),
    Setting("recording.queues", list, [], "Queues whose calls are always recorded, whatever recording.policy says."),
    Setting("recording.max_disk_pct", int, 90, "Stop starting new recordings when the data disk is this full, "
            "with an alarm; calls go on.", between(10, 99)),
    Setting("recording.retention_days", int, 90, "Recordings older than this are deleted (0: kept for ever).",
            between(0, 3650)),
    Setting("provisioning.enabled", bool, True, "Serve configuration files to desk phones (per-phone credentials).",
            restart=True),
    Setting("provisioning.bind", str, "0.0.0.0", "Address of the provisioning server.", ip_address, restart=True),
    Setting("provisioning.port", int, 8088, "Port of the provisioning server (HTTP; 0 picks a free port).", port,
            restart=True),
    Setting("provisioning.allow_networks", list,
            ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10"],
            "Networks (CIDR) whose phones may fetch configuration files: the office LAN only.", networks),
    Setting("provisioning.pnp", bool, True, "Answer desk phones' plug-and-play requests (multicast SUBSCRIBE "
            "ua-profile to 224.0.1.75) with the provisioning address.", restart=True),
    Setting("provisioning.pnp_port", int, 5060, "Port of the plug-and-play multicast group.", port, restart=True),
    Setting("recording.notice", dict, {"*": "never"}, "Recording notice per inbound route, keyed by the route's "
            "first node (\"*\" for all others): never, announce (\"this call may be recorded\"), or opt_out (the "
            "notice and \"press 9 to decline\").",
            lambda v: None if all(m in ("never", "announce", "opt_out") for m in v.values())
            else "each value must be never, announce or opt_out"),
    Setting("privacy.country_code", str, "48", "Country code used to match one person's numbers in their national "
            "and international forms (export and erasure).",
            lambda v: None if v.isdigit() and 1 <= len(v) <= 3 else "must be 1 to 3 digits"),
    Setting("privacy.retention_days", dict, {"call_records": 365, "queue_log": 365, "voicemail": 60, "sms": 365},
            "Days each kind of data is kept before it is deleted automatically (recordings: "
            "recording.retention_days). 0 keeps it for ever.",
            lambda v: None if all(k in ("call_records", "queue_log", "voicemail", "sms") and isinstance(d, int)
                                  and not isinstance(d, bool) and d >= 0 for k, d in v.items())
            else "kinds are call_records, queue_log, voicemail, sms; days are whole numbers >= 0"),
    Setting("crm.webhook_url", str, "", "A CRM's URL that receives the box's call events as JSON POSTs "
            "(empty: none).", lambda v: None if v == "" or v.startswith(("http://", "https://")) and len(v) < 500
            else "must be an http:// or https:// URL"),
    Setting("setup.wizard", dict, {}, "Where the web page's set-up wizard stands (kept by the web page)."),
    Setting("reports.target_s", int, 20, "Service level target: seconds within which calls should be answered.",
            between(1, 600)),
    Setting("reports.target_service_level", float, 0.8, "Service level target: share of calls answered in time.",
            between(0.01, 1.0)),
    Setting("panel.backend", str, "auto", "Front panel backend: auto (GPIO on a Pi, else simulated), gpio, simulated.",
            choices=("auto", "gpio", "simulated"), restart=True),
    Setting("panel.pins", dict, DEFAULT_PINS, "BCM pin of each front panel LED and button.", bcm_pin_map,
            restart=True),
)

BY_KEY: dict[str, Setting] = {s.key: s for s in DECLARATIONS}


def declaration(key: str) -> Setting:
    try:
        return BY_KEY[key]
    except KeyError:
        raise SettingError(key, "no such setting") from None


def defaults() -> dict[str, Any]:
    return {s.key: s.default for s in DECLARATIONS}


@dataclass
class Settings:
    """The effective settings: defaults overlaid with the stored changes."""

    overrides: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.overrides = validate_changes(self.overrides, base={})

    def __getitem__(self, key: str) -> Any:
        if key in self.overrides:
            return self.overrides[key]
        return declaration(key).default

    def as_dict(self) -> dict[str, Any]:
        values = defaults()
        values.update(self.overrides)
        return values

    def with_changes(self, changes: Mapping[str, Any]) -> "Settings":
        """A new Settings with the changes applied, or SettingError naming the first bad one."""
        merged = dict(self.overrides)
        merged.update(validate_changes(changes, base=self.as_dict()))
        # A value equal to its default is not an override: keeps config.json small and honest.
        merged = {k: v for k, v in merged.items() if v != declaration(k).default}
        return Settings(merged)

    def describe(self) -> list[dict[str, Any]]:
        out = []
        for s in DECLARATIONS:
            out.append({
                "key": s.key, "group": s.group, "type": s.type_name, "default": s.default,
                "value": self[s.key], "help": s.help, "restart": s.restart,
                "choices": list(s.choices) if s.choices else None,
            })
        return out


def validate_changes(changes: Mapping[str, Any], base: Mapping[str, Any]) -> dict[str, Any]:
    """Validate each change, then the rules that tie settings together."""
    if not isinstance(changes, Mapping):
        raise SettingError("settings", "must be an object of key: value")
    out = {key: declaration(key).validate(value) for key, value in changes.items()}
    merged = {**defaults(), **base, **out}
    if merged["sip.min_expires"] > merged["sip.max_expires"]:
        raise SettingError("sip.min_expires", "must not be larger than sip.max_expires")
    if not merged["sip.min_expires"] <= merged["sip.default_expires"] <= merged["sip.max_expires"]:
        raise SettingError("sip.default_expires", "must lie between sip.min_expires and sip.max_expires")
    return out


def render_docs(decls: Iterable[Setting] = DECLARATIONS) -> str:
    """docs/settings.md, generated: `callbox settings-doc > docs/settings.md`."""
    lines = [
        "# Settings",
        "",
        "Generated from `appliance/settings.py` by `callbox settings-doc`; do not edit by hand.",
        "Change settings on the web page or with `PATCH /api/settings` (see `api.md`).",
        "Settings marked *restart* take effect when the core restarts; the others at once.",
        "",
    ]
    for group, members in itertools.groupby(decls, key=lambda s: s.group):
        lines += [f"## {group}", "", "| key | type | default | restart | meaning |", "|---|---|---|---|---|"]
        for s in members:
            lines.append(f"| `{s.key}` | {s.type_name} | {_default_text(s.default)} | "
                         f"{'restart' if s.restart else ''} | {s.help}"
                         f"{' One of: ' + ', '.join(s.choices) + '.' if s.choices else ''} |")
        lines.append("")
    return "\n".join(lines)


def _default_text(default: Any) -> str:
    if isinstance(default, dict):
        default = ", ".join(f"{k}={v}" for k, v in default.items())
    elif isinstance(default, list):
        default = ", ".join(default)
    return f"`{default}`" if default != "" else "(empty)"
