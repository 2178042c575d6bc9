"""Performing queued writes to invoicing systems: each exactly once, with retries, and a person asked when they run out.

A worker claims an operation with one conditional UPDATE (two workers, or a double
click, cannot both win), increments its attempt count as it claims (so an attempt cut
short by a crash counts), and calls the system outside any database transaction.
Every attempt after the first tells the client that an earlier one may have reached
the system, and the client looks for that result before acting. A claim left
``running`` by a crashed process is taken over after ``STALE_AFTER``.
"""

from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, or_, update
from sqlmodel import Session, col, select

from reconbot.core.errors import ProviderError, RateLimitedError, ReconciliationError
from reconbot.core.invoicing.model import DocumentRef, PaymentEntry, PaymentMethod, SourceInvoice
from reconbot.core.invoicing.source import InvoiceSource, source_class
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.invoicing_tables import OperationKind, OperationStatus, SourceOperationRecord
from reconbot.core.services.events import audit
from reconbot.core.services.invoicing.operation_results import record_failure, record_success
from reconbot.core.services.invoicing.sale_orders import order_for_operation
from reconbot.core.services.invoicing.sources import InvoiceSources

STALE_AFTER = timedelta(minutes=10)
# Waits between attempts: 30 s, 2 min, 8 min, 32 min, then every 2 h.
_FIRST_WAIT, _GROWTH, _LONGEST_WAIT = 30.0, 4.0, 7200.0
_FINISHED = (OperationStatus.DONE, OperationStatus.FAILED, OperationStatus.CANCELLED)


