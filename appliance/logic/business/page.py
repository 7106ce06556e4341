"""The printable report page: one self-contained HTML document, no scripts, no fetches.

An owner prints the monthly report or saves it as PDF from the browser, so
the page carries its own CSS, a `@media print` section (A4, no background
colours, tables that do not split a row across pages) and nothing that needs
the network or JavaScript. Every text goes through `html.escape`.
"""

from __future__ import annotations

from html import escape

from appliance.logic.business.localize import Language, language

CSS = """
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", "Noto Sans", "Noto Sans CJK SC", Arial, sans-serif;
       font-size: 11pt; color: #111; margin: 2em auto; max-width: 60em; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.6em; border-bottom: 1px solid #999; }
p.sub { color: #444; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: 0.6em 0; }
th, td { border: 1px solid #bbb; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.met { color: #0a6b2a; font-weight: bold; }
.missed { color: #b00020; font-weight: bold; }
.no_data, .not_contracted { color: #666; }
.explain { color: #333; font-size: 0.95em; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { page-break-after: avoid; break-after: avoid; }
  tr, td, th { page-break-inside: avoid; break-inside: avoid; }
  thead { display: table-header-group; }
  .met, .missed { color: #000; }
  a { color: #000; text-decoration: none; }
}
"""


def html_page(title: str, subtitle: str, body: str, lang: Language | str) -> str:
    """A whole HTML document around `body` (already escaped HTML)."""
    lang = language(lang)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang.value}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n<p class=\"sub\">{escape(subtitle)}</p>\n"
        f"{body}</body>\n</html>\n"
    )


def _class(css: str) -> str:
    return f' class="{escape(css)}"' if css else ""


def table(headers: list[tuple[str, bool]], rows: list[list[tuple[str, str]]]) -> str:
    """An HTML table; headers are (text, numeric), cells (text, css class), texts unescaped."""
    head = "".join(f"<th{_class('num' if num else '')}>{escape(text)}</th>" for text, num in headers)
    body = []
    for row in rows:
        cells = "".join(f"<td{_class(css)}>{escape(text)}</td>" for text, css in row)
        body.append(f"<tr>{cells}</tr>")
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody>\n</table>\n"
