"""The trunks page's forms as the control API takes them, and the core's refusals by field.

Pure: the trunks page and the wizard's SIP provider step both use them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import bottle

TRUNK_FORM = ("name", "kind", "host", "port", "transport", "username", "secret", "dids",
              "caller_id_number")
LINE_FORM = ("name", "kind", "device", "audio_device", "profile", "pin", "number")
_WHO = re.compile(r"^(trunk|line|route) '[^']*': ")


def field_errors(message: str, fields: tuple[str, ...] | set[str]) -> dict[str, str]:
    """The API's "key: reason; key: reason" as {field: reason}; the rest under ""."""
    errors: dict[str, str] = {}
    for part in _WHO.sub("", message).split("; "):
        key, sep, reason = part.partition(":")
        target = key.strip() if sep and key.strip() in fields else ""
        text = reason.strip() if target else part.strip()
        errors[target] = f"{errors[target]}; {text}" if target in errors else text
    return errors


def trunk_body(form: dict[str, str]) -> dict[str, Any]:
    """The trunk as the API takes it; numbers and lists from the form's text."""
    body: dict[str, Any] = {"name": form["name"].strip(), "kind": form["kind"] or "register",
                            "host": form["host"].strip(), "transport": form["transport"] or "udp"}
    port = form["port"].strip()
    body["port"] = int(port) if port.isdigit() else (port or 5060)
    for key in ("username", "secret", "caller_id_number"):
        if form[key].strip():
            body[key] = form[key].strip()
    dids = form["dids"].replace(",", " ").split()
    if dids:
        body["dids"] = dids
    body["register"] = body["kind"] == "register"
    return body


def routes_from_form(form: bottle.FormsDict) -> dict[str, list[dict[str, Any]]]:
    """Rows of the routes form (out-*-i, in-*-i) as the API's routes; empty or removed rows drop."""
    def value(name: str) -> str:
        return (form.getunicode(name) or "").strip()

    outbound, inbound = [], []
    for i in range(int(value("out-count") or 0)):
        if value(f"out-remove-{i}") or not value(f"out-name-{i}"):
            continue
        route: dict[str, Any] = {"name": value(f"out-name-{i}"),
                                 "patterns": value(f"out-patterns-{i}").split(),
                                 "trunks": value(f"out-trunks-{i}").replace(",", " ").split()}
        strip = value(f"out-strip-{i}")
        if strip:
            route["strip"] = int(strip) if strip.isdigit() else strip
        if value(f"out-prefix-{i}"):
            route["prefix"] = value(f"out-prefix-{i}")
        outbound.append(route)
    for i in range(int(value("in-count") or 0)):
        if value(f"in-remove-{i}") or not (value(f"in-did-{i}") or value(f"in-destination-{i}")):
            continue
        route = {"did": value(f"in-did-{i}"), "destination": value(f"in-destination-{i}")}
        if value(f"in-caller-{i}"):
            route["caller"] = value(f"in-caller-{i}")
        priority = value(f"in-priority-{i}")
        if priority:
            route["priority"] = int(priority) if priority.lstrip("-").isdigit() else priority
        inbound.append(route)
    return {"outbound": outbound, "inbound": inbound}
