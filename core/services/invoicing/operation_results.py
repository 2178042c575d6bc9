"""What finishing a write to an invoicing system changes here: the operation, the invoice it issued, the events.

Called by ``reconbot.core.services.invoicing.write_back`` inside one database transaction per outcome.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlmodel import Session

from reconbot.core.domain import InvoiceStatus
from reconbot.core.invoicing.model import SourceInvoice
from reconbot.core.money import format_amount
from reconbot.core.persistence.invoicing_tables import OperationKind, OperationStatus, SaleRecord, SourceOperationRecord
from reconbot.core.services.events import EventKind, audit, emit
from reconbot.core.services.invoicing.reported import store_source_invoices
from reconbot.core.services.workspaces import lock_workspace


def record_success(
    session: Session, record: SourceOperationRecord, outcome: dict[str, Any] | SourceInvoice, now: datetime
) -> None:
    """Mark the operation done with its result; store an issued invoice and announce it."""
    record.status, record.finished_at, record.last_error = OperationStatus.DONE, now, ""
    if isinstance(outcome, SourceInvoice):
        record.result = _store_issued(session, record, outcome)
    else:
        record.result = outcome
    audit(session, record.workspace_id, "reconbot", "operation.done", "source_operation", record.id,
          kind=record.kind.value, source=record.source, attempts=record.attempts)  # fmt: skip


def record_failure(
    session: Session,
    record: SourceOperationRecord,
    message: str,
    *,
    permanent: bool,
    retry_at: datetime,
    now: datetime,
) -> None:
    """Keep the error; schedule the next attempt, or, when retrying cannot help or attempts ran out, fail and tell."""
    record.last_error = message
    if not permanent and record.attempts < record.max_attempts:
        record.status, record.next_attempt_at = OperationStatus.PENDING, retry_at
        return
    record.status, record.finished_at = OperationStatus.FAILED, now
    payload = {
        "operation_id": record.id, "kind": record.kind.value, "source": record.source,
        "invoice_number": subject(record), "error": message, "attempts": record.attempts,
        "invoice_id": record.invoice_id, "sale_id": record.sale_id,
    }  # fmt: skip
    # One message per round of attempts: a Retry that fails again is news again.
    emit(session, record.workspace_id, EventKind.WRITE_BACK_FAILED, f"operation_failed:{record.id}:{record.attempts}",
         payload)  # fmt: skip
    audit(session, record.workspace_id, "reconbot", "operation.failed", "source_operation", record.id,
          kind=record.kind.value, source=record.source, error=message)  # fmt: skip


def subject(record: SourceOperationRecord) -> str:
    """Return what the operation is about, as people name it: the invoice or proforma number, or the sale."""
    payload = record.payload
    if "document" in payload:
        return str(payload["document"]["number"])
    if "proforma" in payload:
        return str(payload["proforma"]["number"])
    return f"sale {payload.get('sale', record.sale_id)}"


def _store_issued(session: Session, record: SourceOperationRecord, issued: SourceInvoice) -> dict[str, Any]:
    lock_workspace(session, record.workspace_id)
    invoice = issued.invoice
    if record.kind is OperationKind.FINAL_INVOICE or invoice.paid == 0:
        # Paid by the proforma's money (or the sale's): reconbot must not look for a payment of it.
        invoice = dataclasses.replace(invoice, paid=invoice.gross, status=InvoiceStatus.PAID)
    stored = store_source_invoices(
        session, record.workspace_id, record.source, [dataclasses.replace(issued, invoice=invoice)]
    )
    invoice_id = stored.ids.get(invoice.id)
    result = {"external_id": invoice.id, "number": invoice.number, "invoice_id": invoice_id,
              "gross": format_amount(invoice.gross), "currency": invoice.currency}  # fmt: skip
    if record.kind is OperationKind.FINAL_INVOICE:
        payload = {**result, "proforma_id": record.invoice_id, "proforma_number": subject(record)}
        emit(session, record.workspace_id, EventKind.FINAL_INVOICE_ISSUED, f"final_issued:{record.invoice_id}", payload)
    else:
        sale = session.get(SaleRecord, record.sale_id) if record.sale_id is not None else None
        if sale is not None:
            sale.invoice_id = invoice_id
        payload = {**result, "sale_id": record.sale_id, "sale": sale.external_id if sale else ""}
        emit(session, record.workspace_id, EventKind.SALE_INVOICED, f"sale_invoiced:{record.sale_id}", payload)
    return result
