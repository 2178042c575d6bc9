"""The handoff job: mark what is new, then send every document that is due, each exactly once.

A receiver's round comes every ``interval_minutes`` (or at once when a person asks): its
marking pass runs, and its newly marked documents go out. Retries (with growing waits) and
claims left ``sending`` by a crashed process (after ``STALE_AFTER``) are taken up by any
run. An item is claimed by one conditional UPDATE, which counts the attempt; the receiver
is called outside any database transaction. A document sent again after a crash carries
the same idempotency key (webhook header, e-mail Message-ID, file name), so it is received once.
A settlement waits until its invoice has been sent, so the accountant never gets a payment
of an invoice they do not have.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, exists, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from reconbot.core.archive.storage import storage_from_settings
from reconbot.core.encryption import unseal
from reconbot.core.errors import ProviderError, ReconciliationError, SecretKeyError
from reconbot.core.handoff.model import Document, HandedInvoice, Settlement
from reconbot.core.handoff.receiver import Receiver, ReceiverContext, receiver_class
from reconbot.core.invoicing.source import SOURCES
from reconbot.core.persistence.archive_tables import ArchivedDocumentRecord, ArchiveState
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.handoff_tables import DocumentKind, HandoffItemRecord, HandoffReceiverRecord, ItemState
from reconbot.core.persistence.tables import AllocationRecord, BankTransactionRecord, InvoiceRecord, WorkspaceRecord
from reconbot.core.services.archive.access import download
from reconbot.core.services.events import EventKind, audit, emit
from reconbot.core.services.handoff.marking import mark_new

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
# An invoice pulled from Billingo, Fakturownia or Számlázz.hu waits this long for the archive to fetch its PDF.
PDF_WAIT, PDF_RECHECK = timedelta(hours=1), timedelta(minutes=5)
MAX_ATTEMPTS = 6
# Waits between attempts: 1, 4, 16, 64 minutes, then every 4 hours.
_FIRST_WAIT, _GROWTH, _LONGEST_WAIT = 60.0, 4.0, 4 * 3600.0


def worker_name() -> str:
    """Return this process's name in claims: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class HandoffRun:
    """What one run did: items marked, sent, put back for a retry, failed for good, and the errors met."""

    marked: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    waiting_for_pdf: int = 0
    errors: list[str] = field(default_factory=list)


async def send_due(
    engine: Engine,
    now: datetime,
    *,
    workspace_id: int | None = None,
    force: bool = False,
    owner: str | None = None,
    context: ReceiverContext | None = None,
    limit: int = 500,
) -> HandoffRun:
    """Run the receivers whose round is due (every one with ``force``), then send every due item; return the tally.

    All workspaces unless one is named. Safe to run from several processes at once.
    """
    # One owner per run: a panel "Send now" and the scheduler in one process must not mistake each other's claims.
    owner = owner or f"{worker_name()}:{uuid.uuid4().hex[:8]}"
    context, run = context or ReceiverContext(), HandoffRun()
    started = time.monotonic()
    in_round = _start_rounds(engine, now, workspace_id, force, run)
    receivers: dict[int, Receiver | ProviderError] = {}
    tried: set[int] = set()
    try:
        # A second pass takes the settlements whose invoices the first one sent.
        for _ in range(2):
            ids = [i for i in _due_ids(engine, now, workspace_id, in_round, limit) if i not in tried]
            for item_id in ids:
                # Claims carry the run's time: a run that went on long enough for them to look stale would let
                # another process take over what this one is sending. The rest waits for the next run.
                if time.monotonic() - started > STALE_AFTER.total_seconds() / 2:
                    return run
                tried.add(item_id)
                await _send_one(engine, item_id, now, owner, context, receivers, run)
    finally:
        for receiver in receivers.values():
            if isinstance(receiver, Receiver):
                await receiver.aclose()
    return run


