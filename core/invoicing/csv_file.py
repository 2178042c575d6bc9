"""The INVOICES.csv contract: one invoice per row, read all-or-nothing.

Header (any column order): ``number,direction,kind,partner_name,partner_tax_id,
partner_iban,order_number,issue_date,due_date,gross_amount,currency,paid_amount,status``.
Dates are ISO, amounts use a dot, credit notes have a negative gross.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from enum import StrEnum
from operator import itemgetter
from pathlib import Path
from typing import TypeVar

from reconbot.core.domain import Direction, Invoice, InvoiceKind, InvoiceStatus, natural_key, status_for
from reconbot.core.errors import InputError
from reconbot.core.money import ZERO, is_currency, parse_dot_amount

COLUMNS = (
    "number", "direction", "kind", "partner_name", "partner_tax_id", "partner_iban", "order_number",
    "issue_date", "due_date", "gross_amount", "currency", "paid_amount", "status",
)  # fmt: skip


_E = TypeVar("_E", bound=StrEnum)


class _RowError(ValueError):
    """A bad value in one column; the reader adds the file and line."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(f"{column}: {reason}")


def read_invoices(path: Path, data: bytes | None = None) -> list[Invoice]:
    """Return the invoices of an INVOICES.csv file, in file order; each id is its line number.

    Raises InputError naming the file, the line and the column for the first
    bad value; nothing is returned from a file that has one.
    """
    source = path.name
    raw = path.read_bytes() if data is None else data
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(source, f"byte {exc.start}", "not UTF-8 text") from None
    invoices: list[Invoice] = []
    seen: dict[str, int] = {}
    shared: dict[str, str] = {}  # one string object per distinct partner name, tax id, IBAN
    for line, row in _rows(source, text):
        try:
            invoice = _invoice(row, str(line), shared)
        except _RowError as exc:
            raise InputError(source, f"line {line}", str(exc)) from None
        key = natural_key(invoice.direction, invoice.number, invoice.partner_tax_id, invoice.partner_name)
        if key in seen:
            raise InputError(
                source, f"line {line}", f"number: {invoice.number} appears again (first on line {seen[key]})"
            )
        seen[key] = line
        invoices.append(invoice)
    return invoices


def read_invoice_numbers(path: Path, data: bytes | None = None) -> list[tuple[str, str]]:
    """Return (number, order number) for each row that ``read_invoices`` would read, in the same order.

    A quick first look at the file, for work that needs only the numbers; it
    checks nothing else, so read the file with ``read_invoices`` too.
    """
    raw = path.read_bytes() if data is None else data
    number, order = COLUMNS.index("number"), COLUMNS.index("order_number")
    return [(row[number].strip(), row[order].strip()) for _, row in _rows(path.name, raw.decode("utf-8-sig"))]


def _rows(source: str, text: str) -> Iterator[tuple[int, tuple[str, ...]]]:
    """Yield (line number, values in COLUMNS order, unstripped) for every non-blank data row."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError(source, "line 1", "the file is empty; expected the INVOICES.csv header") from None
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise InputError(source, "line 1", f"missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
    in_contract_order = itemgetter(*(header.index(c) for c in COLUMNS))
    start = 2
    try:
        for values in reader:
            if not any(values):
                start = reader.line_num + 1
                continue
            if len(values) != len(header):
                raise InputError(source, f"line {start}", f"{len(values)} values, the header has {len(header)}")
            yield start, in_contract_order(values)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(source, f"line {reader.line_num}", f"malformed CSV ({exc})") from None


def _invoice(values: tuple[str, ...], line: str, shared: dict[str, str]) -> Invoice:
    (number, direction_text, kind_text, partner_name, partner_tax_id, partner_iban, order_number,
     issue_text, due_text, gross_text, currency, paid_text, status_text) = map(str.strip, values)  # fmt: skip
    if not number:
        raise _RowError("number", "empty")
    direction = _choice("direction", direction_text, _DIRECTIONS)
    kind = _choice("kind", kind_text, _KINDS)
    gross = _amount("gross_amount", gross_text, required=True)
    if (kind is InvoiceKind.CREDIT_NOTE) != (gross < ZERO):
        rule = (
            "a credit note needs a negative gross amount"
            if kind is InvoiceKind.CREDIT_NOTE
            else (f"a negative gross amount is only valid for kind credit_note, not {kind}")
        )
        raise _RowError("gross_amount", rule)
    currency = currency.upper()
    if not is_currency(currency):
        raise _RowError("currency", f"{currency!r} is not an ISO 4217 currency code")
    paid = _amount("paid_amount", paid_text, required=False)
    if paid != ZERO and (paid < ZERO) != (gross < ZERO):
        raise _RowError("paid_amount", "must have the same sign as gross_amount")
    status = _status(status_text, gross, paid)
    if status is InvoiceStatus.PAID and paid == ZERO:
        paid = gross  # exports often mark an invoice paid without repeating the amount
    issue_date = _date("issue_date", issue_text)
    if issue_date is None:
        raise _RowError("issue_date", "empty")
    return Invoice(
        id=line,
        number=number,
        direction=direction,
        kind=kind,
        gross=gross,
        currency=currency,
        paid=paid,
        status=status,
        partner_name=shared.setdefault(partner_name, partner_name),
        partner_tax_id=shared.setdefault(partner_tax_id, partner_tax_id),
        partner_iban=shared.setdefault(partner_iban, partner_iban),
        order_number=order_number,
        issue_date=issue_date,
        due_date=_date("due_date", due_text),
    )


def _status(text: str, gross: Decimal, paid: Decimal) -> InvoiceStatus:
    implied = status_for(gross, paid)
    if not text:
        return implied
    status = _choice("status", text, _STATUSES)
    if status is InvoiceStatus.ISSUED and implied is not InvoiceStatus.ISSUED:
        raise _RowError("status", f"issued, but paid_amount is {paid}")
    if status is InvoiceStatus.PARTIALLY_PAID and implied is not InvoiceStatus.PARTIALLY_PAID:
        raise _RowError("status", f"partially_paid needs a paid_amount between 0 and {gross}, not {paid}")
    return status


_DIRECTIONS = {e.value: e for e in Direction}
_KINDS = {e.value: e for e in InvoiceKind}
_STATUSES = {e.value: e for e in InvoiceStatus}


def _choice(column: str, text: str, choices: dict[str, _E]) -> _E:
    found = choices.get(text) or choices.get(text.lower())
    if found is None:
        raise _RowError(column, f"{text!r} is not one of {'/'.join(choices)}")
    return found


def _amount(column: str, text: str, *, required: bool) -> Decimal:
    if not text:
        if required:
            raise _RowError(column, "empty")
        return ZERO
    try:
        return parse_dot_amount(text)
    except ValueError as exc:
        raise _RowError(column, str(exc)) from None


def _date(column: str, text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _RowError(column, f"{text!r} is not an ISO date (YYYY-MM-DD)") from None
