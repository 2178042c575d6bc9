"""Writes to invoicing systems, recorded first: queued in the same database transaction as their cause.

An allocation and the operation that writes it back commit together, so a payment
can be neither lost (allocation without its write-back) nor written for an allocation
that rolled back. ``reconbot.core.services.invoicing.write_back`` performs them; this module only records
intents, and answers how much of an invoice's paid amount is still on its way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy import select as select_rows
from sqlmodel import Session, col, select

from reconbot.core.invoicing.source import SOURCES, source_class
from reconbot.core.money import ZERO, format_amount
from reconbot.core.persistence.bulk import chunks, insert_unless_present
from reconbot.core.persistence.invoicing_tables import (
    InvoiceSourceRecord,
    OperationKind,
    OperationStatus,
    SourceOperationRecord,
)
from reconbot.core.persistence.tables import AllocationRecord, InvoiceRecord, utcnow

# An operation counts toward the invoice's paid amount until the system itself shows it.
_OPEN = (OperationStatus.PENDING, OperationStatus.RUNNING, OperationStatus.FAILED)


@dataclass(frozen=True, slots=True)
class PaymentToWrite:
    """An allocation to write back: which, to which invoice, how much, and what the bank said."""

    allocation_id: int
    invoice_id: int
    amount: Decimal
    currency: str
    paid_on: date
    note: str


def _payment_key(allocation_id: int) -> str:
    """Return the key reconbot writes into the payment it registers for an allocation."""
    return f"reconbot-p{allocation_id}"


def queue_payments(session: Session, workspace_id: int, payments: Sequence[PaymentToWrite], actor: str) -> int:
    """Queue one write-back per payment whose invoice comes from a system the workspace has set up; return how many.

    Invoices from files (and credit notes, whose refunds are booked by hand) are not written back.
    """
    if not payments:
        return 0
    documents = _writable_documents(session, workspace_id, sorted({p.invoice_id for p in payments}))
    rows: list[dict[str, Any]] = []
    for p in payments:
        document = documents.get(p.invoice_id)
        if document is None:
            continue
        source, external_id, number = document
        payload = {"document": {"external_id": external_id, "number": number},
                   "payment": {"key": _payment_key(p.allocation_id), "paid_on": p.paid_on.isoformat(),
                               "amount": format_amount(p.amount), "currency": p.currency, "method": "transfer",
                               "note": p.note[:140]}}  # fmt: skip
        rows.append(_values(workspace_id, source, OperationKind.REGISTER_PAYMENT, f"payment:{p.allocation_id}",
                            actor, payload, invoice_id=p.invoice_id, allocation_id=p.allocation_id))  # fmt: skip
    for start in range(0, len(rows), 1000):
        session.execute(insert(SourceOperationRecord), rows[start : start + 1000])
    return len(rows)


def queue_removal(session: Session, allocation: AllocationRecord, actor: str) -> None:
    """Arrange for an undone allocation's payment to leave its invoicing system.

    A write-back no attempt has started yet is simply cancelled; otherwise a removal is
    queued (the worker runs it after the registration has settled). Nothing for invoices
    that are not written back.
    """
    register = session.exec(
        select(SourceOperationRecord)
        .where(
            col(SourceOperationRecord.workspace_id) == allocation.workspace_id,
            col(SourceOperationRecord.key) == f"payment:{allocation.id}",
        )
        .with_for_update()
    ).first()
    if register is None or register.status is OperationStatus.CANCELLED:
        return
    if register.status is OperationStatus.PENDING and register.attempts == 0:
        register.status, register.finished_at = OperationStatus.CANCELLED, utcnow()
        register.last_error = f"the pairing was undone by {actor} before it was written"
        return
    values = _values(allocation.workspace_id, register.source, OperationKind.REMOVE_PAYMENT,
                     f"unpayment:{allocation.id}", actor, register.payload, invoice_id=register.invoice_id,
                     allocation_id=allocation.id)  # fmt: skip
    insert_unless_present(session, SourceOperationRecord, values, ["workspace_id", "key"])


def queue_operation(
    session: Session,
    workspace_id: int,
    *,
    source: str,
    kind: OperationKind,
    key: str,
    actor: str,
    invoice_id: int | None = None,
    sale_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> SourceOperationRecord:
    """Record an operation unless one with ``key`` exists; return the operation with that key either way.

    Two requests for the same thing at once get the same row (the unique key decides).
    """
    values = _values(workspace_id, source, kind, key, actor, payload or {}, invoice_id=invoice_id, sale_id=sale_id)
    insert_unless_present(session, SourceOperationRecord, values, ["workspace_id", "key"])
    query = select(SourceOperationRecord).where(
        col(SourceOperationRecord.workspace_id) == workspace_id, col(SourceOperationRecord.key) == key
    )
    return session.exec(query).one()


def _values(
    workspace_id: int,
    source: str,
    kind: OperationKind,
    key: str,
    actor: str,
    payload: dict[str, Any],
    *,
    invoice_id: int | None = None,
    allocation_id: int | None = None,
    sale_id: int | None = None,
) -> dict[str, Any]:
    """Return the row of a new operation, due at once, with its system's attempt budget."""
    return {
        "workspace_id": workspace_id, "source": source, "kind": kind, "key": key, "invoice_id": invoice_id,
        "allocation_id": allocation_id, "sale_id": sale_id, "payload": payload, "status": OperationStatus.PENDING,
        "attempts": 0, "max_attempts": source_class(source).max_attempts, "next_attempt_at": None,
        "claimed_at": None, "claimed_by": "", "last_error": "", "result": {}, "created_by": actor,
        "created_at": utcnow(), "finished_at": None,
    }  # fmt: skip


