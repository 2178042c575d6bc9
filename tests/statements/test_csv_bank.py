"""K&H and mBank CSV exports, read through their profiles (fixtures built from documented headers)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from reconbot.core.errors import InputError
from reconbot.core.statements import Statement, parse_statement

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statements"


def parse(text: str, encoding: str = "utf-8", name: str = "export.csv") -> Statement:
    return parse_statement(Path(name), text.encode(encoding))


def failure(text: str, encoding: str = "utf-8") -> InputError:
    with pytest.raises(InputError) as caught:
        parse(text, encoding)
    assert caught.value.source == "export.csv"
    return caught.value


def test_kh_fixture() -> None:
    statement = parse_statement(FIXTURES / "kh.csv")
    assert statement.format == "csv-kh"
    credit, debit, fee = statement.transactions
    assert (credit.id, credit.bank_id) == ("K240304-000123", "K240304-000123")
    assert credit.amount == Decimal("125000") and credit.currency == "HUF"
    assert (credit.booking_date, credit.value_date) == (date(2024, 3, 4), date(2024, 3, 4))
    assert credit.counterparty_name == "Példa Kft."
    assert credit.counterparty_iban == "117730161111101800000000"
    assert credit.account_iban == "104000001234567800000000"
    assert credit.reference == "SZLA-2024-0042 ellenértéke"
    assert credit.raw == {"line": "2", "type": "Átutalás jóváírás"}
    # Hungarian number format, and a quoted memo over two lines.
    assert debit.amount == Decimal("-18900.50")
    assert debit.reference == "Számla 2024/117,\nmárcius"
    # No transaction id: a derived one; the value date can differ from the booking date.
    assert fee.id.startswith("d-") and fee.bank_id == ""
    assert (fee.booking_date, fee.value_date, fee.amount) == (date(2024, 3, 6), date(2024, 3, 7), Decimal("-1250"))


KH_VARIANT = (
    "könyvelés dátuma;értéknap;TRANZAKCIÓ AZONOSÍTÓ;Partner számlaszáma;Partner neve;Összeg;Deviza;Közlemény\n"
    "2024-03-04;2024-03-04;K1;11773016-11111018;Kovács Éva;-5 000,00;EUR;díj ő ű\n"
)


def test_kh_header_variants_in_windows_1250() -> None:
    (only,) = parse(KH_VARIANT, "cp1250").transactions
    assert (only.id, only.counterparty_name, only.counterparty_iban) == ("K1", "Kovács Éva", "1177301611111018")
    assert (only.amount, only.currency, only.reference) == (Decimal("-5000.00"), "EUR", "díj ő ű")
    assert parse(KH_VARIANT, "cp1250").transactions == parse(KH_VARIANT).transactions


def test_kh_row_with_wrong_number_of_columns() -> None:
    error = failure(KH_VARIANT + "2024-03-05;2024-03-05;K2;;;-1,00;EUR\n")
    assert (error.location, error.reason) == ("line 3", "expected 8 columns, found 7")


@pytest.mark.parametrize(
    ("row", "location", "reason"),
    [
        (
            "2024-13-05;;K2;;;1;EUR;x",
            "line 3, column könyvelés dátuma",
            "'2024-13-05' is not a date (expected YYYY.MM.DD., YYYY.MM.DD, YYYY-MM-DD, YYYYMMDD)",
        ),
        (";;K2;;;1;EUR;x", "line 3, column könyvelés dátuma", "the booking date is missing"),
        ("2024-03-05;;K2;;;sok;EUR;x", "line 3, column Összeg", "'sok' is not an amount"),
        ("2024-03-05;;K2;;;1;FT;x", "line 3, column Deviza", "'FT' is not an ISO 4217 currency code"),
    ],
)
def test_kh_bad_values(row: str, location: str, reason: str) -> None:
    error = failure(KH_VARIANT + row + "\n")
    assert (error.location, error.reason) == (location, reason)


def test_mbank_fixture() -> None:
    statement = parse_statement(FIXTURES / "mbank.csv")
    assert statement.format == "csv-mbank"
    incoming, outgoing = statement.transactions  # the "#Saldo końcowe" summary line is skipped
    assert (incoming.amount, incoming.currency) == (Decimal("12300.00"), "PLN")
    assert incoming.booking_date == date(2024, 3, 4)
    assert incoming.reference == "FV 2024/03/001"
    assert incoming.counterparty_name == "ŻÓŁTY SKLEP SPÓŁKA Z O.O. UL. DŁUGA 1 00-001 WARSZAWA"
    assert incoming.counterparty_iban == "61109010140000071219812874"
    assert incoming.account_iban == "11402004000031027654321000"
    # The currency written into the amount is understood as well.
    assert (outgoing.amount, outgoing.currency) == (Decimal("-2460.00"), "PLN")
    assert outgoing.booking_date == date(2024, 3, 6)
    assert outgoing.raw == {
        "line": "27",
        "operation_date": "2024-03-05",
        "type": "PRZELEW ZEWNĘTRZNY WYCHODZĄCY",
        "balance": "12 840,00",
    }
    assert incoming.id.startswith("d-") and incoming.id != outgoing.id


MBANK_MINIMAL = (
    "#Data operacji;#Data księgowania;#Opis operacji;#Tytuł;#Nadawca/Odbiorca;#Numer konta;#Kwota;#Saldo po operacji;\n"
    "2024-03-04;2024-03-04;PRZELEW;FV 1;JAN;'1';{amount};0,00;\n"
)


def test_mbank_without_currency_anywhere_is_refused() -> None:
    error = failure(MBANK_MINIMAL.format(amount="1 000,00"), "cp1250")
    assert (error.location, error.reason) == ("line 2, column #Kwota", "no currency given")


def test_mbank_currency_in_amount_without_preamble() -> None:
    (only,) = parse(MBANK_MINIMAL.format(amount="-1 000,00 EUR"), "cp1250").transactions
    assert (only.amount, only.currency) == (Decimal("-1000.00"), "EUR")
