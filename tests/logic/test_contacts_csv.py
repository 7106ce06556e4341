"""Reading address books as spreadsheets and phones export them: real bytes, known answers."""

from __future__ import annotations

import pytest

from appliance.logic.contacts_csv import CsvProblem, decode, map_header, read, sniff_delimiter

# Excel on a Polish Windows, "CSV (rozdzielany średnikami)": Windows-1250, semicolons, CRLF.
EXCEL_PL = ("Nazwa;Telefon;Firma;E-mail;Uwagi\r\n"
            "Józef Żółć;601 234 567;Piekarnia „Ślązak”;jozef@example.pl;dzwonić po 12:00\r\n"
            "Łucja Świątek;+48 22 123 45 67;;;\r\n"
            ";;;;\r\n").encode("cp1250")


def test_polish_excel_export_is_read():
    parsed = read(EXCEL_PL)
    assert (parsed.encoding, parsed.delimiter) == ("windows-1250", ";")
    assert parsed.errors == []
    assert parsed.rows == [
        (2, {"numbers": ["601 234 567"], "name": "Józef Żółć", "company": "Piekarnia „Ślązak”",
             "email": "jozef@example.pl", "notes": "dzwonić po 12:00"}),
        (3, {"numbers": ["+48 22 123 45 67"], "name": "Łucja Świątek", "company": "", "email": "", "notes": ""})]


@pytest.mark.parametrize("data, encoding", [
    ("Name,Phone\nAnna Nowak,601234567\n".encode(), "utf-8"),
    ("\ufeffName,Phone\nAnna Nowak,601234567\n".encode(), "utf-8"),          # Excel's "CSV UTF-8"
    ("Name\tPhone\r\nAnna Nowak\t601234567\r\n".encode("utf-16"), "utf-16"),  # Excel's "Unicode text"
])
def test_name_phone_header_in_any_utf(data, encoding):
    parsed = read(data)
    assert parsed.encoding == encoding
    assert parsed.rows == [(2, {"numbers": ["601234567"], "name": "Anna Nowak"})]


def test_chinese_excel_export_in_gbk():
    parsed = read("姓名,电话,公司,备注\r\n李伟,138 0013 8000,茶馆,老客户\r\n王芳,010-12345678,,\r\n".encode("gbk"))
    assert parsed.encoding == "gbk"
    assert [(r["name"], r["numbers"], r.get("company")) for _, r in parsed.rows] == [
        ("李伟", ["138 0013 8000"], "茶馆"), ("王芳", ["010-12345678"], "")]


def test_chinese_in_utf8_is_not_mistaken_for_anything_else():
    parsed = read("姓名,手机\n张三,13900000000\n".encode())
    assert parsed.encoding == "utf-8" and parsed.rows[0][1]["name"] == "张三"


def test_a_broken_quote_costs_its_own_line_only():
    # Line 3's quote is never closed: csv.reader swallowed line 4 into a junk name and lost Anna.
    data = b'name,numbers\nJan Kowalski,601234567\n"Piotr Nowak,602345678\nAnna Nowak,603456789\n'
    parsed = read(data)
    assert [(line, r["name"]) for line, r in parsed.rows] == [(2, "Jan Kowalski"), (4, "Anna Nowak")]
    assert parsed.errors == [{"line": 3, "error": 'a quote (") is opened and never closed'}]


def test_a_quote_closed_lines_later_does_not_make_a_junk_contact():
    data = b'name,numbers\n"Jan,601234567\nAnna,602345678\nPiotr",603456789\nEwa,604567890\n'
    parsed = read(data)
    assert [r["name"] for _, r in parsed.rows] == ["Anna", "Ewa"]
    assert [e["line"] for e in parsed.errors] == [2, 4]


def test_notes_may_run_over_lines_in_quotes():
    data = b'name,numbers,notes\nJan,601234567,"first line\nsecond line"\nAnna,602345678,\n'
    parsed = read(data)
    assert parsed.errors == []
    assert parsed.rows[0] == (2, {"numbers": ["601234567"], "name": "Jan", "notes": "first line\nsecond line"})
    assert parsed.rows[1][0] == 4


def test_quotes_and_separators_inside_quoted_cells():
    data = b'name;numbers;company\n"Nowak; Jan";"601 234 567; 602 345 678";"Firma ""Kowal"""\n'
    parsed = read(data)
    assert parsed.rows == [(2, {"numbers": ["601 234 567", "602 345 678"], "name": "Nowak; Jan",
                                "company": 'Firma "Kowal"'})]


def test_a_row_with_more_cells_than_columns_is_reported():
    parsed = read(b"name,numbers\nKowalski, Jan,601234567\n")
    assert parsed.rows == []
    assert parsed.errors[0]["line"] == 2 and "3 cells" in parsed.errors[0]["error"]


def test_first_and_last_name_and_several_phone_columns():
    data = "Imię;Nazwisko;Telefon komórkowy;Telefon służbowy;Stanowisko\nJan;Kowalski;601234567;221234567;szef\n"
    parsed = read(data.encode("cp1250"))
    assert parsed.rows == [(2, {"numbers": ["601234567", "221234567"], "name": "Jan Kowalski"})]
    assert parsed.ignored == ["Stanowisko"]


@pytest.mark.parametrize("header, delimiter", [
    ("name", ","), ("Nazwa;Telefon", ";"), ("Name,Phone", ","), ("Name\tPhone", "\t"),
    ('"Name, full";Phone', ";"),
])
def test_sniff_delimiter(header, delimiter):
    assert sniff_delimiter(header) == delimiter


def test_header_aliases():
    columns, ignored = map_header(["Nazwa", "Tel.", "E-mail", "Firma", "Notatki", "Kolor"])
    assert columns == {0: "name", 1: "numbers", 2: "email", 3: "company", 4: "notes"}
    assert ignored == ["Kolor"]


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b"PK\x03\x04\x14\x00\x06\x00", "spreadsheet workbook"),
    (b"numer,adres\n601234567,ul. Polna 1\n", "no column for the name"),
    (b"601234567,Jan\n", "this file's first line has 601234567, Jan"),
])
def test_files_that_cannot_be_read_say_why(data, message):
    with pytest.raises(CsvProblem, match=message):
        read(data)


def test_undecodable_bytes_name_the_encodings():
    with pytest.raises(CsvProblem, match="not UTF-8, Windows-1250"):
        decode(b"name\n\x81\x81\x98\xff\x81\n")
