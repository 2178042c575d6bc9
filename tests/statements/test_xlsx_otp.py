"""OTP Bank XLSX export, built here with openpyxl in the documented layout."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from reconbot.core.errors import InputError
from reconbot.core.statements import Statement, parse_statement

HEADER = [
    "Számlaszám",
    "Ellenoldali számlaszám",
    "Ellenoldali név",
    "Tranzakció típusa",
    "Közlemény",
    "Kategória",
    "Tranzakció azonosító",
    "Tranzakció időpontja",
    "Könyvelés dátuma",
    "Összeg",
    "Pénznem",
]
HUF_ACCOUNT = "11773016-11111018-00000000"
EUR_ACCOUNT = "11763055-22222222-00000000"
ROWS: list[list[object]] = [
    [
        HUF_ACCOUNT,
        "11600006-00000000-12345678",
        "Példa Kft.",
        "Jóváírás",
        "SZLA-2024-0042",
        "Bevétel",
        "2024030409150011001",
        datetime(2024, 3, 4, 9, 15),
        "2024-03-04",
        125000.0,
        "HUF",
    ],
    [
        HUF_ACCOUNT,
        "",
        "MOL TÖLTŐÁLLOMÁS",
        "Kártyás vásárlás",
        "",
        "Üzemanyag",
        202403051845,
        "2024-03-05 18:45:00",
        datetime(2024, 3, 5),
        -15500.5,
        "HUF",
    ],
    # Booked amounts that a float cannot hold exactly must come out as typed.
    [
        EUR_ACCOUNT,
        "HU42117730161111101800000000",
        "Alpha GmbH",
        "Átutalás",
        "INV 7\nmárcius",
        "",
        "EUR-77",
        "2024-03-06 08:00:00",
        "2024-03-06",
        -0.1,
        "EUR",
    ],
    # Not booked yet (no booking date): pending, so not imported.
    [HUF_ACCOUNT, "", "Függő tétel", "Kártyás vásárlás", "", "", "P-1", "2024-03-07 10:00:00", None, -999.0, "HUF"],
]


def workbook(rows: list[list[object]] = ROWS, header: list[str] = HEADER, sheet: str = "Tranzakciók") -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws.append(["OTP Bank Nyrt. – számlatörténet"])
    ws.append(["Lekérdezés kezdete", "2024-03-01"])
    ws.append(["Lekérdezés vége", "2024-03-31"])
    ws.append(["Számlaszám", HUF_ACCOUNT])  # a preamble label with the same word as the header
    ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def parse(data: bytes) -> Statement:
    return parse_statement(Path("otp.xlsx"), data)


def failure(data: bytes) -> InputError:
    with pytest.raises(InputError) as caught:
        parse(data)
    assert caught.value.source == "otp.xlsx"
    return caught.value


def test_otp_export() -> None:
    statement = parse(workbook())
    assert statement.format == "xlsx-otp"
    credit, card, euro = statement.transactions
    assert (credit.id, credit.bank_id) == ("2024030409150011001", "2024030409150011001")
    assert (credit.amount, credit.currency, credit.booking_date) == (Decimal("125000"), "HUF", date(2024, 3, 4))
    assert credit.counterparty_name == "Példa Kft."
    assert credit.counterparty_iban == "116000060000000012345678"
    assert credit.account_iban == "117730161111101800000000"
    assert credit.reference == "SZLA-2024-0042"
    assert credit.raw == {
        "row": "7",
        "type": "Jóváírás",
        "category": "Bevétel",
        "transaction_time": "2024-03-04 09:15:00",
    }
    # A numeric id cell loses its ".0"; a date cell and a text date both work.
    assert card.id == "202403051845"
    assert (card.amount, card.booking_date) == (Decimal("-15500.5"), date(2024, 3, 5))
    # Several accounts in one file, each row with its own; -0.1 stays exactly -0.1.
    assert (euro.account_iban, euro.currency, euro.amount) == ("117630552222222200000000", "EUR", Decimal("-0.1"))
    assert euro.reference == "INV 7\nmárcius"


def test_unknown_header_texts_fall_back_to_the_documented_order() -> None:
    header = HEADER[:2] + [f"Oszlop {n}" for n in range(3, 12)]
    assert parse(workbook(header=header)).transactions == parse(workbook()).transactions


def test_bad_amount_names_sheet_row_and_column() -> None:
    rows = [[*ROWS[0][:9], "sok pénz", "HUF"]]
    error = failure(workbook(rows))
    assert (error.location, error.reason) == ("sheet Tranzakciók, row 7, column Összeg", "'sok pénz' is not an amount")


def test_bad_booking_date() -> None:
    rows = [[*ROWS[0][:8], "2024-02-30", 1.0, "HUF"]]
    error = failure(workbook(rows))
    assert error.location == "sheet Tranzakciók, row 7, column Könyvelés dátuma"
    assert error.reason.startswith("'2024-02-30' is not a date")


def test_workbook_without_the_sheet() -> None:
    error = failure(workbook(sheet="Munka1"))
    assert "no sheet Tranzakciók (found Munka1)" in error.reason


def test_sheet_without_the_header() -> None:
    error = failure(workbook(header=["Dátum", "Összeg"]))
    assert "no header row with the columns Számlaszám, Ellenoldali számlaszám" in error.reason


def test_zip_that_is_not_a_workbook() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert failure(out.getvalue()).reason.startswith("not a readable XLSX workbook")


def test_wrong_sheet_dimensions_do_not_cut_rows() -> None:
    source = zipfile.ZipFile(io.BytesIO(workbook()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data, count = re.subn(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
                assert count == 1
            target.writestr(item, data)
    assert parse(out.getvalue()).transactions == parse(workbook()).transactions
