"""The facts of "which invoice is it?": a transaction that waits for a person, and its best candidates.

Chat asks it for a new unmatched payment and again when a pairing is undone; the words are the handlers'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, col, select

from reconbot.core.domain import TransactionStatus
from reconbot.core.persistence.tables import BankTransactionRecord, InvoiceRecord, MatchSuggestionRecord

# A question offers at most this many candidates as buttons (the rest is "Find invoice…").
CANDIDATES = 3
WAITING = (TransactionStatus.UNMATCHED, TransactionStatus.SUGGESTED)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A suggestion: the invoices it would pay (due order), the first one's partner, and what they have open."""

    invoice_ids: tuple[int, ...]
    numbers: tuple[str, ...]
    partner_name: str
    open_amount: Decimal


@dataclass(frozen=True, slots=True)
class Question:
    """A transaction waiting for a person: ``amount`` is signed (negative: money going out), ``counterparty`` the
    payer's name, else their IBAN, else ""; ``allocated`` is how much was paired when the question was asked."""

    transaction_id: int
    amount: Decimal
    currency: str
    counterparty: str
    booking_date: date
    reference: str
    allocated: Decimal
    candidates: tuple[Candidate, ...]


def question_in(session: Session, transaction_id: int) -> Question | None:
    """Return the question for the transaction with its top suggestions (those whose invoices all still exist),
    in the caller's transaction; None when it is gone or waits for nobody any more (paired or set aside)."""
    tx = session.get(BankTransactionRecord, transaction_id)
    if tx is None or tx.id is None or tx.status not in WAITING:
        return None
    candidates: list[Candidate] = []
    for suggestion in _suggestions(session, transaction_id):
        invoices = _invoices(session, suggestion.invoice_ids)
        if len(invoices) != len(suggestion.invoice_ids):
            continue
        open_amount = sum((abs(i.gross) - abs(i.paid_amount) for i in invoices), Decimal(0))
        candidates.append(Candidate(tuple(suggestion.invoice_ids), tuple(i.number for i in invoices),
                                    invoices[0].partner_name, open_amount))  # fmt: skip
    counterparty = tx.counterparty_name or tx.counterparty_iban or ""
    return Question(tx.id, tx.amount, tx.currency, counterparty, tx.booking_date, tx.reference or "", tx.allocated,
                    tuple(candidates))  # fmt: skip


def _suggestions(session: Session, transaction_id: int) -> Sequence[MatchSuggestionRecord]:
    query = select(MatchSuggestionRecord).where(col(MatchSuggestionRecord.transaction_id) == transaction_id)
    return session.exec(query.order_by(col(MatchSuggestionRecord.rank)).limit(CANDIDATES)).all()


def _invoices(session: Session, ids: Sequence[int]) -> list[InvoiceRecord]:
    found = {r.id: r for r in session.exec(select(InvoiceRecord).where(col(InvoiceRecord.id).in_(list(ids))))}
    return [found[i] for i in ids if i in found]
