"""The invoice archive: each invoice's PDFs as versions, stored by content hash, checked on every read.

``archive_pdf`` is what an invoicing-system sync (source ``fetched``), a webhook of the business's
own system (``webhook``) or a person (``upload``) calls. The workspace's rules decide whether a
kind is archived at once or waits for ``approve`` (``reconbot.core.services.archive.rules``). Downloads
(logged, hash-checked) and the check of every file: ``reconbot.core.services.archive.access``; search:
``reconbot.core.services.archive.search``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from reconbot.core.archive.pdf_text import extract_text
from reconbot.core.archive.storage import ArchiveStorage
from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.archive_tables import (
    ArchivedDocumentRecord,
    ArchiveSource,
    ArchiveState,
)
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import InvoiceRecord
from reconbot.core.services.archive.rules import auto_kinds
from reconbot.core.services.archive.search import index_invoice
from reconbot.core.services.events import audit


@dataclass(frozen=True, slots=True)
class ArchivedDocument:
    """One version of an invoice's PDF as it stood when read (no bytes: ``download`` returns those)."""

    id: int
    workspace_id: int
    invoice_id: int
    invoice_number: str
    version: int
    sha256: str
    size: int
    content_type: str
    source: ArchiveSource
    state: ArchiveState
    created_at: datetime
    created_by: str
    decided_by: str
    decided_at: datetime | None

    @classmethod
    def of(cls, record: ArchivedDocumentRecord, number: str) -> ArchivedDocument:
        assert record.id is not None
        return cls(record.id, record.workspace_id, record.invoice_id, number, record.version, record.sha256,
                   record.size, record.content_type, record.source, record.state, record.created_at,
                   record.created_by, record.decided_by, record.decided_at)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Archived:
    """What ``archive_pdf`` did: ``created`` is False when the same bytes were archived for the invoice before."""

    document: ArchivedDocument
    created: bool


def archive_pdf(engine: Engine, storage: ArchiveStorage, workspace_id: int, invoice_id: int, data: bytes, *,
                source: ArchiveSource | str, actor: str, now: datetime, name: str = "the PDF") -> Archived:  # fmt: skip
    """Store ``data`` as the next version of the invoice's PDF, under ``<workspace>/<sha256>``; return it.

    Identical bytes already archived for the invoice make no new version: that version is returned
    (``created`` False). The kind rules decide the state: archived (and searchable) or awaiting approval.
    Raises InputError (naming ``name``) for data that is not a readable PDF, ReconciliationError when the
    invoice is not the workspace's, StorageError when the storage refuses; nothing is stored then.
    """
    text = extract_text(data, name=name)
    sha256 = hashlib.sha256(data).hexdigest()
    key = f"{workspace_id}/{sha256}"
    archive_source = ArchiveSource(source)
    with session_scope(engine) as session:
        # Locked: two PDFs of one invoice arriving together get versions n+1 and n+2, not a constraint error.
        invoice = session.exec(
            select(InvoiceRecord).where(col(InvoiceRecord.id) == invoice_id).with_for_update()
        ).first()
        if invoice is None or invoice.workspace_id != workspace_id:
            raise ReconciliationError(f"there is no invoice {invoice_id} in this workspace")
        documents = ArchivedDocumentRecord
        same = session.exec(
            select(documents).where(col(documents.invoice_id) == invoice_id, col(documents.sha256) == sha256)
        ).first()
        if same is not None:
            return Archived(ArchivedDocument.of(same, invoice.number), created=False)
        # Written before the row commits: a failed commit leaves an unreferenced file, never a row without bytes.
        storage.put(key, data)
        latest = session.exec(select(func.max(documents.version)).where(col(documents.invoice_id) == invoice_id)).one()
        automatic = invoice.kind in auto_kinds(session, workspace_id)
        record = ArchivedDocumentRecord(
            workspace_id=workspace_id, invoice_id=invoice_id, version=(latest or 0) + 1, sha256=sha256,
            size=len(data), storage_key=key, source=archive_source, text=text,
            state=ArchiveState.ARCHIVED if automatic else ArchiveState.AWAITING_APPROVAL, created_at=now,
            created_by=actor,
        )  # fmt: skip
        session.add(record)
        session.flush()
        if automatic:
            index_invoice(session, invoice_id)
        audit(session, workspace_id, actor, "archive.stored", "archived_document", record.id, invoice=invoice.number,
              version=record.version, sha256=sha256, source=archive_source.value, state=record.state.value)  # fmt: skip
        return Archived(ArchivedDocument.of(record, invoice.number), created=True)


