"""Audit trail and outbox: written in the same database transaction as the change they record.

The chat delivery (a later issue) drains the outbox. Every event carries a
dedupe key, so the same event can never be written twice, whatever retries or
re-runs happen: a second write is silently skipped.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from core.persistence.tables import AuditEventRecord, OutboxEventRecord, new_uuid, utcnow


class EventKind:
    """The domain events the chat issue delivers."""

    PAYMENT_MATCHED = "payment_matched"
    PARTIAL_PAYMENT = "partial_payment"
    OVERPAYMENT = "overpayment"
    UNMATCHED_TRANSACTION = "unmatched_transaction"
    POSSIBLE_DOUBLE_PAYMENT = "possible_double_payment"
    PROFORMA_PAID = "proforma_paid"


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
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(OutboxEventRecord)
    statement = insert.values(**values).on_conflict_do_nothing(index_elements=["workspace_id", "dedupe_key"])
    result = session.execute(statement)
    return bool(cast(CursorResult[Any], result).rowcount)
