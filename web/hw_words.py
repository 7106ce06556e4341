"""The front panel's backend reasons (appliance/hw/backends.py) in the reader's language.

The core writes them in English for its log; the system page shows them to the owner,
so each known sentence is translated and only the library's own detail in
parentheses is passed on as it is.
"""

from __future__ import annotations

import re

from web.i18n import Translator

_REASONS = (
    (re.compile(r"^asked for the simulated panel$"), "asked for the simulated panel"),
    (re.compile(r"^RPi\.GPIO imported; GPIO in BCM numbering$"), "RPi.GPIO imported; GPIO in BCM numbering"),
    (re.compile(r"^RPi\.GPIO is not installed \((?P<detail>.*)\)$"), "RPi.GPIO is not installed ({detail})"),
    (re.compile(r"^RPi\.GPIO refused this machine \((?P<detail>.*)\)$"), "RPi.GPIO refused this machine ({detail})"),
    (re.compile(r"^RPi\.GPIO could not set up \((?P<detail>.*)\)$"), "RPi.GPIO could not set up ({detail})"),
)


def panel_reason(t: Translator, text: str) -> str:
    """"no panel hardware: RPi.GPIO is not installed (No module named 'RPi')" in the reader's words."""
    if not text:
        return text
    prefix = ""
    if text.startswith("no panel hardware: "):
        prefix, text = t.gettext("no panel hardware: {why}", why="{why}"), text[len("no panel hardware: "):]
    for pattern, message in _REASONS:
        match = pattern.match(text)
        if match:
            said = t.gettext(message, **match.groupdict())
            return prefix.replace("{why}", said) if prefix else said
    return prefix.replace("{why}", text) if prefix else t.gettext(text)