def approve(engine: Engine, workspace_id: int, document_id: int, *, actor: str, now: datetime) -> ArchivedDocument:
    """Archive a version that waits for approval, making it searchable; return it.
    Raises ReconciliationError when there is no such version waiting."""
    return _decide(engine, workspace_id, document_id, ArchiveState.ARCHIVED, actor=actor, now=now)


def reject(engine: Engine, workspace_id: int, document_id: int, *, actor: str, now: datetime) -> ArchivedDocument:
    """Refuse a version that waits for approval (its file and row stay, for the record); return it.
    Raises ReconciliationError when there is no such version waiting."""
    return _decide(engine, workspace_id, document_id, ArchiveState.REJECTED, actor=actor, now=now)


def _decide(engine: Engine, workspace_id: int, document_id: int, state: ArchiveState, *, actor: str,
            now: datetime) -> ArchivedDocument:  # fmt: skip
    with session_scope(engine) as session:
        record, number = find_document(session, workspace_id, document_id, lock=True)
        if record.state != ArchiveState.AWAITING_APPROVAL:
            raise ReconciliationError(f"version {record.version} of {number} is {record.state.value.replace('_', ' ')}"
                                      ", not waiting for approval")  # fmt: skip
        record.state, record.decided_by, record.decided_at = state, actor, now
        session.flush()
        index_invoice(session, record.invoice_id)
        verb = "approved" if state == ArchiveState.ARCHIVED else "rejected"
        audit(session, workspace_id, actor, f"archive.{verb}", "archived_document", document_id, invoice=number,
              version=record.version)  # fmt: skip
        return ArchivedDocument.of(record, number)


def history(engine: Engine, workspace_id: int, invoice_id: int) -> list[ArchivedDocument]:
    """Return every version of the invoice's PDF, oldest first (an empty list when none was archived)."""
    with Session(engine) as session:
        rows = session.exec(
            select(ArchivedDocumentRecord, InvoiceRecord.number)
            .join(InvoiceRecord, col(InvoiceRecord.id) == col(ArchivedDocumentRecord.invoice_id))
            .where(col(ArchivedDocumentRecord.workspace_id) == workspace_id,
                   col(ArchivedDocumentRecord.invoice_id) == invoice_id)
            .order_by(col(ArchivedDocumentRecord.version))
        ).all()  # fmt: skip
        return [ArchivedDocument.of(record, number) for record, number in rows]


def awaiting_approval(engine: Engine, workspace_id: int) -> list[ArchivedDocument]:
    """Return the workspace's versions waiting for a person's approval, oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(ArchivedDocumentRecord, InvoiceRecord.number)
            .join(InvoiceRecord, col(InvoiceRecord.id) == col(ArchivedDocumentRecord.invoice_id))
            .where(col(ArchivedDocumentRecord.workspace_id) == workspace_id,
                   col(ArchivedDocumentRecord.state) == ArchiveState.AWAITING_APPROVAL)
            .order_by(col(ArchivedDocumentRecord.id))
        ).all()  # fmt: skip
        return [ArchivedDocument.of(record, number) for record, number in rows]


def find_document(session: Session, workspace_id: int, document_id: int, *, lock: bool = False,
                  ) -> tuple[ArchivedDocumentRecord, str]:  # fmt: skip
    """Return the workspace's version ``document_id`` and its invoice's number (locked for update when ``lock``);
    raises ReconciliationError when the workspace has no such version."""
    query = (
        select(ArchivedDocumentRecord, InvoiceRecord.number)
        .join(InvoiceRecord, col(InvoiceRecord.id) == col(ArchivedDocumentRecord.invoice_id))
        .where(col(ArchivedDocumentRecord.id) == document_id, col(ArchivedDocumentRecord.workspace_id) == workspace_id)
    )
    found = session.exec(query.with_for_update(of=ArchivedDocumentRecord) if lock else query).first()
    if found is None:
        raise ReconciliationError(f"there is no archived document {document_id} in this workspace")
    return found[0], found[1]
