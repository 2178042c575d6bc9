"""Audit trail and outbox: written in the same database transaction as the change they record.

The chat delivery (``reconbot.bot.delivery``) drains the outbox. Every event carries a
dedupe key, so the same event can never be written twice, whatever retries or
re-runs happen: a second write is silently skipped.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session

from reconbot.core.domain import AllocationMethod
from reconbot.core.money import format_amount
from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.tables import AuditEventRecord, OutboxEventRecord, new_uuid, utcnow


class EventKind:
    """The domain events chat delivery sends."""

    PAYMENT_MATCHED = "payment_matched"
    PARTIAL_PAYMENT = "partial_payment"
    OVERPAYMENT = "overpayment"
    UNMATCHED_TRANSACTION = "unmatched_transaction"
    POSSIBLE_DOUBLE_PAYMENT = "possible_double_payment"
    PROFORMA_PAID = "proforma_paid"
    BANK_CONNECTED = "bank_connected"
    CONSENT_EXPIRING = "consent_expiring"
    CONSENT_EXPIRED = "consent_expired"
    SYNC_FAILING = "sync_failing"
    SYNC_RECOVERED = "sync_recovered"
    FINAL_INVOICE_ISSUED = "final_invoice_issued"
    SALE_PAID = "sale_paid"  # manual mode: a person presses "Generate invoice"
    SALE_INVOICED = "sale_invoiced"
    WRITE_BACK_FAILED = "write_back_failed"  # shown with a Retry button
    HANDOFF_FAILED = "handoff_failed"  # a document could not be handed to the accountant


def audit(
    session: Session, workspace_id: int, actor: str, action: str, entity_type: str, entity_id: object, **data: Any
) -> None:
    """Record that ``actor`` did ``action`` to an entity, with ``data`` as JSON-able details."""
    session.add(
        AuditEventRecord(
            workspace_id=workspace_id,
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=str(entity_id),
            data=data,
        )
    )


def audit_allocation(
    session: Session,
    workspace_id: int,
    actor: str,
    *,
    transaction_id: int,
    invoice_id: int,
    amount: Decimal,
    method: AllocationMethod,
    allocation_id: int,
) -> None:
    """Record that ``actor`` (a person or the engine) allocated ``amount`` of a transaction to an invoice."""
    audit(
        session,
        workspace_id,
        actor,
        "allocation.created",
        "bank_transaction",
        transaction_id,
        invoice_id=invoice_id,
        amount=format_amount(amount),
        method=method.value,
        allocation_id=allocation_id,
    )


def emit(session: Session, workspace_id: int, kind: str, dedupe_key: str, payload: dict[str, Any]) -> bool:
    """Queue an event for delivery unless one with ``dedupe_key`` exists; return True if it was queued."""
    values = {
        "id": new_uuid(),
        "workspace_id": workspace_id,
        "kind": kind,
        "dedupe_key": dedupe_key,
        "payload": payload,
        "created_at": utcnow(),
    }
    return insert_unless_present(session, OutboxEventRecord, values, ["workspace_id", "dedupe_key"])
