"""The generic CSV format: reconbot's own exchange format, a fixed contract other tools write.

Header (exactly): ``id,booking_date,value_date,amount,currency,counterparty_name,counterparty_iban,
reference,end_to_end_id``. UTF-8 with or without BOM, comma separated, RFC 4180 quoting (a
reference may span lines inside quotes), ISO dates, a signed amount with a dot (positive = money
in). An empty ``id`` gets a derived, stable id; a given one is also the ``bank_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from reconbot.core.domain import Transaction
from reconbot.core.errors import InputError
from reconbot.core.money import is_currency, parse_dot_amount
from reconbot.core.statements.common import csv_rows, strict_iso_date
from reconbot.core.statements.identity import with_ids
from reconbot.core.statements.model import Statement

GENERIC_COLUMNS = (
    "id",
    "booking_date",
    "value_date",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_iban",
    "reference",
    "end_to_end_id",
)
GENERIC_HEADER = ",".join(GENERIC_COLUMNS)


def is_generic_csv(first_line: str) -> bool:
    """Return True when a header line claims to be the generic format (it may still be malformed)."""
    return first_line.lstrip("\ufeff").startswith("id,booking_date")


def parse_generic_csv(text: str, source: str) -> Statement:
    """Return the transactions of a generic CSV file, already decoded to ``text``.

    Raises InputError naming the line and column for a wrong header, a row with the wrong
    number of columns, a bad date, amount or currency.
    """
    rows = _rows(text.removeprefix("\ufeff"), source)
    header = next(rows, None)
    if header is None or tuple(header[1]) != GENERIC_COLUMNS:
        found = ",".join(header[1]) if header else ""
        raise InputError(source, "line 1", f"the header must be exactly {GENERIC_HEADER!r}, found {found!r}")
    # This loop is the hot path for big exports (100,000 rows in well under a second): one
    # try per row, and each currency checked once.
    currencies: set[str] = set()
    transactions = []
    for line, cells in rows:
        if len(cells) != len(GENERIC_COLUMNS):
            raise InputError(source, f"line {line}", f"expected {len(GENERIC_COLUMNS)} columns, found {len(cells)}")
        tx_id, booked, valued, amount, currency, name, iban, reference, end_to_end = cells
        try:
            booking_date = strict_iso_date(booked)
            value_date = strict_iso_date(valued) if valued else None
            value = parse_dot_amount(amount)
        except ValueError:
            raise _bad_cell(cells, line, source) from None
        if currency not in currencies:
            if not is_currency(currency):
                reason = f"{currency!r} is not an ISO 4217 currency code"
                raise InputError(source, f"line {line}, column currency", reason)
            currencies.add(currency)
        transactions.append(
            Transaction(
                id=tx_id,
                booking_date=booking_date,
                amount=value,
                currency=currency,
                value_date=value_date,
                counterparty_name=name,
                counterparty_iban=iban,
                reference=reference,
                end_to_end_id=end_to_end,
                bank_id=tx_id,
                raw={"line": str(line)},
            )
        )
    return Statement(format="csv", source=source, transactions=tuple(with_ids(transactions)))


def _rows(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line number, cells) per record, skipping blank lines."""
    return ((line, cells) for line, cells in csv_rows(text, source) if cells)


def _bad_cell(cells: list[str], line: int, source: str) -> InputError:
    """Return the error for the first unreadable date or amount in a row that failed to parse."""
    checks: tuple[tuple[str, Callable[[str], object], str], ...] = (
        ("booking_date", strict_iso_date, cells[1]),
        ("value_date", strict_iso_date, cells[2] or "2000-01-01"),
        ("amount", parse_dot_amount, cells[3]),
    )
    for column, parse, text in checks:
        try:
            parse(text)
        except ValueError as exc:
            return InputError(source, f"line {line}, column {column}", str(exc))
    return InputError(source, f"line {line}", "unreadable row")  # not reached: one check failed
