"""A fully paid proforma and its final invoice: issued at once (auto mode) or on a button press (manual mode).

Either way the final invoice is one ``final:<proforma>`` operation, so re-pairing the
proforma's payment, a double press or two workers still give exactly one final invoice.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from reconbot.core.domain import InvoiceKind, InvoiceStatus
from reconbot.core.errors import ReconciliationError
from reconbot.core.invoicing.source import SOURCES
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.invoicing_tables import InvoiceSourceRecord, OperationKind
from reconbot.core.persistence.tables import InvoiceRecord, InvoicingMode, WorkspaceRecord
from reconbot.core.services.events import EventKind, emit
from reconbot.core.services.invoicing.operations import queue_operation
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.services.invoicing.write_back import OperationView, await_operation
from reconbot.core.services.workspaces import lock_workspace


def proforma_paid(
    session: Session, workspace: WorkspaceRecord, proforma: InvoiceRecord, payload: dict[str, Any], actor: str
) -> None:
    """Announce a fully paid proforma once; in auto mode also queue its final invoice (in the caller's transaction)."""
    assert workspace.id is not None and proforma.id is not None
    issuable = _issuable(session, proforma)
    auto = workspace.proforma_mode is InvoicingMode.AUTO and issuable
    if auto:
        _queue(session, proforma, actor)
    announced = {**payload, "proforma": {"invoice_id": proforma.id, "number": proforma.number},
                 "mode": "auto" if auto else "manual", "can_issue": issuable}  # fmt: skip
    emit(session, workspace.id, EventKind.PROFORMA_PAID, f"proforma_paid:{proforma.id}", announced)


async def issue_final_invoice(sources: InvoiceSources, workspace_id: int, invoice_id: int, *, actor: str,
                              timeout: float = 60.0) -> OperationView:  # fmt: skip
    """Issue the final invoice of a fully paid proforma (the "Generate final invoice" button); return its operation.

    Pressing again returns the same operation and document. Raises ReconciliationError when the
    invoice is not this workspace's paid proforma, or its system cannot be written to.
    """
    with session_scope(sources.engine) as session:
        lock_workspace(session, workspace_id)
        proforma = session.get(InvoiceRecord, invoice_id)
        if proforma is None or proforma.workspace_id != workspace_id:
            raise ReconciliationError(f"there is no invoice {invoice_id}")
        if proforma.kind is not InvoiceKind.PROFORMA:
            raise ReconciliationError(f"{proforma.number} is not a proforma")
        if proforma.status is not InvoiceStatus.PAID:
            raise ReconciliationError(f"proforma {proforma.number} is not fully paid yet")
        if not _issuable(session, proforma):
            raise ReconciliationError(f"proforma {proforma.number} comes from {proforma.source}, which reconbot "
                                      "cannot issue invoices in; issue the final invoice there")  # fmt: skip
        operation_id = _queue(session, proforma, actor)
    return await await_operation(sources, operation_id, timeout=timeout)


def _queue(session: Session, proforma: InvoiceRecord, actor: str) -> int:
    assert proforma.id is not None
    operation = queue_operation(session, proforma.workspace_id, source=proforma.source,
                                kind=OperationKind.FINAL_INVOICE, key=f"final:{proforma.id}", actor=actor,
                                invoice_id=proforma.id,
                                payload={"proforma": {"external_id": proforma.external_id,
                                                      "number": proforma.number}})  # fmt: skip
    assert operation.id is not None
    return operation.id


def _issuable(session: Session, proforma: InvoiceRecord) -> bool:
    # Only a proforma of a system reconbot can write to, and that the workspace has set up, gets its final invoice here.
    if proforma.source not in SOURCES or not proforma.external_id:
        return False
    query = select(InvoiceSourceRecord.id).where(
        col(InvoiceSourceRecord.workspace_id) == proforma.workspace_id, col(InvoiceSourceRecord.name) == proforma.source
    )
    return session.exec(query).first() is not None
