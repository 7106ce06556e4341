"""docs/api.md says what the control API serves: its route tables are made from the areas' declarations."""

from __future__ import annotations

import ast
from pathlib import Path

from appliance.control import doc
from appliance.control.api import AREAS, ROUTES

CONTROL = Path(doc.__file__).parent


def test_the_route_tables_are_made_from_the_declarations():
    text = doc.DOC.read_text(encoding="utf-8")
    assert doc.render(text) == text, "run `python -m appliance.control.doc` after changing a route"


def test_every_declared_route_is_in_the_doc_once():
    text = doc.DOC.read_text(encoding="utf-8")
    for route in ROUTES:
        if route.doc:
            assert text.count(f"| {route.method} | `{doc.shown(route)}` |") == 1, (route.method, route.path)


def test_each_route_is_declared_once_and_answered_by_its_area():
    assert len({(r.method, r.path) for r in ROUTES}) == len(ROUTES)
    for area in AREAS:
        classes = [v for v in vars(area).values() if isinstance(v, type) and v.__module__ == area.__name__]
        for route in area.ROUTES:
            assert any(callable(getattr(c, route.handler, None)) for c in classes), (area.__name__, route.handler)


def test_only_the_wiring_sees_the_core():
    """The areas get named services (ControlServices), never the Core object."""
    for path in sorted(CONTROL.glob("*.py")):
        if path.name == "wiring.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert "appliance.core" not in modules and "core" not in names and "Core" not in names, path.name


def test_a_missing_block_is_named():
    try:
        doc.render("# Control API\n")
    except ValueError as e:
        assert "system" in str(e)
    else:
        raise AssertionError("a doc without route blocks passed")
