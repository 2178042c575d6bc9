"""What the sandbox bank reads from the workspace: the invoices its simulated customers pay.

The simulation itself (``reconbot.core.banks.sandbox_activity``) is pure; the sandbox provider gets this
read as ``ProviderContext.invoices_to_pay`` and calls it only while it builds a history.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session

from reconbot.core.domain import Direction, Invoice, InvoiceStatus
from reconbot.core.persistence.mapping import invoice_from_row, select_invoices


def invoices_to_pay(engine: Engine, workspace_id: int) -> list[Invoice]:
    """Return the workspace's issued invoices that are not cancelled, so a demo shows real matches.

    Paid ones stay in: each payment is planned from the invoice alone, never its status, so a history
    already fetched does not change once reconbot pairs it.
    """
    with Session(engine) as session:
        invoices = [invoice_from_row(row) for row in session.execute(select_invoices(workspace_id))]
    return [i for i in invoices if i.direction is Direction.ISSUED and i.status is not InvoiceStatus.CANCELLED]
