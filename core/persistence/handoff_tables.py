"""Tables of the accountant handoff: where issued invoices and their settlements go, and each document's sending.

Same conventions as ``reconbot.core.persistence.tables`` (imported from there, so these are in ``metadata``).
A document with no item for a receiver is "not sent"; a ``marked`` (or ``sending``) item is
"waiting to be sent"; a ``sent`` item carries when and what the receiver answered.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlmodel import Field

from reconbot.core.persistence.tables import Record, _created_at, utcnow
from reconbot.core.persistence.types import StrEnumType, UTCDateTime


class ReceiverKind(StrEnum):
    WEBHOOK = "webhook"  # a signed JSON POST
    EMAIL = "email"  # an e-mail to the accountant, CSVs attached
    FOLDER = "folder"  # files in an export folder the accountant imports


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    ADVANCE = "advance"
    SETTLEMENT = "settlement"  # a payment matched to an invoice handed off (an allocation)


class ItemState(StrEnum):
    MARKED = "marked"  # waiting to be sent, from ``next_attempt_at``
    SENDING = "sending"  # claimed by a worker; a claim older than the stale limit is taken over
    SENT = "sent"
    FAILED = "failed"  # out of attempts, or refused for good: waits for a person to mark it again


class HandoffReceiverRecord(Record, table=True):
    """One place a workspace's documents are handed to (at most one of each kind): sealed settings, the mode,
    how often the job sends, and the one-time backfill."""

    __tablename__ = "handoff_receiver"
    __table_args__ = (UniqueConstraint("workspace_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    kind: ReceiverKind = Field(sa_type=StrEnumType(ReceiverKind))
    settings: str = Field(sa_type=Text)  # sealed JSON (``reconbot.core.encryption``): addresses, secrets, passwords
    # Auto mode marks every invoice issued from ``auto_since`` on; manual mode only what a person marks.
    auto_mode: bool = False
    auto_since: datetime | None = Field(default=None, sa_type=UTCDateTime)
    interval_minutes: int = 30
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The backfill (invoices issued from ``backfill_from`` on) can be used once; these say when and by whom.
    backfill_from: date | None = None
    backfill_done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    backfill_by: str = ""
    created_at: datetime = _created_at()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow})
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class HandoffItemRecord(Record, table=True):
    """One document to hand to one receiver, and how its sending went.

    ``document_key`` (``invoice:<id>``, ``settlement:<allocation id>``) is unique per
    receiver, so nothing is marked twice; the item id is the idempotency key the
    receiver sees, so nothing is received twice either. ``answer`` is what the
    receiver replied (HTTP status and body excerpt, SMTP reply, the files written).
    """

    __tablename__ = "handoff_item"
    __table_args__ = (
        UniqueConstraint("receiver_id", "document_key"),
        # Leads with the workspace foreign key, and answers "the state of these invoices".
        Index("ix_handoff_item_workspace_invoice", "workspace_id", "invoice_id"),
        # The worker's question: what is due now?
        Index("ix_handoff_item_state_next", "state", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    receiver_id: int = Field(foreign_key="handoff_receiver.id")
    document_key: str = Field(sa_type=String(64))
    kind: DocumentKind = Field(sa_type=StrEnumType(DocumentKind))
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    allocation_id: int | None = Field(default=None, foreign_key="allocation.id", index=True)
    state: ItemState = Field(default=ItemState.MARKED, sa_type=StrEnumType(ItemState))
    marked_at: datetime = Field(sa_type=UTCDateTime)
    marked_by: str  # "auto", "backfill", or the person: "cli:anna", "panel:3"
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: due at once
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str = ""
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answer: str = Field(default="", sa_type=Text)
    last_error: str = Field(default="", sa_type=Text)
    created_at: datetime = _created_at()
