"""Storing invoices as an invoicing system reports them (pull, push, webhook, lookup), keeping paid status two-way.

The system is the truth about an invoice, with one correction: payments reconbot has
booked but not yet written back (or whose removal is on its way) are added to what
the system shows, so a sync between a pairing and its write-back changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy import select as select_rows
from sqlmodel import Session, col

from reconbot.core.domain import InvoiceStatus, paid_part, status_for
from reconbot.core.invoicing.model import SourceInvoice
from reconbot.core.invoicing.source import SOURCES
from reconbot.core.money import ZERO
from reconbot.core.persistence.bulk import chunks, update_by_id
from reconbot.core.persistence.mapping import invoice_values
from reconbot.core.persistence.tables import AllocationRecord, InvoiceRecord, utcnow
from reconbot.core.services.archive.search import reindex_changed
from reconbot.core.services.invoicing.operations import in_flight

# Invoices from a file may be taken over by the system that issued them: same number, now with its id there.
_ADOPTABLE = ("csv",)


@dataclass(frozen=True, slots=True)
class StoredInvoices:
    """What storing a batch did: counts, the stored row of each external id, and what was refused (one line each)."""

    new: int = 0
    updated: int = 0
    ids: dict[str, int] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)


def store_source_invoices(
    session: Session, workspace_id: int, source: str, invoices: Sequence[SourceInvoice]
) -> StoredInvoices:
    """Add or update the invoices of ``source`` (by their id there); return what happened.

    The caller holds the workspace lock and runs matching afterwards. An invoice whose
    number another system already supplied is not stored (it is named in ``conflicts``).
    """
    latest: dict[str, SourceInvoice] = {}
    for item in invoices:  # a batch may carry one invoice twice (paged while it changed): the last one wins
        latest[item.invoice.id] = item
    by_external = _ids_by_external(session, workspace_id, source, list(latest))
    keyed = {external_id: invoice_values(item.invoice, source) for external_id, item in latest.items()}
    unseen = {values["natural_key"]: external_id for external_id, values in keyed.items()
              if external_id not in by_external}  # fmt: skip
    by_key = _rows_by_key(session, workspace_id, list(unseen))
    conflicts: list[str] = []
    for natural_key, (row_id, owner) in by_key.items():
        external_id = unseen[natural_key]
        if owner in _ADOPTABLE or owner == source:
            by_external[external_id] = row_id
        else:
            conflicts.append(f"{source}: invoice {keyed[external_id]['number']} already comes from {owner}; not stored")
            del keyed[external_id]
    # Systems reconbot writes to show its payments soon (and until then they are in flight); a system it
    # cannot write to (an own system's webhook) never will, so what reconbot paired there counts at least.
    writable = source in SOURCES
    known_ids = list(by_external.values())
    adjustments = in_flight(session, known_ids) if writable else {}
    paired = {} if writable else _paired_amounts(session, known_ids)
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for external_id, values in keyed.items():
        row = {**values, "external_id": external_id, "updated_at": now}
        invoice_id = by_external.get(external_id)
        if invoice_id is None:
            new_rows.append({**row, "workspace_id": workspace_id, "created_at": now})
            continue
        paid = values["paid_amount"]
        if adjustments.get(invoice_id):
            paid += paid_part(values["gross"], adjustments[invoice_id])
        elif paired.get(invoice_id, ZERO) > abs(paid):
            paid = paid_part(values["gross"], paired[invoice_id])
        if paid != values["paid_amount"]:
            cancelled = values["status"] is InvoiceStatus.CANCELLED
            row.update(paid_amount=paid, status=status_for(values["gross"], paid, cancelled))
        updates.append({**row, "id": invoice_id})
    if new_rows:
        returning = insert(InvoiceRecord).returning(col(InvoiceRecord.id), sort_by_parameter_order=True)
        new_ids = session.execute(returning, new_rows).scalars().all()
        by_external.update({row["external_id"]: new_id for row, new_id in zip(new_rows, new_ids, strict=True)})
    update_by_id(session, InvoiceRecord, updates)
    reindex_changed(session, [row["id"] for row in updates])
    return StoredInvoices(len(new_rows), len(updates), by_external, conflicts)


def _paired_amounts(session: Session, invoice_ids: list[int]) -> dict[int, Decimal]:
    """Return the live allocations' total (a magnitude) per invoice."""
    found: dict[int, Decimal] = {}
    for chunk in chunks(invoice_ids):
        query = select_rows(col(AllocationRecord.invoice_id), col(AllocationRecord.amount)).where(
            col(AllocationRecord.invoice_id).in_(chunk), col(AllocationRecord.undone_at).is_(None)
        )
        for invoice_id, amount in session.execute(query):  # summed here: SQLite keeps money as text
            found[invoice_id] = found.get(invoice_id, ZERO) + amount
    return found


def _ids_by_external(session: Session, workspace_id: int, source: str, external_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunks(external_ids):
        query = select_rows(col(InvoiceRecord.external_id), col(InvoiceRecord.id)).where(
            col(InvoiceRecord.workspace_id) == workspace_id,
            col(InvoiceRecord.source) == source,
            col(InvoiceRecord.external_id).in_(chunk),
        )
        found.update({str(external_id): invoice_id for external_id, invoice_id in session.execute(query)})
    return found


def _rows_by_key(session: Session, workspace_id: int, keys: list[str]) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for chunk in chunks(keys):
        query = select_rows(col(InvoiceRecord.natural_key), col(InvoiceRecord.id), col(InvoiceRecord.source)).where(
            col(InvoiceRecord.workspace_id) == workspace_id, col(InvoiceRecord.natural_key).in_(chunk)
        )
        found.update({key: (invoice_id, source) for key, invoice_id, source in session.execute(query)})
    return found
