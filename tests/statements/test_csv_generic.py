"""The generic CSV contract: happy path, quoting, BOM, derived ids, bad input, round trip."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reconbot.core.errors import InputError
from reconbot.core.statements import Statement, parse_statement
from reconbot.core.statements.csv_generic import GENERIC_COLUMNS, GENERIC_HEADER

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "statements"


def parse(text: str, bom: bool = False) -> Statement:
    return parse_statement(Path("export.csv"), (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


def failure(text: str) -> InputError:
    with pytest.raises(InputError) as caught:
        parse(text)
    assert caught.value.source == "export.csv"
    return caught.value


def test_fixture_file() -> None:
    statement = parse_statement(FIXTURES / "generic.csv")
    assert statement.format == "csv"
    first, second = statement.transactions
    assert first.id == first.bank_id == "OTP-2024-000017"
    assert (first.booking_date, first.value_date) == (date(2024, 3, 4), date(2024, 3, 4))
    assert first.amount == Decimal("125000.00")
    assert (first.currency, first.counterparty_name) == ("HUF", "Példa Kft.")
    assert first.counterparty_iban == "HU42117730161111101800000000"
    assert (first.reference, first.end_to_end_id) == ("SZLA-2024-0042", "E2E-0042")
    # A quoted reference keeps its line break; an empty value date is None.
    assert second.reference == "Számla 2024/117\nmárcius"
    assert second.value_date is None
    assert second.amount == Decimal("-18900.5")
    assert second.id.startswith("d-") and second.bank_id == ""


def test_bom_is_ignored() -> None:
    text = GENERIC_HEADER + "\nA1,2024-01-02,,1.00,EUR,,,,\n"
    assert parse(text, bom=True).transactions == parse(text).transactions


def test_empty_ids_are_derived_stable_and_identical_rows_stay_two() -> None:
    row = ",2024-01-02,,5000,HUF,Kiss Anna,,tagdíj,\n"
    text = GENERIC_HEADER + "\n" + row + row
    first, second = parse(text).transactions
    assert first.id.startswith("d-") and second.id.startswith("d-")
    assert first.id != second.id
    again = parse(text).transactions
    assert [t.id for t in again] == [first.id, second.id]


def test_blank_lines_are_skipped_and_line_numbers_count_them() -> None:
    text = GENERIC_HEADER + '\n\nA1,2024-01-02,,1.00,EUR,,,"two\nlines",\n\nA2,2024-01-02,,x,EUR,,,,\n'
    error = failure(text)
    reason = "'x' is not a number with a dot as decimal separator"
    assert (error.location, error.reason) == ("line 6, column amount", reason)


NOT_A_DATE = "is not a date (expected YYYY-MM-DD)"
NOT_AN_AMOUNT = "is not a number with a dot as decimal separator"


@pytest.mark.parametrize(
    ("row", "location", "reason"),
    [
        ("A1,2024-01-02,,1.00,EUR,,,", "line 2", "expected 9 columns, found 8"),
        ("A1,2024-01-02,,1.00,EUR,,,,,", "line 2", "expected 9 columns, found 10"),
        ("A1,02.01.2024,,1.00,EUR,,,,", "line 2, column booking_date", f"'02.01.2024' {NOT_A_DATE}"),
        ("A1,2024-01-02,2024-13-01,1.00,EUR,,,,", "line 2, column value_date", f"'2024-13-01' {NOT_A_DATE}"),
        ('A1,2024-01-02,,"1,00",EUR,,,,', "line 2, column amount", f"'1,00' {NOT_AN_AMOUNT}"),
        ("A1,2024-01-02,,1.00,eur,,,,", "line 2, column currency", "'eur' is not an ISO 4217 currency code"),
        ('A1,2024-01-02,,1.00,EUR,"unclosed,,,', "line 2", "malformed CSV: unexpected end of data"),
    ],
)
def test_bad_rows(row: str, location: str, reason: str) -> None:
    error = failure(GENERIC_HEADER + "\n" + row + "\n")
    assert (error.location, error.reason) == (location, reason)


def test_header_must_be_exact() -> None:
    error = failure("id,booking_date,amount,currency\nA1,2024-01-02,1.00,EUR\n")
    assert error.location == "line 1"
    assert error.reason.startswith(f"the header must be exactly {GENERIC_HEADER!r}")


def test_header_only_is_an_empty_statement() -> None:
    assert parse(GENERIC_HEADER + "\n").transactions == ()


TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30)
ROWS = st.lists(
    st.tuples(
        st.one_of(st.just(""), st.text("ABCXYZ0123456789-/", min_size=1, max_size=12)),
        st.dates(date(1990, 1, 1), date(2100, 12, 31)),
        st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2100, 12, 31))),
        st.integers(0, 5).flatmap(lambda places: st.decimals(-(10**12), 10**12, places=places)),
        st.sampled_from(["HUF", "PLN", "EUR", "JPY", "USD"]),
        TEXT,
        st.text("ABCDEHLPU0123456789", max_size=28),
        TEXT,
        TEXT,
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(ROWS)
def test_written_rows_parse_back_to_the_same_values(rows: list[tuple[object, ...]]) -> None:
    out = io.StringIO()
    # The standard writer (CRLF line ends) quotes any field holding CR, LF, comma or quote.
    writer = csv.writer(out)
    writer.writerow(GENERIC_COLUMNS)
    for tx_id, booked, valued, amount, currency, name, iban, reference, e2e in rows:
        assert isinstance(booked, date) and isinstance(amount, Decimal)
        writer.writerow(
            [
                tx_id,
                booked.isoformat(),
                valued.isoformat() if isinstance(valued, date) else "",
                format(amount, "f"),
                currency,
                name,
                iban,
                reference,
                e2e,
            ]
        )
    transactions = parse(out.getvalue()).transactions
    assert len(transactions) == len(rows)
    for t, row in zip(transactions, rows, strict=True):
        tx_id, booked, valued, amount, currency, name, iban, reference, e2e = row
        assert (t.bank_id, t.booking_date, t.value_date, t.amount, t.currency) == row[:5]
        assert (t.counterparty_name, t.counterparty_iban, t.reference, t.end_to_end_id) == row[5:]
        assert t.id == tx_id if tx_id else t.id.startswith("d-")
    # Given ids are kept even when repeated (some banks reuse them); derived ones never collide.
    derived = [t.id for t in transactions if not t.bank_id]
    assert len(set(derived)) == len(derived)
