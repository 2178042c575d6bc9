"""The scheduled invoicing work: drain the write-back queue often, pull invoicing systems now and then, and hand
documents to the accountant.

All are safe to run from any number of processes: operations are claimed one by one
(``services.invoicing.write_back``), pulls store idempotently, lookups by number are claimed once each, and
handoff items are claimed like write-backs (``reconbot.core.services.handoff.sending``).
"""

from __future__ import annotations

import logging

from sqlmodel import Session, col, select

from reconbot.core.archive.storage import storage_from_settings
from reconbot.core.errors import ProviderError
from reconbot.core.invoicing.source import SOURCES, source_class
from reconbot.core.persistence.invoicing_tables import InvoiceSourceRecord
from reconbot.core.services.archive.fetching import archive_missing_pdfs
from reconbot.core.services.banks.providers import BankFeeds
from reconbot.core.services.handoff.sending import HandoffRun, send_due
from reconbot.core.services.invoicing.sources import InvoiceSources
from reconbot.core.services.invoicing.sync import look_up_unknown_numbers, sync_all
from reconbot.core.services.invoicing.write_back import run_due

log = logging.getLogger(__name__)
WRITE_BACK_SECONDS = 30
PULL_MINUTES = 15
HANDOFF_MINUTES = 5
SCHEDULER_ACTOR = "scheduler"


async def write_back_job(sources: InvoiceSources) -> int:
    """Run every due write-back; return how many operations were attempted."""
    done = await run_due(sources)
    for view in done:
        if view.last_error:
            log.warning("%s %s (%s): %s", view.source, view.kind.value, view.status.value, view.last_error)
    return len(done)


async def pull_job(sources: InvoiceSources) -> None:
    """Pull every workspace's listing systems, and look up quoted numbers in the ones that cannot list."""
    with Session(sources.engine) as session:
        rows = session.exec(select(InvoiceSourceRecord.workspace_id, InvoiceSourceRecord.name)
                            .order_by(col(InvoiceSourceRecord.id))).all()  # fmt: skip
    for workspace_id in sorted({w for w, _ in rows}):
        for result in await sync_all(sources, workspace_id, actor=SCHEDULER_ACTOR):
            if result.error:
                log.warning("workspace %s: %s", workspace_id, result.error)
    for workspace_id, name in rows:
        if name in SOURCES and not source_class(name).lists_invoices:
            try:
                await look_up_unknown_numbers(sources, workspace_id, name, actor=SCHEDULER_ACTOR)
            except ProviderError as exc:
                log.warning("workspace %s: %s", workspace_id, exc)


async def handoff_job(feeds: BankFeeds) -> HandoffRun:
    """Mark and send what is due to the accountants' receivers; return what the run did (errors are logged)."""
    run = await send_due(feeds.engine, feeds.clock())
    for error in run.errors:
        log.warning("handoff: %s", error)
    return run


async def archive_job(sources: InvoiceSources) -> int:
    """Fetch and archive the PDFs still missing, for every workspace with an invoicing system; return how many
    were archived (what failed is logged, and audited when it failed for good)."""
    with Session(sources.engine) as session:
        workspaces = sorted(set(session.exec(select(InvoiceSourceRecord.workspace_id)).all()))
    storage = storage_from_settings()
    archived = 0
    for workspace_id in workspaces:
        run = await archive_missing_pdfs(sources, storage, workspace_id, now=sources.clock())
        archived += run.archived
        for failure in run.failed:
            log.warning("workspace %s: no PDF for %s", workspace_id, failure)
    return archived
