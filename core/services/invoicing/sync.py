"""Bringing invoices in from invoicing systems: incremental pulls, pushed invoices, and lookups by number.

Each way ends in one database transaction that stores the invoices, re-runs matching
and moves the source's cursor (or records the webhook delivery), so a failure leaves
nothing half-stored and a repeated pull or delivery changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.domain import TransactionStatus
from reconbot.core.errors import ProviderError
from reconbot.core.invoicing.model import SourceInvoice
from reconbot.core.invoicing.source import SOURCES, source_class
from reconbot.core.persistence.bulk import insert_unless_present
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.invoicing_tables import InvoiceSourceRecord, WebhookDeliveryRecord
from reconbot.core.persistence.tables import BankTransactionRecord, InvoiceRecord, utcnow
from reconbot.core.services.events import audit
from reconbot.core.services.invoicing.reported import StoredInvoices, store_source_invoices
from reconbot.core.services.invoicing.sources import InvoiceSources, find_source
from reconbot.core.services.jobs.claims import claim
from reconbot.core.services.reconciliation.matching import MatchingOutcome, run_matching
from reconbot.core.services.workspaces import lock_workspace

# Invoice numbers as Számlázz.hu and most Hungarian and Polish systems print them: a prefix, a year, a sequence.
_NUMBER = re.compile(r"\b(?:[A-Z0-9]{1,10}[-/]){1,3}20\d\d[-/]\d{1,7}\b")
LOOKUP_DAYS = 30
LOOKUPS_PER_RUN = 10


@dataclass(frozen=True, slots=True)
class InvoicesReceived:
    """What storing a batch of invoices did; ``duplicate`` when the webhook delivery was processed before."""

    stored: StoredInvoices = field(default_factory=StoredInvoices)
    matching: MatchingOutcome = field(default_factory=MatchingOutcome)
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class SourceSync:
    """How one pull went: what it stored and matched, or the error it stored."""

    source: str
    received: InvoicesReceived = field(default_factory=InvoicesReceived)
    error: str = ""


async def sync_source(sources: InvoiceSources, workspace_id: int, name: str, *, actor: str) -> SourceSync:
    """Pull what changed in system ``name`` since the last pull, store it and match; return what happened.

    Raises ``ProviderError`` (after storing its message on the source) when the pull fails.
    """
    client = sources.source(workspace_id, name)
    with Session(sources.engine) as session:
        record = find_source(session, workspace_id, name)
        cursor = record.cursor if record else None
    try:
        page = await client.changed_invoices(cursor)
    except ProviderError as exc:
        _failed(sources.engine, workspace_id, name, str(exc))
        raise
    finally:
        await client.aclose()
    received = receive_invoices(sources.engine, workspace_id, name, page.invoices, actor=actor, cursor=page.cursor)
    return SourceSync(name, received)


async def sync_all(sources: InvoiceSources, workspace_id: int, *, actor: str) -> list[SourceSync]:
    """Pull every listing system the workspace has set up; a failing one is reported, the others still run."""
    with Session(sources.engine) as session:
        query = select(InvoiceSourceRecord.name).where(col(InvoiceSourceRecord.workspace_id) == workspace_id)
        names = [n for n in session.exec(query.order_by(col(InvoiceSourceRecord.id))) if n in SOURCES]
    results: list[SourceSync] = []
    for name in names:
        if not source_class(name).lists_invoices:
            continue
        try:
            results.append(await sync_source(sources, workspace_id, name, actor=actor))
        except ProviderError as exc:
            results.append(SourceSync(name, error=str(exc)))
    return results


def receive_invoices(
    engine: Engine,
    workspace_id: int,
    source: str,
    invoices: Sequence[SourceInvoice],
    *,
    actor: str,
    cursor: str | None = None,
    delivery: tuple[str, str] | None = None,
) -> InvoicesReceived:
    """Store invoices a system sent or we fetched, match, and move the cursor, in one transaction.

    ``delivery`` is a webhook's ``(event id, event type)``: a delivery seen before stores nothing
    and returns ``duplicate=True``.
    """
    with session_scope(engine) as session:
        workspace = lock_workspace(session, workspace_id)
        if delivery is not None:
            values = {"workspace_id": workspace_id, "source": source, "event_id": delivery[0],
                      "event_type": delivery[1], "received_at": utcnow()}  # fmt: skip
            if not insert_unless_present(
                session, WebhookDeliveryRecord, values, ["workspace_id", "source", "event_id"]
            ):
                return InvoicesReceived(duplicate=True)
        stored = store_source_invoices(session, workspace_id, source, invoices)
        session.flush()
        outcome = run_matching(session, workspace) if stored.new or stored.updated else MatchingOutcome()
        record = find_source(session, workspace_id, source)
        if record is not None:
            now = utcnow()
            record.last_sync_at = record.last_success_at = now
            record.last_error = "; ".join(stored.conflicts)
            if cursor is not None:
                record.cursor = cursor
        audit(session, workspace_id, actor, "invoices.received", "invoice_source", source, new=stored.new,
              updated=stored.updated, conflicts=len(stored.conflicts))  # fmt: skip
        return InvoicesReceived(stored, outcome)


def _failed(engine: Engine, workspace_id: int, name: str, message: str) -> None:
    with session_scope(engine) as session:
        record = find_source(session, workspace_id, name)
        if record is not None:
            record.last_sync_at, record.last_error = utcnow(), message


async def look_up_unknown_numbers(sources: InvoiceSources, workspace_id: int, name: str, *, actor: str) -> int:
    """Ask system ``name`` for invoice numbers that unmatched transactions quote and reconbot does not know.

    For a system with no list call (Számlázz.hu) this is how an invoice nobody pushed still
    arrives. Each number is asked about once ever (a job claim), at most ``LOOKUPS_PER_RUN``
    a run. Returns how many invoices were found and stored.
    """
    now = sources.clock()
    numbers = [n for n in _unknown_numbers(sources.engine, workspace_id, now.date() - timedelta(days=LOOKUP_DAYS))
               if claim(sources.engine, f"lookup:{workspace_id}:{name}:{n}", now)][:LOOKUPS_PER_RUN]  # fmt: skip
    if not numbers:
        return 0
    client = sources.source(workspace_id, name)
    found: list[SourceInvoice] = []
    try:
        for number in numbers:
            invoice = await client.invoice_by_number(number)
            if invoice is not None:
                found.append(invoice)
    finally:
        await client.aclose()
    if found:
        receive_invoices(sources.engine, workspace_id, name, found, actor=actor)
    return len(found)


def _unknown_numbers(engine: Engine, workspace_id: int, since: date) -> list[str]:
    with Session(engine) as session:
        references = session.exec(
            select(BankTransactionRecord.reference).where(
                col(BankTransactionRecord.workspace_id) == workspace_id,
                col(BankTransactionRecord.status) == TransactionStatus.UNMATCHED,
                col(BankTransactionRecord.booking_date) >= since,
            )
        ).all()
        quoted = sorted({m.group(0) for ref in references for m in _NUMBER.finditer(ref.upper())})
        if not quoted:
            return []
        known = set(
            session.exec(
                select(InvoiceRecord.number).where(
                    col(InvoiceRecord.workspace_id) == workspace_id, col(InvoiceRecord.number).in_(quoted)
                )
            )
        )
    return [number for number in quoted if number not in known]
