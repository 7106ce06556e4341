"""The page's messages for translators: found in the source, kept in web/locale/<lang>.po.

    python -m web.messages          # add new messages to pl.po and zh.po, list what is untranslated

Every literal message the templates and modules pass to `_()` or `ngettext()`
(and the live script's messages, i18n.SCRIPT_MESSAGES) belongs in each
catalogue. This adds the ones missing, with an empty translation, and never
removes one: the page's own checks also produce messages that are looked up
by their text (i18n.translate_message), which no scan can find.
"""

from __future__ import annotations

import ast
import io
import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from web import i18n

WEB = Path(i18n.__file__).resolve().parent
_LIT = r"""(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
CALL = re.compile(r"(?<![\w.])_\(\s*(" + _LIT + r"(?:\s+" + _LIT + r")*)\s*[,)]")
PLURAL = re.compile(r"ngettext\(\s*(" + _LIT + r")\s*,\s*(" + _LIT + r")")
# Header lines Babel writes as placeholders; a translator's tool fills in its own.
_PLACEHOLDERS = ("Report-Msgid-Bugs-To:", "PO-Revision-Date:", "Last-Translator:")


def source_messages() -> set[i18n.Key]:
    """Every literal message of the templates and modules: text, or (singular, plural)."""
    found: set[i18n.Key] = set(i18n.SCRIPT_MESSAGES)
    for path in sorted(WEB.glob("*.py")) + sorted(WEB.glob("templates/*.tpl")):
        text = path.read_text(encoding="utf-8")
        for m in CALL.finditer(text):
            found.add(ast.literal_eval("(" + m.group(1) + ")"))
        for m in PLURAL.finditer(text):
            found.add((ast.literal_eval(m.group(1)), ast.literal_eval(m.group(2))))
    return found


def path_of(lang: str) -> Path:
    return i18n.LOCALE_DIR / f"{lang}.po"


def read(lang: str) -> Catalog:
    with open(path_of(lang), "rb") as f:
        return read_po(f, locale=lang)


def write(lang: str, catalog: Catalog) -> None:
    """Write a catalogue back: one line per message (no wrapping), no placeholder headers."""
    out = io.BytesIO()
    write_po(out, catalog, width=0)
    lines = []
    for line in out.getvalue().decode("utf-8").splitlines(keepends=True):
        if line.startswith('"') and line[1:].startswith(_PLACEHOLDERS):
            continue
        if line.startswith('"Project-Id-Version:'):
            line = '"Project-Id-Version: Callbox\\n"\n'
        lines.append(line)
    temp = path_of(lang).with_suffix(".po.tmp")
    temp.write_text("".join(lines), encoding="utf-8")
    temp.replace(path_of(lang))


def update(langs: tuple[str, ...] = ("pl", "zh")) -> dict[str, list[i18n.Key]]:
    """Add the source's new messages to each catalogue; what each still lacks a translation for."""
    wanted = source_messages()
    missing: dict[str, list[i18n.Key]] = {}
    for lang in langs:
        catalog = read(lang)
        known = {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}
        added = sorted((k for k in wanted if k not in known), key=str)
        for key in added:
            catalog.add(key, ("",) * catalog.num_plurals if isinstance(key, tuple) else "")
        if added:
            write(lang, catalog)
        i18n.reload_catalogues()
        table = i18n.catalogue(lang)
        missing[lang] = sorted((k for k in wanted if k not in table), key=str)
    return missing


def main() -> int:
    missing = update()
    for lang, keys in missing.items():
        print(f"{path_of(lang).name}: {len(keys)} message(s) without a translation")
        for key in keys:
            print("   ", " | ".join(key) if isinstance(key, tuple) else key)
    return 1 if any(missing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
