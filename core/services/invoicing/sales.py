"""Paid sales and their invoices: recorded once, invoiced at most once, however often or concurrently asked.

A sale reported twice (a webhook resent, two workers, a double click) is one row; its
invoice is one ``sale:<id>`` operation, so the second request finds the first one's
document instead of making another. A sale that is not fully paid is stored but never invoiced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.errors import ReconciliationError
from reconbot.core.invoicing.sales import Sale, sale_json
from reconbot.core.invoicing.source import SOURCES
from reconbot.core.money import format_amount
from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.invoicing_tables import OperationKind, SaleRecord
from reconbot.core.persistence.tables import InvoicingMode, WorkspaceRecord, utcnow
from reconbot.core.services.events import EventKind, audit, emit
from reconbot.core.services.invoicing.operations import queue_operation
from reconbot.core.services.invoicing.sources import InvoiceSources, connected_sources
from reconbot.core.services.invoicing.write_back import OperationView, await_operation
from reconbot.core.services.workspaces import lock_workspace


@dataclass(frozen=True, slots=True)
class RecordedSale:
    """What recording a sale did: its row, and the invoice operation queued for it (None: not now)."""

    sale_id: int
    operation_id: int | None
    fully_paid: bool
    invoiced: bool  # it had its invoice already; nothing changed


def record_sale(engine: Engine, workspace_id: int, sale: Sale, *, origin: str, actor: str) -> RecordedSale:
    """Store (or update) a reported sale; when fully paid, queue its invoice (auto mode) or ask for it (manual).

    A sale that has its invoice keeps it unchanged: an issued invoice cannot be rewritten.
    Raises ReconciliationError in auto mode when no system is set up to issue the invoice.
    """
    with session_scope(engine) as session:
        workspace = lock_workspace(session, workspace_id)
        record = _upsert(session, workspace, sale, origin)
        assert record.id is not None
        if record.invoice_id is not None:
            return RecordedSale(record.id, None, True, True)
        audit(session, workspace_id, actor, "sale.recorded", "sale", record.id, external_id=sale.id,
              total=format_amount(sale.total), paid=format_amount(sale.paid))  # fmt: skip
        if not sale.fully_paid:
            return RecordedSale(record.id, None, False, False)
        if workspace.sale_mode is InvoicingMode.MANUAL:
            emit(session, workspace_id, EventKind.SALE_PAID, f"sale_paid:{record.id}", _announcement(record))
            return RecordedSale(record.id, None, True, False)
        operation = _queue(session, workspace, record, actor)
        return RecordedSale(record.id, operation, True, False)


async def invoice_sale(sources: InvoiceSources, workspace_id: int, sale_id: int, *, actor: str,
                       timeout: float = 60.0) -> OperationView:  # fmt: skip
    """Issue the sale's invoice (the "Generate invoice" button, or an API call) and return its operation.

    Asking again, or twice at once, returns the one operation and its one document. Raises
    ReconciliationError when the sale is unknown, not fully paid, or no system can issue it.
    """
    with session_scope(sources.engine) as session:
        workspace = lock_workspace(session, workspace_id)
        record = session.get(SaleRecord, sale_id)
        if record is None or record.workspace_id != workspace_id:
            raise ReconciliationError(f"there is no sale {sale_id}")
        if record.paid < record.total:
            paid = f"{format_amount(record.paid)} of {format_amount(record.total)} {record.currency}"
            raise ReconciliationError(f"sale {record.external_id} is not fully paid ({paid}); its invoice waits")
        operation_id = _queue(session, workspace, record, actor)
    return await await_operation(sources, operation_id, timeout=timeout)


def _issuing_source(session: Session, workspace: WorkspaceRecord) -> str:
    """Return the system the workspace issues sale invoices in; raises ReconciliationError when none is clear."""
    assert workspace.id is not None
    systems = [name for name in connected_sources(session, workspace.id) if name in SOURCES]
    if workspace.sale_invoicing_source:
        if workspace.sale_invoicing_source not in systems:
            raise ReconciliationError(f"{workspace.sale_invoicing_source} issues sale invoices but is not set up")
        return workspace.sale_invoicing_source
    if len(systems) == 1:
        return systems[0]
    if not systems:
        raise ReconciliationError("no invoicing system is set up to issue the invoice; run `reconbot invoicing setup`")
    raise ReconciliationError(f"choose which of {', '.join(systems)} issues sale invoices: "
                              "`reconbot invoicing settings --sale-source NAME`")  # fmt: skip


def _queue(session: Session, workspace: WorkspaceRecord, record: SaleRecord, actor: str) -> int:
    assert workspace.id is not None and record.id is not None
    operation = queue_operation(session, workspace.id, source=_issuing_source(session, workspace),
                                kind=OperationKind.SALE_INVOICE, key=f"sale:{record.id}", actor=actor,
                                sale_id=record.id, payload={"sale": record.external_id})  # fmt: skip
    assert operation.id is not None
    return operation.id


def _upsert(session: Session, workspace: WorkspaceRecord, sale: Sale, origin: str) -> SaleRecord:
    assert workspace.id is not None
    currency = sale.currency or workspace.currency
    now = utcnow()
    values = {"workspace_id": workspace.id, "origin": origin, "external_id": sale.id, "total": sale.total,
              "paid": sale.paid, "currency": currency, "data": sale_json(sale), "created_at": now,
              "updated_at": now}  # fmt: skip
    inserted = insert_unless_present(session, SaleRecord, values, ["workspace_id", "origin", "external_id"])
    query = select(SaleRecord).where(
        col(SaleRecord.workspace_id) == workspace.id, col(SaleRecord.origin) == origin,
        col(SaleRecord.external_id) == sale.id,
    )  # fmt: skip
    record = session.exec(query).one()
    if not inserted and record.invoice_id is None:
        record.total, record.paid, record.currency, record.data = sale.total, sale.paid, currency, sale_json(sale)
    return record


def _announcement(record: SaleRecord) -> dict[str, Any]:
    customer = (record.data.get("customer") or {}).get("name", "")
    return {"sale_id": record.id, "sale": record.external_id, "total": format_amount(record.total),
            "currency": record.currency, "customer": customer, "action": "generate_invoice"}  # fmt: skip
