"""The web page's layers, checked on every file: pages import from web/ only web.kit.

A page is a module of web/ that adds its routes to the app (`def register(app, state)`);
web/app.py builds the app and mounts them. A page imports from web/ only web/kit.py, never
another page, so that no two pages depend on each other. The modules that make what kit
names (views, forms, i18n, ...) import neither kit, the app nor a page, so nothing leads
back up. No module reaches into another's `_private` names. The web suite imports the
page's helpers only through web.kit too; besides kit it imports only what starts and talks
to the page (web.app, web.server, web.api_client) and the translators' tool (web.messages).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
KIT = "web.kit"
# Above kit: what builds and serves the app, and the catalogue tool. They may import anything.
TOP = {"web.app", "web.server", "web.messages"}
# What the web suite may import from web/ besides kit.
TESTS_MAY_IMPORT = {KIT, "web.app", "web.server", "web.api_client", "web.messages"}
TEMPLATE_IMPORT = re.compile(r"^\s*%\s*(?:from\s+(\S+)\s+import|import\s+(\S+))", re.M)


def web_imports(tree: ast.AST) -> list[tuple[str, list[str]]]:
    """(module, names) for each import of a web module; `from web import x` is module web.x."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names if a.name.split(".")[0] == "web"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "web":
                found += [(f"web.{a.name}", []) for a in node.names]
            elif node.module.startswith("web."):
                found.append((node.module, [a.name for a in node.names]))
    return found


def is_page(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.FunctionDef) and n.name == "register" for n in tree.body)


def private_reaches(tree: ast.AST) -> list[str]:
    """Private names taken from another web module: `from web.x import _y`, or `x._y` on an
    imported web module. (`_` itself is the translation function, not a private name.)"""
    bad, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "web":
                modules |= {a.asname or a.name for a in node.names}
            elif node.module.startswith("web."):
                bad += [f"{node.module}.{a.name}" for a in node.names
                        if a.name.startswith("_") and a.name != "_"]
        elif isinstance(node, ast.Import):
            modules |= {a.asname for a in node.names if a.asname and a.name.startswith("web.")}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            bad.append(f"{node.value.id}.{node.attr}")
    return bad


def layer_problems(modules: dict[str, str], templates: dict[str, str] | None = None) -> list[str]:
    """Every broken rule of the web layers, for modules given as {dotted name: source}."""
    trees = {name: ast.parse(source) for name, source in modules.items()}
    pages = {name for name, tree in trees.items() if is_page(tree)}
    problems = []
    for name, tree in trees.items():
        imported = [m for m, _ in web_imports(tree)]
        if name in pages:
            problems += [f"page {name} imports {m}" for m in imported if m != KIT]
        elif name != KIT and name not in TOP:
            problems += [f"{name} (below kit) imports {m}" for m in imported
                         if m == KIT or m in TOP or m in pages]
        problems += [f"{name} reaches {what}" for what in private_reaches(tree)]
    for name, text in (templates or {}).items():
        for m in TEMPLATE_IMPORT.finditer(text):
            module = (m.group(1) or m.group(2)).split()[0]
            if module.split(".")[0] == "web" and module != KIT:
                problems.append(f"template {name} imports {module}")
    return problems


def suite_problems(modules: dict[str, str]) -> list[str]:
    """What a test file of the web suite imports from web/ that it should get through kit."""
    problems = []
    for name, source in modules.items():
        tree = ast.parse(source)
        problems += [f"{name} imports {m}" for m, _ in web_imports(tree)
                     if m not in TESTS_MAY_IMPORT]
        problems += [f"{name} reaches {what}" for what in private_reaches(tree)]
    return problems


def _web_modules() -> dict[str, str]:
    return {f"web.{p.stem}": p.read_text(encoding="utf-8") for p in sorted(WEB.glob("*.py"))
            if p.stem != "__init__"}


def test_the_app_mounts_every_page_and_only_pages():
    modules = _web_modules()
    pages = {name for name, source in modules.items() if is_page(ast.parse(source))}
    mounted = {m for m, _ in web_imports(ast.parse(modules["web.app"]))} - {KIT, "web.api_client"}
    assert pages == mounted
    assert len(pages) >= 13


def test_pages_import_from_web_only_the_kit():
    templates = {p.name: p.read_text(encoding="utf-8") for p in sorted((WEB / "templates").glob("*.tpl"))}
    assert layer_problems(_web_modules(), templates) == []


@pytest.mark.parametrize("big", [p.name for p in sorted(WEB.glob("*.py"))])
def test_no_web_module_is_over_600_lines(big):
    assert len((WEB / big).read_text(encoding="utf-8").splitlines()) <= 600


def test_the_web_suite_imports_the_helpers_only_through_the_kit():
    here = Path(__file__).parent
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(here.glob("*.py"))}
    assert suite_problems(files) == []


def test_a_broken_layer_is_caught():
    """The checker itself: a page that imports another page, a helper module, a private name,
    and a helper module that imports a page, are each named."""
    modules = {
        "web.kit": "from web.views import fmt_time\n",
        "web.app": "from web import calls, kit\n",
        "web.views": "from web.calls import register\n",
        "web.calls": ("from web.kit import render\nfrom web import phones\nfrom web.views import fmt_time\n"
                      "from web.kit import _, _secret\n\ndef register(app, state):\n    pass\n"),
        "web.phones": "import web.views as v\n\ndef register(app, state):\n    return v._day\n",
    }
    assert layer_problems(modules, {"x.tpl": "% from web.views import fmt_time\n"}) == [
        "web.views (below kit) imports web.calls",
        "page web.calls imports web.phones", "page web.calls imports web.views",
        "web.calls reaches web.kit._secret",
        "page web.phones imports web.views", "web.phones reaches v._day",
        "template x.tpl imports web.views"]
    assert suite_problems({"test_x.py": "from web.views import fmt_time\nfrom web import kit, app\n"
                                       "from web.kit import fmt_time\n"}) == [
        "test_x.py imports web.views"]
