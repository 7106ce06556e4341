"""Settings are declared once: validation, defaults and docs/settings.md come from the declarations."""

from __future__ import annotations

import pytest

from appliance.errors import SettingError
from appliance.settings import DECLARATIONS, Settings, declaration, render_docs
from tests.conftest import ROOT


def test_docs_settings_md_is_not_stale():
    current = (ROOT / "docs" / "settings.md").read_text()
    assert current == render_docs(), "docs/settings.md is stale: run `make docs`"


def test_every_declaration_is_complete_and_its_default_validates():
    keys = [s.key for s in DECLARATIONS]
    assert len(keys) == len(set(keys))
    for s in DECLARATIONS:
        assert s.help.strip().endswith((".", ")")), s.key
        assert s.validate(s.default) == s.default, s.key


@pytest.mark.parametrize("key,value,reason", [
    ("sip.port", 70000, "between"),
    ("sip.port", "five", "type int"),
    ("sip.port", True, "type int"),
    ("sip.tcp", "maybe", "type bool"),
    ("sip.bind", "999.1.1.1", "not an IP address"),
    ("security.allow_networks", ["10.0.0.0/33"], "not a network"),
    ("sip.forward_to", "nohostport", "host:port"),
    ("panel.backend", "magic", "one of"),
    ("panel.pins", {"ready": 14, "line": 24, "waiting": 25, "voicemail": 12, "fault": 16, "night": 17,
                    "reset": 27, "status": 22}, "ready: GPIO14"),
    ("panel.pins", {"ready": 23}, "missing"),
    ("sip.digest_algorithms", ["SHA-1"], "MD5"),
    ("box.timezone", "not a zone!", "IANA"),
])
def test_a_bad_value_names_the_setting_and_the_reason(key, value, reason):
    with pytest.raises(SettingError) as err:
        Settings().with_changes({key: value})
    assert str(err.value).startswith(key + ":")
    assert reason in str(err.value)


def test_settings_that_depend_on_each_other_are_checked_together():
    with pytest.raises(SettingError, match="^sip.min_expires: must not be larger than sip.max_expires"):
        Settings().with_changes({"sip.min_expires": 3000, "sip.max_expires": 600, "sip.default_expires": 600})


def test_unknown_setting_is_refused():
    with pytest.raises(SettingError, match="^no.such: no such setting"):
        Settings().with_changes({"no.such": 1})


def test_values_from_forms_are_coerced_and_defaults_are_not_stored():
    s = Settings().with_changes({"sip.port": "5070", "sip.tcp": "off", "security.allow_networks": "10.0.0.0/8, 192.168.1.0/24"})
    assert s["sip.port"] == 5070 and s["sip.tcp"] is False
    assert s["security.allow_networks"] == ["10.0.0.0/8", "192.168.1.0/24"]
    back = s.with_changes({"sip.port": 5060})
    assert "sip.port" not in back.overrides


def test_describe_carries_what_the_forms_need():
    rows = {r["key"]: r for r in Settings().describe()}
    assert rows["sip.port"] == {"key": "sip.port", "group": "sip", "type": "int", "default": 5060, "value": 5060,
                                "help": declaration("sip.port").help, "restart": True, "choices": None}
