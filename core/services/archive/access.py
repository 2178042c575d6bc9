"""Reading the archive: downloads (checked against their SHA-256, each one logged), the download log, and the
check of every stored file.

A file whose bytes changed since it was archived is never handed out: ``ArchiveTamperedError``,
audited as ``archive.tampered``, as is every problem ``verify_all`` finds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from reconbot.core.archive.storage import ArchiveStorage, StorageError
from reconbot.core.errors import ReconciliationError
from reconbot.core.persistence.archive_tables import ArchivedDocumentRecord, DocumentDownloadRecord
from reconbot.core.persistence.database import session_scope
from reconbot.core.persistence.tables import InvoiceRecord
from reconbot.core.services.archive.filing import ArchivedDocument, find_document
from reconbot.core.services.events import audit


class ArchiveTamperedError(ReconciliationError):
    """A stored file's bytes no longer match the SHA-256 recorded when it was archived."""


@dataclass(frozen=True, slots=True)
class Download:
    """One logged download: who, when."""

    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of ``verify_all``: how many files were read, and what is wrong with the others."""

    checked: int
    problems: list[tuple[ArchivedDocument, str]]


def downloads(engine: Engine, workspace_id: int, document_id: int) -> list[Download]:
    """Return who downloaded the version and when, oldest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(DocumentDownloadRecord)
            .where(col(DocumentDownloadRecord.workspace_id) == workspace_id,
                   col(DocumentDownloadRecord.document_id) == document_id)
            .order_by(col(DocumentDownloadRecord.at), col(DocumentDownloadRecord.id))
        ).all()  # fmt: skip
        return [Download(r.actor, r.at) for r in rows]


def download(engine: Engine, storage: ArchiveStorage, workspace_id: int, document_id: int, *, actor: str,
             now: datetime) -> bytes:  # fmt: skip
    """Return the version's bytes after checking them against their SHA-256, and log the download.

    Raises ReconciliationError when the workspace has no such version, StorageError when the file cannot be
    read, ArchiveTamperedError (audited as ``archive.tampered``) when its bytes changed since archiving.
    """
    with Session(engine) as session:
        record, number = find_document(session, workspace_id, document_id)
    data = storage.get(record.storage_key)
    problem = _problem(record, data)
    with session_scope(engine) as session:
        if problem:
            audit(session, workspace_id, actor, "archive.tampered", "archived_document", document_id, invoice=number,
                  version=record.version, problem=problem)  # fmt: skip
        else:
            session.add(DocumentDownloadRecord(workspace_id=workspace_id, document_id=document_id, actor=actor, at=now))
    if problem:
        raise ArchiveTamperedError(f"version {record.version} of {number}: {problem}; it was not handed out")
    return data


def verify_all(engine: Engine, storage: ArchiveStorage, workspace_id: int, *, actor: str) -> VerifyReport:
    """Read every stored version of the workspace and check its SHA-256; return what was found.

    Each file missing or changed is audited as ``archive.tampered``.
    """
    with Session(engine) as session:
        rows = session.exec(
            select(ArchivedDocumentRecord, InvoiceRecord.number)
            .join(InvoiceRecord, col(InvoiceRecord.id) == col(ArchivedDocumentRecord.invoice_id))
            .where(col(ArchivedDocumentRecord.workspace_id) == workspace_id)
            .order_by(col(ArchivedDocumentRecord.id))
        ).all()
    problems: list[tuple[ArchivedDocument, str]] = []
    for record, number in rows:
        try:
            problem = _problem(record, storage.get(record.storage_key))
        except StorageError as exc:
            problem = str(exc)
        if problem:
            problems.append((ArchivedDocument.of(record, number), problem))
    if problems:
        with session_scope(engine) as session:
            for document, problem in problems:
                audit(session, workspace_id, actor, "archive.tampered", "archived_document", document.id,
                      invoice=document.invoice_number, version=document.version, problem=problem)  # fmt: skip
    return VerifyReport(len(rows), problems)


def _problem(record: ArchivedDocumentRecord, data: bytes) -> str:
    actual = hashlib.sha256(data).hexdigest()
    if actual != record.sha256 or len(data) != record.size:
        return f"the stored file was changed (SHA-256 {actual[:12]}…, archived as {record.sha256[:12]}…)"
    return ""
