"""Reading a workspace's reconciliation back: who paid what, what waits for a person, what is still open."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.domain import InvoiceStatus, TransactionStatus
from reconbot.core.money import ZERO
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import (
    AllocationRecord,
    BankTransactionRecord,
    InvoiceRecord,
    MatchSuggestionRecord,
)


@dataclass(frozen=True, slots=True)
class AllocationView:
    allocation_id: int
    invoice_number: str
    amount: Decimal
    by: str


@dataclass(frozen=True, slots=True)
class SuggestionView:
    invoice_numbers: tuple[str, ...]
    confidence: Decimal
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TransactionView:
    id: int
    external_id: str
    booking_date: date
    amount: Decimal
    currency: str
    counterparty: str
    reference: str
    status: TransactionStatus
    allocations: list[AllocationView] = field(default_factory=list)
    suggestions: list[SuggestionView] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class InvoiceView:
    id: int
    number: str
    direction: str
    partner_name: str
    due_date: date | None
    open_amount: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class Overview:
    """A workspace's transactions (booking order) and its open invoices (due first)."""

    transactions: list[TransactionView]
    open_invoices: list[InvoiceView]


def overview(engine: Engine, workspace_id: int) -> Overview:
    """Return the workspace's reconciliation as it is stored now."""
    with session_scope(engine) as session:
        return Overview(_transactions(session, workspace_id), _open_invoices(session, workspace_id))


def _transactions(session: Session, workspace_id: int) -> list[TransactionView]:
    query = select(BankTransactionRecord).where(col(BankTransactionRecord.workspace_id) == workspace_id)
    records = session.exec(query.order_by(col(BankTransactionRecord.booking_date), col(BankTransactionRecord.id)))
    views = {
        r.id: TransactionView(
            r.id,
            r.external_id,
            r.booking_date,
            r.amount,
            r.currency,
            r.counterparty_name or r.counterparty_iban,
            r.reference,
            r.status,
            flags=list(r.flags),
        )
        for r in records
        if r.id is not None
    }
    invoice_numbers = select(InvoiceRecord.id, InvoiceRecord.number).where(
        col(InvoiceRecord.workspace_id) == workspace_id
    )
    numbers = dict(session.exec(invoice_numbers).all())
    live = select(AllocationRecord).where(
        col(AllocationRecord.workspace_id) == workspace_id, col(AllocationRecord.undone_at).is_(None)
    )
    for a in session.exec(live.order_by(col(AllocationRecord.id))):
        assert a.id is not None
        views[a.transaction_id].allocations.append(AllocationView(a.id, numbers[a.invoice_id], a.amount, a.created_by))
    suggestions = select(MatchSuggestionRecord).where(col(MatchSuggestionRecord.workspace_id) == workspace_id)
    ranked = suggestions.order_by(col(MatchSuggestionRecord.transaction_id), col(MatchSuggestionRecord.rank))
    for s in session.exec(ranked):
        view = views[s.transaction_id]
        view.suggestions.append(
            SuggestionView(tuple(numbers[i] for i in s.invoice_ids), s.confidence, tuple(r["text"] for r in s.reasons))
        )
    return list(views.values())


def _open_invoices(session: Session, workspace_id: int) -> list[InvoiceView]:
    query = select(InvoiceRecord).where(
        col(InvoiceRecord.workspace_id) == workspace_id,
        col(InvoiceRecord.status).in_([InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID]),
    )
    views = []
    for r in session.exec(query):
        open_amount = abs(r.gross) - abs(r.paid_amount)
        if open_amount > ZERO and r.id is not None:
            views.append(
                InvoiceView(r.id, r.number, r.direction.value, r.partner_name, r.due_date, open_amount, r.currency)
            )
    views.sort(key=lambda v: (v.due_date or date.max, v.number))
    return views
