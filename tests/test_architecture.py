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
    "aiortc": ("appliance/webrtc/",),
    "aioice": ("appliance/webrtc/",),
    "av": ("appliance/webrtc/",),
}
WEB_MAY_IMPORT = ("appliance.errors", "appliance.logic", "appliance.sdnotify", "appliance.certificate", "appliance")


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


# --- services take ports from the composition root ---------------------------------------------

ROOT_MODULE = "appliance.core"
# The switchboard's parts (every call in the engine workers): each its own object, given ports.
SWITCHBOARD_PARTS = (
    "appliance.engine_pool", "appliance.call_placement", "appliance.leg_owners", "appliance.extension_calls",
    "appliance.transfers", "appliance.box_calls", "appliance.box_placed_calls", "appliance.acd_runtime",
    "appliance.conversation_recording", "appliance.call_record_writer", "appliance.prompt_files",
    "appliance.flowcalls", "appliance.outbound_calls", "appliance.voicemail_runtime",
)
# Each takes what it needs as keyword arguments (appliance/ports.py): never the Core, never a sibling.
SERVICES = (
    "appliance.business_runtime", "appliance.center_admin", "appliance.contacts", "appliance.crm_webhook",
    "appliance.front_panel", "appliance.lines_runtime", "appliance.numbers_runtime", "appliance.phones_runtime",
    "appliance.privacy_runtime", "appliance.recent_log", "appliance.recording", "appliance.registration_snapshot",
    "appliance.report_days", "appliance.reports", "appliance.ring_groups", "appliance.trunks",
    "appliance.voicemail_boxes", "appliance.voicemail_mail", "appliance.web_users", "appliance.switchboard",
    "appliance.campaign_dialer", "appliance.campaigns", "appliance.extensions", "appliance.agent_phones",
    "appliance.browser_media", "appliance.media_bridge_runtime", "appliance.campaign_calls", *SWITCHBOARD_PARTS,
)
# One concept split over several modules is still one service: its parts may import each other.
PARTS = {"appliance.reports": ("appliance.report_days",), "appliance.switchboard": SWITCHBOARD_PARTS,
         "appliance.campaign_dialer": ("appliance.campaign_calls",)}


def _own(module: str) -> tuple[str, ...]:
    """The modules of the service `module` belongs to (itself, or its head and the head's parts)."""
    head = next((h for h, parts in PARTS.items() if module in parts), module)
    return (head, *PARTS.get(head, ()))


def _module_file(module: str) -> Path:
    return ROOT / (module.replace(".", "/") + ".py")


def _type_checking_imports(tree: ast.AST) -> list[str]:
    """Modules imported under `if TYPE_CHECKING:` (the way a hidden cycle to the Core hides)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, ast.ImportFrom) and sub.module:
                        found.append(sub.module)
                    elif isinstance(sub, ast.Import):
                        found += [a.name for a in sub.names]
    return found


def _core_reaches(tree: ast.AST) -> list[str]:
    """`self.core.x`, `core.x` and `x.core._y`: a service holding the Core, or someone's private attribute."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        value = node.value
        holds_core = (isinstance(value, ast.Name) and value.id == "core") or (
            isinstance(value, ast.Attribute) and value.attr == "core")
        if holds_core:
            found.append(ast.unparse(node))
    return found


def service_problems(module: str, path: Path) -> list[str]:
    """What breaks the service contract in one module: the root, a sibling, a TYPE_CHECKING import, the core."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = _own(module)
    problems = []
    for imported in _imports(path):
        if _within(imported, (ROOT_MODULE,)):
            problems.append(f"{module} imports the composition root {imported}")
        elif _within(imported, SERVICES) and not _within(imported, own):
            problems.append(f"{module} imports the service {imported}; pass what it needs as a port")
    problems += [f"{module} imports {m} under TYPE_CHECKING" for m in _type_checking_imports(tree)
                 if _within(m, (ROOT_MODULE, *SERVICES)) and not _within(m, own)]
    problems += [f"{module} reaches {reach}" for reach in _core_reaches(tree)]
    return problems


@pytest.mark.parametrize("module", SERVICES)
def test_a_service_gets_ports_never_the_core_nor_a_sibling(module):
    assert service_problems(module, _module_file(module)) == []


def test_no_module_reaches_a_private_attribute_of_the_core():
    bad = []
    for path in _files("appliance/"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                value = node.value
                if (isinstance(value, ast.Name) and value.id == "core") or (
                        isinstance(value, ast.Attribute) and value.attr == "core"):
                    bad.append(f"{_rel(path)}: {ast.unparse(node)}")
    assert bad == []


def test_a_service_that_holds_the_core_is_caught(tmp_path):
    """The checker itself: each way back to the Core or a sibling is named."""
    bad = tmp_path / "bad_service.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\n"
        "from appliance.trunks import Trunks\n"
        "if TYPE_CHECKING:\n"
        "    from appliance.core import Core\n"
        "class Bad:\n"
        "    def __init__(self, core: 'Core'):\n"
        "        self.core = core\n"
        "    def go(self):\n"
        "        return self.core.store, self.core._secrets\n")
    problems = service_problems("appliance.contacts", bad)
    assert any("composition root appliance.core" in p for p in problems)
    assert any("the service appliance.trunks" in p for p in problems)
    assert any("under TYPE_CHECKING" in p for p in problems)
    assert any("self.core.store" in p for p in problems) and any("self.core._secrets" in p for p in problems)
    good = tmp_path / "good_service.py"
    good.write_text("from appliance.ports import Setting\nfrom appliance.report_days import DayRollups\n")
    assert service_problems("appliance.reports", good) == []
