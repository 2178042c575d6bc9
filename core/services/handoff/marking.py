"""Marking documents for the accountant, and what state each document is in.

Issued invoices and advance invoices are marked by hand, by the backfill, or (auto mode)
by the marking pass the sending job runs first: every one stored since auto mode was turned
on. Settlements follow their invoice in either mode: each live allocation of an invoice
already marked or sent is marked too. An item's ``(receiver, document_key)`` is unique,
so however often marking runs, a document is marked once per receiver.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, and_, exists
from sqlmodel import Session, col, select

from reconbot.core.domain import Direction, InvoiceKind, InvoiceStatus
from reconbot.core.errors import ReconciliationError, SetupError
from reconbot.core.persistence.bulk import chunks, insert_unless_present
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.handoff_tables import DocumentKind, HandoffItemRecord, HandoffReceiverRecord, ItemState
from reconbot.core.persistence.tables import AllocationRecord, InvoiceRecord
from reconbot.core.services.events import audit

HANDED_KINDS = (InvoiceKind.INVOICE, InvoiceKind.ADVANCE)
AUTO, BACKFILL = "auto", "backfill"

AUTO_GRACE = timedelta(days=7)


class DocumentState(StrEnum):
    """What the owner sees per document (``failed`` is "waiting" that needs a person)."""

    NOT_SENT = "not_sent"
    WAITING = "waiting"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DocumentStatus:
    """One invoice's handoff: its state, when it got there (marked or sent), the receivers' answers or the error."""

    state: DocumentState
    at: datetime | None = None
    answer: str = ""
    error: str = ""


@dataclass(frozen=True, slots=True)
class ItemView:
    """One document to one receiver, for listings."""

    id: int
    receiver: str
    kind: DocumentKind
    invoice_id: int
    invoice_number: str
    allocation_id: int | None
    state: ItemState
    marked_at: datetime
    marked_by: str
    attempts: int
    sent_at: datetime | None
    answer: str
    last_error: str


def document_key(kind: DocumentKind, invoice_id: int, allocation_id: int | None) -> str:
    """Return the item's unique name per receiver: ``invoice:<id>`` or ``settlement:<allocation id>``."""
    return f"settlement:{allocation_id}" if kind is DocumentKind.SETTLEMENT else f"invoice:{invoice_id}"


def _handed(invoice_kind: InvoiceKind) -> DocumentKind:
    return DocumentKind.ADVANCE if invoice_kind is InvoiceKind.ADVANCE else DocumentKind.INVOICE


def _eligible() -> Any:
    return and_(
        col(InvoiceRecord.direction) == Direction.ISSUED,
        col(InvoiceRecord.kind).in_(HANDED_KINDS),
        col(InvoiceRecord.status) != InvoiceStatus.CANCELLED,
    )


def _not_marked(receiver_id: int) -> Any:
    item = HandoffItemRecord
    return ~exists().where(col(item.receiver_id) == receiver_id, col(item.invoice_id) == col(InvoiceRecord.id),
                           col(item.kind) != DocumentKind.SETTLEMENT)  # fmt: skip


def _add(session: Session, receiver: HandoffReceiverRecord, kind: DocumentKind, invoice_id: int,
         allocation_id: int | None, now: datetime, by: str) -> bool:  # fmt: skip
    assert receiver.id is not None
    values = {"workspace_id": receiver.workspace_id, "receiver_id": receiver.id, "kind": kind,
              "document_key": document_key(kind, invoice_id, allocation_id), "invoice_id": invoice_id,
              "allocation_id": allocation_id, "state": ItemState.MARKED, "marked_at": now, "marked_by": by,
              "attempts": 0, "claimed_by": "", "answer": "", "last_error": "", "created_at": now}  # fmt: skip
    return insert_unless_present(session, HandoffItemRecord, values, ["receiver_id", "document_key"])