def _start_rounds(engine: Engine, now: datetime, workspace_id: int | None, force: bool, run: HandoffRun) -> set[int]:
    """Run the marking pass of every receiver whose round is due; return their ids."""
    started: set[int] = set()
    with Session(engine) as session:
        query = select(HandoffReceiverRecord).where(col(HandoffReceiverRecord.removed_at).is_(None))
        if workspace_id is not None:
            query = query.where(col(HandoffReceiverRecord.workspace_id) == workspace_id)
        candidates = list(session.exec(query.order_by(col(HandoffReceiverRecord.id))).all())
    for candidate in candidates:
        due = (
            candidate.last_run_at is None
            or candidate.last_run_at + timedelta(minutes=candidate.interval_minutes) <= now
        )
        if not (force or due):
            continue
        with session_scope(engine) as session:
            last = col(HandoffReceiverRecord.last_run_at)
            same = last.is_(None) if candidate.last_run_at is None else last == candidate.last_run_at
            # Another process that started this round first has changed ``last_run_at``: its round, not ours.
            taken = session.execute(
                update(HandoffReceiverRecord)
                .where(col(HandoffReceiverRecord.id) == candidate.id, same)
                .values(last_run_at=now)
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue
            receiver = session.get(HandoffReceiverRecord, candidate.id)
            assert receiver is not None and receiver.id is not None
            run.marked += mark_new(session, receiver, now)
            started.add(receiver.id)
    return started


def _due(now: datetime, in_round: set[int]) -> Any:
    item, invoice_item = HandoffItemRecord, aliased(HandoffItemRecord)
    state, next_at = col(item.state), col(item.next_attempt_at)
    # A settlement goes only after its invoice (same receiver) has been sent.
    invoice_sent = exists().where(
        col(invoice_item.receiver_id) == col(item.receiver_id),
        col(invoice_item.invoice_id) == col(item.invoice_id),
        col(invoice_item.kind) != DocumentKind.SETTLEMENT,
        col(invoice_item.state) == ItemState.SENT,
    )
    ready = or_(col(item.kind) != DocumentKind.SETTLEMENT, invoice_sent)
    return and_(
        ready,
        or_(
            and_(state == ItemState.MARKED, or_(and_(next_at.is_(None), col(item.receiver_id).in_(in_round)),
                                                next_at <= now)),
            and_(state == ItemState.SENDING, col(item.claimed_at) < now - STALE_AFTER),
        ),
    )  # fmt: skip


def _due_ids(engine: Engine, now: datetime, workspace_id: int | None, in_round: set[int], limit: int) -> list[int]:
    with Session(engine) as session:
        active = col(HandoffReceiverRecord.removed_at).is_(None)
        query = (
            select(HandoffItemRecord.id)
            .join(HandoffReceiverRecord, col(HandoffReceiverRecord.id) == col(HandoffItemRecord.receiver_id))
            .where(active, _due(now, in_round))
        )
        if workspace_id is not None:
            query = query.where(col(HandoffItemRecord.workspace_id) == workspace_id)
        # Oldest first, so documents reach the accountant in the order they were marked.
        found = session.exec(query.order_by(col(HandoffItemRecord.id)).limit(limit)).all()
        return [int(i) for i in found if i is not None]


async def _send_one(
    engine: Engine,
    item_id: int,
    now: datetime,
    owner: str,
    context: ReceiverContext,
    receivers: dict[int, Receiver | ProviderError],
    run: HandoffRun,
) -> None:
    claimed = _claim(engine, item_id, now, owner)
    if claimed is None:
        return
    receiver_id, document = claimed
    if document is None:  # its payment was unpaired before it went out: there is nothing to hand over any more
        return
    if receiver_id not in receivers:
        receivers[receiver_id] = _build(engine, receiver_id, context)
    receiver = receivers[receiver_id]
    try:
        if isinstance(receiver, ProviderError):
            raise receiver
        if document.settlement is None:
            document = replace(document, pdf=_archived_pdf(engine, document, now))
            if document.pdf is None and _pdf_may_come(engine, document, now):
                _wait_for_pdf(engine, item_id, owner, now, run)
                return
        answer = await receiver.send(document)
    except ProviderError as exc:
        _record_failure(engine, item_id, owner, now, exc, run)
        return
    except Exception as exc:  # a receiver's own bug or bad data must fail this item, never the run or the others
        log.exception("handoff item %s", item_id)
        _record_failure(engine, item_id, owner, now, ProviderError(f"{type(exc).__name__}: {exc}"), run)
        return
    with session_scope(engine) as session:
        record = session.get(HandoffItemRecord, item_id, with_for_update=True)
        assert record is not None
        if record.state is ItemState.SENDING and record.claimed_by == owner:
            record.state, record.sent_at, record.answer, record.last_error = ItemState.SENT, now, answer[:2000], ""
            audit(session, record.workspace_id, "reconbot", "handoff.sent", "handoff_item", item_id,
                  kind=record.kind.value, invoice_id=record.invoice_id, answer=answer[:200])  # fmt: skip
            run.sent += 1


def _claim(engine: Engine, item_id: int, now: datetime, owner: str) -> tuple[int, Document | None] | None:
    """Take the item if it is still due; return its receiver and document (None: dropped), or None if not taken."""
    with session_scope(engine) as session:
        state, next_at = col(HandoffItemRecord.state), col(HandoffItemRecord.next_attempt_at)
        still_due = or_(
            and_(state == ItemState.MARKED, or_(next_at.is_(None), next_at <= now)),
            and_(state == ItemState.SENDING, col(HandoffItemRecord.claimed_at) < now - STALE_AFTER),
        )
        claimed = session.execute(
            update(HandoffItemRecord)
            .where(col(HandoffItemRecord.id) == item_id, still_due)
            .values(state=ItemState.SENDING, claimed_at=now, claimed_by=owner,
                    attempts=col(HandoffItemRecord.attempts) + 1)
        )  # fmt: skip
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        item = session.get(HandoffItemRecord, item_id)
        assert item is not None
        document = _document(session, item)
        if document is None:
            audit(session, item.workspace_id, "reconbot", "handoff.dropped", "handoff_item", item_id,
                  reason="payment unpaired before it was sent", allocation_id=item.allocation_id)  # fmt: skip
            session.delete(item)
        return item.receiver_id, document


def _document(session: Session, item: HandoffItemRecord) -> Document | None:
    """Return what the item hands over, read now; None for a settlement whose allocation was undone."""
    assert item.id is not None
    invoice = session.get(InvoiceRecord, item.invoice_id)
    workspace = session.get(WorkspaceRecord, item.workspace_id)
    assert invoice is not None and invoice.id is not None and workspace is not None
    rows = session.exec(
        select(AllocationRecord, BankTransactionRecord)
        .join(BankTransactionRecord, col(BankTransactionRecord.id) == col(AllocationRecord.transaction_id))
        .where(col(AllocationRecord.invoice_id) == invoice.id, col(AllocationRecord.undone_at).is_(None))
        .order_by(col(AllocationRecord.id))
    ).all()
    settlements = {
        allocation.id: Settlement(allocation.id, transaction.id, invoice.number, transaction.booking_date,
                                  allocation.amount, allocation.currency, transaction.counterparty_name,
                                  transaction.counterparty_iban, transaction.reference)
        for allocation, transaction in rows
        if allocation.id is not None and transaction.id is not None
    }  # fmt: skip
    settlement = None
    if item.kind is DocumentKind.SETTLEMENT:
        settlement = settlements.get(item.allocation_id or 0)
        if settlement is None:
            return None
    handed = HandedInvoice(invoice.id, invoice.number, invoice.kind.value, invoice.partner_name,
                           invoice.partner_tax_id, invoice.issue_date, invoice.due_date, invoice.gross,
                           invoice.currency, invoice.paid_amount, invoice.status.value,
                           tuple(settlements.values()))  # fmt: skip
    return Document(item.id, item.workspace_id, workspace.name, item.kind.value, item.marked_at, handed, settlement)


def _pdf_may_come(engine: Engine, document: Document, now: datetime) -> bool:
    """Return True while an invoice of a system the archive fetches PDFs from is young enough to wait for its PDF
    (the archive job runs every 15 minutes); after ``PDF_WAIT`` it goes without rather than not at all."""
    with Session(engine) as session:
        source = session.exec(select(InvoiceRecord.source).where(col(InvoiceRecord.id) == document.invoice.id)).first()
    return source in SOURCES and now - document.marked_at < PDF_WAIT


def _wait_for_pdf(engine: Engine, item_id: int, owner: str, now: datetime, run: HandoffRun) -> None:
    with session_scope(engine) as session:
        record = session.get(HandoffItemRecord, item_id, with_for_update=True)
        assert record is not None
        if record.state is ItemState.SENDING and record.claimed_by == owner:
            # Not an attempt: nothing was tried, so the item keeps all its attempts for when it does go.
            record.state, record.attempts = ItemState.MARKED, max(record.attempts - 1, 0)
            record.next_attempt_at = now + PDF_RECHECK
            run.waiting_for_pdf += 1


def _archived_pdf(engine: Engine, document: Document, now: datetime) -> bytes | None:
    """Return the invoice's latest archived PDF (its download logged as the handoff's), or None when there is
    none yet or it cannot be read as stored — the document then goes without it rather than not at all."""
    with Session(engine) as session:
        found = session.exec(
            select(ArchivedDocumentRecord.id)
            .where(col(ArchivedDocumentRecord.invoice_id) == document.invoice.id,
                   col(ArchivedDocumentRecord.state) == ArchiveState.ARCHIVED)
            .order_by(col(ArchivedDocumentRecord.version).desc())
        ).first()  # fmt: skip
    if found is None:
        return None
    try:
        return download(engine, storage_from_settings(), document.workspace_id, found, actor="handoff", now=now)
    except (ReconciliationError, ProviderError) as exc:
        log.warning("handoff of %s goes without its PDF: %s", document.invoice.number, exc)
        return None


def _build(engine: Engine, receiver_id: int, context: ReceiverContext) -> Receiver | ProviderError:
    with Session(engine) as session:
        record = session.get(HandoffReceiverRecord, receiver_id)
        assert record is not None
        kind, sealed = record.kind.value, record.settings
    try:
        return receiver_class(kind).from_settings(unseal(sealed), context)
    except SecretKeyError as exc:
        return ProviderError(str(exc), permanent=True)
    except ProviderError as exc:
        return exc


def _wait(attempts: int) -> float:
    return min(_FIRST_WAIT * _GROWTH ** max(attempts - 1, 0), _LONGEST_WAIT)


def _record_failure(
    engine: Engine, item_id: int, owner: str, now: datetime, exc: ProviderError, run: HandoffRun
) -> None:
    """Keep the error; schedule the next attempt, or, when retrying cannot help or attempts ran out, fail and tell."""
    message = str(exc)[:2000]
    with session_scope(engine) as session:
        record = session.get(HandoffItemRecord, item_id, with_for_update=True)
        assert record is not None
        if record.state is not ItemState.SENDING or record.claimed_by != owner:
            return  # another worker took it over meanwhile; its outcome counts
        record.last_error = message
        run.errors.append(f"item {item_id}: {message}")
        if not exc.permanent and record.attempts < MAX_ATTEMPTS:
            record.state, record.next_attempt_at = ItemState.MARKED, now + timedelta(seconds=_wait(record.attempts))
            run.retrying += 1
            return
        record.state = ItemState.FAILED
        run.failed += 1
        invoice = session.get(InvoiceRecord, record.invoice_id)
        receiver = session.get(HandoffReceiverRecord, record.receiver_id)
        assert invoice is not None and receiver is not None
        payload = {"item_id": item_id, "kind": record.kind.value, "receiver": receiver.kind.value,
                   "invoice_id": invoice.id, "invoice_number": invoice.number, "allocation_id": record.allocation_id,
                   "error": message, "attempts": record.attempts}  # fmt: skip
        # One message per round of attempts: marking it again and failing again is news again.
        emit(session, record.workspace_id, EventKind.HANDOFF_FAILED,
             f"handoff_failed:{item_id}:{record.marked_at.isoformat()}:{record.attempts}", payload)  # fmt: skip
        audit(session, record.workspace_id, "reconbot", "handoff.failed", "handoff_item", item_id,
              kind=record.kind.value, receiver=receiver.kind.value, error=message)  # fmt: skip
