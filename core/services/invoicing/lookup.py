"""Finding an invoice by its number as a person types it: in chat, on the workbench, in a command."""

from __future__ import annotations

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.core.domain import InvoiceStatus
from reconbot.core.persistence.tables import InvoiceRecord


def invoice_numbered(
    session: Session, workspace_id: int, number: str, *, cancelled: bool = True
) -> InvoiceRecord | None:
    """Return the workspace's invoice numbered ``number`` (case and spaces around ignored), a live one before a
    cancelled one of the same number; without ``cancelled``, a cancelled one is not found. None when there is none."""
    number = number.strip()
    if not number:
        return None
    query = select(InvoiceRecord).where(
        col(InvoiceRecord.workspace_id) == workspace_id, func.lower(col(InvoiceRecord.number)) == number.lower()
    )
    if not cancelled:
        query = query.where(col(InvoiceRecord.status) != InvoiceStatus.CANCELLED)
    return session.exec(query.order_by(col(InvoiceRecord.status) == InvoiceStatus.CANCELLED).limit(1)).first()


def invoice_ids_numbered(engine: Engine, workspace_id: int, number: str) -> list[int]:
    """Return the ids of the workspace's invoices numbered exactly ``number``, cancelled ones too, oldest first
    (a command names an invoice by number, and must tell "none" from "several")."""
    with Session(engine) as session:
        query = select(InvoiceRecord.id).where(
            col(InvoiceRecord.workspace_id) == workspace_id, col(InvoiceRecord.number) == number
        )
        return [i for i in session.exec(query.order_by(col(InvoiceRecord.id))) if i is not None]