def _mark_invoices(session: Session, receiver: HandoffReceiverRecord, condition: Any, now: datetime, by: str) -> int:
    assert receiver.id is not None
    rows = session.exec(
        select(InvoiceRecord.id, InvoiceRecord.kind)
        .where(col(InvoiceRecord.workspace_id) == receiver.workspace_id, _eligible(), condition,
               _not_marked(receiver.id))
        .order_by(col(InvoiceRecord.issue_date), col(InvoiceRecord.id))
    ).all()  # fmt: skip
    return sum(
        _add(session, receiver, _handed(InvoiceKind(kind)), int(i), None, now, by) for i, kind in rows if i is not None
    )


def mark_issued_from(session: Session, receiver: HandoffReceiverRecord, start: date, now: datetime) -> int:
    """Mark the receiver's not yet marked invoices issued on ``start`` or later (the backfill); return how many."""
    return _mark_invoices(session, receiver, col(InvoiceRecord.issue_date) >= start, now, BACKFILL)


def mark_new(session: Session, receiver: HandoffReceiverRecord, now: datetime) -> int:
    """The marking pass: in auto mode, invoices stored since it was turned on; in any mode, the live settlements
    of invoices already marked or sent. Returns how many items were marked."""
    assert receiver.id is not None
    marked = 0
    if receiver.auto_mode and receiver.auto_since is not None:
        # Stored since auto mode began, and issued then too: a system connected later must not pour its whole
        # history out (that is the once-only backfill's job). A few days' grace covers invoices pulled late.
        recent = and_(col(InvoiceRecord.created_at) >= receiver.auto_since,
                      col(InvoiceRecord.issue_date) >= (receiver.auto_since - AUTO_GRACE).date())  # fmt: skip
        marked += _mark_invoices(session, receiver, recent, now, AUTO)
    item = HandoffItemRecord
    mine = col(item.receiver_id) == receiver.id
    handed = exists().where(
        mine, col(item.invoice_id) == col(AllocationRecord.invoice_id), col(item.kind) != DocumentKind.SETTLEMENT
    )
    settled = exists().where(mine, col(item.allocation_id) == col(AllocationRecord.id))
    rows = session.exec(
        select(AllocationRecord.id, AllocationRecord.invoice_id)
        .where(col(AllocationRecord.workspace_id) == receiver.workspace_id, col(AllocationRecord.undone_at).is_(None),
               handed, ~settled)
        .order_by(col(AllocationRecord.id))
    ).all()  # fmt: skip
    for allocation_id, invoice_id in rows:
        marked += _add(session, receiver, DocumentKind.SETTLEMENT, invoice_id, allocation_id, now, AUTO)
    return marked


def mark_invoices(engine: Engine, workspace_id: int, invoice_ids: Iterable[int], *, actor: str, now: datetime) -> int:
    """Mark invoices by hand for every receiver in use; a failed one gets a fresh round of attempts.

    Returns how many items were marked (an invoice waiting or sent already is left alone).
    Raises ReconciliationError when an invoice is not this workspace's issued invoice or
    advance invoice, SetupError when no receiver is set up; nothing is marked then.
    """
    with session_scope(engine) as session:
        return mark_invoices_in(session, workspace_id, invoice_ids, actor=actor, now=now)


