"""Tables of the invoicing integrations: sources, the operations written to them, sales, webhook deliveries.

Same conventions as ``reconbot.core.persistence.tables`` (imported from there, so these are in ``metadata``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field

from reconbot.core.money import ZERO
from reconbot.core.persistence.tables import Record, _created_at, _currency, utcnow
from reconbot.core.persistence.types import JSONDocument, Money, StrEnumType, UTCDateTime


class OperationKind(StrEnum):
    REGISTER_PAYMENT = "register_payment"
    REMOVE_PAYMENT = "remove_payment"
    FINAL_INVOICE = "final_invoice"  # the final invoice of a paid proforma
    SALE_INVOICE = "sale_invoice"  # the invoice of a paid sale


class OperationStatus(StrEnum):
    PENDING = "pending"  # waiting for its next attempt (``next_attempt_at``)
    RUNNING = "running"  # claimed by a worker; a claim older than the stale limit may be taken over
    DONE = "done"
    FAILED = "failed"  # out of attempts, or refused for good: waits for a person's Retry
    CANCELLED = "cancelled"  # made pointless before it was sent (a payment undone before it was written)


class InvoiceSourceRecord(Record, table=True):
    """A workspace's connection to one invoicing system (or its own system's webhook): sealed credentials,
    the pull cursor, and how the last sync went."""

    __tablename__ = "invoice_source"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    name: str  # billingo, fakturownia, szamlazz, own
    credentials: str = Field(sa_type=Text)  # sealed JSON (``core.encryption``); never stored or logged in the clear
    cursor: str | None = None
    last_sync_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str = Field(default="", sa_type=Text)
    created_at: datetime = _created_at()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow})


class SourceOperationRecord(Record, table=True):
    """One write to an invoicing system, recorded before it is sent (so it happens once, whatever crashes).

    ``key`` is unique per workspace (``payment:<allocation>``, ``final:<proforma>``,
    ``sale:<sale>``): asking twice finds the first. ``attempts`` counts claims, so an
    attempt cut off by a crash counts too, and any attempt after the first tells the
    source to look for what an earlier one may have made. ``payload`` is what to send,
    ``result`` what came back (the system's payment id, the new document).
    """

    __tablename__ = "source_operation"
    __table_args__ = (
        UniqueConstraint("workspace_id", "key"),
        # The worker's question: what is due now?
        Index("ix_source_operation_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    source: str
    kind: OperationKind = Field(sa_type=StrEnumType(OperationKind))
    key: str
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    allocation_id: int | None = Field(default=None, foreign_key="allocation.id", index=True)
    sale_id: int | None = Field(default=None, foreign_key="sale.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    status: OperationStatus = Field(default=OperationStatus.PENDING, sa_type=StrEnumType(OperationStatus))
    attempts: int = 0
    max_attempts: int = 8
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # None: due at once
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str = ""
    last_error: str = Field(default="", sa_type=Text)
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    created_by: str
    created_at: datetime = _created_at()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SaleRecord(Record, table=True):
    """A sale reported by the owner's own system (webhook) or through the API/CLI; at most one invoice each.

    ``data`` is the sale as received (normalised JSON); ``invoice_id`` the invoice issued for it.
    """

    __tablename__ = "sale"
    __table_args__ = (UniqueConstraint("workspace_id", "origin", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    origin: str  # who reported it: "own" (webhook), "cli", "api"
    external_id: str  # the sale's id in that system
    total: Decimal = Field(sa_type=Money)
    paid: Decimal = Field(default=ZERO, sa_type=Money)
    currency: str = _currency()
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONDocument)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    created_at: datetime = _created_at()
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, sa_column_kwargs={"onupdate": utcnow})


class WebhookDeliveryRecord(Record, table=True):
    """A webhook event already processed: a sender's retry of the same event id changes nothing."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("workspace_id", "source", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: int = Field(foreign_key="workspace.id")
    source: str
    event_id: str
    event_type: str
    received_at: datetime = _created_at()
