"""Reading an address book the owner exported from a spreadsheet or a phone: pure, no I/O.

What arrives is bytes in whatever the exporting program chose:

- the encoding: UTF-8 with or without a BOM (LibreOffice, Google, Outlook),
  or, from Excel's "CSV" on a Polish Windows, Windows-1250, on a Chinese one
  GBK (`decode`);
- the separator: `,` or, where the decimal comma is at home (Polish Excel),
  `;`, sometimes a tab (`sniff_delimiter`, from the header line);
- the headers in the owner's words: Name/Phone, Nazwa/Telefon, 姓名/电话,
  first and last name in two columns, several phone columns (`map_header`).

Rows are read one record at a time, so a quote opened and never closed
costs its own line only: it is reported by line number and the next line
is read as the row it is (`read`). A quoted cell may span lines only in the
notes; a name or number that would swallow the next lines is the broken
quote it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DELIMITERS = (",", ";", "\t", "|")
MAX_FIELD_LINES = 20  # a note may hold line breaks; a quote left open longer than this is broken

_POLISH = set("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ")
# Letters of names the Windows-1250 code page carries besides the Polish ones (Czech, German, ...).
_LATIN2 = _POLISH | set("áäéëíóôöúüýčďěňřšťůžĺľŕÁÄÉËÍÓÔÖÚÜÝČĎĚŇŘŠŤŮŽĹĽŔß")

# Header words, compared in lower case without spaces, dots, dashes or underscores.
ALIASES: dict[str, set[str]] = {
    "name": {"name", "fullname", "displayname", "contact", "contactname", "nazwa", "imięinazwisko",
             "nazwakontaktu", "kontakt", "姓名", "名称", "联系人", "名字"},
    "first_name": {"firstname", "givenname", "imię", "imie", "名"},
    "last_name": {"lastname", "surname", "familyname", "nazwisko", "姓"},
    "company": {"company", "organization", "organisation", "firma", "organizacja", "公司", "单位"},
    "email": {"email", "mail", "emailaddress", "adresemail", "poczta", "邮箱", "电子邮件", "邮件"},
    "notes": {"notes", "note", "comment", "comments", "uwagi", "notatki", "notatka", "备注"},
    "numbers": {"numbers", "number", "phone", "phones", "phonenumber", "telephone", "tel", "mobile",
                "mobilephone", "cell", "telefon", "telefony", "numer", "numertelefonu", "komórka",
                "telefonkomórkowy", "电话", "手机", "电话号码", "手机号码", "号码"},
}
# Any header that starts with one of these is one more phone column ("Telefon służbowy", "Phone 2").
NUMBER_PREFIXES = ("phone", "telefon", "tel", "mobile", "numer", "komórka", "电话", "手机")


class CsvProblem(ValueError):
    """The whole file cannot be read; the message says why in the owner's words."""


@dataclass
class Parsed:
    encoding: str
    delimiter: str
    columns: dict[int, str]                    # column index -> field (name, numbers, ...)
    rows: list[tuple[int, dict[str, object]]] = field(default_factory=list)   # (line, contact data)
    errors: list[dict[str, object]] = field(default_factory=list)             # {"line", "error"}
    ignored: list[str] = field(default_factory=list)                          # headers not used


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (BOM or not), else Windows-1250 or GBK, whichever the bytes are."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise CsvProblem("this is a spreadsheet workbook (.xlsx/.xls), not CSV: save it as CSV "
                         "(File > Save as > CSV) and import that")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"  # Excel's "Unicode text"
        except UnicodeDecodeError:
            raise CsvProblem("the file says it is UTF-16 but is not") from None
    if b"\x00" in data:
        raise CsvProblem("the file holds binary data (NUL bytes), not CSV text")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    as_1250 = _try(data, "cp1250")
    as_gbk = _try(data, "gbk")
    if as_1250 is not None and _latin2_letters(as_1250) >= 0.8:
        return as_1250, "windows-1250"
    if as_gbk is not None:
        return as_gbk, "gbk"
    if as_1250 is not None:
        return as_1250, "windows-1250"
    raise CsvProblem("the text is not UTF-8, Windows-1250 (Polish Excel) or GBK (Chinese Excel): "
                     "save it as CSV UTF-8")


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


_NEUTRAL = set("„”“’‘–—…€§°«»·\u00a0")  # Excel's typography: in both readings alike, so not counted


def _latin2_letters(text: str) -> float:
    """The share of the non-ASCII characters that are letters of Central European names."""
    high = [c for c in text if ord(c) > 127 and c not in _NEUTRAL]
    return sum(c in _LATIN2 for c in high) / len(high) if high else 1.0


