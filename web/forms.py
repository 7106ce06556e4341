"""Settings forms built from the core's setting declarations (pure, no I/O).

Each declaration from GET /api/settings says its key, type, default, value,
help text, choices and whether a change needs a restart; the form fields and
the parsing of what was submitted follow from it alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby
from typing import Any, Mapping

FIELD_PREFIX = "set:"


@dataclass(frozen=True)
class SettingField:
    """One form field for one setting."""

    key: str
    kind: str  # the <input type>, or "select"
    label: str
    help: str
    value: Any
    default: Any
    choices: list | None
    restart: bool
    group: str

    @property
    def name(self) -> str:
        return FIELD_PREFIX + self.key

    @property
    def id(self) -> str:
        return "f-" + self.key.replace(".", "-").replace("_", "-")

    @property
    def shown_value(self) -> str:
        if self.value is None:
            return ""
        if isinstance(self.value, (list, tuple)):
            return ", ".join(str(v) for v in self.value)
        if isinstance(self.value, dict):
            return json.dumps(self.value, ensure_ascii=False, sort_keys=True)
        return str(self.value)


# What the settings page calls each group of the core's settings (translated on the page).
GROUP_TITLES = {"box": "The business", "sip": "Phones and SIP", "security": "Security",
                "smtp": "Email (SMTP server)", "provisioning": "Phone provisioning",
                "recording": "Recording", "engine": "Call engine", "api": "Control API",
                "voicemail": "Voicemail", "reports": "Reports", "panel": "Front panel",
                "web": "Web page", "prompts": "Prompts", "privacy": "Privacy", "setup": "Set-up",
                "crm": "CRM integration"}


def group_title(group: str) -> str:
    return GROUP_TITLES.get(group, group)


def is_secret(declaration: Mapping[str, Any]) -> bool:
    """A secret is never shown: declared so, or named like one (the core's smtp.password)."""
    last = str(declaration.get("key", "")).rsplit(".", 1)[-1]
    return bool(declaration.get("secret")) or str(declaration.get("type")) in ("secret", "password") \
        or last in ("password", "secret", "token") or last.endswith(("_password", "_secret"))


def field_kind(declaration: Mapping[str, Any]) -> str:
    """The input for a setting: "list" is comma-separated text, "readonly" (a structure the
    box keeps for itself, like the wizard's progress) is shown but not edited here."""
    if is_secret(declaration):
        return "password"
    if declaration.get("choices"):
        return "select"
    return {"bool": "checkbox", "int": "number", "float": "number", "list": "list",
            "dict": "readonly"}.get(str(declaration.get("type")), "text")


def build_fields(declarations: list[Mapping[str, Any]],
                 submitted: Mapping[str, Any] | None = None) -> list[SettingField]:
    """Form fields for the declarations; `submitted` values win so a refused form keeps its input."""
    fields = []
    for d in declarations:
        key = str(d["key"])
        value = (submitted or {}).get(key, d.get("value"))
        fields.append(SettingField(
            key=key, kind=field_kind(d), label=key.split(".", 1)[-1].replace("_", " "),
            help=str(d.get("help") or ""), value=value, default=d.get("default"),
            choices=list(d["choices"]) if d.get("choices") else None,
            restart=bool(d.get("restart")), group=str(d.get("group") or key.split(".")[0])))
    return fields


def grouped(fields: list[SettingField]) -> list[tuple[str, list[SettingField]]]:
    ordered = sorted(fields, key=lambda f: f.group)
    return [(group, list(items)) for group, items in groupby(ordered, key=lambda f: f.group)]


def parse_submission(declarations: list[Mapping[str, Any]], form: Mapping[str, str],
                     shown: set[str]) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """(changes, errors, submitted) from a posted settings form.

    Only settings whose field was on the form (`shown`) and whose value
    differs from the current one become changes; a value that cannot even
    be read as its type becomes an error next to its field.
    """
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    submitted: dict[str, Any] = {}
    for d in declarations:
        key = str(d["key"])
        if key not in shown:
            continue
        kind = str(d.get("type"))
        raw = form.get(FIELD_PREFIX + key)
        if field_kind(d) == "readonly":
            continue
        if kind == "bool" and not d.get("choices"):
            value: Any = raw is not None
        elif raw is None:
            continue
        elif kind == "int":
            try:
                value = int(raw.strip())
            except ValueError:
                submitted[key] = raw
                errors[key] = "must be a whole number"
                continue
        elif kind == "float":
            try:
                value = float(raw.strip())
            except ValueError:
                submitted[key] = raw
                errors[key] = "must be a number"
                continue
        elif kind == "list":
            value = [part.strip() for part in raw.split(",") if part.strip()]
        else:
            value = raw
        submitted[key] = value
        if field_kind(d) == "password" and value == "":
            continue  # an empty secret field means "keep the current one"
        if value != d.get("value"):
            changes[key] = value
    return changes, errors, submitted


def error_field(message: str, keys: set[str]) -> tuple[str | None, str]:
    """Which setting an API error message names ("key: reason"), and the reason."""
    key, sep, reason = message.partition(":")
    if sep and key.strip() in keys:
        return key.strip(), reason.strip()
    return None, message
