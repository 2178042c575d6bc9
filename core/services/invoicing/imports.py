"""Importing an INVOICES.csv export into a workspace: new invoices added, known ones updated, then matching."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy import select as select_rows
from sqlmodel import Session, col

from reconbot.core.domain import Invoice, InvoiceStatus, paid_part, status_for
from reconbot.core.errors import InputError
from reconbot.core.invoicing.csv_file import read_invoices
from reconbot.core.money import ZERO, format_amount
from reconbot.core.persistence.bulk import chunks, update_by_id
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.mapping import invoice_values
from reconbot.core.persistence.tables import AllocationRecord, ImportBatchRecord, ImportKind, InvoiceRecord, utcnow
from reconbot.core.progress import Progress, no_progress
from reconbot.core.services.archive.search import reindex_changed
from reconbot.core.services.events import audit
from reconbot.core.services.reconciliation.matching import MatchingOutcome, run_matching
from reconbot.core.services.workspaces import lock_workspace

SOURCE = "csv"


@dataclass(frozen=True, slots=True)
class InvoiceImport:
    """What importing one invoice file did."""

    filename: str
    rows: int
    new: int
    updated: int
    # Invoices whose paid amount reconbot keeps, because it allocated payments to them itself
    # (writing payments back to the invoicing system comes with its integration).
    kept_paid: int
    matching: MatchingOutcome


def import_invoices(
    engine: Engine, workspace_id: int, path: Path, *, actor: str, progress: Progress = no_progress
) -> InvoiceImport:
    """Store the file's invoices (added or updated by their natural key), match pending transactions, return counts.

    The whole file is read and checked first: a bad row raises InputError and stores nothing.
    """
    data = path.read_bytes()
    progress("Reading invoices", 0, 1)
    invoices = read_invoices(path, data)
    with session_scope(engine) as session:
        workspace = lock_workspace(session, workspace_id)
        new, updated, kept = _upsert(session, workspace_id, invoices, path.name)
        session.add(
            ImportBatchRecord(
                workspace_id=workspace_id,
                kind=ImportKind.INVOICES,
                filename=path.name,
                sha256=hashlib.sha256(data).hexdigest(),
                format="invoices-csv",
                row_count=len(invoices),
                new_count=new,
                actor=actor,
            )
        )
        outcome = run_matching(session, workspace, progress=progress)
        audit(
            session,
            workspace_id,
            actor,
            "invoices.imported",
            "workspace",
            workspace_id,
            filename=path.name,
            rows=len(invoices),
            new=new,
            updated=updated,
        )
    return InvoiceImport(path.name, len(invoices), new, updated, kept, outcome)


def _upsert(session: Session, workspace_id: int, invoices: list[Invoice], source: str) -> tuple[int, int, int]:
    keyed = [(invoice_values(inv, SOURCE), inv) for inv in invoices]
    existing = _ids_by_key(session, workspace_id, [values["natural_key"] for values, _ in keyed])
    paired = _paired(session, list(existing.values()))
    now = utcnow()
    new_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for values, invoice in keyed:
        invoice_id = existing.get(values["natural_key"])
        if invoice_id is None:
            new_rows.append(
                {
                    **values,
                    "workspace_id": workspace_id,
                    "external_id": values["natural_key"],
                    "created_at": now,
                    "updated_at": now,
                }
            )
            continue
        if invoice_id in paired:
            values = _keeping_pairings(values, paired[invoice_id], invoice, source)
        updates.append({**values, "id": invoice_id, "updated_at": now})
    for start in range(0, len(new_rows), 5000):
        session.execute(insert(InvoiceRecord), new_rows[start : start + 5000])
    update_by_id(session, InvoiceRecord, updates)
    reindex_changed(session, [row["id"] for row in updates])
    return len(new_rows), len(updates), len(paired)


def _keeping_pairings(values: dict[str, Any], stored: _Paired, invoice: Invoice, source: str) -> dict[str, Any]:
    """Return the new values of an invoice reconbot has paired payments with, or raise InputError.

    The export may not show those payments yet, so the larger paid amount wins; a change that
    would leave them paying more than the invoice, or another currency, must wait for a person.
    """

    def refuse(what: str) -> InputError:
        paired = f"{format_amount(stored.allocated)} {stored.currency}"
        return InputError(source, f"line {invoice.id}", f"{invoice.number}: {what}, but reconbot paired "
                          f"{paired} of payments with it; undo those pairings first")  # fmt: skip

    if values["currency"] != stored.currency:
        raise refuse(f"the currency changes to {values['currency']}")
    if values["status"] is InvoiceStatus.CANCELLED:
        raise refuse("it is cancelled")
    if abs(values["gross"]) < stored.allocated:
        raise refuse(f"the gross amount falls to {format_amount(values['gross'])}")
    paid = paid_part(values["gross"], max(abs(values["paid_amount"]), abs(stored.paid)))
    return {**values, "paid_amount": paid, "status": status_for(values["gross"], paid)}


def _ids_by_key(session: Session, workspace_id: int, keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in chunks(keys):
        query = select_rows(col(InvoiceRecord.natural_key), col(InvoiceRecord.id)).where(
            col(InvoiceRecord.workspace_id) == workspace_id, col(InvoiceRecord.natural_key).in_(chunk)
        )
        found.update({key: invoice_id for key, invoice_id in session.execute(query)})
    return found


@dataclass(frozen=True, slots=True)
class _Paired:
    """What is stored of an invoice reconbot has paired payments with."""

    paid: Decimal
    currency: str
    allocated: Decimal  # the live allocations' total


def _paired(session: Session, invoice_ids: list[int]) -> dict[int, _Paired]:
    """Return, for each of ``invoice_ids`` with live allocations, its stored paid amount, currency and allocations."""
    found: dict[int, _Paired] = {}
    for chunk in chunks(invoice_ids):
        query = (
            select_rows(col(InvoiceRecord.id), col(InvoiceRecord.paid_amount), col(InvoiceRecord.currency),
                        col(AllocationRecord.amount))
            .join(AllocationRecord, col(AllocationRecord.invoice_id) == col(InvoiceRecord.id))
            .where(col(InvoiceRecord.id).in_(chunk),
                   col(AllocationRecord.undone_at).is_(None))
        )  # fmt: skip
        for invoice_id, paid, currency, amount in session.execute(query):
            before = found.get(invoice_id)
            allocated = (before.allocated if before else ZERO) + amount  # summed here: SQLite keeps money as text
            found[invoice_id] = _Paired(paid, currency, allocated)
    return found
