"""The invoice a recorded sale becomes, rebuilt from what was stored, so every attempt issues the same document."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from reconbot.core.errors import ReconciliationError
from reconbot.core.invoicing.model import InvoiceOrder
from reconbot.core.invoicing.sales import InvoicingDefaults, invoice_order, parse_sale
from reconbot.core.persistence.invoicing_tables import SaleRecord, SourceOperationRecord
from reconbot.core.persistence.tables import WorkspaceRecord


def _defaults_of(workspace: WorkspaceRecord) -> InvoicingDefaults:
    """Return what a sale that says nothing takes from ``workspace``."""
    return InvoicingDefaults(workspace.currency, workspace.language.value, workspace.country, workspace.vat_rate)


def order_for_operation(engine: Engine, operation_id: int, external_key: str) -> InvoiceOrder:
    """Return the invoice to issue for the sale of operation ``operation_id``, dated the day it was queued.

    Raises ReconciliationError when the sale is gone or not fully paid.
    """
    with Session(engine) as session:
        operation = session.get(SourceOperationRecord, operation_id)
        sale = session.get(SaleRecord, operation.sale_id) if operation and operation.sale_id else None
        if operation is None or sale is None:
            raise ReconciliationError(f"operation {operation_id} has no sale to invoice")
        workspace = session.get(WorkspaceRecord, sale.workspace_id)
        assert workspace is not None
        today = operation.created_at.astimezone(ZoneInfo(workspace.timezone)).date()
        return invoice_order(parse_sale(sale.data), _defaults_of(workspace), external_key, today)
