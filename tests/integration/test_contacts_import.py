"""Contact import through a real core's API, with the files owners really have: Excel's Polish export,
a Name,Phone sheet, a broken quote, duplicates, and files that are not CSV at all."""

from __future__ import annotations

EXCEL_PL = ("Nazwa;Telefon;Firma\r\n"
            "Józef Żółć;601 234 567;Piekarnia Ślązak\r\n"
            "Łucja Świątek;+48 22 123 45 67;\r\n").encode("cp1250")


def _names(core) -> list[str]:
    return [c["name"] for c in core.api("GET", "/api/contacts")[1]["contacts"]]


def test_polish_excel_export_and_a_name_phone_sheet(core):
    status, result = core.api("POST", "/api/contacts.csv", raw=EXCEL_PL)
    assert status == 200, result
    assert (result["imported"], result["errors"], result["encoding"], result["delimiter"]) == (
        2, [], "windows-1250", ";")
    status, pop = core.api("GET", "/api/contacts/lookup?number=0048601234567")
    assert pop["contact"]["name"] == "Józef Żółć" and pop["contact"]["company"] == "Piekarnia Ślązak"
    status, result = core.api("POST", "/api/contacts.csv", raw=b"Name,Phone\r\nAnna Nowak,602 345 678\r\n")
    assert status == 200 and result["imported"] == 1
    assert sorted(_names(core)) == ["Anna Nowak", "Józef Żółć", "Łucja Świątek"]


def test_bad_rows_are_listed_by_line_and_the_good_ones_kept(core):
    core.api("POST", "/api/contacts", {"name": "Jan Kowalski", "numbers": ["601234567"]})
    data = ('name,numbers\n'
            '"Piotr Nowak,602345678\n'          # line 2: a quote never closed
            'Anna Nowak,603456789\n'            # line 3: good, not swallowed by line 2
            'Kowalski J.,+48 601 234 567\n'     # line 4: the number of a contact already
            'Ewa,abc\n'                          # line 5: not a number
            'Anna N.,603 456 789\n').encode()   # line 6: the same number as line 3
    status, result = core.api("POST", "/api/contacts.csv", raw=data)
    assert status == 200, result
    assert result["imported"] == 1 and result["duplicates"] == 2
    assert result["errors"] == [
        {"line": 2, "error": 'a quote (") is opened and never closed'},
        {"line": 4, "duplicate": True, "error": "duplicate: +48601234567 is already contact 'Jan Kowalski'"},
        {"line": 5, "error": "numbers: 'abc' is not a phone number"},  # not the library's own words
        {"line": 6, "duplicate": True, "error": "duplicate: +48603456789 is already on line 3"}]
    assert sorted(_names(core)) == ["Anna Nowak", "Jan Kowalski"]
    # The same file again adds nothing.
    status, again = core.api("POST", "/api/contacts.csv", raw=data)
    assert again["imported"] == 0 and again["duplicates"] == 3
    assert sorted(_names(core)) == ["Anna Nowak", "Jan Kowalski"]


def test_files_that_are_not_an_address_book_are_refused_with_the_reason(core):
    status, body = core.api("POST", "/api/contacts.csv", raw=b"PK\x03\x04\x14\x00\x06\x00" + bytes(100))
    assert status == 400 and body["error"].startswith("CSV: this is a spreadsheet workbook (.xlsx/.xls), not CSV")
    status, body = core.api("POST", "/api/contacts.csv", raw=b"numer;adres\n601234567;Polna 1\n")
    assert status == 400 and "no column for the name" in body["error"] and "numer, adres" in body["error"]
    assert _names(core) == []
