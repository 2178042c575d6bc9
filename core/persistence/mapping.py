"""Between stored rows and the plain domain values the matching engine works on."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import col

from reconbot.core.domain import Direction, Invoice, InvoiceKind, InvoiceStatus, Transaction, natural_key
from reconbot.core.persistence.tables import BankTransactionRecord, InvoiceRecord

# Columns read for matching: selected as plain rows, because building 200,000 ORM objects
# only to turn them into dataclasses costs seconds.
_INVOICE_FIELDS = (
    "id",
    "number",
    "direction",
    "kind",
    "gross",
    "currency",
    "paid_amount",
    "status",
    "partner_name",
    "partner_tax_id",
    "partner_iban",
    "partner_email",
    "order_number",
    "issue_date",
    "due_date",
)
INVOICE_COLUMNS = tuple(col(getattr(InvoiceRecord, name)) for name in _INVOICE_FIELDS)
TRANSACTION_COLUMNS = (
    col(BankTransactionRecord.id),
    col(BankTransactionRecord.booking_date),
    col(BankTransactionRecord.amount),
    col(BankTransactionRecord.currency),
    col(BankTransactionRecord.value_date),
    col(BankTransactionRecord.counterparty_name),
    col(BankTransactionRecord.counterparty_iban),
    col(BankTransactionRecord.reference),
    col(BankTransactionRecord.end_to_end_id),
    col(BankTransactionRecord.structured_reference),
    col(BankTransactionRecord.bank_id),
)


def select_invoices(workspace_id: int) -> Select[*tuple[Any, ...]]:
    """Return the query for a workspace's invoices as rows for ``invoice_from_row``."""
    query = select(*INVOICE_COLUMNS).where(col(InvoiceRecord.workspace_id) == workspace_id)
    return query.order_by(col(InvoiceRecord.id))


def invoice_from_row(row: Sequence[Any]) -> Invoice:
    """Return the domain invoice of a row selected with ``INVOICE_COLUMNS``; its id is the row id as text."""
    (id_, number, direction, kind, gross, currency, paid, status, name, tax_id, iban, email, order, issued, due) = row
    return Invoice(
        id=str(id_),
        number=number,
        direction=Direction(direction),
        kind=InvoiceKind(kind),
        gross=gross,
        currency=currency,
        paid=paid,
        status=InvoiceStatus(status),
        partner_name=name,
        partner_tax_id=tax_id,
        partner_iban=iban,
        partner_email=email,
        order_number=order,
        issue_date=issued,
        due_date=due,
    )


def transaction_from_row(row: Sequence[Any]) -> Transaction:
    """Return the domain transaction of a row selected with ``TRANSACTION_COLUMNS``; its id is the row id."""
    (id_, booked, amount, currency, value_date, name, iban, reference, e2e, structured, bank_id) = row
    return Transaction(
        id=str(id_),
        booking_date=booked,
        amount=amount,
        currency=currency,
        value_date=value_date,
        counterparty_name=name,
        counterparty_iban=iban,
        reference=reference,
        end_to_end_id=e2e,
        structured_reference=structured,
        bank_id=bank_id,
    )


def invoice_values(invoice: Invoice, source: str) -> dict[str, Any]:
    """Return the column values that store ``invoice`` from ``source`` (without workspace and id)."""
    return {
        "direction": invoice.direction,
        "kind": invoice.kind,
        "number": invoice.number,
        "order_number": invoice.order_number,
        "partner_name": invoice.partner_name,
        "partner_tax_id": invoice.partner_tax_id,
        "partner_iban": invoice.partner_iban,
        "partner_email": invoice.partner_email,
        "issue_date": invoice.issue_date,
        "due_date": invoice.due_date,
        "gross": invoice.gross,
        "currency": invoice.currency,
        "paid_amount": invoice.paid,
        "status": invoice.status,
        "source": source,
        "natural_key": natural_key(invoice.direction, invoice.number, invoice.partner_tax_id, invoice.partner_name),
    }


def transaction_values(tx: Transaction) -> dict[str, Any]:
    """Return the column values that store ``tx`` (without workspace, account, batch and dedupe key)."""
    return {
        "external_id": tx.id,
        "bank_id": tx.bank_id,
        "booking_date": tx.booking_date,
        "value_date": tx.value_date,
        "amount": tx.amount,
        "currency": tx.currency,
        "counterparty_name": tx.counterparty_name,
        "counterparty_iban": tx.counterparty_iban,
        "reference": tx.reference,
        "end_to_end_id": tx.end_to_end_id,
        "structured_reference": tx.structured_reference,
        "raw": tx.raw,
    }


def invoice_from_record(record: InvoiceRecord) -> Invoice:
    """Return the domain invoice of a stored invoice."""
    return invoice_from_row([getattr(record, name) for name in _INVOICE_FIELDS])