def worker_name() -> str:
    """Return this process's name in claims: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class OperationView:
    """An operation as it stood when read: enough to report on it without holding a session."""

    id: int
    workspace_id: int
    source: str
    kind: OperationKind
    key: str
    status: OperationStatus
    attempts: int
    last_error: str
    result: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    invoice_id: int | None = None
    sale_id: int | None = None
    allocation_id: int | None = None

    @classmethod
    def of(cls, record: SourceOperationRecord) -> OperationView:
        assert record.id is not None
        return cls(record.id, record.workspace_id, record.source, record.kind, record.key, record.status,
                   record.attempts, record.last_error, dict(record.result), dict(record.payload), record.invoice_id,
                   record.sale_id, record.allocation_id)  # fmt: skip

    @property
    def finished(self) -> bool:
        return self.status in _FINISHED


async def run_due(sources: InvoiceSources, *, workspace_id: int | None = None, limit: int = 200) -> list[OperationView]:
    """Run the operations that are due (oldest first; all workspaces unless one is named); return how each ended."""
    now = sources.clock()
    with Session(sources.engine) as session:
        query = select(SourceOperationRecord.id).where(_due(now))
        if workspace_id is not None:
            query = query.where(col(SourceOperationRecord.workspace_id) == workspace_id)
        ids = [
            int(i) for i in session.exec(query.order_by(col(SourceOperationRecord.id)).limit(limit)) if i is not None
        ]
    return [await run_operation(sources, operation_id) for operation_id in ids]


async def run_operation(sources: InvoiceSources, operation_id: int, *, owner: str | None = None) -> OperationView:
    """Perform the operation if it is due and nobody else holds it; return it as it stands afterwards."""
    owner = owner or worker_name()
    claimed = _claim(sources, operation_id, owner)
    if claimed is None:
        return read_operation(sources, operation_id)
    registration = _registration(sources, claimed) if claimed.kind is OperationKind.REMOVE_PAYMENT else None
    if registration is not None and registration[0] not in _FINISHED:
        # A removal runs after its registration has finished, or it could overtake it and remove nothing.
        return _postpone(sources, claimed, seconds=_FIRST_WAIT)
    try:
        client = sources.source(claimed.workspace_id, claimed.source)
    except ProviderError as exc:
        return _record_failure(sources, claimed, exc)
    try:
        provider_id = str((registration[1] if registration else {}).get("provider_id") or "")
        outcome = await _perform(client, claimed, sources, maybe_done=claimed.attempts > 1, provider_id=provider_id)
    except ProviderError as exc:
        return _record_failure(sources, claimed, exc)
    finally:
        await client.aclose()
    with session_scope(sources.engine) as session:
        record = session.get(SourceOperationRecord, claimed.id, with_for_update=True)
        assert record is not None
        if record.status is OperationStatus.RUNNING:  # not finished meanwhile by a worker that took over
            record_success(session, record, outcome, sources.clock())
        return OperationView.of(record)


async def await_operation(
    sources: InvoiceSources, operation_id: int, *, timeout: float = 60.0, poll: float = 0.2
) -> OperationView:
    """Run the operation, or wait while another worker runs it, until it finishes or ``timeout`` seconds pass.

    Returns it as it then stands (still pending when a retry is scheduled for later).
    """
    waited = 0.0
    while True:
        view = await run_operation(sources, operation_id)
        if view.finished or (view.status is OperationStatus.PENDING and view.attempts > 0) or waited >= timeout:
            return view
        await asyncio.sleep(poll)
        waited += poll


def read_operation(sources: InvoiceSources, operation_id: int) -> OperationView:
    """Return the operation as stored; raises ReconciliationError when there is none."""
    with Session(sources.engine) as session:
        record = session.get(SourceOperationRecord, operation_id)
        if record is None:
            raise ReconciliationError(f"there is no operation {operation_id}")
        return OperationView.of(record)


def retry_operation(sources: InvoiceSources, workspace_id: int, operation_id: int, *, actor: str) -> OperationView:
    """Give a failed operation a fresh round of attempts, due now (the chat's Retry button); return it.

    Raises ReconciliationError when it is not this workspace's or has not failed (say, someone retried it already).
    """
    with session_scope(sources.engine) as session:
        return retry_operation_in(session, workspace_id, operation_id, actor=actor)


def retry_operation_in(session: Session, workspace_id: int, operation_id: int, *, actor: str) -> OperationView:
    """``retry_operation`` inside the caller's transaction (a chat press retries and edits its message in one)."""
    record = session.get(SourceOperationRecord, operation_id, with_for_update=True)
    if record is None or record.workspace_id != workspace_id:
        raise ReconciliationError(f"there is no operation {operation_id}")
    if record.status is not OperationStatus.FAILED:
        raise ReconciliationError(f"operation {operation_id} is {record.status.value}; only a failed one is retried")
    record.status, record.next_attempt_at, record.finished_at = OperationStatus.PENDING, None, None
    record.max_attempts = record.attempts + source_class(record.source).max_attempts
    audit(session, workspace_id, actor, "operation.retried", "source_operation", operation_id)
    return OperationView.of(record)


def _due(now: Any) -> Any:
    status, claimed_at = col(SourceOperationRecord.status), col(SourceOperationRecord.claimed_at)
    next_at = col(SourceOperationRecord.next_attempt_at)
    return or_(
        and_(status == OperationStatus.PENDING, or_(next_at.is_(None), next_at <= now)),
        and_(status == OperationStatus.RUNNING, claimed_at < now - STALE_AFTER),
    )


def _claim(sources: InvoiceSources, operation_id: int, owner: str) -> OperationView | None:
    now = sources.clock()
    with session_scope(sources.engine) as session:
        claimed = session.execute(
            update(SourceOperationRecord)
            .where(col(SourceOperationRecord.id) == operation_id, _due(now))
            .values(
                status=OperationStatus.RUNNING,
                claimed_at=now,
                claimed_by=owner,
                attempts=col(SourceOperationRecord.attempts) + 1,
            )
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        record = session.get(SourceOperationRecord, operation_id)
        assert record is not None
        return OperationView.of(record)


def _registration(sources: InvoiceSources, removal: OperationView) -> tuple[OperationStatus, dict[str, Any]] | None:
    """Return the status and result of the write a removal undoes, or None when there is none."""
    with Session(sources.engine) as session:
        query = select(SourceOperationRecord.status, SourceOperationRecord.result).where(
            col(SourceOperationRecord.workspace_id) == removal.workspace_id,
            col(SourceOperationRecord.key) == f"payment:{removal.allocation_id}",
        )
        found = session.exec(query).first()
    return None if found is None else (OperationStatus(found[0]), dict(found[1]))


def _postpone(sources: InvoiceSources, view: OperationView, *, seconds: float) -> OperationView:
    with session_scope(sources.engine) as session:
        record = session.get(SourceOperationRecord, view.id, with_for_update=True)
        assert record is not None
        record.status, record.attempts = OperationStatus.PENDING, record.attempts - 1
        record.next_attempt_at = sources.clock() + timedelta(seconds=seconds)
        return OperationView.of(record)


def _record_failure(sources: InvoiceSources, view: OperationView, exc: ProviderError) -> OperationView:
    now = sources.clock()
    wait = exc.retry_after if isinstance(exc, RateLimitedError) and exc.retry_after else _wait(view.attempts)
    with session_scope(sources.engine) as session:
        record = session.get(SourceOperationRecord, view.id, with_for_update=True)
        assert record is not None
        if record.status is OperationStatus.RUNNING:
            record_failure(session, record, str(exc), permanent=exc.permanent, retry_at=now + timedelta(seconds=wait),
                           now=now)  # fmt: skip
        return OperationView.of(record)


def _system_key(view: OperationView) -> str:
    """Return the idempotency key an issued document carries in its system (``reconbot-w1-final-42``).

    The workspace is part of it: two workspaces may share one invoicing account.
    """
    return f"reconbot-w{view.workspace_id}-{view.key.replace(':', '-')}"


def _wait(attempts: int) -> float:
    return min(_FIRST_WAIT * _GROWTH ** max(attempts - 1, 0), _LONGEST_WAIT)


def _payment(payload: dict[str, Any]) -> tuple[DocumentRef, PaymentEntry]:
    document, payment = payload["document"], payload["payment"]
    entry = PaymentEntry(
        key=payment["key"],
        paid_on=date.fromisoformat(payment["paid_on"]),
        amount=Decimal(payment["amount"]),
        currency=payment["currency"],
        method=PaymentMethod(payment["method"]),
        note=payment["note"],
    )
    return DocumentRef(document["external_id"], document["number"]), entry


async def _perform(
    client: InvoiceSource, view: OperationView, sources: InvoiceSources, *, maybe_done: bool, provider_id: str
) -> dict[str, Any] | SourceInvoice:
    """Call the system for one operation; return the result to record (a dict, or the invoice it issued)."""
    if view.kind is OperationKind.REGISTER_PAYMENT:
        document, entry = _payment(view.payload)
        done = await client.register_payment(document, entry, maybe_done=maybe_done)
        return _payment_result(done.provider_id, done.paid_total, done.already)
    if view.kind is OperationKind.REMOVE_PAYMENT:
        document, entry = _payment(view.payload)
        done = await client.remove_payment(document, entry, provider_id=provider_id, maybe_done=maybe_done)
        return _payment_result(done.provider_id, done.paid_total, done.already)
    if view.kind is OperationKind.FINAL_INVOICE:
        proforma = view.payload["proforma"]
        ref = DocumentRef(proforma["external_id"], proforma["number"])
        return await client.final_from_proforma(ref, _system_key(view), maybe_done=maybe_done)
    try:
        order = order_for_operation(sources.engine, view.id, _system_key(view))
    except ReconciliationError as exc:  # the sale changed under the queued operation: no call can help
        raise ProviderError(str(exc), permanent=True) from None
    return await client.issue_invoice(order, maybe_done=maybe_done)


def _payment_result(provider_id: str, paid_total: Decimal | None, already: bool) -> dict[str, Any]:
    return {"provider_id": provider_id, "paid_total": None if paid_total is None else str(paid_total),
            "already": already}  # fmt: skip
