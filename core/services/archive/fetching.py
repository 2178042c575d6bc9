"""Every issued invoice's PDF into the archive: the own system's PDFs as they arrive with its events, and the
invoicing systems' PDFs fetched by a job for the invoices that have none yet.

A fetch that fails is tried again by a later run; one that failed for good (the system has no such invoice) is
left alone for ``RETRY_PERMANENT_AFTER``, so a few broken invoices never hold up the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.archive.storage import ArchiveStorage
from reconbot.core.domain import Direction, InvoiceStatus
from reconbot.core.errors import InputError, ProviderError, ReconciliationError
from reconbot.core.invoicing.source import SOURCES
from reconbot.core.persistence.archive_tables import ArchivedDocumentRecord
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import AuditEventRecord, InvoiceRecord
from reconbot.core.services.archive.filing import Archived, archive_pdf
from reconbot.core.services.invoicing.pdfs import fetch_invoice_pdf
from reconbot.core.services.invoicing.sources import OWN, InvoiceSources

log = logging.getLogger(__name__)
RETRY_PERMANENT_AFTER = timedelta(days=1)
FETCH_LIMIT = 20  # per workspace and run: a first run over years of invoices spreads over several runs
FETCH_FAILED = "archive.fetch_failed"


def archive_own_pdf(engine: Engine, storage: ArchiveStorage, workspace_id: int, number: str, data: bytes, *,
                    now: datetime) -> Archived:  # fmt: skip
    """Archive the PDF the own invoicing system sent with invoice ``number``; return what was stored.

    Raises ReconciliationError when the workspace has no such invoice from its own system, InputError when the
    bytes are not a readable PDF (as ``archive_pdf`` does).
    """
    with Session(engine) as session:
        invoice_id = session.exec(
            select(InvoiceRecord.id).where(col(InvoiceRecord.workspace_id) == workspace_id,
                                           col(InvoiceRecord.source) == OWN, col(InvoiceRecord.number) == number)
        ).first()  # fmt: skip
    if invoice_id is None:
        raise ReconciliationError(f"there is no invoice {number} from the own system in this workspace")
    return archive_pdf(engine, storage, workspace_id, invoice_id, data, source="webhook", actor="own-system",
                       now=now, name=f"the PDF of {number}")  # fmt: skip


@dataclass
class FetchRun:
    """What one run did: PDFs archived, and the invoices whose PDF could not be had (with why)."""

    archived: int = 0
    failed: list[str] = field(default_factory=list)


async def archive_missing_pdfs(sources: InvoiceSources, storage: ArchiveStorage, workspace_id: int, *,
                               now: datetime, limit: int = FETCH_LIMIT) -> FetchRun:  # fmt: skip
    """Fetch and archive the PDFs of up to ``limit`` issued invoices (newest first) of the systems that can give
    them and that have no archived PDF yet; return what was done. Failures are audited, never raised."""
    run = FetchRun()
    for invoice_id, number in _missing(sources.engine, workspace_id, now, limit):
        try:
            data = await fetch_invoice_pdf(sources, workspace_id, invoice_id)
            archive_pdf(sources.engine, storage, workspace_id, invoice_id, data, source="fetched",
                        actor="archive", now=now, name=f"the PDF of {number}")  # fmt: skip
            run.archived += 1
        except Exception as exc:  # one invoice's trouble (a system's answer, a broken PDF) must not stop the rest
            if not isinstance(exc, ProviderError | InputError | ReconciliationError):
                log.exception("archiving the PDF of %s", number)
            permanent = not isinstance(exc, ProviderError) or exc.permanent
            run.failed.append(f"{number}: {exc}")
            if permanent:  # recorded at the run's own time: the retry window is measured on that clock
                with session_scope(sources.engine) as session:
                    session.add(AuditEventRecord(workspace_id=workspace_id, actor="archive", action=FETCH_FAILED,
                                                 entity_type="invoice", entity_id=str(invoice_id), created_at=now,
                                                 data={"number": number, "error": str(exc)[:300]}))  # fmt: skip
    return run


def _missing(engine: Engine, workspace_id: int, now: datetime, limit: int) -> list[tuple[int, str]]:
    with Session(engine) as session:
        archived = select(ArchivedDocumentRecord.invoice_id).where(
            col(ArchivedDocumentRecord.workspace_id) == workspace_id
        )
        failed_lately = select(AuditEventRecord.entity_id).where(
            col(AuditEventRecord.workspace_id) == workspace_id, col(AuditEventRecord.action) == FETCH_FAILED,
            col(AuditEventRecord.created_at) > now - RETRY_PERMANENT_AFTER,
        )  # fmt: skip
        rows = session.exec(
            select(InvoiceRecord.id, InvoiceRecord.number)
            .where(col(InvoiceRecord.workspace_id) == workspace_id, col(InvoiceRecord.direction) == Direction.ISSUED,
                   col(InvoiceRecord.source).in_(list(SOURCES)), col(InvoiceRecord.status) != InvoiceStatus.CANCELLED,
                   col(InvoiceRecord.id).not_in(archived))
            .order_by(col(InvoiceRecord.issue_date).desc(), col(InvoiceRecord.id).desc())
            .limit(limit * 3)
        ).all()  # fmt: skip
        skip = {entity for entity in session.exec(failed_lately)}
    return [(i, n) for i, n in rows if i is not None and str(i) not in skip][:limit]
