"""docs/api.md's route tables, made from the route declarations of the API's areas.

Each area has one block in the doc, between `<!-- routes: AREA ... -->` and `<!-- end of routes -->`;
the prose around the blocks is written by hand. `python -m appliance.control.doc [PATH]` rewrites
the blocks; tests/test_api_doc.py checks that the doc says what the declarations say.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import ModuleType

from appliance.control.api import AREAS
from appliance.control.common import Route

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
END = "<!-- end of routes -->"


def area_name(area: ModuleType) -> str:
    return area.__name__.rsplit(".", 1)[1]


def begin(area: ModuleType) -> str:
    name = area_name(area)
    return f"<!-- routes: {name} (made from appliance/control/{name}.py by `python -m appliance.control.doc`) -->"


def shown(route: Route) -> str:
    return route.shown or re.sub(r"\{(\w+)\}", r"<\1>", route.path)


def block(area: ModuleType) -> str:
    rows = [f"| {r.method} | `{shown(r)}` | {r.doc} |" for r in area.ROUTES if r.doc]
    return "\n".join([begin(area), f"### {area.TITLE}", "", "| method | path | what |", "|---|---|---|",
                      *rows, END])


def render(text: str) -> str:
    """`text` with every area's block made anew; an area without a block in the doc is an error."""
    for area in AREAS:
        start = text.find(begin(area).split(" (")[0] + " ")
        if start < 0:
            raise ValueError(f"docs/api.md has no block for the area {area_name(area)!r}")
        end = text.index(END, start) + len(END)
        text = text[:start] + block(area) + text[end:]
    return text


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DOC
    old = path.read_text(encoding="utf-8")
    new = render(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
        print(f"{path}: route tables rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