def mark_invoices_in(
    session: Session, workspace_id: int, invoice_ids: Iterable[int], *, actor: str, now: datetime
) -> int:
    """``mark_invoices`` inside the caller's transaction (a chat press marks and edits its message in one)."""
    ids = sorted(set(invoice_ids))
    receivers = session.exec(
        select(HandoffReceiverRecord).where(col(HandoffReceiverRecord.workspace_id) == workspace_id,
                                            col(HandoffReceiverRecord.removed_at).is_(None))
    ).all()  # fmt: skip
    if not receivers:
        raise SetupError("no receiver is set up; run `reconbot handoff setup` first")
    invoices = {
        invoice.id: invoice
        for part in chunks(ids)
        for invoice in session.exec(select(InvoiceRecord).where(col(InvoiceRecord.id).in_(part)))
    }
    for invoice_id in ids:
        invoice = invoices.get(invoice_id)
        if invoice is None or invoice.workspace_id != workspace_id:
            raise ReconciliationError(f"there is no invoice {invoice_id}")
        if invoice.direction is not Direction.ISSUED or invoice.kind not in HANDED_KINDS:
            raise ReconciliationError(f"{invoice.number} is not an issued invoice or advance invoice; "
                                      "only those go to the accountant")  # fmt: skip
    marked = 0
    for receiver in receivers:
        for invoice_id in ids:
            kind = _handed(invoices[invoice_id].kind)
            if _add(session, receiver, kind, invoice_id, None, now, actor):
                marked += 1
                continue
            failed = session.exec(
                select(HandoffItemRecord)
                .where(
                    col(HandoffItemRecord.receiver_id) == receiver.id,
                    col(HandoffItemRecord.document_key) == document_key(kind, invoice_id, None),
                    col(HandoffItemRecord.state) == ItemState.FAILED,
                )
                .with_for_update()
            ).first()
            if failed is not None:
                failed.state, failed.attempts, failed.next_attempt_at = ItemState.MARKED, 0, None
                failed.marked_at, failed.marked_by = now, actor
                marked += 1
    for invoice_id in ids:
        audit(session, workspace_id, actor, "handoff.marked", "invoice", invoice_id,
              number=invoices[invoice_id].number)  # fmt: skip
    return marked


def invoice_by_number(engine: Engine, workspace_id: int, number: str) -> int:
    """Return the id of the workspace's issued invoice numbered ``number``; raises ReconciliationError when there
    is none, or several (from different systems)."""
    with Session(engine) as session:
        ids = session.exec(
            select(InvoiceRecord.id).where(col(InvoiceRecord.workspace_id) == workspace_id,
                                           col(InvoiceRecord.number) == number,
                                           col(InvoiceRecord.direction) == Direction.ISSUED)
        ).all()  # fmt: skip
    if not ids:
        raise ReconciliationError(f"there is no issued invoice numbered {number}")
    if len(ids) > 1:
        raise ReconciliationError(f"{len(ids)} issued invoices are numbered {number}; mark them in the panel")
    assert ids[0] is not None
    return ids[0]


_RANK = {ItemState.FAILED: 3, ItemState.SENDING: 2, ItemState.MARKED: 2, ItemState.SENT: 1}
_SHOWN = {3: DocumentState.FAILED, 2: DocumentState.WAITING, 1: DocumentState.SENT}


def document_states(engine: Engine, workspace_id: int, invoice_ids: Iterable[int]) -> dict[int, DocumentStatus]:
    """Return each invoice's handoff state (every id asked for is present; ``not_sent`` when never marked).

    With several receivers the least advanced one decides (failed, then waiting, then sent);
    ``at`` is when it was marked (waiting, failed) or last sent; answers are joined per receiver.
    """
    ids = sorted(set(invoice_ids))
    found: dict[int, list[tuple[HandoffItemRecord, str]]] = {}
    with Session(engine) as session:
        for part in chunks(ids):
            rows = session.exec(
                select(HandoffItemRecord, HandoffReceiverRecord.kind)
                .join(HandoffReceiverRecord, col(HandoffReceiverRecord.id) == col(HandoffItemRecord.receiver_id))
                .where(col(HandoffItemRecord.workspace_id) == workspace_id, col(HandoffItemRecord.invoice_id).in_(part),
                       col(HandoffItemRecord.kind) != DocumentKind.SETTLEMENT,
                       col(HandoffReceiverRecord.removed_at).is_(None))
                .order_by(col(HandoffItemRecord.id))
            ).all()  # fmt: skip
            for item, kind in rows:
                found.setdefault(item.invoice_id, []).append((item, str(kind)))
    states: dict[int, DocumentStatus] = {}
    for invoice_id in ids:
        items = found.get(invoice_id)
        if not items:
            states[invoice_id] = DocumentStatus(DocumentState.NOT_SENT)
            continue
        shown = _SHOWN[max(_RANK[item.state] for item, _ in items)]
        if shown is DocumentState.SENT:
            at = max(item.sent_at for item, _ in items if item.sent_at is not None)
        else:
            at = max(item.marked_at for item, _ in items)
        answer = "; ".join(f"{kind}: {item.answer}" for item, kind in items if item.answer)
        error = "; ".join(f"{kind}: {item.last_error}" for item, kind in items
                          if item.last_error and item.state is not ItemState.SENT)  # fmt: skip
        states[invoice_id] = DocumentStatus(shown, at, answer, error)
    return states


