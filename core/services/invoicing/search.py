"""The panel's invoice search and one invoice with the payments that settled it (for bank roles only).

Keyset-paged like the workbench (``reconbot.core.services.reconciliation.workbench``), newest issue date first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Engine, or_
from sqlmodel import Session, col, select

from reconbot.core.domain import Direction, InvoiceStatus
from reconbot.core.money import ZERO, parse_local_amount
from reconbot.core.persistence.tables import AllocationRecord, BankTransactionRecord, InvoiceRecord
from reconbot.core.services.reconciliation.workbench import (
    PAGE_SIZE,
    Allocation,
    InvoiceRow,
    Page,
    after_cursor,
    allocation_view,
    cursor_of,
    invoice_row,
    like_pattern,
)


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    """What the invoice search is narrowed to; empty fields narrow nothing."""

    text: str = ""  # a number, partner name, tax id or amount
    statuses: Sequence[InvoiceStatus] = ()
    direction: Direction | None = None


def _amount_in(text: str) -> Decimal | None:
    try:
        amount = parse_local_amount(text)
    except (ValueError, InvalidOperation):
        return None
    return abs(amount) if amount != ZERO else None


def search_invoices(
    engine: Engine, workspace_id: int, where: InvoiceFilter = InvoiceFilter(), *, after: str = "",
    limit: int = PAGE_SIZE,
) -> Page[InvoiceRow]:  # fmt: skip
    """Return the page of the workspace's invoices matching ``where`` after cursor ``after``, newest issue date
    first. The text matches part of the number, partner name or tax id, or (when it reads as one) the gross
    amount. Raises InputError for a broken cursor."""
    inv = InvoiceRecord
    conditions: list[Any] = [col(inv.workspace_id) == workspace_id]
    text = where.text.strip()
    if text:
        pattern = like_pattern(text)
        matches: list[Any] = [col(inv.number).ilike(pattern, escape="\\"),
                              col(inv.partner_name).ilike(pattern, escape="\\"),
                              col(inv.partner_tax_id).ilike(pattern, escape="\\")]  # fmt: skip
        amount = _amount_in(text)
        if amount is not None:
            matches += [col(inv.gross) == amount, col(inv.gross) == -amount]
        conditions.append(or_(*matches))
    if where.statuses:
        conditions.append(col(inv.status).in_(list(where.statuses)))
    if where.direction is not None:
        conditions.append(col(inv.direction) == where.direction)
    conditions += after_cursor(col(inv.issue_date), col(inv.id), after)
    query = select(inv).where(*conditions).order_by(col(inv.issue_date).desc(), col(inv.id).desc()).limit(limit + 1)
    with Session(engine) as session:
        found = session.exec(query).all()
    rows = [invoice_row(r) for r in found[:limit]]
    more = len(found) > limit
    return Page(rows, cursor_of(rows[-1].issue_date, rows[-1].id) if more and rows else None)


@dataclass(frozen=True, slots=True)
class InvoiceDetail:
    invoice: InvoiceRow
    order_number: str
    source: str
    payments: list[Allocation] | None  # None: the viewer may not see bank transactions


def invoice_detail(engine: Engine, workspace_id: int, invoice_id: int, *, bank_data: bool) -> InvoiceDetail | None:
    """Return the invoice and, with ``bank_data`` only, the allocations of the transactions that paid it (live
    ones first); None when the workspace has no such invoice."""
    with Session(engine) as session:
        record = session.get(InvoiceRecord, invoice_id)
        if record is None or record.workspace_id != workspace_id:
            return None
        payments: list[Allocation] | None = None
        if bank_data:
            query = (
                select(AllocationRecord, BankTransactionRecord)
                .join(BankTransactionRecord, col(BankTransactionRecord.id) == col(AllocationRecord.transaction_id))
                .where(col(AllocationRecord.invoice_id) == record.id)
                .order_by(col(AllocationRecord.undone_at).is_not(None), col(AllocationRecord.id))
            )
            payments = [allocation_view(a, record.number, tx) for a, tx in session.exec(query).all()]
        return InvoiceDetail(invoice_row(record), record.order_number, record.source, payments)