def in_flight(session: Session, invoice_ids: Sequence[int]) -> dict[int, Decimal]:
    """Return, per invoice, the payments reconbot has booked that its system does not show yet (removals negative).

    Magnitudes: a caller adds them to the paid amount the system reports (``paid_part`` for credit notes).
    """
    found: dict[int, Decimal] = {}
    kinds = (OperationKind.REGISTER_PAYMENT, OperationKind.REMOVE_PAYMENT)
    for chunk in chunks(list(invoice_ids)):
        query = select_rows(
            col(SourceOperationRecord.invoice_id), col(SourceOperationRecord.kind), col(SourceOperationRecord.payload)
        ).where(
            col(SourceOperationRecord.invoice_id).in_(chunk),
            col(SourceOperationRecord.kind).in_(kinds),
            col(SourceOperationRecord.status).in_(_OPEN),
        )
        for invoice_id, kind, payload in session.execute(query):
            amount = Decimal(payload["payment"]["amount"])
            sign = 1 if OperationKind(kind) is OperationKind.REGISTER_PAYMENT else -1
            found[invoice_id] = found.get(invoice_id, ZERO) + sign * amount
    return found


def _writable_documents(session: Session, workspace_id: int, invoice_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """Return ``{invoice id: (source, external id, number)}`` for the invoices whose system reconbot writes to."""
    configured = set(
        session.exec(
            select(InvoiceSourceRecord.name).where(
                col(InvoiceSourceRecord.workspace_id) == workspace_id, col(InvoiceSourceRecord.name).in_(list(SOURCES))
            )
        )
    )
    if not configured:
        return {}
    found: dict[int, tuple[str, str, str]] = {}
    for chunk in chunks(invoice_ids):
        query = select_rows(
            col(InvoiceRecord.id), col(InvoiceRecord.source), col(InvoiceRecord.external_id),
            col(InvoiceRecord.number), col(InvoiceRecord.gross),
        ).where(col(InvoiceRecord.id).in_(chunk), col(InvoiceRecord.source).in_(sorted(configured)))  # fmt: skip
        for invoice_id, source, external_id, number, gross in session.execute(query):
            if external_id and gross > ZERO:
                found[invoice_id] = (source, external_id, number)
    return found