def _outside_quotes(line: str, ch: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == ch and not quoted:
            count += 1
    return count


def sniff_delimiter(header: str) -> str:
    """The separator of the header line: the most frequent of , ; tab | outside quotes (, when none)."""
    counts = {d: _outside_quotes(header, d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties go to the earlier, the comma first
    return best if counts[best] else ","


def _key(header: str) -> str:
    return re.sub(r"[\s._\-:]+", "", header.strip().lstrip("\ufeff").lower())


def map_header(headers: list[str], *, name_required: bool = True) -> tuple[dict[int, str], list[str]]:
    """{column: field} and the headers left unused; CsvProblem when no column holds a name (if required)."""
    columns: dict[int, str] = {}
    ignored = []
    for i, h in enumerate(headers):
        k = _key(h)
        found = next((f for f, words in ALIASES.items() if k in words), None)
        if found is None and k.startswith(NUMBER_PREFIXES):
            found = "numbers"
        if found is None or (found != "numbers" and found in columns.values()):
            if h.strip():
                ignored.append(h.strip())
            continue
        columns[i] = found
    have = set(columns.values())
    if name_required and "name" not in have and not have & {"first_name", "last_name"}:
        seen = ", ".join(h.strip() for h in headers if h.strip()) or "nothing"
        raise CsvProblem("no column for the name: the first line must name the columns, e.g. "
                         f"Name,Phone (or Nazwa;Telefon, 姓名,电话); this file's first line has {seen}")
    return columns, ignored


def _record_at(lines: list[str], i: int, delimiter: str) -> tuple[list[str] | None, int, str]:
    """(cells, the last line it took, "") or (None, i, why) for the record that starts at line i."""
    text, end = lines[i], i
    while text.count('"') % 2 and end + 1 < len(lines) and end - i < MAX_FIELD_LINES:
        end += 1
        text += lines[end]
    if text.count('"') % 2:
        return None, i, 'a quote (") is opened and never closed'
    import csv  # here: the core imports this module at every start and reads a CSV file rarely
    try:
        return next(csv.reader([text], delimiter=delimiter, strict=True)), end, ""
    except (csv.Error, StopIteration):
        return None, i, 'the quotes (") are misplaced: a quoted cell must be quoted whole'


def read(data: bytes, *, name_required: bool = True, keep_other_columns: bool = False) -> Parsed:
    """Every row as contact data ({name, numbers: [...], company, email, notes}), bad rows listed.

    With keep_other_columns, the cells of columns that are not contact fields come along as
    {"fields": {header: value}} (a call list's free columns: order number, appointment time).

    A bad row costs its own line only: reading goes on at the next line, so
    a broken quote never swallows the rows after it.
    """
    text, encoding = decode(data)
    lines = text.splitlines(keepends=True)
    first = next((n for n, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise CsvProblem("the file is empty")
    delimiter = sniff_delimiter(lines[first])
    import csv  # here: the core imports this module at every start and reads a CSV file rarely
    try:
        headers = next(csv.reader([lines[first]], delimiter=delimiter))
    except csv.Error:
        raise CsvProblem("the first line (the column names) cannot be read") from None
    columns, ignored = map_header(headers, name_required=name_required)
    parsed = Parsed(encoding, delimiter, columns, ignored=ignored)
    others = ({i: h.strip() for i, h in enumerate(headers) if i not in columns and h.strip()}
              if keep_other_columns else {})

    def refuse(line_no: int, why: str) -> None:
        parsed.errors.append({"line": line_no, "error": why})

    i = first + 1
    while i < len(lines):
        line_no = i + 1
        if not lines[i].strip():
            i += 1
            continue
        cells, end, why = _record_at(lines, i, delimiter)
        if cells is None:
            refuse(line_no, why)
            i += 1
            continue
        row = _contact(cells, columns)
        if others:
            row["fields"] = {h: cells[i].strip() for i, h in others.items() if i < len(cells)}
        if end > i and any("\n" in v or "\r" in v for k, v in row.items() if isinstance(v, str) and k != "notes"):
            # Only notes run over lines; a name running over lines is a quote left open that a later
            # line's quote closed: this line is lost, the next ones are read again as rows.
            refuse(line_no, 'a quote (") is opened and never closed')
            i += 1
            continue
        i = end + 1
        if len(cells) > len(headers) and any(c.strip() for c in cells[len(headers):]):
            refuse(line_no, f"{len(cells)} cells, but the first line names {len(headers)} columns "
                            "(a separator inside a cell that is not in quotes?)")
            continue
        if not row["numbers"] and not any(v.strip() for v in row.values() if isinstance(v, str)):
            continue  # a row of empty cells (;;;), as spreadsheets write at the end
        parsed.rows.append((line_no, row))
    return parsed


def _contact(cells: list[str], columns: dict[int, str]) -> dict[str, object]:
    out: dict[str, object] = {"numbers": []}
    first = last = ""
    for i, f in columns.items():
        value = cells[i].strip() if i < len(cells) else ""
        if f == "numbers":
            out["numbers"] += [n.strip() for n in re.split(r"[;,\n]", value) if n.strip()]  # type: ignore[operator]
        elif f == "first_name":
            first = value
        elif f == "last_name":
            last = value
        else:
            out[f] = value
    if not out.get("name"):
        out["name"] = " ".join(p for p in (first, last) if p)
    return out
