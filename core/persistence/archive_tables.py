"""Tables of the invoice archive: each invoice's PDFs (versions), who downloaded them, and the archiving rules.

Same conventions as ``reconbot.core.persistence.tables`` (imported from there, so these are in ``metadata``).
The bytes live in the archive storage (``reconbot.core.archive.storage``) under a content-addressed key;
a row keeps their SHA-256, so a file changed behind reconbot's back is noticed when read.

The full-text index (``archive_text``: FTS5 on SQLite, a ``tsvector`` table on PostgreSQL) is
created by migration 0008 and kept by ``reconbot.core.services.archive.search``; it is not in ``metadata``
(``reconbot.core.persistence.autogen.include_name`` keeps Alembic from dropping it).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlmodel import Field

from reconbot.core.domain import InvoiceKind
from reconbot.core.persistence.tables import Record, _created_at, utcnow
from reconbot.core.persistence.types import JSONDocument, StrEnumType, UTCDateTime

# Kinds archived as soon as their PDF arrives; any other kind (a proforma) waits for a person's approval.
DEFAULT_AUTO_KINDS = (InvoiceKind.INVOICE, InvoiceKind.ADVANCE, InvoiceKind.CREDIT_NOTE)


class ArchiveSource(StrEnum):
    FETCHED = "fetched"  # fetched from the invoicing system
    WEBHOOK = "webhook"  # pushed by the business's own invoicing system
    UPLOAD = "upload"  # added by a person (CLI, panel)


class ArchiveState(StrEnum):
    ARCHIVED = "archived"
    AWAITING_APPROVAL = "awaiting_approval"
    REJECTED = "rejected"


class ArchiveSettingsRecord(Record, table=True):
    """A workspace's archiving rules; a workspace without a row uses ``DEFAULT_AUTO_KINDS``."""

    __tablename__ = "archive_settings"
    __table_args__ = (UniqueConstraint("workspace_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    auto_kinds: list[str] = Field(default_factory=lambda: [k.value for k in DEFAULT_AUTO_KINDS], sa_type=JSONDocument)
    updated_by: str = ""
    created_at: datetime = _created_at()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow})


class ArchivedDocumentRecord(Record, table=True):
    """One version of an invoice's PDF. Versions count from 1 per invoice; the same bytes are never a second
    version (unique SHA-256 per invoice). ``text`` is what the PDF says, for the full-text index."""

    __tablename__ = "archived_document"
    __table_args__ = (
        UniqueConstraint("invoice_id", "version"),
        UniqueConstraint("invoice_id", "sha256"),
        # Leads with the workspace foreign key; answers "what waits for approval" and the verify run.
        Index("ix_archived_document_workspace_state", "workspace_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    invoice_id: int = Field(foreign_key="invoice.id")
    version: int
    sha256: str = Field(sa_type=String(64))  # lowercase hex of the stored bytes
    size: int
    storage_key: str  # ``<workspace id>/<sha256>``
    content_type: str = "application/pdf"
    source: ArchiveSource = Field(sa_type=StrEnumType(ArchiveSource))
    text: str = Field(default="", sa_type=Text)
    state: ArchiveState = Field(sa_type=StrEnumType(ArchiveState))
    decided_by: str = ""  # who approved or rejected it ("" while it waits, or when archived by a rule)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created_at()
    created_by: str  # "billingo", "webhook:own", "cli:anna", "panel:3"


class DocumentDownloadRecord(Record, table=True):
    """One download of an archived PDF: who, when (the access log the archive keeps)."""

    __tablename__ = "document_download"

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id", index=True)
    document_id: int = Field(foreign_key="archived_document.id", index=True)
    actor: str
    at: datetime = Field(sa_type=UTCDateTime)