def list_items(
    engine: Engine, workspace_id: int, *, limit: int = 100, states: Iterable[ItemState] = ()
) -> list[ItemView]:
    """Return the workspace's latest items (newest first), of the given states or all."""
    wanted = list(states)
    with Session(engine) as session:
        query = (
            select(HandoffItemRecord, HandoffReceiverRecord.kind, InvoiceRecord.number)
            .join(HandoffReceiverRecord, col(HandoffReceiverRecord.id) == col(HandoffItemRecord.receiver_id))
            .join(InvoiceRecord, col(InvoiceRecord.id) == col(HandoffItemRecord.invoice_id))
            .where(col(HandoffItemRecord.workspace_id) == workspace_id)
        )
        if wanted:
            query = query.where(col(HandoffItemRecord.state).in_(wanted))
        rows = session.exec(query.order_by(col(HandoffItemRecord.id).desc()).limit(limit)).all()
    views = []
    for item, kind, number in rows:
        assert item.id is not None
        views.append(ItemView(item.id, str(kind), item.kind, item.invoice_id, number, item.allocation_id, item.state,
                              item.marked_at, item.marked_by, item.attempts, item.sent_at, item.answer,
                              item.last_error))  # fmt: skip
    return views


def waiting_for_a_hand(session: Session, invoice_ids: Iterable[int]) -> list[int]:
    """Return those of ``invoice_ids`` that a manual-mode receiver of their workspace has not been given yet
    (issued invoices and advance invoices only): what chat may offer to send with a button."""
    ids = list(invoice_ids)
    if not ids:
        return []
    receiver, invoice = HandoffReceiverRecord, InvoiceRecord
    rows = session.exec(
        select(invoice.id, receiver.id)
        .join(receiver, col(receiver.workspace_id) == col(invoice.workspace_id))
        .where(col(invoice.id).in_(ids), _eligible(), ~col(receiver.auto_mode), col(receiver.removed_at).is_(None))
    ).all()
    waiting = []
    for invoice_id, receiver_id in rows:
        marked = session.exec(
            select(HandoffItemRecord.id).where(col(HandoffItemRecord.receiver_id) == receiver_id,
                                               col(HandoffItemRecord.invoice_id) == invoice_id,
                                               col(HandoffItemRecord.kind) != DocumentKind.SETTLEMENT)
        ).first()  # fmt: skip
        if marked is None and invoice_id is not None and invoice_id not in waiting:
            waiting.append(invoice_id)
    return [i for i in ids if i in waiting]


def mark_item_again(engine: Engine, workspace_id: int, item_id: int, *, actor: str, now: datetime) -> None:
    """Give a failed item (an invoice or a settlement) a fresh round of attempts. Raises ReconciliationError when
    the workspace has no such item, or it is not failed."""
    with session_scope(engine) as session:
        mark_item_again_in(session, workspace_id, item_id, actor=actor, now=now)


def mark_item_again_in(session: Session, workspace_id: int, item_id: int, *, actor: str, now: datetime) -> None:
    """``mark_item_again`` inside the caller's transaction."""
    item = session.get(HandoffItemRecord, item_id, with_for_update=True)
    if item is None or item.workspace_id != workspace_id:
        raise ReconciliationError(f"there is no handoff item {item_id} in this workspace")
    if item.state is not ItemState.FAILED:
        raise ReconciliationError(f"handoff item {item_id} is {item.state.value}, not failed")
    item.state, item.attempts, item.next_attempt_at, item.marked_at, item.marked_by = (
        ItemState.MARKED, 0, None, now, actor)  # fmt: skip
    audit(session, workspace_id, actor, "handoff.marked_again", "handoff_item", item_id, kind=item.kind.value)
