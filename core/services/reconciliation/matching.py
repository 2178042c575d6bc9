"""Matching stored transactions against stored invoices, and storing what the engine decided.

Runs inside the caller's database transaction (an import, a re-match), so the
allocations, the invoices' new paid amounts, the suggestions, the audit trail
and the outbox events are committed together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from reconbot.core.domain import (
    AllocationMethod,
    Invoice,
    InvoiceKind,
    Transaction,
    TransactionStatus,
    paid_part,
    status_for,
)
from reconbot.core.matching import Flag, KnownPayer, MatchingEngine, MatchPolicy, MatchResult, MatchStatus, Reason
from reconbot.core.money import ZERO, format_amount
from reconbot.core.persistence.bulk import chunks, update_by_id
from reconbot.core.persistence.mapping import (
    TRANSACTION_COLUMNS,
    invoice_from_row,
    select_invoices,
    transaction_from_row,
)
from reconbot.core.persistence.tables import (
    AliasKind,
    AllocationRecord,
    BankTransactionRecord,
    InvoiceRecord,
    MatchSuggestionRecord,
    PayerAliasRecord,
    WorkspaceRecord,
    utcnow,
)
from reconbot.core.progress import Progress, no_progress
from reconbot.core.services.events import EventKind, audit_allocation, emit
from reconbot.core.services.invoicing.operations import PaymentToWrite, queue_payments
from reconbot.core.services.invoicing.proformas import proforma_paid

ENGINE_ACTOR = "engine"
_PENDING = (TransactionStatus.UNMATCHED, TransactionStatus.SUGGESTED)
_STATUS = {
    MatchStatus.MATCHED: TransactionStatus.MATCHED,
    MatchStatus.SUGGESTED: TransactionStatus.SUGGESTED,
    MatchStatus.UNMATCHED: TransactionStatus.UNMATCHED,
}


@dataclass(frozen=True, slots=True)
class MatchingOutcome:
    """How many pending transactions the run paired, left with suggestions, or could not place."""

    matched: int = 0
    suggested: int = 0
    unmatched: int = 0
    allocations: int = 0


def run_matching(
    session: Session,
    workspace: WorkspaceRecord,
    *,
    transaction_ids: Iterable[int] | None = None,
    progress: Progress = no_progress,
) -> MatchingOutcome:
    """Match the workspace's pending transactions (all, or ``transaction_ids``) and store the decisions.

    The caller holds the workspace lock (``lock_workspace``) and the transaction.
    """
    assert workspace.id is not None
    invoices = [invoice_from_row(row) for row in session.execute(select_invoices(workspace.id))]
    pending = _pending_transactions(session, workspace.id, transaction_ids)
    if not pending:
        return MatchingOutcome()
    transactions = [tx for tx, _ in pending]
    allocated = {tx.id: already for tx, already in pending if already}
    engine = MatchingEngine(
        invoices,
        policy=MatchPolicy(automatic=workspace.auto_match, fee_tolerance=workspace.amount_tolerance),
        known_payers=_known_payers(session, workspace.id),
    )
    results = engine.match_all(
        transactions,
        allocated,
        lambda done: progress("Matching", done, len(transactions)),
        suggest_only=_undone_by_people(session, [int(tx.id) for tx in transactions]),
    )
    return _store(session, workspace, {inv.id: inv for inv in invoices}, transactions, results, allocated)


def _pending_transactions(
    session: Session, workspace_id: int, only: Iterable[int] | None
) -> list[tuple[Transaction, Decimal]]:
    query = select_rows(*TRANSACTION_COLUMNS, col(BankTransactionRecord.allocated)).where(
        col(BankTransactionRecord.workspace_id) == workspace_id,
        col(BankTransactionRecord.status).in_(_PENDING),
        # A bank feed's pending transaction may still change or vanish: it is matched once booked.
        col(BankTransactionRecord.pending).is_(False),
    )
    if only is not None:
        query = query.where(col(BankTransactionRecord.id).in_(list(only)))
    rows = session.execute(query.order_by(col(BankTransactionRecord.id)))
    return [(transaction_from_row(row[:-1]), row[-1]) for row in rows]


def _known_payers(session: Session, workspace_id: int) -> list[KnownPayer]:
    query = select(PayerAliasRecord).where(col(PayerAliasRecord.workspace_id) == workspace_id)
    return [
        KnownPayer(a.partner_name, a.partner_key, **{"iban" if a.kind is AliasKind.IBAN else "name": a.value})
        for a in session.exec(query)
    ]


def _undone_by_people(session: Session, transaction_ids: Sequence[int]) -> set[str]:
    # A pairing someone undid must not come straight back: those transactions only get suggestions.
    undone: set[str] = set()
    for chunk in chunks(transaction_ids):
        query = select(AllocationRecord.transaction_id).where(
            col(AllocationRecord.transaction_id).in_(chunk), col(AllocationRecord.undone_at).is_not(None)
        )
        undone.update(str(i) for i in session.exec(query))
    return undone


def _store(
    session: Session,
    workspace: WorkspaceRecord,
    invoices: dict[str, Invoice],
    transactions: list[Transaction],
    results: list[MatchResult],
    allocated: dict[str, Decimal],
) -> MatchingOutcome:
    assert workspace.id is not None
    workspace_id = workspace.id
    ids = [int(tx.id) for tx in transactions]
    by_id = {int(tx.id): tx for tx in transactions}
    proformas_paid: dict[str, dict[str, Any]] = {}
    for chunk in chunks(ids):
        session.execute(delete(MatchSuggestionRecord).where(col(MatchSuggestionRecord.transaction_id).in_(chunk)))
    earlier = _allocation_counts(session, ids)
    paid: dict[str, Decimal] = {}
    now = utcnow()
    allocation_rows: list[dict[str, Any]] = []
    suggestion_rows: list[dict[str, Any]] = []
    transaction_rows: list[dict[str, Any]] = []
    counts = dict.fromkeys(MatchStatus, 0)
    for tx, result in zip(transactions, results, strict=True):
        counts[result.status] += 1
        tx_id = int(tx.id)
        booked = sum((a.amount for a in result.allocations), ZERO)
        transaction_rows.append(
            {
                "id": tx_id,
                "status": _STATUS[result.status],
                "allocated": allocated.get(tx.id, ZERO) + booked,
                "flags": [f.value for f in result.flags],
            }
        )
        for a in result.allocations:
            invoice = invoices[a.invoice_id]
            paid[a.invoice_id] = paid.get(a.invoice_id, invoice.paid) + paid_part(invoice.gross, a.amount)
            allocation_rows.append(
                {
                    "workspace_id": workspace_id,
                    "transaction_id": tx_id,
                    "invoice_id": int(a.invoice_id),
                    "amount": a.amount,
                    "currency": tx.currency,
                    "method": AllocationMethod.AUTOMATIC,
                    "created_by": ENGINE_ACTOR,
                    "created_at": now,
                }
            )
        for rank, candidate in enumerate(result.candidates, 1):
            suggestion_rows.append({
                "workspace_id": workspace_id, "transaction_id": tx_id, "rank": rank,
                "invoice_ids": [int(i) for i in candidate.invoice_ids],
                "amounts": [format_amount(a.amount) for a in candidate.allocations],
                "confidence": candidate.confidence,
                "reasons": [reason_json(r) for r in candidate.reasons],
                "flags": [f.value for f in result.flags], "created_at": now,
            })  # fmt: skip
        _emit_events(session, workspace_id, tx, result, invoices, paid, earlier.get(tx_id, 0), proformas_paid)
    if allocation_rows:
        returning = insert(AllocationRecord).returning(col(AllocationRecord.id), sort_by_parameter_order=True)
        allocation_ids = session.execute(returning, allocation_rows).scalars().all()
        for row, allocation_id in zip(allocation_rows, allocation_ids, strict=True):
            audit_allocation(
                session,
                workspace_id,
                ENGINE_ACTOR,
                transaction_id=row["transaction_id"],
                invoice_id=row["invoice_id"],
                amount=row["amount"],
                method=AllocationMethod.AUTOMATIC,
                allocation_id=allocation_id,
            )
        payments = [
            PaymentToWrite(allocation_id, row["invoice_id"], row["amount"], row["currency"],
                           by_id[row["transaction_id"]].booking_date, _payment_note(by_id[row["transaction_id"]]))
            for row, allocation_id in zip(allocation_rows, allocation_ids, strict=True)
        ]  # fmt: skip
        queue_payments(session, workspace_id, payments, ENGINE_ACTOR)
    if suggestion_rows:
        session.execute(insert(MatchSuggestionRecord), suggestion_rows)
    update_by_id(session, BankTransactionRecord, transaction_rows)
    invoice_rows = [
        {"id": int(i), "paid_amount": amount, "status": status_for(invoices[i].gross, amount), "updated_at": now}
        for i, amount in paid.items()
    ]
    update_by_id(session, InvoiceRecord, invoice_rows)
    for invoice_id, payload in proformas_paid.items():
        proforma = session.get(InvoiceRecord, int(invoice_id))
        assert proforma is not None
        session.refresh(proforma)  # its paid amount was just updated in bulk, past the ORM
        proforma_paid(session, workspace, proforma, payload, ENGINE_ACTOR)
    return MatchingOutcome(
        counts[MatchStatus.MATCHED], counts[MatchStatus.SUGGESTED], counts[MatchStatus.UNMATCHED], len(allocation_rows)
    )


def payment_note(counterparty_name: str, reference: str) -> str:
    """Return what a written-back payment says about its bank transaction: payer and reference, one line."""
    return " · ".join(part for part in (counterparty_name.strip(), " ".join(reference.split())) if part)


def _payment_note(tx: Transaction) -> str:
    return payment_note(tx.counterparty_name, tx.reference)


def reason_json(reason: Reason) -> dict[str, Any]:
    """Return a reason as stored and sent: code, English text and the values it names."""
    return {"code": reason.code, "text": reason.text, "args": dict(reason.args)}


def _allocation_counts(session: Session, transaction_ids: Sequence[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for chunk in chunks(transaction_ids):
        query = (
            select(AllocationRecord.transaction_id, func.count())
            .where(col(AllocationRecord.transaction_id).in_(chunk))
            .group_by(col(AllocationRecord.transaction_id))
        )
        counts.update({tx_id: n for tx_id, n in session.exec(query)})
    return counts


def _emit_events(
    session: Session,
    workspace_id: int,
    tx: Transaction,
    result: MatchResult,
    invoices: dict[str, Invoice],
    paid: dict[str, Decimal],
    earlier_allocations: int,
    proformas_paid: dict[str, dict[str, Any]],
) -> None:
    payload = _event_payload(tx, result, invoices, paid)
    if result.status is MatchStatus.MATCHED:
        # Keyed by how many allocations the transaction had before: a pairing undone and made
        # again is news again, the same run repeated is not.
        key = f"{tx.id}:{earlier_allocations}"
        emit(session, workspace_id, EventKind.PAYMENT_MATCHED, f"matched:{key}", payload)
        if Flag.PARTIAL_PAYMENT in result.flags:
            emit(session, workspace_id, EventKind.PARTIAL_PAYMENT, f"partial:{key}", payload)
        if Flag.OVERPAYMENT in result.flags:
            emit(session, workspace_id, EventKind.OVERPAYMENT, f"overpayment:{key}", payload)
        for a in result.allocations:
            inv = invoices[a.invoice_id]
            # Once per proforma: its final invoice is due once, however often its payment is re-paired.
            if inv.kind is InvoiceKind.PROFORMA and paid.get(a.invoice_id, inv.paid) == inv.gross:
                proformas_paid[a.invoice_id] = payload
        return
    if Flag.ALREADY_PAID in result.flags:
        emit(session, workspace_id, EventKind.POSSIBLE_DOUBLE_PAYMENT, f"double:{tx.id}", payload)
    emit(session, workspace_id, EventKind.UNMATCHED_TRANSACTION, f"unmatched:{tx.id}", payload)


def _event_payload(
    tx: Transaction, result: MatchResult, invoices: dict[str, Invoice], paid: dict[str, Decimal]
) -> dict[str, Any]:
    """Return what a chat message about this decision needs, as JSON values (amounts as decimal text)."""

    def open_after(invoice_id: str) -> str:
        inv = invoices[invoice_id]
        return format_amount(abs(inv.gross) - abs(paid.get(invoice_id, inv.paid)))

    return {
        "transaction": {
            "id": int(tx.id), "booking_date": tx.booking_date.isoformat(), "amount": format_amount(tx.amount),
            "currency": tx.currency, "counterparty_name": tx.counterparty_name,
            "counterparty_iban": tx.counterparty_iban, "reference": tx.reference,
        },
        "status": result.status.value,
        "allocations": [
            {"invoice_id": int(a.invoice_id), "invoice_number": a.invoice_number, "amount": format_amount(a.amount),
             "open_after": open_after(a.invoice_id)}
            for a in result.allocations
        ],
        "candidates": [
            {"invoice_ids": [int(i) for i in c.invoice_ids], "invoice_numbers": list(c.invoice_numbers),
             "confidence": format_amount(c.confidence), "reasons": [r.text for r in c.reasons]}
            for c in result.candidates[:3]
        ],
        "flags": [f.value for f in result.flags],
        "reasons": [r.text for r in result.reasons],
        "surplus": format_amount(result.surplus),
    }  # fmt: skip
