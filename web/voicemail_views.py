"""A voicemail box's settings form: what the owner and the admin may change, checked.

No I/O: the voicemail pages and the wizard's voicemail step both use it.
"""

from __future__ import annotations

from typing import Any

from appliance.logic.voicemail import PIN_MAX, PIN_MIN
from web.i18n import _

BOX_FIELDS = ("pin", "email", "max_message_s", "max_messages", "attach_audio", "notify_unsolicited")
# Limits of the box are the admin's to set; the owner sets their PIN and where mail goes.
ADMIN_ONLY = {"max_message_s", "max_messages"}


def parse_box_form(form: dict[str, str], checked: set[str], admin: bool
                   ) -> tuple[dict[str, Any], dict[str, str]]:
    """(changes, errors) from the box settings form; an empty PIN keeps the current one."""
    changes: dict[str, Any] = {}
    errors: dict[str, str] = {}
    pin = form.get("pin", "").strip()
    if pin:
        if not pin.isdigit() or not PIN_MIN <= len(pin) <= PIN_MAX:
            errors["pin"] = _("Use 4 to 10 digits.")
        else:
            changes["pin"] = pin
    changes["email"] = form.get("email", "").strip()
    if admin:
        for key in ("max_message_s", "max_messages"):
            raw = form.get(key, "").strip()
            if raw.isdigit():
                changes[key] = int(raw)
            else:
                errors[key] = _("Enter a whole number.")
    for key in ("attach_audio", "notify_unsolicited"):
        changes[key] = key in checked
    return changes, errors
