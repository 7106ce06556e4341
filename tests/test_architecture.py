"""Import contracts: the arrows of docs/architecture.md, checked on every file.

The domain (pure logic) imports no adapter and no third-party library but Babel (CLDR's data, pure);
each library with I/O is imported only by the adapter that owns it; the web page reaches the box only through the control
API (it imports the pure domain and the errors, never the core, the store or the SIP edge).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ("appliance/logic/", "appliance/directory.py")
DOMAIN_MAY_IMPORT = ("appliance.logic", "appliance.errors", "appliance.directory")
# Pure third-party libraries the domain may use: Babel is CLDR's locale data and functions over it
# (plurals, numbers, dates), with no I/O beyond reading its own tables.
DOMAIN_MAY_USE = ("babel",)
OWNERS = {  # library -> the only places that may import it
    "pjsua2": ("appliance/engine/",),
    "serial": ("appliance/lines/", "appliance/engine/modem_port.py"),
    "RPi": ("appliance/hw/",),
    "lgpio": ("appliance/hw/",),
    "tinydb": ("appliance/store/",),
    "bottle": ("web/",),
    "cheroot": ("web/",),
    "aiohttp": ("appliance/control/", "appliance/provisioning/http.py"),
}
WEB_MAY_IMPORT = ("appliance.errors", "appliance.logic", "appliance.sdnotify", "appliance")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def _files(*prefixes: str) -> list[Path]:
    out = []
    for prefix in prefixes:
        p = ROOT / prefix
        out += [p] if p.suffix == ".py" else sorted(p.rglob("*.py"))
    return out


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def _within(module: str, allowed: tuple[str, ...]) -> bool:
    return any(module == a or module.startswith(a + ".") for a in allowed)


def test_the_domain_is_pure():
    bad = []
    for path in _files(*DOMAIN):
        for module in _imports(path):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top in DOMAIN_MAY_USE or _within(module, DOMAIN_MAY_IMPORT):
                continue
            bad.append(f"{_rel(path)} imports {module}")
    assert bad == []


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_library_with_io_has_one_owner(library):
    bad = []
    for path in _files("appliance/", "web/"):
        rel = _rel(path)
        if rel.startswith(OWNERS[library]):
            continue
        if any(m.split(".")[0] == library for m in _imports(path)):
            bad.append(rel)
    assert bad == [], f"{library} is imported outside {OWNERS[library]}"


def test_the_web_page_reaches_the_box_only_through_the_control_api():
    bad = []
    for path in _files("web/"):
        for module in _imports(path):
            if module.split(".")[0] == "appliance" and not (
                    module == "appliance" or _within(module, WEB_MAY_IMPORT[:-1])):
                bad.append(f"{_rel(path)} imports {module}")
    assert bad == []


def test_a_broken_contract_is_caught(tmp_path):
    """The checker itself: a domain module importing an adapter is named."""
    bad = tmp_path / "x.py"
    bad.write_text("from appliance.store.db import Store\nimport tinydb\n")
    assert _imports(bad) == ["appliance.store.db", "tinydb"]
    assert not _within("appliance.store.db", DOMAIN_MAY_IMPORT)
